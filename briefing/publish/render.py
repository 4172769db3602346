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

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from briefing.bounds import HTML_TABLE_ROWS, PDF_TABLE_ROWS
from briefing.config import Config
from briefing.files import write_atomic
from briefing.intel import geo
from briefing.intel.iocs import defang, idn_note, refang
from briefing.models import (
    ActorRef,
    Article,
    Briefing,
    CountryRef,
    CveRow,
    Entities,
    Entry,
    FeedHealth,
    IndicatorRow,
    NamedRef,
    Section,
    Source,
    Story,
    SummarySentence,
    slug,
)
from briefing.publish.charts import Series, bar_chart, trend_chart

ASSET_PREFIX = "briefing-asset:/"
EXECUTIVE_FALLBACK = 5  # top stories shown when compose gave no executive summary
TREND_DAYS = 7
TREND_ACTORS = 5


def templates_dir() -> Path:
    """The default templates, in a source checkout or an installed package alike."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if (checkout / "briefing.html").is_file():
        return checkout
    return Path(str(resources.files("briefing.templates")))


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no ``javascript:``, ``data:``...)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ord(ch) < 0x20 or ch.isspace() for ch in url):
        return None
    return url


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
    pairs: Sequence[tuple[Entry, Article]],
    zone: Any,
    *,
    days: int = TREND_DAYS,
    actors: int = TREND_ACTORS,
) -> Trend:
    """Count, per day, the stored articles naming each of the briefing's top actors.

    ``pairs`` are the store's articles of the ``days`` days up to the briefing's end. Matching
    is by canonical name and aliases as whole words (case-sensitive: "Charming Kitten", not
    "charming kitten"), which is what the tagger matched on the day itself; re-tagging a week
    of text at every build would cost seconds for the same numbers.
    """
    end_day = briefing.window_end.astimezone(zone).date()
    day_list = [end_day - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    index = {day: number for number, day in enumerate(day_list)}
    names: dict[str, set[str]] = {}
    for section in briefing.by_actor[:actors]:
        forms = {section.title}
        for story_id in section.story_ids:
            for story in briefing.stories:
                if story.id == story_id:
                    for actor in story.entities.actors:
                        if actor.name == section.title:
                            forms.update(actor.aliases)
                            forms.update(actor.mentions)
        names[section.title] = {form for form in forms if len(form) >= 3}
    patterns = {
        name: re.compile(
            r"(?<![\w-])(?:"
            + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            + r")(?![\w-])"
        )
        for name, forms in names.items()
    }
    counts = {name: [0] * days for name in names}
    for entry, article in pairs:
        number = index.get(entry.published.astimezone(zone).date())
        if number is None:
            continue
        text = f"{entry.title}\n{article.text or entry.summary}"
        for name, pattern in patterns.items():
            if pattern.search(text):
                counts[name][number] += 1
    return Trend(
        days=tuple(day.strftime("%m-%d") for day in day_list),
        series=tuple(Series(name, tuple(values)) for name, values in counts.items()),
    )


# --- the template context --------------------------------------------------------------------


def _cve_rows(briefing: Briefing) -> list[CveRow]:
    if briefing.cves:
        return list(briefing.cves)
    members: dict[str, list[str]] = {}
    exploited: set[str] = set()
    for story in briefing.stories:
        exploited.update(story.exploited)
        for cve in story.entities.cves:
            members.setdefault(cve, []).append(story.id)
    return [
        CveRow(id=cve, story_ids=tuple(ids), exploited=cve in exploited)
        for cve, ids in sorted(
            members.items(), key=lambda item: (item[0] not in exploited, item[0])
        )
    ]


def _indicator_rows(briefing: Briefing) -> list[IndicatorRow]:
    if briefing.indicators:
        return list(briefing.indicators)
    return [
        IndicatorRow(kind=kind, value=value, story_id=story.id)
        for story in briefing.stories
        for kind, values in story.entities.indicators
        for value in values
    ]


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


def _table_rows(medium: str) -> int:
    return PDF_TABLE_ROWS if medium == "pdf" else HTML_TABLE_ROWS


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
    stories = {story.id: story for story in briefing.stories}
    if briefing.other_story_ids:
        other = [stories[sid] for sid in briefing.other_story_ids if sid in stories]
    else:
        grouped = {
            sid
            for section in (*briefing.by_actor, *briefing.by_region)
            for sid in section.story_ids
        }
        other = [story for story in briefing.stories if story.id not in grouped]
    if briefing.executive:
        executive = [stories[sid] for sid in briefing.executive if sid in stories]
    else:
        executive = list(briefing.stories[:EXECUTIVE_FALLBACK])
    cves = _cve_rows(briefing)
    indicators = _indicator_rows(briefing)
    failing = [feed for feed in briefing.feeds if feed.status not in ("ok", "not-modified")]
    regions = region_groups(briefing.by_region)
    return {
        "briefing": briefing,
        "stories": stories,
        "rank": {story.id: number for number, story in enumerate(briefing.stories, 1)},
        "executive": executive,
        "other_stories": other,
        "sectors": list(briefing.by_sector),
        # By region, for reading: sub-regions nested under the day's smallest region holding
        # them (every region keeps its own section in briefing.json and the archive).
        "region_tops": [top for top, _subs in regions],
        "subregions": {top.key: subs for top, subs in regions if subs},
        # One feed can name thousands: the tables stop at a bound, briefing.json has them all.
        "cves": cves[: _table_rows(medium)],
        "indicators": indicators[: _table_rows(medium)],
        "rows_left_out": {
            "cves": max(0, len(cves) - _table_rows(medium)),
            "indicators": max(0, len(indicators) - _table_rows(medium)),
        },
        "charts": charts(briefing, trend),
        "counts": {
            "stories": len(briefing.stories),
            "sources": sum(len(story.sources) for story in briefing.stories),
            "actors": len(briefing.by_actor),
            "regions": len(briefing.by_region),
            "cves": len(cves),
            "exploited": sum(1 for row in cves if row.exploited),
            "indicators": len(indicators),
            "feeds": len(briefing.feeds),
            "failing": len(failing),
        },
        "failing_feeds": failing,
        "quality": _quality_counts(briefing.stories),
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


# --- briefing.json ---------------------------------------------------------------------------


def _story_json(story: Story) -> dict[str, Any]:
    entities = story.entities.to_dict()
    entities["indicators"] = {
        kind: [defang(value, kind) for value in values]
        for kind, values in story.entities.indicators
    }
    return {
        "id": story.id,
        "title": story.title,
        "summary": story.summary,
        "summary_sources": [
            {"text": sentence.text, "source": sentence.source} for sentence in story.sentences
        ],
        "score": story.score,
        "exploited": list(story.exploited),
        "published": story.published.isoformat(),
        "sources": [
            {
                "feed": source.feed,
                "title": source.title,
                "url": source.url,
                "published": source.published.isoformat(),
                "quality": source.quality,
                "outlet": source.outlet,
            }
            for source in story.sources
        ],
        **entities,
    }


def _section_json(section: Section, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": section.title, "key": section.key}
    if kind == "actors":
        out["aliases"] = list(section.aliases)
        out["country"] = section.country
    elif kind == "regions":
        out["countries"] = list(section.countries)
    out["detail"] = section.detail
    out["story_ids"] = list(section.story_ids)
    return out


def briefing_json(briefing: Briefing) -> dict[str, Any]:
    return {
        "title": briefing.title,
        "date": briefing.date,
        "window": {
            "start": briefing.window_start.isoformat(),
            "end": briefing.window_end.isoformat(),
        },
        # The clock the briefing was built for (``--now``), never the wall clock: the same
        # store and --now give a byte-identical file.
        "generated_at": briefing.window_end.isoformat(),
        "tlp": briefing.tlp,
        "generator": briefing.generated_with,
        "stories": [_story_json(story) for story in briefing.stories],
        "executive_summary": list(briefing.executive),
        "other_stories": list(briefing.other_story_ids),
        "sections": {
            "actors": [_section_json(s, "actors") for s in briefing.by_actor],
            "regions": [_section_json(s, "regions") for s in briefing.by_region],
            "sectors": [_section_json(s, "sectors") for s in briefing.by_sector],
        },
        "cves": [
            {"id": row.id, "stories": list(row.story_ids), "exploited": row.exploited}
            for row in briefing.cves
        ],
        "feeds": [
            {
                "name": feed.name,
                "url": feed.url,
                "status": feed.status,
                "items": feed.items,
                "error": feed.error,
                "last_ok": feed.last_ok.isoformat() if feed.last_ok else None,
                "failures": feed.failures,
                "failing_since": feed.failing_since.isoformat() if feed.failing_since else None,
                "quality": {"full": feed.full, "feed-only": feed.feed_only, "failed": feed.failed},
            }
            for feed in briefing.feeds
        ],
    }


def write_briefing(
    briefing: Briefing, config: Config, output: Path, trend: Trend | None = None
) -> Path:
    """Write ``briefing.html``, ``.pdf`` and ``.json`` into ``output/DATE/``; return that folder."""
    env = environment(config)
    folder = output / briefing.date
    data = json.dumps(briefing_json(briefing), indent=2, ensure_ascii=False, sort_keys=False)
    write_atomic(folder / "briefing.json", data + "\n")
    write_atomic(folder / "briefing.html", render_html(briefing, config, env, "html", trend))
    pdf = render_pdf(render_html(briefing, config, env, "pdf", trend))
    write_atomic(folder / "briefing.pdf", pdf)
    return folder


# --- back from briefing.json (``briefing archive rebuild``) -----------------------------------


def _dt(text: Any) -> datetime:
    return datetime.fromisoformat(str(text))


def _named(items: Any) -> tuple[NamedRef, ...]:
    return tuple(NamedRef(str(i["name"]), tuple(i.get("mentions", ()))) for i in items or ())


def _sections(items: Any) -> tuple[Section, ...]:
    return tuple(
        Section(
            key=str(i.get("key") or slug(str(i["name"]))),
            title=str(i["name"]),
            detail=str(i.get("detail") or ""),
            story_ids=tuple(i.get("story_ids", i.get("stories", ()))),
            aliases=tuple(i.get("aliases", ())),
            country=i.get("country"),
            countries=tuple(i.get("countries", ())),
        )
        for i in items or ()
    )


def briefing_from_json(data: dict[str, Any]) -> Briefing:
    """The ``Briefing`` a ``briefing.json`` was written from (indicators refanged again), so a
    stored day can be rendered anew with today's templates."""
    stories = []
    for item in data.get("stories", []):
        indicators = tuple(
            (kind, tuple(refang(value) for value in values))
            for kind, values in (item.get("indicators") or {}).items()
        )
        entities = Entities(
            actors=tuple(
                ActorRef(
                    name=str(a["name"]),
                    aliases=tuple(a.get("aliases", ())),
                    country=a.get("country"),
                    country_code=a.get("country_code"),
                    in_kb=bool(a.get("in_kb", True)),
                    mentions=tuple(a.get("mentions", ())),
                )
                for a in item.get("actors", ())
            ),
            countries=tuple(
                CountryRef(
                    str(c["code"]),
                    str(c["name"]),
                    c.get("role", "mentioned"),
                    tuple(c.get("mentions", ())),
                )
                for c in item.get("countries", ())
            ),
            regions=_named(item.get("regions")),
            sectors=_named(item.get("sectors")),
            malware=_named(item.get("malware")),
            cves=tuple(item.get("cves", ())),
            techniques=tuple(item.get("techniques", ())),
            indicators=indicators,
        )
        stories.append(
            Story(
                id=str(item["id"]),
                title=str(item["title"]),
                summary=str(item.get("summary", "")),
                sources=tuple(
                    Source(
                        feed=str(src["feed"]),
                        title=str(src.get("title", "")),
                        url=src.get("url"),
                        published=_dt(src["published"]),
                        quality=src.get("quality", "failed"),
                        outlet=src.get("outlet"),
                    )
                    for src in item.get("sources", ())
                ),
                entities=entities,
                published=_dt(item["published"]),
                sentences=tuple(
                    SummarySentence(str(x["text"]), int(x.get("source", 0)))
                    for x in item.get("summary_sources", ())
                    if isinstance(x, dict)
                ),
                score=float(item.get("score", 0.0)),
                exploited=tuple(item.get("exploited", ())),
            )
        )
    by_story = {story.id: story for story in stories}
    sections = data.get("sections", {})
    return Briefing(
        title=str(data.get("title", "")),
        date=str(data["date"]),
        window_start=_dt(data["window"]["start"]),
        window_end=_dt(data["window"]["end"]),
        tlp=str(data.get("tlp", "TLP:CLEAR")),
        stories=tuple(stories),
        by_actor=_sections(sections.get("actors")),
        by_region=_sections(sections.get("regions")),
        feeds=tuple(
            FeedHealth(
                name=str(f["name"]),
                url=str(f.get("url", "")),
                status=f.get("status", "never-polled"),
                items=int(f.get("items", 0)),
                error=f.get("error"),
                last_ok=_dt(f["last_ok"]) if f.get("last_ok") else None,
                failures=int(f.get("failures", 0)),
                failing_since=_dt(f["failing_since"]) if f.get("failing_since") else None,
                full=int(f.get("quality", {}).get("full", 0)),
                feed_only=int(f.get("quality", {}).get("feed-only", 0)),
                failed=int(f.get("quality", {}).get("failed", 0)),
            )
            for f in data.get("feeds", ())
        ),
        generated_with=str(data.get("generator", "")),
        executive=tuple(i for i in data.get("executive_summary", ()) if i in by_story),
        other_story_ids=tuple(data.get("other_stories", ())),
        by_sector=_sections(sections.get("sectors")),
        cves=tuple(
            CveRow(
                str(row["id"]),
                tuple(str(i) for i in row.get("stories", row.get("story_ids")) or ()),
                bool(row.get("exploited", False)),
            )
            for row in data.get("cves", ())
            if isinstance(row, dict)
        ),
        indicators=tuple(
            IndicatorRow(kind, value, story.id)
            for story in stories
            for kind, values in story.entities.indicators
            for value in values
        ),
    )


def store_file(config: Config, output: Path) -> Path:
    """Where the store lives (the config's ``store``, else ``OUTPUT/briefing.sqlite3``)."""
    return config.resolve(config.store) if config.store else output / "briefing.sqlite3"


def trend_from_store(briefing: Briefing, config: Config, output: Path) -> Trend | None:
    """The seven-day actor trend of ``briefing`` read from the store (None without a store)."""
    path = store_file(config, output)
    if not path.is_file():
        return None
    from briefing.store import Store

    with Store.open(path) as store:
        start = briefing.window_end - timedelta(days=TREND_DAYS)
        pairs = store.articles_between(start, briefing.window_end)
    return actor_trend(briefing, pairs, config.zone)


def rerender_day(data: dict[str, Any], config: Config, output: Path, *, pdf: bool = True) -> Path:
    """Render a stored day's HTML (and PDF) again from its ``briefing.json``; the JSON stays."""
    briefing = briefing_from_json(data)
    trend = trend_from_store(briefing, config, output)
    env = environment(config)
    folder = output / briefing.date
    write_atomic(folder / "briefing.html", render_html(briefing, config, env, "html", trend))
    if pdf:
        write_atomic(
            folder / "briefing.pdf", render_pdf(render_html(briefing, config, env, "pdf", trend))
        )
    return folder
