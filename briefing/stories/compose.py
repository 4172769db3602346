"""Compose stage: scored ``Story``s (``stories.summarize``) -> a ranked ``Briefing``.

In: the summarized stories of the window, feed-health rows, the config and the window's
bounds. Out: a ``Briefing`` holding everything the renderers show, so that no template
computes anything: the ranking, the day cut by actor, by region and by sector, and by the
story's kind (``stories.topics``): vulnerabilities by vendor, incidents by victim sector,
campaigns by actor or malware family, law enforcement and policy by country, malware by family,
and "Also noted" (industry, research and opinion pieces, one line each); the CVEs (exploited
or not), the indicators with their story, the stories in none of those parts, the stories
that are bare catalogue entries (``catalogue``: one line each, never top stories), feed
health. No tagging, no network.

Everything is ordered by explicit keys, so the same store and clock give the same briefing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from briefing import __version__
from briefing.config import Config
from briefing.intel import geo
from briefing.intel.kind import BACKGROUND_KINDS
from briefing.models import (
    ActorRef,
    Briefing,
    CveRow,
    Entities,
    FeedHealth,
    FeedStatus,
    IndicatorRow,
    Section,
    Story,
    slug,
)
from briefing.store import FeedState
from briefing.stories import topics
from briefing.stories.catalogue import (
    catalogue_story,
)
from briefing.stories.summarize import (
    rank_key,
)

# --- entities of a story --------------------------------------------------------------------


# --- stories ---------------------------------------------------------------------------------


def executive_ids(stories: Sequence[Story], catalogue: set[str], top: int) -> tuple[str, ...]:
    """The first ``top`` stories by rank, no bare catalogue entry among them (ten KEV additions
    are one line each under "Catalogue additions" and in the CVE table) and no opinion or
    industry piece (a sponsored post naming APT28 is no top story)."""
    return tuple(
        story.id
        for story in stories
        if story.id not in catalogue and story.kind not in BACKGROUND_KINDS
    )[:top]


# --- sections --------------------------------------------------------------------------------


def _sections(
    members: dict[str, list[str]], make: Callable[[str, tuple[str, ...]], Section]
) -> tuple[Section, ...]:
    """Title -> story ids (in rank order) -> sections, the largest first; among equals, the
    one whose best story ranks higher (``members`` is filled in rank order, so that is the
    order of first insertion), not the alphabet: with one story each, the day's top actor is
    the top story's, which the e-mail subject names."""
    first = {name: position for position, name in enumerate(members)}
    order = sorted(members, key=lambda name: (-len(members[name]), first[name]))
    return _unique_keys(make(name, tuple(members[name])) for name in order)


def _unique_keys(sections: Iterable[Section]) -> tuple[Section, ...]:
    """Two titles with one slug ("APT 29", "APT-29") still get two keys: an HTML id each."""
    taken: set[str] = set()
    out = []
    for section in sections:
        if section.key in taken:
            digest = hashlib.sha256(section.title.encode("utf-8")).hexdigest()[:8]
            section = replace(section, key=f"{section.key}-{digest}")
        taken.add(section.key)
        out.append(section)
    return tuple(out)


def _add(members: dict[str, list[str]], title: str, story_id: str) -> None:
    if story_id not in members[title]:
        members[title].append(story_id)


def _actor_detail(actor: ActorRef) -> str:
    bits = []
    if actor.aliases:
        bits.append("also " + ", ".join(actor.aliases[:6]))
    bits.append(f"attributed to {actor.country}" if actor.country else "attribution unknown")
    if not actor.in_kb:
        bits.append("not in the knowledge base")
    return "; ".join(bits)


def unnamed_actors(entities: Entities) -> tuple[ActorRef, ...]:
    """The states a story attributes activity to without naming a group that carries that
    state ("North Korean hackers stole ..."): one unnamed actor each, never an invented
    group name."""
    named = {a.country_code for a in entities.actors if a.country_code}
    return tuple(
        ActorRef(
            name=f"Unnamed {c.name}-linked actors",
            aliases=(),
            country=c.name,
            country_code=c.code,
            in_kb=False,
            mentions=c.mentions,
        )
        for c in entities.countries
        if c.role == "attributed" and c.code not in named
    )


def actor_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    """One section per named actor, and one per state that a story attributes activity to
    without naming the group (``unnamed_actors``)."""
    members: dict[str, list[str]] = defaultdict(list)
    actors: dict[str, ActorRef] = {}
    unnamed: set[str] = set()
    for story in stories:
        for actor in story.entities.actors:
            _add(members, actor.name, story.id)
            if actor.in_kb and not actors.get(actor.name, actor).in_kb:
                actors[actor.name] = actor  # a lookalike never speaks for a known actor
            actors.setdefault(actor.name, actor)
        for actor in unnamed_actors(story.entities):
            _add(members, actor.name, story.id)
            actors.setdefault(actor.name, actor)
            unnamed.add(actor.name)
    return _sections(
        members,
        lambda name, ids: Section(
            key=slug(name),
            title=name,
            detail=(
                f"attributed to {actors[name].country}; no group named"
                if name in unnamed
                else _actor_detail(actors[name])
            ),
            story_ids=ids,
            aliases=actors[name].aliases,
            country=actors[name].country,
        ),
    )


def region_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    """Regions with the countries of their stories that lie inside them (targets, mentions)."""
    members: dict[str, list[str]] = defaultdict(list)
    countries: dict[str, set[str]] = defaultdict(set)
    for story in stories:
        for region in story.entities.regions:
            _add(members, region.name, story.id)
            for country in story.entities.countries:
                if country.role != "attributed" and region.name in geo.regions_of(
                    country.code, derived_only=False
                ):
                    countries[region.name].add(country.name)
    return _sections(
        members,
        lambda name, ids: Section(
            key=slug(name),
            title=name,
            detail=", ".join(sorted(countries[name])),
            story_ids=ids,
            countries=tuple(sorted(countries[name])),
        ),
    )


def sector_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    members: dict[str, list[str]] = defaultdict(list)
    for story in stories:
        for sector in story.entities.sectors:
            _add(members, sector.name, story.id)
    return _sections(
        members, lambda name, ids: Section(key=slug(name), title=name, detail="", story_ids=ids)
    )


def feed_health(
    config: Config, states: dict[str, FeedState], stories: Sequence[Story]
) -> tuple[FeedHealth, ...]:
    in_window: dict[str, int] = defaultdict(int)
    quality: dict[tuple[str, str], int] = defaultdict(int)
    for story in stories:
        for source in story.sources:
            in_window[source.feed] += 1
            quality[(source.feed, source.quality)] += 1
    out = []
    for feed in config.feeds:
        state = states.get(feed.name)
        status: FeedStatus = state.status if state else "never-polled"  # type: ignore[assignment]
        out.append(
            FeedHealth(
                name=feed.name,
                url=feed.url,
                status=status,
                items=in_window[feed.name],
                error=state.error if state else None,
                last_ok=state.last_ok if state else None,
                failures=state.failures if state else 0,
                failing_since=state.failing_since if state else None,
                full=quality[(feed.name, "full")],
                feed_only=quality[(feed.name, "feed-only")],
                failed=quality[(feed.name, "failed")],
            )
        )
    return tuple(out)


def compose(
    config: Config,
    stories: Sequence[Story],
    states: dict[str, FeedState],
    start: datetime,
    end: datetime,
) -> Briefing:
    """Compose stage: scored stories -> the ``Briefing`` (rank, sections, tables, feed health);
    no tagging, no network."""
    tags = {feed.name: feed.tags for feed in config.feeds}
    catalogue = {story.id for story in stories if catalogue_story(story, tags)}
    # Bare catalogue entries rank after every reported story, so the cards are numbered 1..n.
    stories = sorted(stories, key=lambda story: (story.id in catalogue, *rank_key(story)))
    by_actor = actor_sections(stories)
    by_region = region_sections(stories)
    by_sector = sector_sections(stories)
    by_vendor = topics.vendor_sections(stories)
    by_incident = topics.incident_sections(stories)
    by_campaign = topics.campaign_sections(stories)
    by_action = topics.action_sections(stories)
    placed = {
        sid
        for section in (*by_actor, *by_region, *by_vendor, *by_incident, *by_campaign, *by_action)
        for sid in section.story_ids
    }
    by_malware = topics.malware_sections(stories, placed)
    placed.update(sid for section in by_malware for sid in section.story_ids)
    # Industry, research and opinion pieces in no other part: one line each, no card.
    also_noted = tuple(
        s.id
        for s in stories
        if s.kind in topics.NOTED_KINDS and s.id not in placed and s.id not in catalogue
    )
    placed.update(also_noted)
    cve_stories: dict[str, list[str]] = defaultdict(list)
    exploited: set[str] = set()
    for story in stories:
        for cve in story.entities.cves:
            cve_stories[cve].append(story.id)
        exploited.update(story.exploited)
    cves = tuple(
        CveRow(cve, tuple(ids), cve in exploited)
        for cve, ids in sorted(cve_stories.items(), key=lambda kv: (kv[0] not in exploited, kv[0]))
    )
    indicators = tuple(
        IndicatorRow(kind, value, story.id)
        for story in stories
        for kind, values in story.entities.indicators
        for value in values
    )
    return Briefing(
        title=config.title,
        date=end.astimezone(config.zone).date().isoformat(),
        window_start=start,
        window_end=end,
        tlp=config.tlp,
        stories=tuple(stories),
        by_actor=by_actor,
        by_region=by_region,
        feeds=feed_health(config, states, stories),
        generated_with=f"briefing {__version__}",
        executive=executive_ids(stories, catalogue, config.top_stories),
        catalogue=tuple(story.id for story in stories if story.id in catalogue),
        other_story_ids=tuple(s.id for s in stories if s.id not in placed),
        by_sector=by_sector,
        cves=cves,
        indicators=indicators,
        by_vendor=by_vendor,
        by_incident=by_incident,
        by_malware=by_malware,
        by_campaign=by_campaign,
        by_action=by_action,
        also_noted=also_noted,
    )
