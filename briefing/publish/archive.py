"""Archive stage: the briefings under the output folder -> a static site around them.

In: the ``DIR/YYYY-MM-DD/briefing.json`` files already written (the day pages themselves,
``DIR/YYYY-MM-DD/briefing.html``, come from ``render``). Out, all under ``DIR``:

* ``index.html`` — every briefing, newest first, grouped by month, counts per day, a filter box;
* ``actors/<slug>.html`` and ``regions/<slug>.html`` — every story about one actor (with its
  aliases and attributed country) or one region, across all days, newest first; plus
  ``actors/index.html`` and ``regions/index.html``;
* ``vendors/<slug>.html`` — the stories each day's briefing put under one vendor (its
  vulnerabilities, patches and abuse), with the products named; plus ``vendors/index.html``;
* ``feed.xml`` — an Atom feed of the briefings;
* ``search-index.js`` (the stories as a JS global, so the filter works from ``file://`` where
  ``fetch()`` of a JSON file is refused) and ``assets/search.js`` (the filter, vanilla JS);
* ``misp/`` — a MISP feed of every day (``publish/misp.py``).

Links are relative only, so the folder can be copied or served anywhere. Every file is written
atomically. ``update_archive`` is incremental: it rewrites the site-wide pages (index, feed,
search index) and only the actor and region pages the changed day touches;
``pipeline.rebuild`` regenerates everything, day pages included, from the stored
``briefing.json`` files plus the store (for the seven-day trend chart).
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from briefing.config import Config
from briefing.files import write_atomic
from briefing.intel.normalize import alias_key
from briefing.models import Briefing, slug
from briefing.publish.misp import write_misp_feed
from briefing.publish.render import environment, stylesheet, templates_dir
from briefing.sanitize import xml_safe
from briefing.serialize import read as read_briefing
from briefing.serialize import safe_url

log = logging.getLogger(__name__)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FEED_ENTRIES = 60  # briefings in the Atom feed (the newest)


@dataclass(frozen=True)
class StoryRef:
    """One story of one day as the archive pages show it (from ``briefing.json``)."""

    date: str
    id: str
    title: str
    summary: str
    url: str | None  # the first source's link, http(s) only
    feeds: tuple[str, ...]
    published: str  # ISO 8601
    actors: tuple[str, ...]
    regions: tuple[str, ...]
    countries: tuple[str, ...]
    sectors: tuple[str, ...]
    cves: tuple[str, ...]
    previous: tuple[str, str] | None = None  # (date, id) of the story it continues
    earlier: tuple[str, ...] = ()  # on a topic page: the earlier days of the same event

    @property
    def all_days(self) -> tuple[str, ...]:
        return (*self.earlier, self.date)

    vendors: tuple[str, ...] = ()  # the vendor sections of its day that list it

    @property
    def href(self) -> str:
        """The story on its day page, relative to the archive root."""
        return f"{self.date}/briefing.html#story-{self.id}"


@dataclass(frozen=True)
class DaySummary:
    date: str
    month: str  # YYYY-MM
    title: str
    tlp: str
    updated: str  # ISO 8601: the window's end
    stories: int
    actors: tuple[str, ...]  # section names, busiest first (at most 8)
    regions: tuple[str, ...]
    headlines: tuple[str, ...]  # executive summary titles (or the first stories')
    has_pdf: bool

    @property
    def headlines_html(self) -> str:
        """The headlines as an HTML list (plain text: the Atom template escapes it again)."""
        items = "".join(f"<li>{html.escape(title)}</li>" for title in self.headlines)
        return f"<ul>{items}</ul>"


@dataclass
class Topic:
    """An actor or a region page: everything the archive knows about it."""

    kind: str  # "actor", "region" or "vendor"
    key: str  # slug, the file name
    name: str
    aliases: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)  # region: member countries seen
    country: str | None = None  # actor: attributed state (the latest seen)
    stories: list[StoryRef] = field(default_factory=list)
    folded: set[str] = field(default_factory=set)  # actor: slugs of its former names' pages
    products: set[str] = field(default_factory=set)  # vendor: the products its stories name

    @property
    def days(self) -> int:
        return len({day for story in self.stories for day in story.all_days})


@dataclass
class Site:
    days: list[DaySummary]  # newest first
    stories: list[StoryRef]  # newest day first, ranked within a day
    actors: dict[str, Topic]
    regions: dict[str, Topic]
    vendors: dict[str, Topic] = field(default_factory=dict)


def load_day(folder: Path) -> Briefing | None:
    """A day's briefing, or None if missing or damaged (it must not break the site)."""
    return read_briefing(folder / "briefing.json")


def day_folders(output: Path) -> list[Path]:
    if not output.is_dir():
        return []
    return sorted(
        (p for p in output.iterdir() if _DAY.match(p.name) and (p / "briefing.json").is_file()),
        reverse=True,
    )


def window_end(folder: Path) -> datetime | None:
    """Where the briefing archived in ``folder`` ended its window (the clock it was built for),
    or None if there is none."""
    briefing = load_day(folder)
    return briefing.window_end if briefing is not None else None


def archived_window_ends(output: Path) -> list[datetime]:
    """Where each archived briefing's window ended."""
    return [end for folder in day_folders(output) if (end := window_end(folder)) is not None]


def load_days(output: Path) -> list[tuple[Path, Briefing]]:
    """Every archived day's folder and briefing, newest first; a damaged day is skipped (it
    must not break the site)."""
    return [
        (folder, briefing)
        for folder in day_folders(output)
        if (briefing := load_day(folder)) is not None
    ]


def scan(output: Path, days: list[tuple[Path, Briefing]] | None = None) -> Site:
    """Read every stored day (``days`` when the caller has loaded them) into the site model
    (newest first)."""
    site = Site(days=[], stories=[], actors={}, regions={})
    listed: dict[str, list[Topic]] = {}  # alias key -> actor pages listing it as an alias
    for folder, briefing in load_days(output) if days is None else days:
        date = folder.name
        vendors_of: dict[str, list[str]] = {}
        for vendor in briefing.by_vendor:
            for sid in vendor.story_ids:
                vendors_of.setdefault(sid, []).append(vendor.title)
        refs = []
        for story in briefing.stories:
            entities = story.entities
            ref = StoryRef(
                date=date,
                id=story.id,
                title=story.title,
                summary=story.summary,
                url=safe_url(story.sources[0].url) if story.sources else None,
                feeds=tuple(dict.fromkeys(source.feed for source in story.sources)),
                published=story.published.isoformat(),
                actors=tuple(actor.name for actor in entities.actors),
                regions=tuple(region.name for region in entities.regions),
                countries=tuple(c.name for c in entities.countries if c.role != "attributed"),
                sectors=tuple(sector.name for sector in entities.sectors),
                cves=entities.cves,
                previous=story.previous,
                vendors=tuple(vendors_of.get(story.id, ())),
            )
            refs.append(ref)
            for actor in entities.actors:
                aliases = set(actor.aliases)
                topic = _actor_topic(site.actors, listed, actor.name, aliases)
                for alias in aliases - topic.aliases:
                    listed.setdefault(alias_key(alias), []).append(topic)
                topic.aliases.update(aliases)
                topic.country = topic.country or actor.country  # newest day wins
                topic.stories.append(ref)
            for region in ref.regions:
                topic = site.regions.setdefault(slug(region), Topic("region", slug(region), region))
                topic.countries.update(ref.countries)
                topic.stories.append(ref)
        site.stories.extend(refs)
        by_id = {ref.id: ref for ref in refs}
        for vendor in briefing.by_vendor:
            topic = site.vendors.setdefault(vendor.key, Topic("vendor", vendor.key, vendor.title))
            topic.products.update(vendor.products)
            topic.stories.extend(by_id[i] for i in vendor.story_ids if i in by_id)
        executive = [by_id[i].title for i in briefing.executive if i in by_id]
        site.days.append(
            DaySummary(
                date=date,
                month=date[:7],
                title=briefing.title,
                tlp=briefing.tlp,
                updated=briefing.window_end.isoformat(),
                stories=len(refs),
                actors=tuple(section.title for section in briefing.by_actor)[:8],
                regions=tuple(section.title for section in briefing.by_region)[:8],
                headlines=tuple(executive or [ref.title for ref in refs[:5]]),
                has_pdf=(folder / "briefing.pdf").is_file(),
            )
        )
    for topic in (*site.actors.values(), *site.regions.values()):
        topic.stories = fold_continued(topic.stories)
    return site


def fold_continued(stories: list[StoryRef]) -> list[StoryRef]:
    """One event told on several days (a story whose ``previous`` points at an earlier one) is
    one entry: its newest telling, carrying the earlier days, so a page counts it once."""
    by_key = {(ref.date, ref.id): ref for ref in stories}

    def root(ref: StoryRef) -> tuple[str, str]:
        key = (ref.date, ref.id)
        seen = {key}
        while True:
            before = by_key[key].previous
            if before is None or before not in by_key or before in seen:
                return key
            key = before
            seen.add(key)

    threads: dict[tuple[str, str], list[StoryRef]] = {}
    for ref in stories:
        threads.setdefault(root(ref), []).append(ref)
    out = []
    for refs in threads.values():
        newest = max(refs, key=lambda ref: (ref.date, ref.published, ref.id))
        days = sorted({ref.date for ref in refs} - {newest.date})
        out.append(replace(newest, earlier=tuple(days)) if days else newest)
    return out


def _actor_topic(
    topics: dict[str, Topic], listed: dict[str, list[Topic]], name: str, aliases: set[str]
) -> Topic:
    """The page an actor's stories go on. Days are read newest first, so an actor renamed since
    (ATT&CK's name over MISP's, or ``actor_names``) already has its page under the new name: an
    older day's actor joins it when each lists the other's name among its aliases (both ways,
    so two actors merely sharing a contested alias never merge)."""
    key = slug(name)
    if key in topics:
        return topics[key]
    own = {alias_key(alias) for alias in aliases}
    for topic in listed.get(alias_key(name), ()):  # pages listing this name as an alias
        if alias_key(topic.name) in own:
            topic.folded.add(key)
            return topic
    return topics.setdefault(key, Topic("actor", key, name))


Touched = tuple[set[str], set[str], set[str]]  # actor, region and vendor slugs


def _touched(briefing: Briefing | None) -> Touched:
    """The actor, region and vendor slugs one day's briefing lists."""
    if briefing is None:
        return set(), set(), set()
    actors: set[str] = set()
    regions: set[str] = set()
    for story in briefing.stories:
        actors.update(slug(actor.name) for actor in story.entities.actors)
        regions.update(slug(region.name) for region in story.entities.regions)
    return actors, regions, {section.key for section in briefing.by_vendor}


def touched_topics(output: Path, date: str) -> Touched:
    """Actor, region and vendor slugs of the stored briefing of ``date`` (call before
    overwriting it, so that a rebuilt day that lost an actor or a vendor still updates that
    page)."""
    return _touched(load_day(output / date))


def search_index(site: Site) -> list[dict[str, Any]]:
    return [
        {
            "d": ref.date,
            "t": ref.title,
            "u": ref.href,
            "a": list(ref.actors),
            "r": list(ref.regions),
            "c": list(ref.countries),
            "s": list(ref.sectors),
            "v": list(ref.cves),
            "f": list(ref.feeds),
            "n": list(ref.vendors),
        }
        for ref in site.stories
    ]


def topic_context(config: Config, topic: Topic) -> dict[str, Any]:
    """Every variable ``actor.html`` / ``region.html`` see (templates/README.md)."""
    return {
        "topic": topic,
        "stories": sorted(topic.stories, key=lambda r: (r.date, r.published), reverse=True),
        "title": config.title,
        "css": stylesheet(),
        "medium": "html",
        "root": "../",
    }


def index_context(config: Config, site: Site) -> dict[str, Any]:
    """Every variable ``index.html`` sees (templates/README.md)."""
    return {
        "title": config.title,
        "days": site.days,
        "actors": sorted(site.actors.values(), key=_topic_order),
        "regions": sorted(site.regions.values(), key=_topic_order),
        "vendors": sorted(site.vendors.values(), key=_topic_order),
        "css": stylesheet(),
        "medium": "html",
        "root": "",
    }


def topics_context(config: Config, site: Site, kind: str) -> dict[str, Any]:
    """Every variable ``topics.html`` (``actors/index.html``, ``regions/index.html``,
    ``vendors/index.html``) sees."""
    topics = {"actor": site.actors, "region": site.regions, "vendor": site.vendors}[kind]
    return {
        "title": config.title,
        "kind": kind,
        "topics": sorted(topics.values(), key=_topic_order),
        "css": stylesheet(),
        "medium": "html",
        "root": "../",
    }


def feed_context(config: Config, site: Site) -> dict[str, Any]:
    """Every variable ``feed.xml`` sees (templates/README.md)."""
    return {
        "title": config.title,
        "days": site.days[:FEED_ENTRIES],
        "updated": max((d.updated for d in site.days), default="1970-01-01T00:00:00+00:00"),
        "feed_id": f"urn:briefing:archive:{slug(config.title)}",
    }


def update_archive(
    config: Config,
    output: Path,
    changed: Iterable[str] = (),
    also: Touched = (set(), set(), set()),
    *,
    everything: bool = False,
) -> list[Path]:
    """Bring the site up to date after the days in ``changed`` were (re)written.

    Rewrites the site-wide files and the actor, region and vendor pages those days list (plus
    the slugs in ``also``: what the days listed before they were overwritten, so a page whose
    listing lost a day is rewritten, or removed when no day lists it any more); ``everything``
    rewrites every topic page and removes every one no briefing backs. Returns the paths
    written.
    """
    env = environment(config)
    days = load_days(output)
    site = scan(output, days)
    actor_keys, region_keys, vendor_keys = (set(keys) for keys in also)
    loaded = {folder.name: briefing for folder, briefing in days}
    for date in changed:
        actors, regions, vendors = _touched(loaded.get(date))
        actor_keys |= actors
        region_keys |= regions
        vendor_keys |= vendors
    if everything:
        actor_keys |= set(site.actors)
        region_keys |= set(site.regions)
        vendor_keys |= set(site.vendors)
        # Pages no briefing backs: of topics no day lists any more, or left by hand.
        for kind, known in (("actors", site.actors), ("regions", site.regions)):
            folder = output / kind
            for stale in folder.glob("*.html") if folder.is_dir() else ():
                if stale.stem != "index" and stale.stem not in known:
                    stale.unlink()
    # A vendor page no briefing lists goes on every update (cheap: vendors are few).
    vendor_folder = output / "vendors"
    for stale in vendor_folder.glob("*.html") if vendor_folder.is_dir() else ():
        if stale.stem != "index" and stale.stem not in site.vendors:
            stale.unlink()
    written: list[Path] = []
    for keys, topics, kind in (
        (actor_keys, site.actors, "actor"),
        (region_keys, site.regions, "region"),
        (vendor_keys, site.vendors, "vendor"),
    ):
        for key in sorted(keys):
            path = output / f"{kind}s" / f"{key}.html"
            if key in topics:
                html_page = env.get_template(f"{kind}.html").render(
                    topic_context(config, topics[key])
                )
                try:
                    write_atomic(path, html_page, sync=False)  # rebuilt from the days
                except OSError as exc:
                    # One topic page must not cost the day its briefing or its delivery.
                    log.error("%s page %s not written: %s", kind, path.name, exc)
                    continue
                written.append(path)
                for former in topics[key].folded - topics.keys():  # now on this page
                    (output / f"{kind}s" / f"{former}.html").unlink(missing_ok=True)
            else:
                path.unlink(missing_ok=True)  # no briefing names it any more

    pages = {
        output / "index.html": ("index.html", index_context(config, site)),
        output / "actors" / "index.html": ("topics.html", topics_context(config, site, "actor")),
        output / "regions" / "index.html": ("topics.html", topics_context(config, site, "region")),
        output / "vendors" / "index.html": ("topics.html", topics_context(config, site, "vendor")),
        output / "feed.xml": ("feed.xml", feed_context(config, site)),
    }
    for path, (template, ctx) in pages.items():
        text = env.get_template(template).render(ctx)
        # An archived day from before intake cleaned feed text may still hold a control byte.
        write_atomic(path, xml_safe(text) if path.suffix == ".xml" else text, sync=False)
        written.append(path)
    # "</" escaped too, in case someone inlines the file into a page.
    index = json.dumps(search_index(site), ensure_ascii=True, separators=(",", ":"))
    index = index.replace("</", "<\\/")
    write_atomic(
        output / "search-index.js",
        "// Generated by briefing: the archive's stories for the filter box.\n"
        f"window.BRIEFING_SEARCH = {index};\n",
        sync=False,
    )
    write_atomic(
        output / "assets" / "search.js",
        (templates_dir() / "assets" / "search.js").read_bytes(),
        sync=False,
    )
    written += [output / "search-index.js", output / "assets" / "search.js"]
    trusted = {feed.name for feed in config.feeds if feed.ids}
    oldest_first = [briefing for _, briefing in reversed(days)]
    written.append(write_misp_feed(output, oldest_first, config.title, trusted))
    return written


def _topic_order(topic: Topic) -> tuple[int, str]:
    return (-len(topic.stories), topic.name.lower())
