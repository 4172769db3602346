"""Bounds on everything one feed controls, in one place.

A hostile feed under the 10 MB body cap can still send 100,000 tiny items, a 5 MB title, ten
thousand made-up actor names or 600,000 CVE ids in one item. Each of those is cut here, at the
stage that first sees it, so that one feed costs seconds and tens of MB, never the day:

* intake and extract: items parsed per document (``cut_document``), items taken per feed per
  poll (newest first; the rest are counted in feed health), title, author and summary
  length (``bound_item``), an article page's text;
* tag: entities per article, and actors per article that are not in the knowledge base
  (``bound_entities``);
* render: rows of the CVE and indicator tables of the PDF and HTML (the full lists stay in
  the JSON).

In: ``FeedItem``s and ``Entities``. Out: the same types, cut. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from briefing.models import ActorRef, Entities, FeedItem
from briefing.sanitize import clean_line, clean_name, clean_text

ITEMS_PER_POLL = 500  # items taken from one feed document, newest first
# Items of one document parsed at all: beyond this the document is cut before parsing
# (feedparser reads 100,000 items in ~30 s), with room for feeds that list the oldest first.
ITEMS_PARSED = 4 * ITEMS_PER_POLL
TITLE_MAX = 300  # characters
AUTHOR_MAX = 200
SUMMARY_MAX = 20_000  # a feed's summary or content: a long article, not a book
ARTICLE_MAX = 100_000  # an article's text, from its page or its feed
ACTORS_PER_ARTICLE = 20
NEW_ACTORS_PER_ARTICLE = 5  # actors the knowledge base does not know
NAMED_PER_ARTICLE = 20  # malware, sectors, regions, countries
CVES_PER_ARTICLE = 100
TECHNIQUES_PER_ARTICLE = 50
INDICATORS_PER_ARTICLE = 200  # all kinds together
PDF_TABLE_ROWS = 200  # CVE and indicator rows in the PDF; the JSON keeps them all
HTML_TABLE_ROWS = 2000  # the same in the HTML page

_OLDEST = datetime.min.replace(tzinfo=UTC)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bound_item(item: FeedItem) -> FeedItem:
    """One item's text cleaned (no controls, invisible or bidi characters) and bounded."""
    return replace(
        item,
        title=_cut(clean_line(item.title), TITLE_MAX) or "(untitled)",
        summary=clean_text(item.summary[:SUMMARY_MAX]),
        content=clean_text(item.content[:SUMMARY_MAX]),
        author=_cut(clean_line(item.author), AUTHOR_MAX),
        outlet=_cut(clean_line(item.outlet), AUTHOR_MAX) or None if item.outlet else None,
    )


_ITEM_START = re.compile(rb"<(item|entry)[\s>]")
_CLOSE = {b"item": b"</channel></rss>", b"entry": b"</feed>"}


def cut_document(body: bytes) -> tuple[bytes, int]:
    """A feed document with at most ``ITEMS_PARSED`` items (the rest cut off, the document
    closed again so that it stays well-formed), and how many items the whole had. A plain RSS
    or Atom document only: anything else is returned as it is."""
    starts = [m for m in _ITEM_START.finditer(body)]
    if len(starts) <= ITEMS_PARSED:
        return body, len(starts)
    cut = starts[ITEMS_PARSED]
    return body[: cut.start()] + _CLOSE[cut.group(1)] + b"\n", len(starts)


def bound_items(items: list[FeedItem]) -> tuple[list[FeedItem], int]:
    """The newest ``ITEMS_PER_POLL`` items, cleaned, in the feed's order; and how many were
    left out."""
    if len(items) <= ITEMS_PER_POLL:
        return [bound_item(item) for item in items], 0
    # Undated items count as oldest; among equals the feed's own order (first = newest) wins.
    order = sorted(range(len(items)), key=lambda i: (items[i].published or _OLDEST, -i))
    keep = sorted(order[-ITEMS_PER_POLL:])
    return [bound_item(items[i]) for i in keep], len(items) - ITEMS_PER_POLL


def _actors(actors: tuple[ActorRef, ...]) -> tuple[ActorRef, ...]:
    out: list[ActorRef] = []
    seen: set[str] = set()
    new = 0
    for actor in actors:
        name = clean_name(actor.name)
        if not name or name in seen:
            continue
        if not actor.in_kb:
            new += 1
            if new > NEW_ACTORS_PER_ARTICLE:
                continue
        seen.add(name)
        out.append(
            replace(
                actor,
                name=name,
                aliases=tuple(clean_name(a) for a in actor.aliases[:20]),
                mentions=tuple(clean_name(m) for m in actor.mentions[:10]),
            )
        )
        if len(out) == ACTORS_PER_ARTICLE:
            break
    return tuple(out)


def bound_entities(entities: Entities) -> Entities:
    """One article's entities: names cleaned and bounded, each list cut to its bound."""
    budget = INDICATORS_PER_ARTICLE
    indicators = []
    for kind, values in entities.indicators:
        taken = values[:budget]
        budget -= len(taken)
        if taken:
            indicators.append((kind, taken))
    return replace(
        entities,
        actors=_actors(entities.actors),
        countries=entities.countries[:NAMED_PER_ARTICLE],
        regions=entities.regions[:NAMED_PER_ARTICLE],
        sectors=entities.sectors[:NAMED_PER_ARTICLE],
        malware=tuple(
            replace(m, name=clean_name(m.name), mentions=m.mentions[:10])
            for m in entities.malware[:NAMED_PER_ARTICLE]
        ),
        cves=entities.cves[:CVES_PER_ARTICLE],
        techniques=entities.techniques[:TECHNIQUES_PER_ARTICLE],
        indicators=tuple(indicators),
    )
