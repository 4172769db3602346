"""``briefing feeds check``: fetch and parse every configured feed once, storing nothing.

In: a ``Config``. Out: one ``PollOutcome`` per feed (status, item count, error) in config order.
Uses the same fetcher and parser as polling, so what it reports is what a poll would see.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from briefing.config import Config, FeedConfig
from briefing.ingest.fetch import FetchError
from briefing.ingest.poll import PollOutcome, feed_fetcher, fetch_status, parse_feed


async def probe_feeds(config: Config) -> list[PollOutcome]:
    now = datetime.now(UTC)
    async with feed_fetcher(config) as fetcher:

        async def probe(feed: FeedConfig) -> PollOutcome:
            try:
                fetched = await fetcher.get(feed.url)
            except FetchError as exc:
                return PollOutcome(feed.name, feed.url, fetch_status(exc), str(exc))
            items, status, error = parse_feed(
                feed.name, fetched.body, fetched.headers, fetched.url, now
            )
            return PollOutcome(feed.name, feed.url, status, error, items=len(items))

        return list(await asyncio.gather(*(probe(feed) for feed in config.feeds)))
