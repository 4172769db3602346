"""The template context documentation (templates/README.md) and the code must not drift apart,
and a template folder from the config overrides and extends the defaults."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2.meta
import pytest

from benchmarks.samples import synthetic_briefing
from briefing.config import Config, FeedConfig
from briefing.publish import archive
from briefing.publish.render import context, environment, render_html, templates_dir

DOCS = templates_dir() / "README.md"


def _config(**extra: Any) -> Config:
    return Config(feeds=(FeedConfig(name="x", url="https://example.org/feed"),), **extra)


def documented() -> dict[str, set[str]]:
    """template name -> the variables its '## Context: `NAME`' table lists."""
    out: dict[str, set[str]] = {}
    current = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## Context: `([^`]+)`", line)
        if heading:
            current = heading.group(1)
            out[current] = set()
        elif current and (row := re.match(r"^\| `([a-z_]+)` \|", line)):
            out[current].add(row.group(1))
    return out


def _site(tmp_path: Path) -> archive.Site:
    config = _config()
    from briefing.publish.render import write_briefing

    write_briefing(synthetic_briefing(6), config, tmp_path)
    return archive.scan(tmp_path)


def built_contexts(tmp_path: Path) -> dict[str, dict[str, Any]]:
    config = _config()
    site = _site(tmp_path)
    actor = next(iter(site.actors.values()))
    region = next(iter(site.regions.values()))
    return {
        "briefing.html": context(synthetic_briefing(6), config, medium="html"),
        "index.html": archive.index_context(config, site),
        "topics.html": archive.topics_context(config, site, "actor"),
        "actor.html": archive.topic_context(config, actor),
        "region.html": archive.topic_context(config, region),
        "feed.xml": archive.feed_context(config, site),
    }


def test_documented_context_equals_the_built_context(tmp_path: Path) -> None:
    docs = documented()
    built = built_contexts(tmp_path)
    assert set(docs) == set(built), "templates/README.md documents other templates than exist"
    for name, ctx in built.items():
        missing = set(ctx) - docs[name]
        extra = docs[name] - set(ctx)
        assert not missing, f"{name}: passed but not documented in templates/README.md: {missing}"
        assert not extra, f"{name}: documented but not passed: {extra}"


# Templates that a page template extends: their names count as the page's too.
PARENTS = {
    "briefing.html": ("base.html",),
    "index.html": ("base.html",),
    "topics.html": ("base.html",),
    "actor.html": ("topic.html", "base.html"),
    "region.html": ("topic.html", "base.html"),
    "feed.xml": (),
}


@pytest.mark.parametrize("name", sorted(PARENTS))
def test_templates_use_only_documented_variables(name: str) -> None:
    env = environment(_config())
    docs = documented()[name]
    for template in (name, *PARENTS[name]):
        source = (templates_dir() / template).read_text(encoding="utf-8")
        used = jinja2.meta.find_undeclared_variables(env.parse(source))
        used -= set(re.findall(r"{%-?\s*macro\s+(\w+)", source))  # the template's own macros
        if template == "base.html" and name != "briefing.html":
            used.discard("page_size")  # only read in the PDF medium, which only briefing.html has
        assert used <= docs, f"{template} (as {name}) uses undocumented {used - docs}"


def test_config_folder_overrides_and_extends_the_defaults(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "briefing.html").write_text(
        '{% extends "default:briefing.html" %}\n'
        '{% block header %}<p class="house-banner">ACME SOC</p>{{ super() }}{% endblock %}\n',
        encoding="utf-8",
    )
    (folder / "index.html").write_text("<p>my own index {{ days | length }}</p>", encoding="utf-8")
    config = _config(templates=str(folder))
    env = environment(config)
    html = render_html(synthetic_briefing(3), config, env, "html")
    assert '<p class="house-banner">ACME SOC</p>' in html
    assert '<h2 id="h-contents">Contents</h2>' in html  # the rest of the default is still there
    out = tmp_path / "out"
    from briefing.publish.render import write_briefing

    write_briefing(synthetic_briefing(3), config, out)
    archive.update_archive(config, out, ["2026-03-10"])
    assert (out / "index.html").read_text(encoding="utf-8") == "<p>my own index 1</p>"


def test_autoescape_is_on_in_overrides(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "briefing.html").write_text("{{ briefing.title }}", encoding="utf-8")
    config = _config(templates=str(folder))
    hostile = replace(synthetic_briefing(1), title="<script>x</script>")
    html = render_html(hostile, config, environment(config), "html")
    assert html == "&lt;script&gt;x&lt;/script&gt;"
