"""Compose stage: the articles of a window -> a ``Briefing``.

In: ``(Entry, Article)`` pairs from the store for the window, the feed health rows, the config
and the clock. Out: a ``Briefing`` with stories, sections by actor and by region, and feed
health — everything the renderers need and nothing they must compute.

For now one story is one article; the same article reached through two feeds or two URLs that
differ only in tracking parameters is one story with both sources. Stories are ordered by
coverage, then recency, then id, so the same store and clock give the same briefing.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from briefing import __version__
from briefing.config import Config
from briefing.intel import get_tagger
from briefing.models import (
    Article,
    Briefing,
    Entry,
    FeedHealth,
    Section,
    Source,
    Story,
)
from briefing.store import FeedState, canonical_url

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[\"'“‘(]?[A-Z0-9])")
_ABBREVIATIONS = ("U.S.", "U.K.", "e.g.", "i.e.", "Mr.", "Ms.", "Dr.", "Inc.", "Corp.", "vs.")
SUMMARY_CHARS = 420


def slug(text: str) -> str:
    """A file-name-safe, lower-case key: "Remix Kitten" -> "remix-kitten"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping common abbreviations whole."""
    out: list[str] = []
    for paragraph in text.splitlines():
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        pieces = _SENTENCE_END.split(paragraph)
        buffer = ""
        for piece in pieces:
            buffer = f"{buffer} {piece}".strip() if buffer else piece
            if not buffer.endswith(_ABBREVIATIONS):
                out.append(buffer)
                buffer = ""
        if buffer:
            out.append(buffer)
    return out


def summarize(text: str, title: str) -> str:
    """The opening sentences of the article that fit in ``SUMMARY_CHARS``, never cut mid-way."""
    chosen: list[str] = []
    length = 0
    for sentence in sentences(text):
        if sentence.strip().lower() == title.strip().lower() or len(sentence) < 40:
            continue  # the headline repeated, a dateline, a byline
        if not sentence.endswith((".", "!", "?", '"', "”", "'", "’", ")")):
            continue  # a heading or a list item
        if chosen and length + len(sentence) > SUMMARY_CHARS:
            break
        chosen.append(sentence)
        length += len(sentence) + 1
        if len(chosen) == 3:
            break
    return " ".join(chosen)


def _story_id(entry_ids: Iterable[str]) -> str:
    return hashlib.sha256("|".join(sorted(entry_ids)).encode()).hexdigest()[:12]


def _group_same_article(pairs: Sequence[tuple[Entry, Article]]) -> list[list[tuple[Entry, Article]]]:
    groups: dict[str, list[tuple[Entry, Article]]] = {}
    for entry, article in pairs:
        key = canonical_url(entry.link) if entry.link else f"id:{entry.id}"
        groups.setdefault(key, []).append((entry, article))
    return list(groups.values())


def make_story(group: Sequence[tuple[Entry, Article]]) -> Story:
    # The fullest text speaks for the story; every entry is a source.
    quality_rank = {"full": 0, "feed-only": 1, "failed": 2}
    best_entry, best = min(
        group, key=lambda pair: (quality_rank[pair[1].quality], -len(pair[1].text), pair[0].id)
    )
    host = urlsplit(best.url or "").hostname
    entities = get_tagger().tag(best.text, title=best.title, source_host=host)
    sources = tuple(
        sorted(
            (
                Source(
                    feed=entry.feed,
                    title=entry.title,
                    url=entry.link,
                    published=entry.published,
                    quality=article.quality,
                )
                for entry, article in group
            ),
            key=lambda source: (source.published, source.feed),
        )
    )
    return Story(
        id=_story_id(entry.id for entry, _ in group),
        title=best_entry.title,
        summary=summarize(best.text, best.title) or best.text[:SUMMARY_CHARS],
        sources=sources,
        entities=entities,
        published=min(source.published for source in sources),
    )


def _actor_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    members: dict[str, list[str]] = defaultdict(list)
    detail: dict[str, str] = {}
    for story in stories:
        for actor in story.entities.actors:
            members[actor.name].append(story.id)
            bits = []
            if actor.aliases:
                bits.append(", ".join(actor.aliases[:6]))
            bits.append(f"attributed to {actor.country}" if actor.country else "attribution unknown")
            if not actor.in_kb:
                bits.append("not in the knowledge base")
            detail[actor.name] = "; ".join(bits)
    order = sorted(members, key=lambda name: (-len(members[name]), name.lower()))
    return tuple(
        Section(key=slug(name), title=name, detail=detail[name], story_ids=tuple(members[name]))
        for name in order
    )


def _region_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    members: dict[str, list[str]] = defaultdict(list)
    countries: dict[str, set[str]] = defaultdict(set)
    for story in stories:
        names = {country.name for country in story.entities.countries if country.role != "attributed"}
        for region in story.entities.regions:
            members[region.name].append(story.id)
            countries[region.name].update(names)
    order = sorted(members, key=lambda name: (-len(members[name]), name.lower()))
    return tuple(
        Section(
            key=slug(name),
            title=name,
            detail=", ".join(sorted(countries[name])),
            story_ids=tuple(members[name]),
        )
        for name in order
    )


def feed_health(
    config: Config, states: dict[str, FeedState], stories: Sequence[Story]
) -> tuple[FeedHealth, ...]:
    in_window: dict[str, int] = defaultdict(int)
    for story in stories:
        for source in story.sources:
            in_window[source.feed] += 1
    out = []
    for feed in config.feeds:
        state = states.get(feed.name)
        out.append(
            FeedHealth(
                name=feed.name,
                url=feed.url,
                status=state.status if state else "never-polled",  # type: ignore[arg-type]
                items=in_window[feed.name],
                error=state.error if state else None,
                last_ok=state.last_ok if state else None,
                failures=state.failures if state else 0,
            )
        )
    return tuple(out)


def compose(
    config: Config,
    pairs: Sequence[tuple[Entry, Article]],
    states: dict[str, FeedState],
    start: datetime,
    end: datetime,
) -> Briefing:
    stories = [make_story(group) for group in _group_same_article(pairs)]
    stories.sort(key=lambda s: (-len({src.feed for src in s.sources}), -s.published.timestamp(), s.id))
    local_end = end.astimezone(config.zone)
    return Briefing(
        title=config.title,
        date=local_end.date().isoformat(),
        window_start=start,
        window_end=end,
        tlp=config.tlp,
        stories=tuple(stories),
        by_actor=_actor_sections(stories),
        by_region=_region_sections(stories),
        feeds=feed_health(config, states, stories),
        generated_with=f"briefing {__version__}",
    )
