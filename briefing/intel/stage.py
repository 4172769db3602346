"""Tag stage: articles -> their entities, kept in the store.

In: ``(Entry, Article)`` pairs and the store (or None, to tag in memory). Out: ``Tagged``
triples ``(Entry, Article, Entities)`` in the order given, and how many were tagged now. The
entities carry the article's ``kind`` and ``victim`` (``with_kind``).

An article is tagged when the store holds no entities for it, or holds entities from another
tagger version (``briefing.intel.tagger_version``) or from other input (the entry was extracted
or revised since). Everything else is read back, so a second build of the same day tags
nothing and the trend chart counts the very entities the briefing showed. ``retag`` tags
everything again on purpose (``briefing archive rebuild --retag``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from briefing.bounds import bound_entities
from briefing.models import Article, Entities, Entry

if TYPE_CHECKING:
    from briefing.store import Store

Tagged = tuple[Entry, Article, Entities]


class TextTagger(Protocol):
    def tag(self, text: str, title: str = "", source_host: str | None = None) -> Entities: ...


@dataclass(frozen=True)
class TagResult:
    items: tuple[Tagged, ...]
    tagged: int  # articles tagged by this call
    reused: int  # articles whose stored entities were current


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:  # "http://[x": a feed's link is whatever the feed says
        return None


def input_digest(article: Article) -> str:
    """What the tagger reads of an article, as a digest: equal digests, equal entities."""
    parts = (article.title, article.text, _host(article.url) or "")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def with_kind(entities: Entities, title: str, text: str, host: str | None) -> Entities:
    """``entities`` with the text's kind and victim: stored with them, so nothing after the
    tag stage needs a model."""
    from briefing.intel.kind import classify
    from briefing.intel.victim import victim_of

    kind = classify(title, text, host)
    return replace(entities, kind=kind, victim=victim_of(title, text, kind))


def tag_articles(
    pairs: Sequence[tuple[Entry, Article]],
    store: Store | None = None,
    *,
    tagger: TextTagger | None = None,
    version: str | None = None,
    retag: bool = False,
) -> TagResult:
    """Entities for every pair, tagging only what ``store`` lacks (see the module docstring).

    ``tagger`` None: the process-wide tagger, loaded only if something needs tagging.
    ``version`` None: ``tagger_version()``; pass another with a tagger of your own, so its
    entities are never mistaken for the real tagger's."""
    from briefing.intel import tagger_version

    version = version or tagger_version()
    stored = store.tagged([entry.id for entry, _ in pairs]) if store is not None else {}
    items: list[Tagged] = []
    fresh: list[tuple[str, str, str, Entities]] = []
    for entry, article in pairs:
        digest = input_digest(article)
        known = stored.get(entry.id)
        if not retag and known is not None and known[:2] == (version, digest):
            items.append((entry, article, known[2]))
            continue
        if tagger is None:
            from briefing.intel import get_tagger

            tagger = get_tagger()
        # One hostile article names 10,000 actors or 600,000 CVEs: bounded before anything
        # stores or shows them (briefing.bounds).
        host = _host(article.url)
        entities = bound_entities(
            with_kind(
                tagger.tag(article.text, title=article.title, source_host=host),
                article.title,
                article.text,
                host,
            )
        )
        fresh.append((entry.id, version, digest, entities))
        items.append((entry, article, entities))
    if store is not None and fresh:
        store.save_entities(fresh)
    return TagResult(tuple(items), tagged=len(fresh), reused=len(items) - len(fresh))
