"""Poll stage: every configured feed -> new and revised entries in the store.

In: a ``Config``, an open ``Store`` and the clock. Out: one ``PollOutcome`` per feed; the items
themselves go straight into the store, one transaction per feed (``intake``, in worker processes
for a large poll), so a crash mid-poll keeps every feed finished before it.

Feeds are fetched with ``fetch.Fetcher`` (bounded, every hop through the SSRF guard,
conditional GET with the stored ETag and Last-Modified; a 304 skips parsing) and parsed from the
bytes (``feedparse``: a fast reader for plain feeds, feedparser for the rest) — never from a URL
or a path, since feedparser's own fetching has no timeout and reads local files. One feed's
failure is recorded in its health row and never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from briefing.config import Config, FeedConfig
from briefing.ingest.feedparse import parse_feed, plain_text
from briefing.ingest.fetch import Fetcher, FetchError
from briefing.ingest.intake import Intake, intake
from briefing.ingest.netguard import Reach
from briefing.ingest.workers import WarmPool
from briefing.models import FeedStatus
from briefing.store import Store

__all__ = ["PollOutcome", "feed_fetcher", "fetch_status", "parse_feed", "plain_text", "poll_feeds"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    url: str
    status: FeedStatus
    error: str | None
    new: int = 0
    revised: int = 0
    items: int = 0


def feed_fetcher(config: Config) -> Fetcher:
    """The fetcher of feeds (poll and ``feeds check``): a non-public address only at the exact
    origin of a configured feed or in ``poll.allow_networks`` -- a feed redirecting into the
    operator's network is refused before connecting, naming nothing it found there."""
    reach = Reach.for_feeds((feed.url for feed in config.feeds), config.poll.allow_networks)
    return Fetcher(config.poll, reach=reach, per_host=config.poll.feed_per_host)


def fetch_status(exc: FetchError) -> FeedStatus:
    """A feed's health status when fetching it failed (poll and ``feeds check`` alike)."""
    return "http-error" if exc.kind == "bad-url" or exc.kind == "blocked" else exc.kind


async def _poll_one(
    fetcher: Fetcher, work: _Work, store: Store, feed: FeedConfig, now: datetime
) -> PollOutcome:
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
        status = fetch_status(exc)
        store.record_poll(feed.name, feed.url, status=status, error=str(exc), now=now)
        return PollOutcome(feed.name, feed.url, status, str(exc))
    if fetched.status == 304:
        store.record_poll(feed.name, feed.url, status="not-modified", error=None, now=now)
        return PollOutcome(feed.name, feed.url, "not-modified", None)
    done = await work.run(feed.name, feed.url, fetched.body, fetched.headers, fetched.url, now)
    return PollOutcome(
        feed.name, feed.url, done.status, done.error, done.new, done.revised, done.items
    )


# Below this many feeds a poll works inline: a pool's start (a forkserver importing the feed
# reader and the store, a few hundred ms of CPU) costs more than it saves at ~1 ms a feed.
POOL_MIN_FEEDS = 24


class _Work:
    """``intake`` (parse + store write) inline until a background pool's workers are up, then
    in them.

    Inline, the work holds the event loop, and every response waiting behind it is late; in a
    thread it fights the loop for the GIL (measured slower); in a worker process it runs on
    another core while the loop does nothing but HTTP.
    """

    def __init__(self, feeds: int, store: Store) -> None:
        cpus = os.cpu_count() or 1
        self.store = store
        # Absolute: a worker opens the store itself, from the forkserver's working directory.
        self.path = store.path.resolve()
        # Started with the poll, not at the first response: the workers come up during the
        # first round trips, at the cost of a process start even when every feed answers 304.
        # One core is left to the event loop: at ~1 ms a feed one worker keeps up with the
        # network, and a worker per core only took CPU from the loop (same poll times).
        self.pool = (
            WarmPool(cpus - 1, ["briefing.ingest.intake"])
            if cpus > 1 and feeds >= POOL_MIN_FEEDS
            else None
        )

    async def run(
        self, name: str, url: str, body: bytes, headers: dict[str, str], final: str, now: datetime
    ) -> Intake:
        args = (name, url, body, headers, final, now)
        if self.pool is not None and self.pool.ready:
            try:
                return await self.pool.run(intake, self.path, *args)
            except BrokenProcessPool:  # the rest go inline (see WarmPool.run)
                raise RuntimeError(
                    "the parsing worker died while this feed was in it; polled again next time"
                ) from None
        return intake(self.store, *args)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


async def poll_feeds(
    config: Config,
    store: Store,
    now: datetime,
    on_done: Callable[[PollOutcome], None] | None = None,
) -> list[PollOutcome]:
    """Poll every feed of ``config`` concurrently; outcomes in the config's feed order."""
    work = _Work(len(config.feeds), store)
    try:
        async with feed_fetcher(config) as fetcher:
            return await _poll_all(config, store, now, on_done, fetcher, work)
    finally:
        await asyncio.to_thread(work.close)


async def _poll_all(
    config: Config,
    store: Store,
    now: datetime,
    on_done: Callable[[PollOutcome], None] | None,
    fetcher: Fetcher,
    work: _Work,
) -> list[PollOutcome]:
    async def run(feed: FeedConfig) -> PollOutcome:
        try:
            outcome = await _poll_one(fetcher, work, store, feed, now)
        except Exception as exc:  # one feed's surprise must not stop the others
            # Ours, not the feed's: the feed may be fine, so it is not called "not-a-feed".
            log.exception("feed %s: unexpected error while polling", feed.name)
            message = f"unexpected error: {type(exc).__name__}: {exc}"[:500]
            status: FeedStatus = "internal-error"
            store.record_poll(feed.name, feed.url, status=status, error=message, now=now)
            outcome = PollOutcome(feed.name, feed.url, status, message)
        if on_done is not None:
            on_done(outcome)
        return outcome

    return list(await asyncio.gather(*(run(feed) for feed in config.feeds)))
