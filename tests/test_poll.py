from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from briefing.config import load_config
from briefing.ingest.intake import Intake
from briefing.ingest.poll import parse_feed, plain_text, poll_feeds
from briefing.localsite import LocalSite, Response
from briefing.store import Store, default_path
from tests.conftest import FIXTURE_SITE, NOW_DT, wait_until, write_config

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>http://x.example/</link><description>d</description>
<item><title>One &amp; only</title><link>/rel/one.html</link><guid>1</guid>
<pubDate>Mon, 09 Mar 2026 10:00:00 GMT</pubDate><description>&lt;p&gt;Hi&lt;/p&gt;</description></item>
<item><title>Two</title><link>http://x.example/two</link><pubDate>Mon, 09 Mar 2026 11:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_parse_ok_and_relative_links_resolve_against_the_feed_url() -> None:
    items, status, error = parse_feed(
        "F", RSS, {"content-type": "application/rss+xml"}, "http://x.example/feed.xml", NOW_DT
    )
    assert (status, error) == ("ok", None)
    assert [item.title for item in items] == ["One & only", "Two"]
    assert items[0].link == "http://x.example/rel/one.html"
    # feedparser resolves a relative GUID against the feed URL; it stays stable all the same.
    assert items[0].guid in ("1", "http://x.example/1")
    assert items[1].guid is None or items[1].guid == "http://x.example/two"


def test_truncated_feed_is_degraded_and_keeps_what_parsed() -> None:
    truncated = RSS[: RSS.index(b"<item><title>Two")] + b"<item><title>Tw"
    items, status, error = parse_feed("F", truncated, {}, "http://x.example/feed.xml", NOW_DT)
    assert status == "degraded"
    assert error and error.startswith("parsed in part")
    assert [item.title for item in items][:1] == ["One & only"]


def test_html_page_is_not_a_feed() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>hi</p></body></html>"
    items, status, _error = parse_feed(
        "F", page, {"content-type": "text/html"}, "http://x/", NOW_DT
    )
    assert (items, status) == ([], "not-a-feed")


def test_empty_body_is_not_a_feed() -> None:
    assert parse_feed("F", b"", {}, "http://x/", NOW_DT)[1] == "not-a-feed"


def test_future_dates_are_clamped_to_now() -> None:
    future = RSS.replace(b"Mon, 09 Mar 2026 10:00:00 GMT", b"Mon, 09 Mar 2099 10:00:00 GMT")
    items, _status, _error = parse_feed("F", future, {}, "http://x.example/f", NOW_DT)
    assert items[0].published == NOW_DT


def test_plain_text_strips_markup() -> None:
    assert plain_text("<b>Bold</b> &amp; <i>italic</i>\n  text") == "Bold & italic text"


def test_failing_feed_does_not_stop_the_others(tmp_path: Path, site: LocalSite) -> None:
    site.route("/broken.xml", lambda _r: Response(status=500))
    feeds = (
        f"  - name: Good\n    url: {site.base_url}/a/feed.xml\n"
        f"  - name: Broken\n    url: {site.base_url}/broken.xml\n"
        f"  - name: Html\n    url: {site.base_url}/a/\n"
    )
    config = load_config(write_config(tmp_path, site.base_url, feeds=feeds))
    with Store.open(tmp_path / "s.sqlite3") as store:
        outcomes = asyncio.run(poll_feeds(config, store, NOW_DT))
        by_name = {outcome.feed: outcome for outcome in outcomes}
        assert by_name["Good"].status == "ok" and by_name["Good"].new > 0
        assert by_name["Broken"].status == "http-error"
        assert by_name["Broken"].error == "HTTP 500 Internal Server Error"
        assert by_name["Html"].status in ("http-error", "not-a-feed")
        state = store.feed_state("Broken")
        assert state is not None and state.failures == 1


def test_many_feeds_parse_in_the_pool_like_inline(tmp_path: Path, site: LocalSite) -> None:
    """Past POOL_MIN_FEEDS the parsing moves to worker processes: same items as inline."""
    from briefing.ingest import poll as poll_module

    feeds = "".join(
        f"  - name: F{i}\n    url: {site.base_url}/a/feed.xml?copy={i}\n"
        for i in range(poll_module.POOL_MIN_FEEDS + 6)
    )
    config = load_config(write_config(tmp_path, site.base_url, feeds=feeds))
    with Store.open(tmp_path / "s.sqlite3") as store:
        outcomes = asyncio.run(poll_feeds(config, store, NOW_DT))
    items = {outcome.items for outcome in outcomes}
    assert {outcome.status for outcome in outcomes} == {"ok"}
    assert len(items) == 1 and items.pop() > 0


def test_poll_command_polls_only_unless_asked_to_extract(tmp_path: Path, site: LocalSite) -> None:
    from click.testing import CliRunner

    from briefing.cli import cli

    config = write_config(tmp_path, site.base_url)
    runner = CliRunner()
    args = ["poll", "--config", str(config), "--now", "2026-03-10T07:00:00Z"]
    out = tmp_path / "out"
    result = runner.invoke(cli, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    with Store.open(default_path(out)) as store:
        assert store.count_entries() > 0
        assert len(store.pending_entries()) == store.count_entries()
    result = runner.invoke(cli, [*args, "--output", str(out), "--extract"])
    assert result.exit_code == 0, result.output
    with Store.open(default_path(out)) as store:
        assert store.pending_entries() == []


def test_an_aggregators_source_element_names_the_outlet() -> None:
    bundle = RSS.replace(
        b"<guid>1</guid>",
        b'<guid>1</guid><source url="https://news.example/">Example News</source>',
    )
    items, _status, _error = parse_feed("Bundle", bundle, {}, "http://x.example/feed.xml", NOW_DT)
    assert [item.outlet for item in items] == ["Example News", None]


def test_a_dead_parsing_worker_fails_its_feed_only(tmp_path: Path, site: LocalSite) -> None:
    """The worker process is killed (as the OOM killer would): the feed it held is reported
    with a reason, and the feeds after it are parsed inline and stored."""
    import os
    import signal

    from briefing.ingest import poll as poll_module

    body = (
        (FIXTURE_SITE / "a" / "feed.xml").read_bytes().replace(b"{{BASE}}", site.base_url.encode())
    )
    headers = {"content-type": "application/rss+xml"}
    with Store.open(tmp_path / "s.sqlite3") as store:
        work = poll_module._Work(poll_module.POOL_MIN_FEEDS, store)
        try:
            pool = work.pool
            assert pool is not None
            wait_until(lambda: pool.ready, "a parsing worker up")  # well under a second
            assert pool._executor is not None
            for pid in list(pool._executor._processes):
                os.kill(pid, signal.SIGKILL)

            async def two() -> list[object]:
                url = f"{site.base_url}/a/feed.xml"
                first = work.run("A", url, body, headers, url, NOW_DT)
                results: list[object] = []
                try:
                    results.append(await first)
                except RuntimeError as exc:
                    results.append(exc)
                results.append(await work.run("B", url, body, headers, url, NOW_DT))
                return results

            dead, alive = asyncio.run(two())
        finally:
            work.close()
        assert isinstance(dead, RuntimeError) and "worker died" in str(dead)
        assert isinstance(alive, Intake) and alive.status == "ok" and alive.new > 0
        assert store.feed_state("B") is not None


def test_a_bug_of_ours_is_an_internal_error_not_the_feeds_fault(
    tmp_path: Path, site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception nobody expected (here: injected into the real intake for one feed) is
    recorded as "internal-error", which is failing, and the other feeds go on."""
    from briefing.ingest import poll as poll_module
    from briefing.models import is_failing

    real = poll_module.intake

    def intake_with_a_bug(store: Store, name: str, *args: Any) -> Any:
        if name == "Buggy":
            raise KeyError("a bug")
        return real(store, name, *args)

    monkeypatch.setattr(poll_module, "intake", intake_with_a_bug)
    feeds = (
        f"  - name: Good\n    url: {site.base_url}/a/feed.xml\n"
        f"  - name: Buggy\n    url: {site.base_url}/b/atom.xml\n"
    )
    config = load_config(write_config(tmp_path, site.base_url, feeds=feeds))
    with Store.open(tmp_path / "s.sqlite3") as store:
        outcomes = {o.feed: o for o in asyncio.run(poll_feeds(config, store, NOW_DT))}
        assert outcomes["Good"].status == "ok"
        assert outcomes["Buggy"].status == "internal-error"
        assert "KeyError" in (outcomes["Buggy"].error or "")
        state = store.feed_state("Buggy")
        assert state is not None and state.status == "internal-error" and state.failures == 1
    assert is_failing("internal-error") and not is_failing("degraded")
