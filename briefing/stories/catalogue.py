"""Catalogue entries: which sources are bare records of a vulnerability database or a
known-exploited list rather than reporting. Read by the cluster, summarize and compose stages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from briefing.models import Story

# Feeds tagged so in feeds.yaml list only vulnerabilities exploited in the wild.
EXPLOITED_TAGS = frozenset({"kev", "exploited"})
# Feeds of bare catalogue entries (a vulnerability id and a reference, no reporting around it).
CATALOGUE_TAGS = EXPLOITED_TAGS | {"catalogue", "advisories"}
# A link whose last path segment is a vulnerability id is an entry of a vulnerability database
# (nvd.nist.gov/vuln/detail/CVE-..., github.com/advisories/GHSA-...), whatever the feed's tags.
_ENTRY_LINK = re.compile(
    r"/(?:CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})/?$", re.IGNORECASE
)


def catalogue_entry(link: str | None, tags: Iterable[str]) -> bool:
    """A bare catalogue entry: from a feed tagged as a catalogue, or linking to a database
    record of one vulnerability."""
    path = urlsplit(link).path if link else ""
    return bool(CATALOGUE_TAGS & set(tags)) or bool(_ENTRY_LINK.search(path))


def catalogue_story(story: Story, tags: Mapping[str, Sequence[str]]) -> bool:
    return bool(story.sources) and all(
        catalogue_entry(source.url, tags.get(source.feed, ())) for source in story.sources
    )
