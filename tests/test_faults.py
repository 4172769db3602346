"""Fault injection: broken feeds beside good ones; the run finishes, keeps every good item, and
names each broken feed in feed health with a reason a person can read.

One run of the real pipeline (poll, extract, build) covers every fault at once (module scope,
so the suite stays fast); each fault then has its own test. Short limits in the config keep the
slow faults (no answer, trickle) to a few seconds: the deadlines are what bound the run, so the
tests assert outcomes, never timings. Memory is checked twice: the fetcher's own allocations
under ``tracemalloc``, and the peak RSS of a whole run in a subprocess.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from briefing.config import PollConfig, load_config
from briefing.ingest.fetch import Fetcher, FetchError, _BodyDecoder
from briefing.ingest.netguard import Reach
from briefing.localsite import LocalSite
from briefing.pipeline import build, extract, poll, store_path
from briefing.store import Store
from tests.conftest import FIXTURE_SITE, NOW_DT
from tests.faults import (
    Behaviour,
    FaultServer,
    _Handler,
    answer,
    bomb,
    never_answer,
    redirect,
    refused_port,
    rss,
    sequence,
    status,
    stream,
    trickle,
)

CAP = 1_048_576  # poll.max_bytes in the test config
BIG = 300 * 1024 * 1024
DATE = "Tue, 10 Mar 2026 06:00:00 GMT"
GOOD_LINKS = {  # the fixture site's items inside the 24 h window (tests/fixtures/site/MANIFEST.md)
    "Alpha News": {
        "/a/posts/port-operator-akira.html",
        "/a/posts/sandworm-grid-wiper.html",
        "/a/posts/kimsuky-think-tanks.html",
        "/a/posts/cl0p-transfervault.html",
    },
    "Beta Labs": {
        "/b/research/scattered-spider-helpdesk.html",
        "/b/research/cve-2026-24410-mail-gateway.html",
    },
    "Gamma CERT": {"/c/notes/turla-embassies.html", "/c/notes/play-ransomware-manufacturing.html"},
}


def _item(n: int, prefix: str, base: str, **extra: str) -> dict[str, str]:
    return {
        "title": f"{prefix} story {n}",
        "guid": f"{prefix}-{n}",
        "link": f"{base}/articles/{prefix}-{n}",  # not routed: a fast 404, text from the feed
        "pubDate": DATE,
        "description": f"{prefix} summary {n} about a breach.",
        **extra,
    }


def _changing(base: str) -> Behaviour:
    """A feed that gives every item a new GUID on every fetch (same titles and links)."""
    fetches = iter(range(1 << 30))

    def run(handler: _Handler) -> None:
        n = next(fetches)
        items = [_item(i, "chg", base) | {"guid": f"chg-fetch{n}-{i}"} for i in range(3)]
        answer(rss(items))(handler)

    return run


@dataclass(frozen=True)
class Fault:
    name: str
    status: str  # expected feed-health status
    reason: str  # expected in the feed-health error ("" for ok feeds)
    items: int = 0  # items expected from it in the briefing


FAULTS = [
    Fault("http 404", "http-error", "HTTP 404"),
    Fault("http 500", "http-error", "HTTP 500"),
    Fault("refused", "connection-error", "refused"),
    Fault("no answer", "timeout", "timed out"),
    Fault("trickle", "timeout", "no complete answer"),
    Fault("gzip bomb", "too-large", "larger than"),
    Fault("300 MB", "too-large", "larger than"),
    Fault("300 MB chunked", "too-large", "larger than"),
    Fault("redirect loop", "http-error", "redirects"),
    Fault("html page", "not-a-feed", "no RSS or Atom"),
    Fault("truncated xml", "degraded", "parsed in part", items=3),
    Fault("bad bytes", "degraded", "parsed in part", items=2),
    Fault("empty body", "not-a-feed", "no RSS or Atom"),
    Fault("429 then ok", "ok", "", items=2),
    Fault("429 for an hour", "http-error", "retry after 3600"),
    Fault("dup one", "ok", "", items=1),
    Fault("dup two", "ok", "", items=1),
    Fault("no dates no links", "ok", "", items=2),
    Fault("changing guids", "ok", "", items=3),
]


def routes(server: FaultServer) -> dict[str, str]:
    """Set up every fault on ``server``; feed name -> URL."""
    base = server.base_url
    good = rss([_item(i, "ok429", base) for i in range(2)])
    truncated = rss([_item(i, "trunc", base) for i in range(3)])
    truncated = truncated[: truncated.index(b"trunc story 2") + 5]
    bad_bytes = rss([_item(0, "bytes", base), _item(1, "bytes", base)]).replace(
        b"bytes story 1", b"bytes \xff\xfe\xc3( story 1"
    )
    html = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><p>Hi</p></body></html>"
    undated = rss(
        [
            {"title": "undated story 0", "description": "no date, no link, no guid"},
            {"title": "undated story 1", "description": "no date, no link either"},
        ]
    )
    return {
        "http 404": server.route("/404.xml", status(404)),
        "http 500": server.route("/500.xml", status(500)),
        "refused": f"http://127.0.0.1:{refused_port()}/feed.xml",
        "no answer": server.route("/never.xml", never_answer()),
        "trickle": server.route("/trickle.xml", trickle(good, 1.0)),
        "gzip bomb": server.route("/bomb.xml", bomb(128 * 1024 * 1024)),
        "300 MB": server.route("/huge.xml", stream("/huge.xml", BIG, declare_length=True)),
        "300 MB chunked": server.route(
            "/huge-chunked.xml", stream("/huge-chunked.xml", BIG, declare_length=False)
        ),
        "redirect loop": server.route("/loop.xml", redirect("/loop.xml")),
        "html page": server.route("/page.xml", answer(html, content_type="text/html")),
        "truncated xml": server.route("/truncated.xml", answer(truncated)),
        "bad bytes": server.route("/bytes.xml", answer(bad_bytes)),
        "empty body": server.route("/empty.xml", answer(b"")),
        "429 then ok": server.route(
            "/429.xml", sequence(status(429, {"Retry-After": "1"}), answer(good))
        ),
        "429 for an hour": server.route("/429-long.xml", status(429, {"Retry-After": "3600"})),
        "dup one": server.route("/dup1.xml", answer(rss([_item(0, "dup", base)]))),
        "dup two": server.route(
            "/dup2.xml", answer(rss([_item(0, "dup", base) | {"title": "dup story, other"}]))
        ),
        "no dates no links": server.route("/undated.xml", answer(undated)),
        "changing guids": server.route("/changing.xml", _changing(base)),
    }


def write_fault_config(folder: Path, site: LocalSite, urls: dict[str, str]) -> Path:
    feeds = (
        f"  - name: Alpha News\n    url: {site.base_url}/a/feed.xml\n"
        f"  - name: Beta Labs\n    url: {site.base_url}/b/atom.xml\n"
        f"  - name: Gamma CERT\n    url: {site.base_url}/c/feed.xml\n"
    ) + "".join(f"  - name: {name}\n    url: {url}\n" for name, url in urls.items())
    path = folder / "feeds.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            title: Fault briefing
            poll:
              connect_timeout: 1
              read_timeout: 1.5
              total_timeout: 3
              retries: 1
              max_retry_wait: 1.5
              max_bytes: {CAP}
              max_redirects: 3
            extract:
              workers: 1
            """
        )
        + "feeds:\n"
        + feeds,
        encoding="utf-8",
    )
    return path


@dataclass
class Run:
    output: Path
    config: Path
    server: FaultServer
    site: LocalSite
    data: dict[str, Any]
    second: dict[str, Any]

    def feed(self, name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        rows: list[dict[str, Any]] = [f for f in (data or self.data)["feeds"] if f["name"] == name]
        assert len(rows) == 1, f"{name} not in feed health"
        return rows[0]

    def sources(self, feed: str, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [
            source
            for story in (data or self.data)["stories"]
            for source in story["sources"]
            if source["feed"] == feed
        ]


def _run_pipeline(config_path: Path, output: Path) -> dict[str, Any]:
    config = load_config(config_path)
    poll(config, output, NOW_DT)
    extract(config, output, NOW_DT)
    result = build(config, output, NOW_DT, config.window_delta)
    data: dict[str, Any] = json.loads((result.folder / "briefing.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("faults")
    with LocalSite(FIXTURE_SITE) as site, FaultServer() as server:
        config = write_fault_config(folder, site, routes(server))
        output = folder / "out"
        # A hang must fail loudly (with every thread's stack), not stall the suite: the
        # config's deadlines bound the run to a few seconds, this guard to a minute.
        faulthandler.dump_traceback_later(60, exit=True)
        try:
            first = _run_pipeline(config, output)
            second = _run_pipeline(config, output)
        finally:
            faulthandler.cancel_dump_traceback_later()
        yield Run(output, config, server, site, first, second)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_fault_is_reported_in_feed_health(fault_run: Run, fault: Fault) -> None:
    row = fault_run.feed(fault.name)
    assert row["status"] == fault.status, row
    if fault.reason:
        assert fault.reason in (row["error"] or ""), row
    else:
        assert row["error"] is None, row
    assert len(fault_run.sources(fault.name)) == fault.items


@pytest.mark.parametrize("feed", sorted(GOOD_LINKS))
def test_every_good_item_is_present(fault_run: Run, feed: str) -> None:
    for data in (fault_run.data, fault_run.second):
        links = {
            s["url"].removeprefix(fault_run.site.base_url).split("?")[0]
            for s in fault_run.sources(feed, data)
        }
        assert links == GOOD_LINKS[feed]
        assert fault_run.feed(feed, data)["status"] in ("ok", "not-modified")


def test_partial_feeds_keep_what_was_recovered(fault_run: Run) -> None:
    truncated = {s["title"] for s in fault_run.sources("truncated xml")}
    assert truncated == {"trunc story 0", "trunc story 1", "(untitled)"}
    assert any("story 1" in s["title"] for s in fault_run.sources("bad bytes"))
    # The parser's own complaint is passed on, not just "degraded".
    assert "no element found" in fault_run.feed("truncated xml")["error"]
    assert "windows-1252" in fault_run.feed("bad bytes")["error"]


def test_duplicate_guids_across_feeds_are_two_items(fault_run: Run) -> None:
    assert [s["title"] for s in fault_run.sources("dup one")] == ["dup story 0"]
    assert [s["title"] for s in fault_run.sources("dup two")] == ["dup story, other"]


def test_items_without_dates_or_links_are_kept(fault_run: Run) -> None:
    sources = fault_run.sources("no dates no links")
    assert sorted(s["title"] for s in sources) == ["undated story 0", "undated story 1"]
    for source in sources:
        assert source["url"] is None
        assert source["published"] == NOW_DT.isoformat()  # dated when first seen


def test_changing_guids_do_not_pile_up_pages_or_stories(fault_run: Run) -> None:
    # Each link is fetched once, ever, however many GUIDs point at it.
    for i in range(3):
        assert len(fault_run.server.requests_for(f"/articles/chg-{i}")) == 1
    second = fault_run.second
    assert fault_run.feed("changing guids", second)["status"] == "ok"
    # The second fetch brings three "new" items with the same links: still three stories.
    titles = [st["title"] for st in second["stories"] if st["title"].startswith("chg story")]
    assert sorted(titles) == ["chg story 0", "chg story 1", "chg story 2"]
    with Store.open(store_path(load_config(fault_run.config), fault_run.output)) as store:
        assert store.integrity_ok()


def test_changing_guids_do_not_repeat_a_source(fault_run: Run) -> None:
    for story in fault_run.second["stories"]:
        keys = [(s["feed"], s["url"]) for s in story["sources"] if s["url"]]
        assert len(keys) == len(set(keys)), story["title"]


def test_huge_bodies_are_dropped_early(fault_run: Run) -> None:
    # The declared 300 MB is refused from its Content-Length; the chunked one is cut at the
    # cap: the server got to write a few MB at most before the client hung up.
    sent = fault_run.server.sent
    assert sent.get("/huge-chunked.xml", 0) < 64 * CAP
    assert sent.get("/huge.xml", 0) < 64 * CAP


def test_retries_are_bounded(fault_run: Run) -> None:
    # retries: 1 -> two attempts per run, two runs.
    assert len(fault_run.server.requests_for("/500.xml")) == 4
    assert len(fault_run.server.requests_for("/429-long.xml")) == 2  # one hour: not waited for
    assert len(fault_run.server.requests_for("/loop.xml")) == 2 * 4  # max_redirects 3 + 1


# --- memory -----------------------------------------------------------------------------------


def _fetch(url: str) -> FetchError:
    limits = PollConfig(
        connect_timeout=1, read_timeout=2, total_timeout=10, max_bytes=CAP, retries=0
    )

    async def go() -> FetchError:
        async with Fetcher(limits, reach=Reach.for_feeds([url])) as fetcher:
            try:
                await fetcher.get(url)
            except FetchError as exc:
                return exc
        raise AssertionError("expected a FetchError")

    return asyncio.run(go())


@pytest.mark.parametrize("path", ["/bomb.xml", "/huge-chunked.xml"])
def test_fetcher_holds_no_more_than_the_cap(path: str) -> None:
    with FaultServer() as server:
        server.route("/bomb.xml", bomb(128 * 1024 * 1024))
        server.route("/huge-chunked.xml", stream("/huge-chunked.xml", BIG, declare_length=False))
        tracemalloc.start()
        try:
            error = _fetch(server.url(path))
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert error.kind == "too-large"
    # The body may reach the cap; a bomb must not expand a whole network chunk at once.
    assert peak < 4 * CAP, f"peak {peak:,} bytes"


def test_decoder_expands_a_bomb_step_by_step() -> None:
    bomb_bytes = zlib.compress(bytes(50 * CAP), 9)  # zlib-wrapped "deflate"
    decoder = _BodyDecoder("deflate", CAP, "too large")
    with pytest.raises(FetchError) as info:
        decoder.feed(bomb_bytes)
    assert info.value.kind == "too-large"
    assert sum(len(c) for c in decoder.chunks) <= CAP


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("gzip", zlib.compress(b"hello", wbits=31)),
        ("deflate", zlib.compress(b"hello")),
        ("deflate", zlib.compress(b"hello", wbits=-15)),  # raw deflate, as some servers send
        ("gzip", zlib.compress(b"hel", wbits=31) + zlib.compress(b"lo", wbits=31)),  # 2 members
        ("gzip, gzip", zlib.compress(zlib.compress(b"hello", wbits=31), wbits=31)),
        ("", b"hello"),
        ("identity", b"hello"),
    ],
)
def test_decoder_handles_the_encodings_we_ask_for(encoding: str, data: bytes) -> None:
    decoder = _BodyDecoder(encoding, CAP, "too large")
    for i in range(0, len(data), 3):  # split across network chunks
        decoder.feed(data[i : i + 3])
    assert decoder.body() == b"hello"


def test_unknown_encoding_is_an_error_not_garbage() -> None:
    with pytest.raises(FetchError, match="Content-Encoding"):
        _BodyDecoder("zstd", CAP, "too large")


def test_whole_run_memory_stays_bounded(tmp_path: Path) -> None:
    """A whole run over every fault, in a child process: its peak RSS stays modest."""
    with LocalSite(FIXTURE_SITE) as site, FaultServer() as server:
        config = write_fault_config(tmp_path, site, routes(server))
        script = (
            "import sys; from pathlib import Path\n"
            "from tests.test_faults import _run_pipeline\n"
            "_run_pipeline(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(config), str(tmp_path / "out")],
            cwd=Path(__file__).parent.parent,
        )
        guard = threading.Timer(90, child.kill)  # a hang fails the test, not the suite
        guard.start()
        try:
            _pid, code, usage = os.wait4(child.pid, 0)
        finally:
            guard.cancel()
        child.returncode = os.waitstatus_to_exitcode(code)
    assert child.returncode == 0
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"
