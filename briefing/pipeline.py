"""The stages strung together: what ``briefing run``, ``poll`` and ``build`` (and later the
scheduler) call.

In: a ``Config``, the output folder and the clock. Out: the store updated (poll, extract) and
the briefing files written (build). Each function opens the store itself, so a caller needs
nothing but a config.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.config import Config, parse_duration
from briefing.models import Article, Briefing
from briefing.store import Store

if TYPE_CHECKING:
    from briefing.ingest.extract import ExtractStats
    from briefing.ingest.poll import PollOutcome

# Each stage's modules are imported by the function that runs it: ``briefing poll`` (every
# half hour under cron) then starts without Jinja, the archive and the tagger (~0.15 s).


def store_path(config: Config, output: Path) -> Path:
    return config.resolve(config.store) if config.store else output / "briefing.sqlite3"


@dataclass(frozen=True)
class BuildResult:
    briefing: Briefing
    folder: Path


def poll(
    config: Config,
    output: Path,
    now: datetime,
    on_feed: Callable[[PollOutcome], None] | None = None,
) -> list[PollOutcome]:
    from briefing.ingest.poll import poll_feeds

    with Store.open(store_path(config, output)) as store:
        return asyncio.run(poll_feeds(config, store, now, on_feed))


def extract(
    config: Config,
    output: Path,
    now: datetime,
    on_article: Callable[[Article], None] | None = None,
) -> ExtractStats:
    from briefing.ingest.extract import extract_pending

    with Store.open(store_path(config, output)) as store:
        return asyncio.run(extract_pending(config, store, now, on_article))


def window_start(config: Config, output: Path, now: datetime) -> datetime:
    """The configured window before ``now`` — or, when the last briefing in the archive ended
    longer ago than that (a missed day, a machine that was off), everything since it, up to
    ``max_window``: nothing published between two briefings is left out of both."""
    from briefing.publish.archive import archived_window_ends

    start = now - config.window_delta
    if not config.window_since_last:
        return start
    ends = [end for end in archived_window_ends(output) if end < now]
    if ends and max(ends) < start:
        return max(max(ends), now - parse_duration(config.max_window))
    return start


def composed(
    config: Config, output: Path, now: datetime, window: timedelta | None = None
) -> Briefing:
    """The briefing of the window ending at ``now``, from the store, without writing anything
    (``briefing send`` rebuilds an archived day this way: same store and clock, same briefing).
    ``window`` None means the configured one (see ``window_start``)."""
    from briefing.ingest.extract import choose
    from briefing.stories.cluster import BACKGROUND, BACKGROUND_CHARS
    from briefing.stories.compose import compose
    from briefing.stories.continuity import earlier_stories

    start = now - window if window is not None else window_start(config, output, now)
    with Store.open(store_path(config, output)) as store:
        pairs = store.articles_between(start, now)
        states = store.feed_states()
        # The weeks before the window weigh the words the cluster stage compares.
        weeks = store.articles_between(start - BACKGROUND, start)
    # An item polled but not extracted yet (``poll`` without ``--extract``) still has the
    # feed's own text: a build never shows a bare title when the feed said more.
    pairs = [(entry, article if article.text else choose(entry, None)) for entry, article in pairs]
    today = now.astimezone(config.zone).date().isoformat()
    background = [f"{entry.title} {article.text[:BACKGROUND_CHARS]}" for entry, article in weeks]
    return compose(
        config, pairs, states, start, now, None, earlier_stories(output, today), background
    )


def build(
    config: Config, output: Path, now: datetime, window: timedelta | None = None
) -> BuildResult:
    from briefing.publish.archive import touched_topics, update_archive
    from briefing.publish.render import actor_trend, write_briefing

    briefing = composed(config, output, now, window)
    # The trend chart counts the top actors in the store's last seven days of articles.
    with Store.open(store_path(config, output)) as store:
        week = store.articles_between(now - timedelta(days=7), now)
    trend = actor_trend(briefing, week, config.zone)
    # What the day's earlier briefing (if rebuilt) touched, so pages it no longer names update.
    before = touched_topics(output, briefing.date)
    folder = write_briefing(briefing, config, output, trend)
    update_archive(config, output, [briefing.date], before)
    return BuildResult(briefing, folder)
