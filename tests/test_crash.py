"""Crash safety: ``kill -9`` during poll, extract and render; the next run loses nothing,
duplicates nothing, leaves no half-written file and a sound SQLite store.

The run is a real child process against the fixture site served with one slow path; the kill
comes when the server has seen the request for that path (poll, extract) or when the briefing
folder appears (render) — watched for, not guessed with a sleep: ``python -m briefing run``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from briefing.localsite import LocalSite, RecordedRequest, Response
from briefing.store import default_path
from tests.conftest import FIXTURE_SITE, NOW, wait_until, write_config
from tests.test_faults import GOOD_LINKS

ROOT = Path(__file__).parent.parent
DAY = "2026-03-10"


def command(config: Path, output: Path) -> list[str]:
    args = ["-q", "run", "-c", str(config), "-o", str(output), "--now", NOW]
    return [sys.executable, "-m", "briefing", *args]


class SlowSite:
    """The fixture site with one path that hangs while ``slow`` is set."""

    def __init__(self, site: LocalSite) -> None:
        self.site = site
        self.slow = True

    def slow_down(self, path: str) -> None:
        body = (FIXTURE_SITE / path.lstrip("/")).read_bytes()
        body = body.replace(b"{{BASE}}", self.site.base_url.encode())
        kind = "text/html; charset=utf-8" if path.endswith(".html") else "application/rss+xml"

        def handler(_request: RecordedRequest) -> Response:
            return Response(
                body=body, headers={"Content-Type": kind}, delay=20.0 if self.slow else 0.0
            )

        self.site.route(path, handler)


@pytest.fixture
def slow_site() -> Iterator[SlowSite]:
    with LocalSite(FIXTURE_SITE) as site:
        yield SlowSite(site)


def wait_for(condition: Callable[[], bool], child: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if child.poll() is not None:
            raise AssertionError(f"the run ended ({child.returncode}) before {what}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"never saw {what}")
        time.sleep(0.01)


def kill_when(config: Path, output: Path, condition: Callable[[], bool], what: str) -> int:
    """Start a run, ``kill -9`` it once ``condition`` holds; returns its process group (a
    group of its own, so that what it started can be told from other runs on the machine)."""
    child = subprocess.Popen(
        command(config, output), cwd=ROOT, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_for(condition, child, what)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return child.pid


def run_to_completion(config: Path, output: Path) -> None:
    done = subprocess.run(command(config, output), cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]


def check_output(output: Path, site: LocalSite) -> None:
    # The store: sound, and every entry there once.
    with sqlite3.connect(default_path(output)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT feed, COALESCE(guid, link) FROM entries").fetchall()
    assert len(rows) == len(set(rows)) == 9  # the fixture site's 9 items (MANIFEST.md)
    # The briefing: every good item, each once.
    data = json.loads((output / DAY / "briefing.json").read_text(encoding="utf-8"))
    seen: dict[str, list[str]] = {}
    for story in data["stories"]:
        for source in story["sources"]:
            path = source["url"].removeprefix(site.base_url).split("?")[0]
            seen.setdefault(source["feed"], []).append(path)
    for feed, links in GOOD_LINKS.items():
        assert sorted(seen.get(feed, [])) == sorted(links), feed
    # The files: complete under their final names; no temporary file under a final name.
    for path in output.rglob("*"):
        assert not (path.suffix == ".tmp" and not path.name.startswith(".")), path
    html = (output / DAY / "briefing.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>")
    assert (output / "index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    pdf = (output / DAY / "briefing.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-1024:]


def test_kill_during_poll(tmp_path: Path, slow_site: SlowSite) -> None:
    site = slow_site.site
    slow_site.slow_down("/c/feed.xml")
    config, output = write_config(tmp_path, site.base_url), tmp_path / "out"
    kill_when(
        config,
        output,
        lambda: bool(site.requests_for("/c/feed.xml")),
        "the request for the slow feed",
    )
    slow_site.slow = False
    run_to_completion(config, output)
    check_output(output, site)


def test_kill_during_extract(tmp_path: Path, slow_site: SlowSite) -> None:
    site = slow_site.site
    slow_site.slow_down("/c/notes/turla-embassies.html")
    config, output = write_config(tmp_path, site.base_url), tmp_path / "out"
    kill_when(
        config,
        output,
        lambda: bool(site.requests_for("/c/notes/turla-embassies.html")),
        "the request for the slow page",
    )
    slow_site.slow = False
    run_to_completion(config, output)
    check_output(output, site)


def test_kill_during_render(tmp_path: Path, slow_site: SlowSite) -> None:
    site = slow_site.site
    config, output = write_config(tmp_path, site.base_url), tmp_path / "out"
    folder = output / DAY
    # The day's folder appears when render starts writing (JSON first, then HTML, then PDF).
    kill_when(config, output, lambda: folder.is_dir() and any(folder.iterdir()), "render starting")
    for path in folder.iterdir():
        if not path.name.startswith("."):
            assert path.stat().st_size > 0, path  # old-or-new, never half: atomic rename
    run_to_completion(config, output)
    check_output(output, site)


def test_two_runs_at_once_are_serialised(tmp_path: Path, slow_site: SlowSite) -> None:
    site = slow_site.site
    slow_site.slow_down("/c/feed.xml")
    config, output = write_config(tmp_path, site.base_url), tmp_path / "out"
    first = subprocess.Popen(command(config, output), cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: bool(site.requests_for("/c/feed.xml")), first, "the first run polling")
        second = subprocess.run(
            [*command(config, output), "--wait", "0"],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
        # The second run refuses while the first holds the output folder.
        assert second.returncode == 1, second.stderr
        assert second.stderr.strip(), "a refusal says why"
        assert len(site.requests_for("/c/feed.xml")) == 1  # the second polled nothing
    finally:
        first.kill()
        first.wait(timeout=30)


def _pool_processes(group: int) -> int:
    """Worker pool processes (forkservers and their workers) of one process group: a run's,
    not those of other runs on the machine (another test process, another checkout)."""
    found = 0
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, IndexError, ValueError):  # gone meanwhile
            stat = (proc / "stat").read_text()
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            if int(stat.rsplit(")", 1)[1].split()[2]) != group:
                continue
            found += b"multiprocessing.forkserver" in (proc / "cmdline").read_bytes()
    return found


def test_kill_while_a_worker_writes_the_poll_loses_and_duplicates_nothing(
    tmp_path: Path, slow_site: SlowSite
) -> None:
    """Past POOL_MIN_FEEDS a worker process parses and stores the feeds. Kill the run once
    some of them are in the store (their answers staggered, so the worker is up by then): the
    store stays sound, and the rerun stores every feed's items exactly once."""
    from briefing.ingest.poll import POOL_MIN_FEEDS

    site = slow_site.site
    body = (
        (FIXTURE_SITE / "a" / "feed.xml").read_bytes().replace(b"{{BASE}}", site.base_url.encode())
    )
    count = POOL_MIN_FEEDS + 8
    delays = {i: 0.4 + 0.08 * i for i in range(count)}
    for i in range(count):

        def handler(_request: RecordedRequest, i: int = i) -> Response:
            return Response(
                body=body,
                headers={"Content-Type": "application/rss+xml"},
                delay=delays[i] if slow_site.slow else 0.0,
            )

        site.route(f"/copy/{i}.xml", handler)
    feeds = "".join(
        f"  - name: F{i}\n    url: {site.base_url}/copy/{i}.xml\n" for i in range(count)
    )
    config, output = write_config(tmp_path, site.base_url, feeds=feeds), tmp_path / "out"
    store = default_path(output)

    def some_feeds_stored() -> bool:
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=0.1) as db:
                return db.execute("SELECT COUNT(DISTINCT feed) FROM entries").fetchone()[0] >= 8
        except sqlite3.Error:
            return False

    group = kill_when(config, output, some_feeds_stored, "eight feeds in the store")
    # The killed run's worker and forkserver end too (they would otherwise wait forever).
    wait_until(lambda: _pool_processes(group) == 0, "the killed run's pool gone", timeout=10)
    slow_site.slow = False
    run_to_completion(config, output)
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_feed = db.execute(
            "SELECT feed, COUNT(*) FROM entries WHERE guid IS NOT NULL GROUP BY feed"
        ).fetchall()
        rows = db.execute("SELECT feed, COALESCE(guid, link) FROM entries").fetchall()
        unguided = db.execute("SELECT COUNT(*) FROM entries WHERE guid IS NULL").fetchone()[0]
    assert len(rows) == len(set(rows))
    # Every item is its feed's own, one without a GUID too (known by its link within its
    # feed): each copy of the feed stores it once (fixtures/site/MANIFEST.md: one in a/).
    items = {n for _feed, n in per_feed}
    assert len(per_feed) == count and len(items) == 1 and items.pop() > 0
    assert unguided == count
