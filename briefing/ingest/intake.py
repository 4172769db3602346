"""The CPU half of polling one feed: its fetched bytes parsed and recorded in the store.

In: the store's path, the feed's name and configured URL, the response (body, headers, final
URL, validators) and the clock. Out: an ``Intake`` -- status, complaint and counts; the items
themselves are committed to the store in one transaction before it returns. Items are cleaned
and bounded first (``briefing.bounds``): at most ``ITEMS_PER_POLL`` a document, newest first,
the number left out said in the feed's health (status ``degraded``).

``poll`` runs this in worker processes once they are up (inline before that, and for small
polls), so the event loop does nothing per feed but HTTP: parsing and the store write, ~1 ms a
feed, held every other feed's response back when they ran on the loop. A worker keeps one
connection to the store; SQLite's WAL and ``BEGIN IMMEDIATE`` serialise its writes with the
poll's own (failures and 304s are recorded by the polling process). Imports stay light (no
pydantic, httpx or trafilatura) so a worker starts in ~0.1 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from briefing.bounds import bound_items, cut_document
from briefing.ingest.feedparse import parse_feed
from briefing.models import FeedStatus
from briefing.store import Store


@dataclass(frozen=True)
class Intake:
    status: FeedStatus
    error: str | None
    new: int
    revised: int
    items: int


_stores: dict[Path, Store] = {}


def _store(path: Path) -> Store:
    """This process's connection to the store at ``path`` (a worker serves many feeds)."""
    store = _stores.get(path)
    if store is None:
        store = _stores[path] = Store.open(path)
    return store


def intake(
    store: Store | Path,
    feed: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    final_url: str,
    now: datetime,
) -> Intake:
    """Parse a fetched feed and record it; ``store`` is open (inline) or a path (in a worker)."""
    body, listed = cut_document(body)
    items, status, error = parse_feed(feed, body, headers, final_url, now)
    # Feed text is cleaned and bounded before anything stores or shows it.
    items, left_out = bound_items(items)
    left_out = max(left_out, listed - len(items))
    if left_out:
        status = "degraded"
        note = f"took the newest {len(items)} of {len(items) + left_out} items, {left_out} left out"
        error = f"{note}; {error}" if error else note
    target = store if isinstance(store, Store) else _store(store)
    counts = target.record_poll(
        feed,
        url,
        status=status,
        error=error,
        now=now,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        items=items,
    )
    return Intake(status, error, counts.new, counts.revised, len(items))
