"""Poll stage: every configured feed -> new and revised entries in the store.

In: a ``Config``, an open ``Store`` and the clock. Out: one ``PollOutcome`` per feed; the items
themselves go straight into the store, one transaction per feed, so a crash mid-poll keeps every
feed finished before it.

Feeds are fetched with ``fetch.Fetcher`` (bounded, conditional GET with the stored ETag and
Last-Modified; a 304 skips parsing) and parsed by feedparser from the bytes — never from a URL or
a path, since feedparser's own fetching has no timeout and reads local files. One feed's failure
is recorded in its health row and never stops the others.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import feedparser

from briefing.config import Config, FeedConfig
from briefing.fetch import Fetcher, FetchError
from briefing.models import FeedItem, FeedStatus
from briefing.store import Store

# A date further ahead than this is a wrong clock on the feed's side: treat it as "now".
_FUTURE_SLACK = timedelta(hours=2)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    url: str
    status: FeedStatus
    error: str | None
    new: int = 0
    revised: int = 0
    items: int = 0


def plain_text(html: str) -> str:
    """Markup -> one line of text (feed titles and summaries; not article bodies)."""
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", html))).strip()


def _date(entry: Any, now: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError):
                continue
            return now if moment > now + _FUTURE_SLACK else moment
    return None


def _content(entry: Any) -> str:
    parts = entry.get("content") or []
    best = ""
    for part in parts:
        value = part.get("value", "") if hasattr(part, "get") else ""
        if len(value) > len(best):
            best = value
    return str(best)


def parse_feed(
    name: str, body: bytes, headers: dict[str, str], url: str, now: datetime
) -> tuple[list[FeedItem], FeedStatus, str | None]:
    """Feed bytes -> items, status (ok / degraded / not-a-feed) and the parser's complaint."""
    response_headers = dict(headers)
    response_headers["content-location"] = url
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    complaint = str(parsed.get("bozo_exception", "")) or None if parsed.get("bozo") else None
    if not parsed.entries and not parsed.get("version"):
        reason = "no RSS or Atom feed in the response"
        return [], "not-a-feed", f"{reason} ({complaint})"[:500] if complaint else reason
    items = [
        FeedItem(
            feed=name,
            guid=(str(entry.get("id")).strip() or None) if entry.get("id") else None,
            link=str(entry.get("link")).strip() or None if entry.get("link") else None,
            title=plain_text(str(entry.get("title", ""))) or "(untitled)",
            summary=str(entry.get("summary", "")),
            content=_content(entry),
            author=plain_text(str(entry.get("author", ""))),
            published=_date(entry, now),
        )
        for entry in parsed.entries
    ]
    if complaint:
        # feedparser recovers what it can from broken XML: keep those items, but say so.
        return items, "degraded", f"parsed in part: {complaint}"[:500]
    return items, "ok", None


async def _poll_one(fetcher: Fetcher, store: Store, feed: FeedConfig, now: datetime) -> PollOutcome:
    state = store.feed_state(feed.name)
    headers: dict[str, str] = {"Accept": "application/rss+xml, application/atom+xml, */*;q=0.5"}
    if state is not None and state.url == feed.url:
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
    try:
        fetched = await fetcher.get(feed.url, headers)
    except FetchError as exc:
        status: FeedStatus = (
            "http-error" if exc.kind == "bad-url" or exc.kind == "blocked" else exc.kind
        )
        store.record_poll(feed.name, feed.url, status=status, error=str(exc), now=now)
        return PollOutcome(feed.name, feed.url, status, str(exc))
    if fetched.status == 304:
        store.record_poll(feed.name, feed.url, status="not-modified", error=None, now=now)
        return PollOutcome(feed.name, feed.url, "not-modified", None)
    # Parsing is CPU work but small (well under a millisecond an item): a thread keeps the
    # event loop answering other feeds meanwhile.
    items, status, error = await asyncio.to_thread(
        parse_feed, feed.name, fetched.body, fetched.headers, fetched.url, now
    )
    counts = store.record_poll(
        feed.name,
        feed.url,
        status=status,
        error=error,
        now=now,
        etag=fetched.headers.get("etag"),
        last_modified=fetched.headers.get("last-modified"),
        items=items,
    )
    return PollOutcome(feed.name, feed.url, status, error, counts.new, counts.revised, len(items))


async def poll_feeds(
    config: Config,
    store: Store,
    now: datetime,
    on_done: Callable[[PollOutcome], None] | None = None,
) -> list[PollOutcome]:
    """Poll every feed of ``config`` concurrently; outcomes in the config's feed order."""
    async with Fetcher(config.poll) as fetcher:

        async def run(feed: FeedConfig) -> PollOutcome:
            try:
                outcome = await _poll_one(fetcher, store, feed, now)
            except Exception as exc:  # one feed's surprise must not stop the others
                message = f"unexpected error: {type(exc).__name__}: {exc}"[:500]
                store.record_poll(feed.name, feed.url, status="not-a-feed", error=message, now=now)
                outcome = PollOutcome(feed.name, feed.url, "not-a-feed", message)
            if on_done is not None:
                on_done(outcome)
            return outcome

        return list(await asyncio.gather(*(run(feed) for feed in config.feeds)))
