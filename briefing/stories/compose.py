"""Cluster, summarize and compose stages: the window's tagged articles -> a ranked ``Briefing``.

Four calls, in the order ``pipeline`` makes them, none of which tags or (but for an optional
chat endpoint in ``summarize_stories``) touches the network:

1. ``story_groups``: ``(Entry, Article, Entities)`` triples (the tag stage's output) -> one
   group per event (``stories.cluster``); a bare catalogue entry (``catalogue_entry``) joins
   only the story of its CVE;
1b. ``continued_groups``: the groups against the earlier briefings' stories
   (``stories.continuity``) -> the groups with something new, each with the story it continues;
2. ``summarize_stories``: groups -> ``Story``s, each summarized from all its sources
   (``stories.summarize``, every sentence traced), its entities the union of its sources',
   scored: coverage (distinct outlets), actors (state-attributed weigh more), exploited or
   named CVEs, recency in the window, and the best source's feed weight;
3. ``compose``: stories, feed-health rows, the config and the window's bounds -> a
   ``Briefing`` holding everything the renderers show, so that no template computes anything:
   the ranking, the day cut by actor, by region and by sector, and by vendor, victim sector and
   malware family (``stories.topics``), the CVEs (exploited or not), the indicators with their
   story, the stories in none of those parts, the stories that are bare catalogue entries
   (``catalogue``: one line each, never top stories), feed health.

Everything is ordered by explicit keys, so the same store and clock give the same briefing.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from briefing import __version__
from briefing.config import Config
from briefing.intel import geo
from briefing.intel.iocs import defang_lookalikes, find_cves
from briefing.intel.kb import load_kb
from briefing.intel.normalize import alias_key
from briefing.intel.stage import Tagged
from briefing.models import (
    ActorRef,
    Article,
    Briefing,
    CountryRef,
    CveRow,
    Entities,
    Entry,
    FeedHealth,
    FeedStatus,
    IndicatorRow,
    NamedRef,
    Section,
    Source,
    Story,
    VendorRef,
    slug,
)
from briefing.store import FeedState, canonical_url
from briefing.stories import topics
from briefing.stories.cluster import Doc, cluster
from briefing.stories.continuity import Continuation, EarlierStory, continuations
from briefing.stories.summarize import (
    ChatSummarizer,
    ExtractiveSummarizer,
    Summarizer,
    fallback_summary,
    split_sentences,
)

_QUALITY_RANK = {"full": 0, "feed-only": 1, "failed": 2}
_ROLE_RANK = {"attributed": 0, "target": 1, "mentioned": 2}
_EXPLOITED = topics.EXPLOITED


# Feeds tagged so in feeds.yaml list only vulnerabilities exploited in the wild.
EXPLOITED_TAGS = frozenset({"kev", "exploited"})
# Feeds of bare catalogue entries (a vulnerability id and a reference, no reporting around it).
CATALOGUE_TAGS = EXPLOITED_TAGS | {"catalogue", "advisories"}
# A link whose last path segment is a vulnerability id is an entry of a vulnerability database
# (nvd.nist.gov/vuln/detail/CVE-..., github.com/advisories/GHSA-...), whatever the feed's tags.
_ENTRY_LINK = re.compile(
    r"/(?:CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3})/?$", re.IGNORECASE
)


def catalogue_entry(link: str | None, tags: Iterable[str]) -> bool:
    """A bare catalogue entry: from a feed tagged as a catalogue, or linking to a database
    record of one vulnerability."""
    path = urlsplit(link).path if link else ""
    return bool(CATALOGUE_TAGS & set(tags)) or bool(_ENTRY_LINK.search(path))


def _catalogue_story(story: Story, tags: Mapping[str, Sequence[str]]) -> bool:
    return bool(story.sources) and all(
        catalogue_entry(source.url, tags.get(source.feed, ())) for source in story.sources
    )


# --- entities of a story --------------------------------------------------------------------


def _union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for value in group:
            seen.setdefault(value, None)
    return tuple(seen)


def _merge_named(lists: Iterable[Sequence[NamedRef]]) -> tuple[NamedRef, ...]:
    merged: dict[str, list[tuple[str, ...]]] = {}
    for refs in lists:
        for ref in refs:
            merged.setdefault(ref.name, []).append(ref.mentions)
    return tuple(NamedRef(name, _union(mentions)) for name, mentions in merged.items())


def actor_namer(names: Mapping[str, str]) -> Callable[[Entities], Entities]:
    """``actor_names`` from the config as a function: an actor any of whose names (canonical
    or alias, compared like the knowledge base compares them) the config lists goes by the name
    it gives, its former name becoming an alias. Should several listed names be the same
    actor's, its canonical name's entry wins, then its aliases' in their order."""
    wanted = {alias_key(name): shown for name, shown in names.items() if alias_key(name)}

    def rename(actor: ActorRef) -> ActorRef:
        for name in (actor.name, *actor.aliases):
            shown = wanted.get(alias_key(name))
            if shown is not None and shown != actor.name:
                key = alias_key(shown)
                aliases = (actor.name, *(a for a in actor.aliases if alias_key(a) != key))
                return replace(actor, name=shown, aliases=aliases)
        return actor

    def apply(entities: Entities) -> Entities:
        if not wanted or not entities.actors:
            return entities
        return replace(entities, actors=tuple(rename(actor) for actor in entities.actors))

    return apply


def merge_entities(all_entities: Sequence[Entities]) -> Entities:
    """The entities of several sources about one event, each entity once."""
    if len(all_entities) == 1:
        return all_entities[0]
    actors: dict[str, ActorRef] = {}
    for entities in all_entities:
        for actor in entities.actors:
            known = actors.get(actor.name)
            if known is not None and actor.in_kb and not known.in_kb:
                known, actor = actor, known  # the knowledge base's actor speaks for the name
            if known is None:
                actors[actor.name] = actor
            else:
                actors[actor.name] = ActorRef(
                    name=known.name,
                    aliases=known.aliases,
                    country=known.country or actor.country,
                    country_code=known.country_code or actor.country_code,
                    in_kb=known.in_kb or actor.in_kb,
                    mentions=_union([known.mentions, actor.mentions]),
                )
    countries: dict[str, CountryRef] = {}
    for entities in all_entities:
        for country in entities.countries:
            known_country = countries.get(country.code)
            if known_country is None:
                countries[country.code] = country
                continue
            # The strongest role any source gave the country wins.
            role = min(known_country.role, country.role, key=_ROLE_RANK.__getitem__)
            countries[country.code] = CountryRef(
                country.code,
                country.name,
                role,
                _union([known_country.mentions, country.mentions]),
            )
    indicators: dict[str, list[tuple[str, ...]]] = {}
    for entities in all_entities:
        for kind, values in entities.indicators:
            indicators.setdefault(kind, []).append(values)
    return Entities(
        actors=tuple(actors.values()),
        countries=tuple(countries.values()),
        regions=_merge_named(e.regions for e in all_entities),
        sectors=_merge_named(e.sectors for e in all_entities),
        malware=_merge_named(e.malware for e in all_entities),
        cves=tuple(sorted(_union(e.cves for e in all_entities))),
        techniques=tuple(sorted(_union(e.techniques for e in all_entities))),
        indicators=tuple((kind, _union(values)) for kind, values in sorted(indicators.items())),
        vendors=_merge_vendors(e.vendors for e in all_entities),
    )


def _merge_vendors(lists: Iterable[Sequence[VendorRef]]) -> tuple[VendorRef, ...]:
    merged: dict[str, tuple[list[tuple[str, ...]], list[tuple[str, ...]]]] = {}
    for refs in lists:
        for ref in refs:
            products, mentions = merged.setdefault(ref.name, ([], []))
            products.append(ref.products)
            mentions.append(ref.mentions)
    return tuple(
        VendorRef(name, _union(products), _union(mentions))
        for name, (products, mentions) in merged.items()
    )


def exploited_cves(texts: Iterable[str], cves: Sequence[str]) -> tuple[str, ...]:
    """CVEs that a sentence says are exploited (or, for a one-CVE story, any such sentence)."""
    found: set[str] = set()
    said_exploited = False
    for text in texts:
        for sentence in split_sentences(text):
            if not _EXPLOITED.search(sentence):
                continue
            said_exploited = True
            found.update(find_cves(sentence))
    if said_exploited and len(cves) == 1:
        found.add(cves[0])
    return tuple(sorted(found & set(cves)))


# --- stories ---------------------------------------------------------------------------------


def _story_id(entry_ids: Iterable[str]) -> str:
    return hashlib.sha256("|".join(sorted(entry_ids)).encode()).hexdigest()[:12]


def _mentions(entities: Entities) -> list[str]:
    out: list[str] = []
    for refs in (entities.actors, entities.malware, entities.sectors, entities.regions):
        for ref in refs:
            out.extend(ref.mentions)
    for country in entities.countries:
        out.extend(country.mentions)
    out.extend(entities.cves)
    return out


_FEED_PREFIXES = frozenset({"www", "feeds", "feed", "rss", "blog", "blogs", "news"})


def _serves(feed_url: str, link: str | None) -> bool:
    """Whether ``link`` is on the site of the feed at ``feed_url`` (the advisory's own host)."""
    feed_host = (urlsplit(feed_url).hostname or "").split(".")
    if len(feed_host) > 2 and feed_host[0] in _FEED_PREFIXES:
        feed_host = feed_host[1:]
    base = ".".join(feed_host)
    host = urlsplit(link or "").hostname or ""
    return bool(base) and (host == base or host.endswith("." + base))


def lead_order(
    config: Config | None,
) -> Callable[[tuple[Entry, Article, Entities]], tuple[object, ...]]:
    """The sort key that puts a story's most trusted member first: its title and summary lead
    the story. Feed weight, then the feed whose site serves the link, then first seen, then
    the operator's order of the feeds in the config; text length and the item id (a GUID the
    feed chose) come last, so another feed cannot take over a story by writing more or
    picking its GUID."""
    feeds = {feed.name: feed for feed in config.feeds} if config else {}
    position = {name: index for index, name in enumerate(feeds)}

    def key(member: tuple[Entry, Article, Entities]) -> tuple[object, ...]:
        entry, article, _ = member
        feed = feeds.get(entry.feed)
        return (
            -(feed.weight if feed else 1.0),
            not (feed is not None and _serves(feed.url, entry.link)),
            _QUALITY_RANK[article.quality] == 2,  # a member with no text cannot lead
            entry.first_seen,
            position.get(entry.feed, len(position)),
            entry.feed,
            _QUALITY_RANK[article.quality],
            -len(article.text),
            entry.id,
        )

    return key


def make_story(
    members: Sequence[Tagged],
    summarizer: Summarizer,
    config: Config | None = None,
) -> Story:
    ranked = sorted(members, key=lead_order(config))
    best_entry, best_article, _ = ranked[0]
    sources = tuple(
        sorted(
            (
                Source(
                    feed=entry.feed,
                    title=entry.title,
                    url=entry.link,
                    published=entry.published,
                    quality=article.quality,
                    outlet=entry.outlet,
                )
                for entry, article, _ in members
            ),
            key=lambda source: (source.published, source.feed, source.url or ""),
        )
    )
    entities = merge_entities([m[2] for m in ranked])
    texts = [article.text for _, article, _ in ranked]
    # The lead member's own text tells the story; the others' only when it has none to give.
    sentences = summarizer.summarize(texts[:1], best_article.title, _mentions(entities))
    if not sentences:
        sentences = summarizer.summarize(texts, best_article.title, _mentions(entities))
    # The summarizer counts sources in ``ranked`` order; the story lists them by date.
    position = {
        index: next(
            k
            for k, source in enumerate(sources)
            if source.url == ranked[index][0].link and source.feed == ranked[index][0].feed
        )
        for index in range(len(ranked))
    }
    sentences = tuple(
        replace(s, source=position[s.source], text=defang_lookalikes(s.text)) for s in sentences
    )
    summary = " ".join(s.text for s in sentences)
    if not summary:
        summary = defang_lookalikes(fallback_summary(best_article.text))
    return Story(
        id=_story_id(entry.id for entry, _, _ in members),
        title=best_entry.title,
        summary=summary,
        sources=sources,
        entities=entities,
        published=sources[0].published,
        sentences=sentences,
        exploited=exploited_cves(texts, entities.cves),
    )


def score(
    story: Story,
    weights: dict[str, float],
    start: datetime,
    end: datetime,
    catalogue: bool = False,
) -> float:
    """``catalogue``: every source is a known-exploited feed's entry, with no report around it;
    exploitation counts half, so a day's KEV additions rank below the news of attacks."""
    outlets = {source.publisher for source in story.sources}
    value = 1.0 + 1.5 * math.log2(1 + len(outlets))
    if story.entities.actors:
        attributed = any(actor.country for actor in story.entities.actors)
        value += 2.0 if attributed else 1.0
    if story.exploited:
        value += 1.0 if catalogue else 2.0
    elif story.entities.cves:
        value += 0.5
    if story.entities.malware:
        value += 0.3
    span = (end - start).total_seconds() or 1.0
    age = min(1.0, max(0.0, (end - story.published).total_seconds() / span))
    value += 1.0 - age
    weight = max((weights.get(source.feed, 1.0) for source in story.sources), default=1.0)
    return round(value * weight, 4)


def executive_ids(stories: Sequence[Story], catalogue: set[str], top: int) -> tuple[str, ...]:
    """The first ``top`` stories by rank, no bare catalogue entry among them: ten KEV additions
    are one line each under "Catalogue additions" (and in the CVE table), not top stories."""
    return tuple(story.id for story in stories if story.id not in catalogue)[:top]


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


def _one_entry_per_link(
    pairs: Sequence[tuple[Entry, Article]],
) -> list[tuple[Entry, Article]]:
    """A feed that mints a new GUID on every fetch lists one article as many entries: the
    newest of them speaks for the article, so a story never lists one source twice. Same feed,
    link and title make "the same article"; a feed that points every item at one landing page
    still has one entry per title."""
    newest: dict[tuple[str, str, str], tuple[Entry, Article]] = {}
    for entry, article in pairs:
        link = canonical_url(entry.link) if entry.link else "id:" + entry.id
        key = (entry.feed, link, " ".join(entry.title.lower().split()))
        kept = newest.get(key)
        if kept is None or (entry.first_seen, entry.id) > (kept[0].first_seen, kept[0].id):
            newest[key] = (entry, article)
    chosen = {entry.id for entry, _ in newest.values()}
    return [(entry, article) for entry, article in pairs if entry.id in chosen]


def _outlets_of_aggregators(
    config: Config, pairs: Sequence[tuple[Entry, Article]]
) -> list[tuple[Entry, Article]]:
    """The outlets an item's <source> names count only for feeds the config marks
    ``aggregator``: any other feed is one voice, however many outlets it claims to carry."""
    bundles = {feed.name for feed in config.feeds if feed.aggregator}
    return [
        (entry if entry.outlet is None or entry.feed in bundles else replace(entry, outlet=None), a)
        for entry, a in pairs
    ]


def chat_summarizer(config: Config) -> ChatSummarizer | None:
    """The configured chat endpoint, or None for the extractive default."""
    settings = config.summarizer
    if settings.backend != "chat" or not settings.url or settings.max_stories == 0:
        return None
    key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
    return ChatSummarizer(settings.url, settings.model, api_key=key, timeout=settings.timeout)


def _exploit_feeds(config: Config) -> set[str]:
    return {feed.name for feed in config.feeds if EXPLOITED_TAGS & set(feed.tags)}


def _rank(story: Story) -> tuple[float, float, str]:
    return (-story.score, -story.published.timestamp(), story.id)


def _docs(config: Config, items: Sequence[Tagged]) -> list[Doc]:
    tags = {feed.name: feed.tags for feed in config.feeds}
    return [
        Doc(
            # An aggregator's items come from many outlets: each is its own voice.
            feed=entry.outlet or entry.feed,
            link=canonical_url(entry.link) if entry.link else None,
            title=article.title,
            text=article.text,
            entities=entities,
            catalogue=catalogue_entry(entry.link, tags.get(entry.feed, ())),
        )
        for entry, article, entities in items
    ]


def story_groups(
    config: Config, tagged: Sequence[Tagged], background: Sequence[str] = ()
) -> list[list[Tagged]]:
    """Cluster stage: the window's tagged articles -> one group per event (``stories.cluster``),
    one entry per article (``_one_entry_per_link``), actors under the config's names.
    ``background``: texts of the store's weeks before the window (the words' weights)."""
    shown = actor_namer(config.actor_names)
    entities_of = {entry.id: entities for entry, _, entities in tagged}
    pairs = _one_entry_per_link(
        _outlets_of_aggregators(config, [(entry, article) for entry, article, _ in tagged])
    )
    items = [(entry, article, shown(entities_of[entry.id])) for entry, article in pairs]
    docs = _docs(config, items)
    return [[items[i] for i in group] for group in cluster(docs, background)]


def continued_groups(
    config: Config,
    groups: Sequence[Sequence[Tagged]],
    earlier: Sequence[EarlierStory],
    background: Sequence[str] = (),
) -> tuple[list[Sequence[Tagged]], list[Continuation]]:
    """Today's groups against the earlier briefings' stories (``stories.continuity``): the
    groups with something new, each with the earlier story it continues, if any. A group whose
    every source was in an earlier briefing is left out: it is not repeated."""
    found = continuations([_docs(config, group) for group in groups], earlier, background)
    kept = [(group, follow) for group, follow in zip(groups, found, strict=True)]
    kept = [(group, follow) for group, follow in kept if not follow.repeat]
    return [group for group, _ in kept], [follow for _, follow in kept]


def summarize_stories(
    config: Config,
    groups: Sequence[Sequence[Tagged]],
    start: datetime,
    end: datetime,
    summarizer: Summarizer | None = None,
    follows: Sequence[Continuation] = (),
) -> list[Story]:
    """Summarize stage: each group -> a scored ``Story`` summarized from all its sources, best
    first. With a chat endpoint configured, the ``max_stories`` best are summarized again by it
    (the only network this side of the store). ``follows``: per group, the earlier story it
    continues (``continued_groups``), which the story records as ``previous``."""
    summarizer = summarizer or ExtractiveSummarizer()
    weights = {feed.name: feed.weight for feed in config.feeds}
    exploit_feeds = _exploit_feeds(config)
    kev_feeds = {feed.name for feed in config.feeds if "kev" in feed.tags}
    tags = {feed.name: feed.tags for feed in config.feeds}

    def facts(story: Story, group: Sequence[Tagged]) -> Story:
        listed = {
            cve for entry, _, found in group if entry.feed in exploit_feeds for cve in found.cves
        }
        if listed:
            # A feed of known-exploited vulnerabilities (CISA's KEV, say) says so by being it,
            # for the CVEs its entries name.
            story = replace(story, exploited=tuple(sorted(set(story.exploited) | listed)))
        in_kev = {cve for entry, _, found in group if entry.feed in kev_feeds for cve in found.cves}
        texts = [article.text for _, article, _ in group]
        return topics.with_facts(story, texts, in_kev)

    stories = []
    members: dict[str, Sequence[Tagged]] = {}
    for number, group in enumerate(groups):
        story = facts(make_story(group, summarizer, config), group)
        members[story.id] = group
        follow = follows[number].previous if follows else None
        if follow is not None:
            story = replace(
                story, first_reported=follow.first_reported, previous=(follow.date, follow.id)
            )
        ranked = score(story, weights, start, end, _catalogue_story(story, tags))
        stories.append(replace(story, score=ranked))
    stories.sort(key=_rank)
    chat = chat_summarizer(config)
    if chat is not None:
        # A model's time goes to the stories read first; the rest keep the extractive summary.
        try:
            for rank, story in enumerate(stories[: config.summarizer.max_stories]):
                rewritten = facts(make_story(members[story.id], chat, config), members[story.id])
                stories[rank] = replace(
                    rewritten,
                    score=story.score,
                    first_reported=story.first_reported,
                    previous=story.previous,
                )
        finally:
            chat.close()
    return stories


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
    catalogue = {story.id for story in stories if _catalogue_story(story, tags)}
    # Bare catalogue entries rank after every reported story, so the cards are numbered 1..n.
    stories = sorted(stories, key=lambda story: (story.id in catalogue, *_rank(story)))
    by_actor = actor_sections(stories)
    by_region = region_sections(stories)
    by_sector = sector_sections(stories)
    by_vendor = topics.vendor_sections(stories)
    by_incident = topics.incident_sections(stories)
    placed = {
        sid
        for section in (*by_actor, *by_region, *by_vendor, *by_incident)
        for sid in section.story_ids
    }
    by_malware = topics.malware_sections(stories, malware_aliases, placed)
    placed.update(sid for section in by_malware for sid in section.story_ids)
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
    )


def malware_aliases(name: str) -> tuple[str, ...]:
    """A malware family's other names in the knowledge base."""
    family = load_kb().lookup_malware(name)
    return family.aliases if family is not None else ()
