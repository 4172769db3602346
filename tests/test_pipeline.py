"""End to end: ``briefing run`` against the loopback fixture site (tests/fixtures/site)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from briefing.cli import cli
from briefing.localsite import LocalSite
from briefing.store import canonical_url, default_path
from tests.conftest import NOW

IN_WINDOW = [
    "/a/posts/port-operator-akira.html",
    "/a/posts/sandworm-grid-wiper.html",
    "/a/posts/kimsuky-think-tanks.html",  # undated: dated when first seen, inside the window
    "/a/posts/cl0p-transfervault.html",
    "/b/research/scattered-spider-helpdesk.html",
    "/b/research/cve-2026-24410-mail-gateway.html",
    "/c/notes/turla-embassies.html",
    "/c/notes/play-ransomware-manufacturing.html",
]
OUT_OF_WINDOW = "/b/research/apt41-gaming-studios.html"


def run(config: Path, output: Path, *extra: str) -> Any:
    result = CliRunner().invoke(
        cli, ["run", "-c", str(config), "-o", str(output), "--now", NOW, *extra]
    )
    return result


@pytest.fixture
def first_run(tmp_path: Path, site: LocalSite, config_file: Path) -> tuple[Path, dict[str, Any]]:
    output = tmp_path / "out"
    result = run(config_file, output)
    assert result.exit_code == 0, result.output
    data = json.loads((output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8"))
    return output, data


def test_outputs_exist(first_run: tuple[Path, dict[str, Any]]) -> None:
    output, _data = first_run
    for name in ("briefing.html", "briefing.pdf", "briefing.json"):
        assert (output / "2026-03-10" / name).stat().st_size > 0
    index = (output / "index.html").read_text(encoding="utf-8")
    assert 'href="2026-03-10/briefing.html"' in index


def test_every_in_window_link_is_in_exactly_one_story(
    first_run: tuple[Path, dict[str, Any]], site: LocalSite
) -> None:
    _output, data = first_run
    links = [
        canonical_url(source["url"]).removeprefix(site.base_url)
        for story in data["stories"]
        for source in story["sources"]
    ]
    assert sorted(links) == sorted(IN_WINDOW)
    assert OUT_OF_WINDOW not in links


def test_json_fields(first_run: tuple[Path, dict[str, Any]], site: LocalSite) -> None:
    _output, data = first_run
    assert data["date"] == "2026-03-10"
    assert data["window"] == {
        "start": "2026-03-09T08:00:00+00:00",
        "end": "2026-03-10T08:00:00+00:00",
    }
    story = data["stories"][0]
    for key in ("id", "title", "summary", "sources", "actors", "regions"):
        assert key in story
    for key in ("feed", "title", "url", "published", "quality"):
        assert key in story["sources"][0]
    # The link is given as the feed gave it, tracking parameters and all.
    raw = [s["url"] for st in data["stories"] for s in st["sources"] if "sandworm" in s["url"]]
    assert raw == [
        f"{site.base_url}{IN_WINDOW[1]}?utm_source=rss&utm_medium=feed&utm_campaign=daily#comments"
    ]
    feeds = {feed["name"]: feed for feed in data["feeds"]}
    assert set(feeds) == {"Alpha News", "Beta Labs", "Gamma CERT"}
    assert all(feed["status"] == "ok" and feed["error"] is None for feed in feeds.values())
    assert feeds["Alpha News"]["items"] == 4
    assert feeds["Beta Labs"]["items"] == 2


def test_quality_flags(first_run: tuple[Path, dict[str, Any]]) -> None:
    _output, data = first_run
    quality = {
        source["url"].split("/")[-1].split("?")[0]: source["quality"]
        for story in data["stories"]
        for source in story["sources"]
    }
    assert quality["cve-2026-24410-mail-gateway.html"] == "feed-only"  # its page is a 404
    assert quality["port-operator-akira.html"] == "full"
    summary = next(
        story["summary"]
        for story in data["stories"]
        if "Akira" in story["title"] or "akira" in story["sources"][0]["url"]
    )
    assert summary and "cookie" not in summary.lower()


def test_pdf_text_holds_the_story_titles(first_run: tuple[Path, dict[str, Any]]) -> None:
    output, data = first_run
    reader = PdfReader(output / "2026-03-10" / "briefing.pdf")
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    for story in data["stories"]:
        assert " ".join(story["title"].split()) in text


def test_second_run_is_conditional_and_fetches_no_page(
    first_run: tuple[Path, dict[str, Any]], site: LocalSite, config_file: Path
) -> None:
    output, data = first_run
    site.requests.clear()
    result = run(config_file, output)
    assert result.exit_code == 0, result.output
    paths = [request.path for request in site.requests]
    assert sorted(paths) == ["/a/feed.xml", "/b/atom.xml", "/c/feed.xml"]
    for request in site.requests:
        assert "if-none-match" in request.headers
        assert "if-modified-since" in request.headers
    again = json.loads((output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8"))
    assert again["stories"] == data["stories"]  # nothing new: the same stories, same order
    assert {feed["status"] for feed in again["feeds"]} == {"not-modified"}


def test_revised_item_is_one_entry_with_a_revision(
    tmp_path: Path, site: LocalSite, config_file: Path
) -> None:
    output = tmp_path / "out"
    assert run(config_file, output).exit_code == 0
    original = (Path(__file__).parent / "fixtures/site/c/feed.xml").read_bytes()
    from briefing.localsite import Response

    revised = original.replace(b"<title>", b"<title>UPDATED: ", 2)
    site.route(
        "/c/feed.xml",
        lambda _r: Response(body=revised.replace(b"{{BASE}}", site.base_url.encode())),
    )
    assert run(config_file, output).exit_code == 0
    db = sqlite3.connect(default_path(output))
    rows = db.execute("SELECT title, revision FROM entries WHERE feed = 'Gamma CERT'").fetchall()
    assert len(rows) == 2
    assert sum(1 for title, revision in rows if title.startswith("UPDATED") and revision == 2) >= 1
    assert db.execute("SELECT COUNT(*) FROM revisions").fetchone()[0] >= 1
    data = json.loads((output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8"))
    assert sum(1 for story in data["stories"] if story["title"].startswith("UPDATED")) >= 1
    assert (
        len([s for s in data["stories"] if "Gamma CERT" in {x["feed"] for x in s["sources"]}]) == 2
    )


def test_window_option(tmp_path: Path, site: LocalSite, config_file: Path) -> None:
    output = tmp_path / "out"
    assert run(config_file, output, "--window", "60d").exit_code == 0
    data = json.loads((output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8"))
    links = [s["url"] for story in data["stories"] for s in story["sources"]]
    assert any(OUT_OF_WINDOW in link for link in links)


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - name: A\n    url: https://a.example/f\n    colour: red\n")
    result = CliRunner().invoke(cli, ["run", "-c", str(config), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.output.strip() == f"{config}:4: feeds[0].colour: unknown field"
    assert "Traceback" not in result.output


def test_all_feeds_failing_still_produces_a_briefing(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "poll:\n  connect_timeout: 1\n  total_timeout: 2\n  retries: 0\n"
        "feeds:\n  - name: Dead\n    url: http://127.0.0.1:9/feed.xml\n"
    )
    output = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", "-c", str(config), "-o", str(output), "--now", NOW])
    assert result.exit_code == 0, result.output
    data = json.loads((output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8"))
    assert data["stories"] == []
    assert data["feeds"][0]["status"] == "connection-error"
    assert data["feeds"][0]["error"]


def test_two_fresh_runs_with_the_same_now_are_byte_identical(
    tmp_path: Path, site: LocalSite, config_file: Path
) -> None:
    outputs = [tmp_path / "one", tmp_path / "two"]
    for output in outputs:
        assert run(config_file, output).exit_code == 0
    for name in ("briefing.json", "briefing.html"):
        first, second = ((o / "2026-03-10" / name).read_bytes() for o in outputs)
        assert first == second, name


def test_json_carries_the_whole_briefing(first_run: tuple[Path, dict[str, Any]]) -> None:
    _output, data = first_run
    assert data["generated_at"] == "2026-03-10T08:00:00+00:00"  # follows --now
    assert data["tlp"] == "TLP:CLEAR"
    ids = {story["id"] for story in data["stories"]}
    assert set(data["executive_summary"]) <= ids and data["executive_summary"]
    for story in data["stories"]:
        for key in ("summary_sources", "score", "countries", "sectors", "malware", "cves"):
            assert key in story
        for sentence in story["summary_sources"]:
            assert 0 <= sentence["source"] < len(story["sources"])
    actors = data["sections"]["actors"]
    assert actors and all({"name", "aliases", "country", "story_ids"} <= set(a) for a in actors)
    regions = data["sections"]["regions"]
    assert regions and all({"name", "countries", "story_ids"} <= set(r) for r in regions)
    assert all({"name", "story_ids"} <= set(s) for s in data["sections"]["sectors"])
    for section in (*actors, *regions):
        assert set(section["story_ids"]) <= ids
    assert {"id", "stories", "exploited"} <= set(data["cves"][0])
    for feed in data["feeds"]:
        assert {"name", "url", "status", "items", "error", "failing_since"} <= set(feed)
        assert sum(feed["quality"].values()) == feed["items"]


def test_a_missed_day_is_covered_by_the_next_briefing(
    tmp_path: Path, site: LocalSite, config_file: Path
) -> None:
    output = tmp_path / "out"
    invoke = CliRunner().invoke
    common = ["-c", str(config_file), "-o", str(output)]
    assert invoke(cli, ["poll", *common, "--now", NOW]).exit_code == 0
    assert invoke(cli, ["build", *common, "--now", "2026-03-09T12:00:00Z"]).exit_code == 0
    # Nothing was built on the 10th: the briefing of the 11th reaches back to the last one.
    assert invoke(cli, ["build", *common, "--now", "2026-03-11T08:00:00Z"]).exit_code == 0
    data = json.loads((output / "2026-03-11" / "briefing.json").read_text(encoding="utf-8"))
    assert data["window"]["start"] == "2026-03-09T12:00:00+00:00"
    links = {s["url"].split("?")[0] for st in data["stories"] for s in st["sources"]}
    assert len(links) == 7  # A1-A4 (A3 dated when first seen), B2, C1, C2; B1 was in the 9th's
    # An explicit --window is taken as it is.
    assert (
        invoke(
            cli, ["build", *common, "--now", "2026-03-11T08:00:00Z", "--window", "24h"]
        ).exit_code
        == 0
    )
    data = json.loads((output / "2026-03-11" / "briefing.json").read_text(encoding="utf-8"))
    assert data["window"]["start"] == "2026-03-10T08:00:00+00:00"


def test_build_after_a_bare_poll_uses_the_feeds_text(
    tmp_path: Path, site: LocalSite, config_file: Path
) -> None:
    output = tmp_path / "out"
    common = ["-c", str(config_file), "-o", str(output), "--now", NOW]
    assert CliRunner().invoke(cli, ["poll", *common]).exit_code == 0
    assert not [r for r in site.requests if r.path.endswith(".html")]  # no page fetched
    assert CliRunner().invoke(cli, ["build", *common]).exit_code == 0
    data = json.loads((output / "2026-03-10" / "briefing.json").read_text(encoding="utf-8"))
    qualities = {s["quality"] for story in data["stories"] for s in story["sources"]}
    assert qualities == {"feed-only"}
    assert all(story["summary"] for story in data["stories"])
