"""Render stage: a ``Briefing`` -> HTML, PDF and ``briefing.json`` under ``DIR/YYYY-MM-DD/``.

In: a composed ``Briefing``, the config (page size, template folder) and optionally the
seven-day actor trend read from the store. Out: three files, each written atomically.

Templates: a folder named by the config's ``templates`` setting comes first, then the defaults
shipped with the package; ``{% extends "default:briefing.html" %}`` reaches a default template
from an override of the same name. Autoescape is always on: every feed field is
attacker-controlled. Links pass ``safe_url`` (http/https only) and indicators are defanged.
Every variable a template sees is built here (``context``) and documented in
``templates/README.md``; ``tests/test_templates.py`` fails when the two drift apart.

The PDF renderer (WeasyPrint) gets a URL fetcher that serves the package's own ``assets/``
folder and refuses everything else, so a hostile page can make it fetch nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from briefing.bounds import HTML_TABLE_ROWS
from briefing.config import Config
from briefing.files import write_atomic
from briefing.intel import geo
from briefing.intel.iocs import defang, idn_note
from briefing.models import (
    Briefing,
    Entities,
    Entry,
    Section,
    Story,
    is_failing,
    slug,
)
from briefing.publish.charts import Series, bar_chart, trend_chart
from briefing.serialize import dumps, safe_url

ASSET_PREFIX = "briefing-asset:/"
EXECUTIVE_FALLBACK = 5  # top stories shown when compose gave no executive summary
TREND_DAYS = 7
TREND_ACTORS = 5


def templates_dir() -> Path:
    """The default templates, in a source checkout or an installed package alike."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if (checkout / "briefing.html").is_file():
        return checkout
    return Path(str(resources.files("briefing") / "templates"))


def _fmt_time(moment: datetime | None, zone: Any = None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    if moment is None:
        return "never"
    return (moment.astimezone(zone) if zone else moment).strftime(fmt)


def environment(config: Config) -> jinja2.Environment:
    default = jinja2.FileSystemLoader(str(templates_dir()))
    loaders: list[jinja2.BaseLoader] = []
    if config.templates:
        loaders.append(jinja2.FileSystemLoader(str(config.resolve(config.templates))))
    loaders.append(jinja2.PrefixLoader({"default": default}, delimiter=":"))
    loaders.append(default)
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    env.filters["defang"] = defang
    env.filters["idn_note"] = idn_note
    env.filters["slug"] = slug
    env.filters["time"] = lambda moment, fmt="%Y-%m-%d %H:%M %Z": _fmt_time(
        moment, config.zone, fmt
    )
    env.filters["host"] = lambda url: (urlsplit(url).hostname or "") if url else ""
    env.filters["broadest"] = broadest
    env.tests["failing"] = is_failing
    return env


def stylesheet() -> str:
    """The default stylesheet, inlined into every page (the pages must be self-contained)."""
    return (templates_dir() / "briefing.css").read_text(encoding="utf-8")


# --- the seven-day actor trend ---------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """Articles per day naming each of the day's top actors, oldest day first."""

    days: tuple[str, ...]  # "03-04" ... "03-10"
    series: tuple[Series, ...]


def actor_trend(
    briefing: Briefing,
    tagged: Sequence[tuple[Entry, Entities]],
    zone: Any,
    *,
    days: int = TREND_DAYS,
    actors: int = TREND_ACTORS,
) -> Trend:
    """Count, per day, the stored articles naming each of the briefing's top actors.

    ``tagged`` are the store's entities of the ``days`` days up to the briefing's end, actors
    under the names the briefing shows them by: an article counts for an actor when the tagger
    found that actor in it, exactly as on the day itself ("Winnti malware" is no APT41).
    """
    end_day = briefing.window_end.astimezone(zone).date()
    day_list = [end_day - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    index = {day: number for number, day in enumerate(day_list)}
    counts = {section.title: [0] * days for section in briefing.by_actor[:actors]}
    for entry, entities in tagged:
        number = index.get(entry.published.astimezone(zone).date())
        if number is None:
            continue
        for name in {actor.name for actor in entities.actors}:
            if name in counts:
                counts[name][number] += 1
    return Trend(
        days=tuple(day.strftime("%m-%d") for day in day_list),
        series=tuple(Series(name, tuple(values)) for name, values in counts.items()),
    )


# --- the template context --------------------------------------------------------------------


def _quality_counts(stories: Iterable[Story]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for story in stories:
        for source in story.sources:
            counts.setdefault(source.feed, Counter())[source.quality] += 1
    return {feed: dict(counter) for feed, counter in counts.items()}


def charts(briefing: Briefing, trend: Trend | None) -> dict[str, Markup | None]:
    """The three inline SVG charts of a briefing (``trend`` None: no trend chart)."""
    out: dict[str, Markup | None] = {
        "regions": bar_chart(
            [(s.title, len(s.story_ids)) for s in briefing.by_region], "Stories per region"
        ),
        "actors": bar_chart(
            [(s.title, len(s.story_ids)) for s in briefing.by_actor], "Stories per actor"
        ),
    }
    out["trend"] = (
        trend_chart(
            trend.days, trend.series, f"Articles naming the top actors, last {len(trend.days)} days"
        )
        if trend is not None
        else None
    )
    return out


def _holders(names: Iterable[str]) -> dict[str, str]:
    """Region -> the smallest other region of ``names`` that contains it, for those that one
    does. Only regions derived from countries hold others: "Asia", named in prose only, spans
    the Gulf too, and the Gulf read under Asia is not how an analyst files it."""
    members = {name: geo.REGIONS[name].members for name in names if name in geo.REGIONS}
    derived = [name for name in members if geo.REGIONS[name].derive]
    holders: dict[str, str] = {}
    for name, inner in members.items():
        outer = [other for other in derived if inner < members[other]]
        if outer:
            holders[name] = min(outer, key=lambda other: (len(members[other]), other))
    return holders


def region_groups(sections: Sequence[Section]) -> list[tuple[Section, tuple[Section, ...]]]:
    """The day's regions for reading: each sub-region under the smallest region of the day
    that contains it (Gulf under Middle East; East and Southeast Asia under Asia-Pacific), so
    a story in Singapore is not four full entries. Regions come in their ranked order; a
    region nothing contains stands on its own. ``briefing.json`` and the archive keep every
    region as its own section."""
    parent = _holders(section.title for section in sections)
    return [
        (section, tuple(sub for sub in sections if parent.get(sub.title) == section.title))
        for section in sections
        if section.title not in parent
    ]


def broadest(names: Iterable[str]) -> list[str]:
    """Region names without those another of them holds: "Middle East" for a story tagged
    Middle East and Gulf (a one-line summary; the story's own tags keep both)."""
    names = list(names)
    held = _holders(names)
    return [name for name in names if name not in held]


# The PDF is the morning read, not the record: the top stories as cards, the next ones a line
# each, the largest groups of each part, the CVEs and indicators of the stories on paper and
# the feeds that failed. A 1,000-article day as everything was 53 pages (8 s of WeasyPrint)
# that nobody reads at 07:00; the HTML page and briefing.json keep all of it.
PDF_GROUPS = 10  # groups of each part (actor, region, vendor, ...) on paper
PDF_ROWS = 50  # CVE and indicator rows on paper (of the stories on paper)


@dataclass(frozen=True)
class Paper:
    """What the PDF leaves to the HTML page: the template says so in one line."""

    stories: int  # stories on paper (cards and lines)
    total: int  # stories in the briefing
    groups: int  # groups of each part shown
    feeds_ok: int  # healthy feeds, counted but not listed


def paper(briefing: Briefing, config: Config) -> tuple[Briefing, set[str], Paper]:
    """The PDF's cut of ``briefing``: the same ranks, fewer things. Returns the briefing with
    its parts cut to the groups holding a story on paper (the largest ``PDF_GROUPS`` of each),
    the CVE and indicator rows of those stories and only the failing feeds; the ids of the
    stories on paper (the top ``pdf_stories`` reported ones, the executive summary's and the
    first catalogue entries); and the counts of what was left out."""
    catalogue = set(briefing.catalogue)
    reported = [story.id for story in briefing.stories if story.id not in catalogue]
    shown = {*reported[: config.pdf_stories], *briefing.executive}
    shown.update(briefing.catalogue[: max(0, config.pdf_stories - len(reported))])

    def groups(sections: Sequence[Section]) -> tuple[Section, ...]:
        held = [s for s in sections if any(sid in shown for sid in s.story_ids)]
        return tuple(held[:PDF_GROUPS])

    cut = replace(
        briefing,
        by_actor=groups(briefing.by_actor),
        by_region=groups(briefing.by_region),
        by_sector=groups(briefing.by_sector),
        by_vendor=groups(briefing.by_vendor),
        by_incident=groups(briefing.by_incident),
        by_malware=groups(briefing.by_malware),
        by_campaign=groups(briefing.by_campaign),
        by_action=groups(briefing.by_action),
        cves=tuple(row for row in briefing.cves if any(sid in shown for sid in row.story_ids)),
        indicators=tuple(row for row in briefing.indicators if row.story_id in shown),
        feeds=tuple(feed for feed in briefing.feeds if feed.status != "ok"),
    )
    ok = sum(1 for feed in briefing.feeds if feed.status == "ok")
    return cut, shown, Paper(len(shown), len(briefing.stories), PDF_GROUPS, ok)


def context(
    briefing: Briefing,
    config: Config,
    *,
    medium: str,
    trend: Trend | None = None,
    root: str | None = "../",
) -> dict[str, Any]:
    """Every variable ``briefing.html`` sees (documented in templates/README.md).

    ``root`` is the relative path from the page to the archive's root (``"../"`` for
    ``DIR/DATE/briefing.html``), or None where there is no archive around the page (the PDF).
    """
    full = briefing
    shown: set[str] | None = None
    left_out: Paper | None = None
    if medium == "pdf":
        briefing, shown, left_out = paper(briefing, config)
    stories = {s.id: s for s in briefing.stories if shown is None or s.id in shown}
    # Catalogue entries and "Also noted" pieces: one line each under their heading, no card.
    entries = set(briefing.catalogue) | set(briefing.also_noted)
    if briefing.other_story_ids:
        other = [stories[sid] for sid in briefing.other_story_ids if sid in stories]
    else:
        grouped = {
            sid
            for section in (
                *full.by_actor,
                *full.by_region,
                *full.by_vendor,
                *full.by_incident,
                *full.by_malware,
                *full.by_campaign,
                *full.by_action,
            )
            for sid in section.story_ids
        } | set(briefing.also_noted)
        other = [story for story in briefing.stories if story.id not in grouped]
    if shown is not None:
        # On paper: the ungrouped stories on paper (the briefing's groups, not the cut's).
        other = [story for story in other if story.id in shown]
    if briefing.executive:
        executive = [stories[sid] for sid in briefing.executive if sid in stories]
    else:
        executive = list(briefing.stories[:EXECUTIVE_FALLBACK])
    cves, indicators = list(briefing.cves), list(briefing.indicators)
    rows = PDF_ROWS if medium == "pdf" else HTML_TABLE_ROWS
    failing = [feed for feed in full.feeds if is_failing(feed.status)]
    regions = region_groups(briefing.by_region)
    return {
        "briefing": briefing,
        "stories": stories,
        "rank": {story.id: number for number, story in enumerate(full.stories, 1)},
        "executive": executive,
        "other_stories": other,
        # Bare catalogue entries: one line each under their own heading, not story cards.
        "catalogue": [stories[sid] for sid in briefing.catalogue if sid in stories],
        "reported": [s for s in briefing.stories if s.id not in entries and s.id in stories],
        "also_noted": [stories[sid] for sid in briefing.also_noted if sid in stories],
        "sectors": list(briefing.by_sector),
        # Vendors with a page in the archive (those of the vendor part): chips link only there.
        "vendor_pages": {section.title for section in briefing.by_vendor},
        # By region, for reading: sub-regions nested under the day's smallest region holding
        # them (every region keeps its own section in briefing.json and the archive).
        "region_tops": [top for top, _subs in regions],
        "subregions": {top.key: subs for top, subs in regions if subs},
        # One feed can name thousands: the tables stop at a bound, briefing.json has them all.
        "cves": cves[:rows],
        "indicators": indicators[:rows],
        "rows_left_out": {
            "cves": len(full.cves) - len(cves[:rows]),
            "indicators": len(full.indicators) - len(indicators[:rows]),
        },
        "charts": charts(full, trend),
        "counts": {
            "stories": len(full.stories),
            "sources": sum(len(story.sources) for story in full.stories),
            "actors": len(full.by_actor),
            "regions": len(full.by_region),
            "cves": len(full.cves),
            "exploited": sum(1 for row in full.cves if row.exploited),
            "indicators": len(full.indicators),
            "feeds": len(full.feeds),
            "failing": len(failing),
        },
        "failing_feeds": failing,
        "quality": _quality_counts(full.stories),
        # On paper: what the PDF leaves to the HTML page and briefing.json (None on screen).
        "paper": left_out,
        "css": stylesheet(),
        "medium": medium,  # "html" or "pdf"
        # Full cards for the top stories; on paper the long tail is one line each.
        "card_limit": config.pdf_story_cards if medium == "pdf" else len(briefing.stories),
        "page_size": config.page_size,
        "root": root if medium == "html" else None,
    }


def render_html(
    briefing: Briefing,
    config: Config,
    env: jinja2.Environment,
    medium: str,
    trend: Trend | None = None,
) -> str:
    ctx = context(briefing, config, medium=medium, trend=trend)
    return env.get_template("briefing.html").render(ctx)


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    assets = templates_dir() / "assets"

    class AssetsOnly(URLFetcher):  # type: ignore[misc]
        """Serves ``briefing-asset:/NAME`` from the bundled assets; refuses every other URL."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(ASSET_PREFIX):
                name = url.removeprefix(ASSET_PREFIX).lstrip("/")
                path = (assets / name).resolve()
                if path.is_file() and path.is_relative_to(assets.resolve()):
                    return URLFetcherResponse(url, path.read_bytes(), {}, 200)
            raise ValueError(f"refused to fetch {url[:100]!r}: the PDF uses bundled assets only")

    document = HTML(string=html, base_url=ASSET_PREFIX, url_fetcher=AssetsOnly())
    return bytes(document.write_pdf())


def write_briefing(
    briefing: Briefing, config: Config, output: Path, trend: Trend | None = None
) -> Path:
    """Write ``briefing.html``, ``.pdf``, ``.json`` and ``.stix.json`` into ``output/DATE/``;
    return that folder."""
    from briefing.publish.stix import write_stix

    env = environment(config)
    folder = output / briefing.date
    write_atomic(folder / "briefing.json", dumps(briefing))
    write_stix(briefing, config.title, folder)
    write_atomic(folder / "briefing.html", render_html(briefing, config, env, "html", trend))
    pdf = render_pdf(render_html(briefing, config, env, "pdf", trend))
    write_atomic(folder / "briefing.pdf", pdf)
    return folder


def rerender_day(
    briefing: Briefing, config: Config, output: Path, trend: Trend | None, *, pdf: bool = True
) -> Path:
    """Render a stored day's HTML (and PDF) and STIX bundle again (from its ``briefing.json``);
    the JSON stays."""
    from briefing.publish.stix import write_stix

    env = environment(config)
    folder = output / briefing.date
    write_stix(briefing, config.title, folder)
    write_atomic(folder / "briefing.html", render_html(briefing, config, env, "html", trend))
    if pdf:
        write_atomic(
            folder / "briefing.pdf", render_pdf(render_html(briefing, config, env, "pdf", trend))
        )
    return folder
