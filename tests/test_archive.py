"""The static archive: two days into one folder give an index of both, actor and region pages
spanning both, an Atom feed, a search index; updates are incremental; rebuild regenerates."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
from click.testing import CliRunner

from benchmarks.samples import END, synthetic_briefing
from briefing.config import Config, FeedConfig
from briefing.models import Entities
from briefing.publish.archive import update_archive
from briefing.publish.render import write_briefing


def _config(**extra: Any) -> Config:
    return Config(feeds=(FeedConfig(name="x", url="https://example.org/feed"),), **extra)


def build_two_days(out: Path, config: Config) -> None:
    for seed, end in ((1, END - timedelta(days=1)), (2, END)):
        briefing = synthetic_briefing(8, seed=seed, end=end)
        write_briefing(briefing, config, out)
        update_archive(config, out, [briefing.date])


def test_two_days_make_one_archive(tmp_path: Path) -> None:
    config = _config()
    build_two_days(tmp_path, config)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="2026-03-10/briefing.html"' in index
    assert 'href="2026-03-09/briefing.html"' in index
    assert index.index("2026-03-10") < index.index("2026-03-09")  # newest first
    assert '<h3 id="m-2026-03">' in index

    actor = (tmp_path / "actors" / "apt39.html").read_text(encoding="utf-8")
    assert 'href="../2026-03-10/briefing.html#story-' in actor
    assert 'href="../2026-03-09/briefing.html#story-' in actor
    assert "Remix Kitten" in actor and "Attributed to Iran" in actor
    assert (tmp_path / "regions" / "middle-east.html").is_file()
    assert (tmp_path / "actors" / "index.html").is_file()

    feed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.link for e in feed.entries] == [
        "2026-03-10/briefing.html",
        "2026-03-09/briefing.html",
    ]

    search = (tmp_path / "search-index.js").read_text(encoding="utf-8")
    assert search.count('"d":"2026-03-09"') == 8 and "window.BRIEFING_SEARCH = [" in search
    assert (tmp_path / "assets" / "search.js").is_file()


def test_pages_load_nothing_from_another_host(tmp_path: Path) -> None:
    build_two_days(tmp_path, _config())
    for page in tmp_path.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'http-equiv="Content-Security-Policy"' in text, page
        for attr in re.findall(r'<(?:script|img|link|iframe)[^>]*(?:src|href)="([^"]*)"', text):
            assert "://" not in attr and not attr.startswith("//"), (page, attr)
        for tag in re.findall(r"<a [^>]*href=\"[a-z]+://[^>]*>", text):
            assert 'rel="noopener noreferrer"' in tag, (page, tag)


def test_update_is_incremental(tmp_path: Path) -> None:
    config = _config()
    build_two_days(tmp_path, config)
    lonely = tmp_path / "actors" / "lonely.html"
    lonely.write_text("stale page of an actor no briefing names", encoding="utf-8")
    apt39 = tmp_path / "actors" / "apt39.html"
    before = apt39.stat().st_mtime_ns
    # A day that names no actor touches no actor page.
    briefing = synthetic_briefing(1, seed=3, end=END + timedelta(days=1))
    bare = replace(
        briefing,
        stories=tuple(replace(s, entities=Entities()) for s in briefing.stories),
        by_actor=(),
        by_region=(),
    )
    write_briefing(bare, config, tmp_path)
    written = update_archive(config, tmp_path, [bare.date])
    assert apt39.stat().st_mtime_ns == before
    assert not any(p.parent.name == "actors" and p.name != "index.html" for p in written)
    assert "2026-03-11/briefing.html" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert lonely.is_file()  # not touched by an incremental update...
    update_archive(config, tmp_path, everything=True)
    assert not lonely.exists()  # ...removed by a full one


def test_archive_rebuild_command_regenerates_everything(tmp_path: Path) -> None:
    from briefing.cli import cli

    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        "title: Daily Threat Briefing\nfeeds:\n  - name: x\n    url: https://example.org/f\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    build_two_days(out, _config())
    for path in (
        out / "index.html",
        out / "actors" / "apt39.html",
        out / "feed.xml",
        out / "2026-03-09" / "briefing.html",
    ):
        path.unlink()
    result = CliRunner().invoke(
        cli, ["-q", "archive", "rebuild", "-c", str(config_file), "-o", str(out), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file() and (out / "feed.xml").is_file()
    assert (out / "actors" / "apt39.html").is_file()
    assert "Contents" in (out / "2026-03-09" / "briefing.html").read_text(encoding="utf-8")


def test_an_actor_renamed_since_an_older_day_keeps_one_page(tmp_path: Path) -> None:
    """The older day called it GhostEmperor (aliases: Salt Typhoon...), the newer one Salt
    Typhoon (aliases: GhostEmperor...): one page, both days. An actor that merely lists a
    name among its aliases, without being listed back, keeps its own page."""
    from briefing.models import ActorRef

    config = _config()
    old = ActorRef("GhostEmperor", ("Salt Typhoon", "FamousSparrow"), "China", "CN", True, ())
    new = ActorRef("Salt Typhoon", ("GhostEmperor", "FamousSparrow"), "China", "CN", True, ())
    other = ActorRef("Earth Estries", ("FamousSparrow",), "China", "CN", True, ())
    for seed, end, actors in (
        (1, END - timedelta(days=1), (old, other)),
        (2, END, (new,)),
    ):
        briefing = synthetic_briefing(3, seed=seed, end=end)
        first = replace(
            briefing.stories[0], entities=replace(briefing.stories[0].entities, actors=actors)
        )
        briefing = replace(briefing, stories=(first, *briefing.stories[1:]))
        write_briefing(briefing, config, tmp_path)
        update_archive(config, tmp_path, [briefing.date])
    page = (tmp_path / "actors" / "salt-typhoon.html").read_text(encoding="utf-8")
    assert "../2026-03-09/briefing.html#story-" in page and "../2026-03-10/" in page
    assert not (tmp_path / "actors" / "ghostemperor.html").exists()
    assert (tmp_path / "actors" / "earth-estries.html").is_file()


def test_a_topic_page_that_cannot_be_written_costs_only_that_page(tmp_path: Path) -> None:
    """Writing one actor's page failing (a name too long for the file system, a full disk) is
    logged; every other page and the site-wide files are still written."""
    config = _config()
    briefing = synthetic_briefing(8, seed=1, end=END)
    write_briefing(briefing, config, tmp_path)
    (tmp_path / "actors" / "apt39.html").mkdir(parents=True)  # os.replace onto it fails
    written = update_archive(config, tmp_path, [briefing.date])
    names = {p.name for p in written}
    assert "apt39.html" not in names
    assert {"index.html", "feed.xml", "search-index.js"} <= names
    assert any(p.parent.name == "actors" and p.name != "index.html" for p in written)


def test_the_atom_feed_stays_xml_when_an_archived_day_holds_control_characters(
    tmp_path: Path,
) -> None:
    """A day written before intake stripped control characters keeps them in its JSON: the
    Atom feed built from it still parses strictly."""
    from lxml import etree

    config = _config()
    briefing = synthetic_briefing(3, seed=1, end=END)
    story = replace(briefing.stories[0], title="Controls \x01\x02\x1b in a title")
    briefing = replace(briefing, stories=(story, *briefing.stories[1:]), executive=(story.id,))
    write_briefing(briefing, config, tmp_path)
    update_archive(config, tmp_path, [briefing.date])
    root = etree.fromstring((tmp_path / "feed.xml").read_bytes(), etree.XMLParser(recover=False))
    assert "Controls  in a title" in etree.tostring(root, encoding="unicode")


def test_a_rebuilt_day_rewrites_the_pages_whose_listings_changed(tmp_path: Path) -> None:
    """#25: the day built anew lists no vendor any more; both vendors are also on the day
    before, so their pages stay, rewritten without the rebuilt day's stories."""
    from briefing.publish.archive import touched_topics

    config = _config()
    build_two_days(tmp_path, config)
    day = synthetic_briefing(8, seed=2, end=END)
    pages = [tmp_path / "vendors" / f"{section.key}.html" for section in day.by_vendor]
    assert len(pages) == 2 and all("2026-03-10/" in p.read_text(encoding="utf-8") for p in pages)
    before = touched_topics(tmp_path, day.date)  # as pipeline.build does around the rewrite
    write_briefing(replace(day, by_vendor=()), config, tmp_path)
    update_archive(config, tmp_path, [day.date], before)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "2026-03-09/briefing.html#story-" in text  # the other day's stories stay
        assert "2026-03-10/" not in text, page.name


def test_archive_rebuild_leaves_no_page_that_no_briefing_backs(tmp_path: Path) -> None:
    """A day whose briefing.json no longer names an actor, a region or a vendor: after
    ``archive rebuild`` no page of it is left, and every page left is backed by a story."""
    from briefing.cli import cli
    from briefing.serialize import dumps

    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        "title: Daily Threat Briefing\nfeeds:\n  - name: x\n    url: https://example.org/f\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    config = _config()
    day = synthetic_briefing(8, seed=2, end=END)
    write_briefing(day, config, out)
    update_archive(config, out, [day.date])
    assert (out / "vendors" / "contoso.html").is_file()
    assert (out / "actors" / "apt39.html").is_file()
    bare = replace(
        day,
        stories=tuple(replace(s, entities=Entities()) for s in day.stories),
        by_actor=(),
        by_region=(),
        by_vendor=(),
    )
    (out / day.date / "briefing.json").write_text(dumps(bare), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["-q", "archive", "rebuild", "-c", str(config_file), "-o", str(out), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    for kind in ("actors", "regions", "vendors"):
        assert [p.name for p in (out / kind).glob("*.html")] == ["index.html"], kind
