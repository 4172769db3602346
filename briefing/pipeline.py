"""The stages strung together: what ``briefing run``, ``poll``, ``build``, ``send``,
``archive rebuild`` and the scheduler call. The flow, one call a stage::

    stage      function                            in -> out                        called by
    poll       ingest.poll.poll_feeds              feeds -> entries (store)         poll
    extract    ingest.extract.extract_pending      entries -> articles (store)      extract
    tag        intel.stage.tag_articles            articles -> entities (store)     tag
    cluster    stories.cluster.story_groups        tagged articles -> groups        brief
    continue   stories.continuity.continued_groups groups vs earlier days' stories  brief
    summarize  stories.summarize.summarize_stories groups -> scored stories         brief
    compose    stories.compose.compose             stories -> Briefing              brief
    review     review.apply.regroup, .present      the analyst's edits of the day   brief
    render     publish.render.write_briefing       Briefing -> HTML, PDF, JSON      build
    archive    publish.archive.update_archive      days on disk -> static site      build
    deliver    deliver.send.deliver                Briefing -> e-mail, webhooks     cli, schedule

In: a ``Config``, the output folder and the clock. Out: the store updated (poll, extract,
tag) and the briefing files written (build). Each function opens the store itself, so a
caller needs nothing but a config. Nothing after ``tag`` tags, and nothing after ``extract``
touches the network but an optional chat summarizer and delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.config import Config, parse_duration
from briefing.models import Article, Briefing, Entry
from briefing.store import FeedState, Store, default_path

if TYPE_CHECKING:
    from briefing.ingest.extract import ExtractStats
    from briefing.ingest.poll import PollOutcome
    from briefing.intel.stage import Tagged, TagResult
    from briefing.publish.render import Trend
    from briefing.review.actions import Edit
    from briefing.stories.continuity import EarlierStory
    from briefing.stories.summarize import Summarizer

# Each stage's modules are imported by the function that runs it: ``briefing poll`` (every
# half hour under cron) then starts without Jinja, the archive and the tagger (~0.15 s).


def store_path(config: Config, output: Path) -> Path:
    """The config's ``store``, else the output folder's own store, kept outside the folder
    (which is published): see ``store.default_path``."""
    return config.resolve(config.store) if config.store else default_path(output)


@dataclass(frozen=True)
class BuildResult:
    briefing: Briefing
    folder: Path
    tagged: int = 0  # articles this build tagged (the rest had current stored entities)


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


def tag(
    config: Config, output: Path, start: datetime, end: datetime, *, retag: bool = False
) -> TagResult:
    """Tag stage: entities for the articles published in ``(start, end]``, stored; only what no
    tagger of this version has tagged is tagged (all of it with ``retag``)."""
    from briefing.intel.stage import tag_articles

    with Store.open(store_path(config, output)) as store:
        return tag_articles(_articles(store, start, end), store, retag=retag)


def _articles(store: Store, start: datetime, end: datetime) -> list[tuple[Entry, Article]]:
    from briefing.ingest.extract import choose

    # An item polled but not extracted yet (``poll`` without ``--extract``) still has the
    # feed's own text: a build never shows a bare title when the feed said more.
    return [
        (entry, article if article.text else choose(entry, None))
        for entry, article in store.articles_between(start, end)
    ]


def brief(
    config: Config,
    tagged: Sequence[Tagged],
    states: dict[str, FeedState],
    start: datetime,
    end: datetime,
    summarizer: Summarizer | None = None,
    earlier: Sequence[EarlierStory] = (),
    background: Sequence[str] = (),
    edits: Sequence[Edit] = (),
) -> Briefing:
    """Tagged articles -> the briefing: cluster, continue, summarize, compose, and the
    analyst's ``edits`` of the day (``review_edits``): drop, merge and split regroup the
    articles before summarize, so a merged story is summarized and ranked as one; pin, edit
    and note act on the composed briefing. ``earlier`` and ``background`` come from
    ``history``."""
    from briefing.review.apply import present, regroup
    from briefing.stories.cluster import story_groups
    from briefing.stories.compose import compose
    from briefing.stories.continuity import continued_groups
    from briefing.stories.summarize import summarize_stories

    groups = story_groups(config, tagged, background)
    shown, follows = continued_groups(config, groups, earlier, background)
    regrouped = regroup(config, shown, follows, edits) if edits else None
    if regrouped is not None:
        shown, follows = list(regrouped.groups), list(regrouped.follows)
    stories = summarize_stories(config, shown, start, end, summarizer, follows)
    return present(compose(config, stories, states, start, end), edits, regrouped)


def review_edits(config: Config, output: Path, end: datetime) -> list[Edit]:
    """The analyst's actions in force on the day of the briefing whose window ends at ``end``
    (``briefing review``); a build of that day applies them."""
    from briefing.review.actions import day_edits

    with Store.open(store_path(config, output)) as store:
        return day_edits(store, end.astimezone(config.zone).date().isoformat())


def history(
    config: Config, output: Path, start: datetime, end: datetime
) -> tuple[list[EarlierStory], list[str]]:
    """What a build compares its window with: the stories of the archived briefings of the
    days before this one (``stories.continuity``), and the title and lead of the store's
    articles of the weeks before the window (the cluster stage's word weights)."""
    from briefing.stories.cluster import BACKGROUND, BACKGROUND_CHARS
    from briefing.stories.continuity import earlier_stories

    with Store.open(store_path(config, output)) as store:
        weeks = store.articles_between(start - BACKGROUND, start)
    background = [f"{entry.title} {article.text[:BACKGROUND_CHARS]}" for entry, article in weeks]
    today = end.astimezone(config.zone).date().isoformat()
    return earlier_stories(output, today, config.continuity_days), background


def composed(
    config: Config, output: Path, now: datetime, window: timedelta | None = None
) -> Briefing:
    """The briefing of the window ending at ``now``, from the store, writing nothing but the
    entities it had to tag (``briefing send`` rebuilds an archived day this way: same store and
    clock, same briefing). ``window`` None means the configured one (see ``window_start``)."""
    start = now - window if window is not None else window_start(config, output, now)
    tagged = tag(config, output, start, now).items
    earlier, background = history(config, output, start, now)
    edits = review_edits(config, output, now)
    states = feed_states(config, output)
    return brief(config, tagged, states, start, now, None, earlier, background, edits)


def feed_states(config: Config, output: Path) -> dict[str, FeedState]:
    with Store.open(store_path(config, output)) as store:
        return store.feed_states()


def trend(config: Config, output: Path, briefing: Briefing) -> Trend:
    """The trend chart's counts: the top actors in the stored entities of the seven days up to
    the briefing's end, the very entities the briefings showed."""
    from briefing.publish.render import TREND_DAYS, actor_trend
    from briefing.stories.cluster import actor_namer

    end = briefing.window_end
    shown = actor_namer(config.actor_names)
    with Store.open(store_path(config, output)) as store:
        week = store.entities_between(end - timedelta(days=TREND_DAYS), end)
    return actor_trend(briefing, [(entry, shown(found)) for entry, found in week], config.zone)


def build(
    config: Config, output: Path, now: datetime, window: timedelta | None = None
) -> BuildResult:
    """The build, one call a stage (poll and extract have filled the store)."""
    from briefing.publish.archive import touched_topics, update_archive
    from briefing.publish.render import TREND_DAYS, write_briefing

    start = now - window if window is not None else window_start(config, output, now)
    # The trend chart's week is tagged too: it counts stored entities.
    tagging = tag(config, output, min(start, now - timedelta(days=TREND_DAYS)), now)
    tagged = [item for item in tagging.items if item[0].published > start]
    earlier, background = history(config, output, start, now)
    states = feed_states(config, output)
    edits = review_edits(config, output, now)
    briefing = brief(config, tagged, states, start, now, None, earlier, background, edits)
    chart = trend(config, output, briefing)
    # What the day's earlier briefing (if rebuilt) touched, so pages it no longer names update.
    before = touched_topics(output, briefing.date)
    folder = write_briefing(briefing, config, output, chart)  # render
    update_archive(config, output, [briefing.date], before)  # archive
    return BuildResult(briefing, folder, tagging.tagged)


def rebuild(config: Config, output: Path, *, pdf: bool = True, retag: bool = False) -> list[str]:
    """``briefing archive rebuild``: every archived day rendered again with the current
    templates (``pdf`` False: HTML only), then every archive page; returns the days.

    A day is rendered from its ``briefing.json``, so what it said stays what it said. With
    ``retag`` its window's articles are tagged again by the current tagger and the day is
    composed anew from the store (a day whose articles the store no longer holds keeps its
    ``briefing.json``)."""
    from briefing.publish.archive import day_folders, load_day, update_archive
    from briefing.publish.render import rerender_day, write_briefing

    has_store = store_path(config, output).is_file()
    days = []
    for folder in sorted(day_folders(output)):
        briefing = load_day(folder)
        if briefing is None:
            continue
        if retag and has_store:
            start, end = briefing.window_start, briefing.window_end
            tagged = tag(config, output, start, end, retag=True).items
            if tagged:
                earlier, background = history(config, output, start, end)
                states = feed_states(config, output)
                edits = review_edits(config, output, end)
                briefing = brief(
                    config, tagged, states, start, end, None, earlier, background, edits
                )
                write_briefing(briefing, config, output, trend(config, output, briefing))
                days.append(folder.name)
                continue
        chart = trend(config, output, briefing) if has_store else None
        rerender_day(briefing, config, output, chart, pdf=pdf)
        days.append(folder.name)
    update_archive(config, output, everything=True)
    return days
