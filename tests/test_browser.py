"""The archive in a real browser: headless Chromium (Debian's ``chromium``) driven over the
DevTools protocol opens the archive from disk (file://) and from a loopback server, goes
index -> day -> actor page, uses the filter box, and checks that no console error appeared and
no request left loopback. Nothing is downloaded: the browser is the system's."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest

from benchmarks.samples import END, synthetic_briefing
from briefing.config import Config, FeedConfig
from briefing.publish.archive import update_archive
from briefing.publish.render import write_briefing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
websockets_sync = pytest.importorskip("websockets.sync.client")


class Browser:
    """A minimal DevTools-protocol client: one page target, events collected as they come."""

    def __init__(self, connection: Any) -> None:
        self._ws = connection
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(message)
            if message.get("method") == method:
                return dict(message)
        raise AssertionError(f"no {method} within {timeout} s")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def click(self, selector: str) -> None:
        self.call("Runtime.evaluate", expression=f"document.querySelector({selector!r}).click()")
        self.wait_for("Page.loadEventFired")


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive")
    config = Config(feeds=(FeedConfig(name="x", url="https://example.org/feed"),))
    for seed, end in ((1, END - timedelta(days=1)), (2, END)):
        briefing = synthetic_briefing(8, seed=seed, end=end)
        write_briefing(briefing, config, out)
        update_archive(config, out, [briefing.date])
    return out


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and port_file.read_text().strip()):
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            assert process.poll() is None, "chromium exited at start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.loads(response.read())
        page = next(t for t in targets if t.get("type") == "page")
        with websockets_sync.connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            client = Browser(socket)
            for domain in ("Page", "Runtime", "Log", "Network"):
                client.call(f"{domain}.enable")
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def server(archive_dir: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(archive_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def _walk(browser: Browser, start: str) -> None:
    browser.navigate(start + "index.html")
    assert browser.evaluate("document.querySelectorAll('a[href$=\"/briefing.html\"]').length") >= 2
    # The filter box: an actor's alias finds that actor's stories of both days.
    browser.evaluate(
        "const f = document.getElementById('filter');"
        "f.value = 'APT39'; f.dispatchEvent(new Event('input'));"
    )
    hits = browser.evaluate(
        "Array.from(document.querySelectorAll('#results a')).map(a => a.getAttribute('href'))"
    )
    assert hits and all(h.endswith("briefing.html#story-" + h.rsplit("-", 1)[-1]) for h in hits)
    assert {h[:10] for h in hits} == {"2026-03-09", "2026-03-10"}
    assert "match" in browser.evaluate("document.getElementById('filter-status').textContent")

    browser.click('a.date[href="2026-03-10/briefing.html"]')
    assert browser.evaluate("location.pathname").endswith("/2026-03-10/briefing.html")
    assert browser.evaluate("document.querySelector('h2').textContent") == "Contents"

    browser.click('a.chip.actor[href="../actors/apt39.html"]')
    assert browser.evaluate("location.pathname").endswith("/actors/apt39.html")
    assert browser.evaluate("document.querySelectorAll('article.story').length") >= 2


def _problems(browser: Browser) -> list[str]:
    problems = []
    for event in browser.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            problems.append(f"console: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            problems.append(f"log: {params['entry'].get('text')} {params['entry'].get('url')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            parts = urlsplit(url)
            if parts.scheme not in ("file", "data", "about") and parts.hostname != "127.0.0.1":
                problems.append(f"request left loopback: {url}")
    return problems


def test_archive_from_disk(browser: Browser, archive_dir: Path) -> None:
    _walk(browser, archive_dir.as_uri() + "/")
    assert _problems(browser) == []


def test_archive_from_a_static_server(browser: Browser, server: str) -> None:
    _walk(browser, server)
    assert _problems(browser) == []
    requested = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert any(url.endswith("/search-index.js") for url in requested)
