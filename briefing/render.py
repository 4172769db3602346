"""Render stage: a ``Briefing`` -> HTML, PDF and ``briefing.json`` under ``DIR/YYYY-MM-DD/``.

In: a composed ``Briefing`` and the config (page size, template folder). Out: three files,
each written atomically.

Templates: a folder named by the config's ``templates`` setting comes first, then the defaults
shipped with the package; ``{% extends "default:briefing.html" %}`` reaches a default template
from an override of the same name. Autoescape is always on: every feed field is
attacker-controlled. Links pass ``safe_url`` (http/https only) and indicators are defanged.

The PDF renderer (WeasyPrint) gets a URL fetcher that serves the package's own ``assets/``
folder and refuses everything else, so a hostile page can make it fetch nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from briefing.config import Config
from briefing.files import write_atomic
from briefing.intel.iocs import defang
from briefing.models import Briefing, Story

ASSET_PREFIX = "briefing-asset:/"


def templates_dir() -> Path:
    """The default templates, in a source checkout or an installed package alike."""
    checkout = Path(__file__).resolve().parent.parent / "templates"
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
    if any(ord(ch) < 0x20 for ch in url):
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
    env.filters["time"] = lambda moment, fmt="%Y-%m-%d %H:%M %Z": _fmt_time(
        moment, config.zone, fmt
    )
    env.filters["host"] = lambda url: (urlsplit(url).hostname or "") if url else ""
    return env


def context(briefing: Briefing, config: Config, *, medium: str) -> dict[str, Any]:
    """Every variable the templates see (documented in templates/README.md)."""
    stories = {story.id: story for story in briefing.stories}
    actor_ids = {sid for section in briefing.by_actor for sid in section.story_ids}
    region_ids = {sid for section in briefing.by_region for sid in section.story_ids}
    indicators = [
        (story, kind, value)
        for story in briefing.stories
        for kind, values in story.entities.indicators
        for value in values
    ]
    return {
        "briefing": briefing,
        "stories": stories,
        "other_stories": [
            story
            for story in briefing.stories
            if story.id not in actor_ids and story.id not in region_ids
        ],
        "indicators": indicators,
        "css": (templates_dir() / "briefing.css").read_text(encoding="utf-8"),
        "medium": medium,  # "html" or "pdf"
        "page_size": config.page_size,
        "failing_feeds": [
            feed for feed in briefing.feeds if feed.status not in ("ok", "not-modified")
        ],
    }


def render_html(briefing: Briefing, config: Config, env: jinja2.Environment, medium: str) -> str:
    return env.get_template("briefing.html").render(context(briefing, config, medium=medium))


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
        "published": story.published.isoformat(),
        "sources": [
            {
                "feed": source.feed,
                "title": source.title,
                "url": source.url,
                "published": source.published.isoformat(),
                "quality": source.quality,
            }
            for source in story.sources
        ],
        **entities,
    }


def briefing_json(briefing: Briefing) -> dict[str, Any]:
    return {
        "title": briefing.title,
        "date": briefing.date,
        "window": {
            "start": briefing.window_start.isoformat(),
            "end": briefing.window_end.isoformat(),
        },
        "tlp": briefing.tlp,
        "generator": briefing.generated_with,
        "stories": [_story_json(story) for story in briefing.stories],
        "sections": {
            "actors": [
                {"name": s.title, "key": s.key, "detail": s.detail, "stories": list(s.story_ids)}
                for s in briefing.by_actor
            ],
            "regions": [
                {"name": s.title, "key": s.key, "detail": s.detail, "stories": list(s.story_ids)}
                for s in briefing.by_region
            ],
        },
        "feeds": [
            {
                "name": feed.name,
                "url": feed.url,
                "status": feed.status,
                "items": feed.items,
                "error": feed.error,
                "last_ok": feed.last_ok.isoformat() if feed.last_ok else None,
                "failures": feed.failures,
            }
            for feed in briefing.feeds
        ],
    }


def write_briefing(briefing: Briefing, config: Config, output: Path) -> Path:
    """Write ``briefing.html``, ``.pdf`` and ``.json`` into ``output/DATE/``; return that folder."""
    env = environment(config)
    folder = output / briefing.date
    data = json.dumps(briefing_json(briefing), indent=2, ensure_ascii=False, sort_keys=False)
    write_atomic(folder / "briefing.json", data + "\n")
    write_atomic(folder / "briefing.html", render_html(briefing, config, env, "html"))
    write_atomic(folder / "briefing.pdf", render_pdf(render_html(briefing, config, env, "pdf")))
    return folder
