"""The review page (``briefing review serve``): the access token, the CSRF token and the Origin
check over real HTTP on loopback, the printed URL of the real command, and the page driven in
Debian's Chromium over the DevTools protocol (open, drop, merge, approve)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from briefing.config import load_config
from briefing.review.server import ReviewServer
from tests.conftest import copy_output
from tests.test_browser import CHROMIUM, Browser, browser  # noqa: F401 (a fixture)
from tests.test_review import DAY, build_day, data


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_day(tmp_path_factory.mktemp("built"))


@pytest.fixture
def page(built: tuple[Path, Path], tmp_path: Path) -> Iterator[ReviewServer]:
    config, out = built
    copy_output(out, tmp_path / "out")
    shutil.copy(config, tmp_path / "feeds.yaml")
    server = ReviewServer(
        load_config(tmp_path / "feeds.yaml"), tmp_path / "out", host="127.0.0.1", port=0, by="ana"
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.close()
        thread.join(timeout=10)


def request(
    server: ReviewServer,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[HTTPResponse, str]:
    connection = HTTPConnection("127.0.0.1", server.port, timeout=120)
    encoded = urlencode(body or {}, doseq=True)
    sent = dict(headers or {})
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=encoded if body is not None else None, headers=sent)
    response = connection.getresponse()
    text = response.read().decode("utf-8")
    connection.close()
    return response, text


def test_no_token_no_page(page: ReviewServer) -> None:
    response, _ = request(page, "GET", "/")
    assert response.status == 401
    response, _ = request(page, "GET", "/?token=wrong")
    assert response.status == 403
    response, _ = request(page, "GET", "/", headers={"Cookie": "briefing_review=wrong"})
    assert response.status == 403
    response, text = request(page, "GET", f"/?token={page.token}")
    assert response.status == 200
    for story in data(page.output)["stories"]:
        assert story["title"].replace("'", "&#39;") in text
    assert "HttpOnly" in response.getheader("Set-Cookie", "")
    assert response.getheader("Referrer-Policy") == "same-origin"
    assert "default-src 'none'" in response.getheader("Content-Security-Policy", "")
    # The cookie then stands for the token.
    response, _ = request(page, "GET", "/", headers={"Cookie": f"briefing_review={page.token}"})
    assert response.status == 200


def test_changes_need_the_csrf_token_and_no_foreign_origin(page: ReviewServer) -> None:
    before = (page.output / DAY / "briefing.json").read_bytes()
    victim = data(page.output)["stories"][0]["id"]
    cookie = {"Cookie": f"briefing_review={page.token}"}
    form = {"action": "drop", "id": victim, "date": DAY}
    response, _ = request(page, "POST", "/action", form)
    assert response.status == 401  # no token at all
    response, _ = request(page, "POST", "/action", form, cookie)
    assert response.status == 403  # no CSRF token
    response, _ = request(page, "POST", "/action", {**form, "csrf": "guess"}, cookie)
    assert response.status == 403
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{page.port + 1}"):
        foreign = {**cookie, "Origin": origin}
        response, _ = request(page, "POST", "/action", {**form, "csrf": page.csrf}, foreign)
        assert response.status == 403, origin
    assert (page.output / DAY / "briefing.json").read_bytes() == before

    own = {**cookie, "Origin": page.origin}
    response, _ = request(page, "POST", "/action", {**form, "csrf": page.csrf}, own)
    assert response.status == 303 and response.getheader("Location") == "/"
    assert victim not in {s["id"] for s in data(page.output)["stories"]}
    _, text = request(page, "GET", "/", headers=cookie)
    assert "done: #1 drop" in text
    # An unknown id is said on the page, and nothing changes.
    response, _ = request(page, "POST", "/action", {**form, "csrf": page.csrf}, own)
    assert response.status == 303
    _, text = request(page, "GET", "/", headers=cookie)
    assert "no story" in text


def test_the_command_prints_its_url_first(built: tuple[Path, Path]) -> None:
    config, out = built
    command = [sys.executable, "-m", "briefing", "review", "serve", "-c", str(config)]
    command += ["-o", str(out), "--port", "0"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            parts = urlsplit(line)
            assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
            assert parts.query.startswith("token=") and len(parts.query) > 30
            connection = HTTPConnection("127.0.0.1", parts.port or 0, timeout=30)
            connection.request("GET", "/")
            assert connection.getresponse().status == 401
            connection.close()
        finally:
            process.terminate()
            process.wait(timeout=10)


# --- in a real browser -------------------------------------------------------------------------


def _act(client: Browser, expression: str) -> None:
    """Run ``expression`` (which submits a form) and wait for the page the server answers with:
    the day is rebuilt before that (HTML, PDF, JSON), which takes seconds."""
    client.call("Runtime.evaluate", expression=expression)
    client.wait_for("Page.loadEventFired", timeout=180)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_drop_merge_and_approve_in_chromium(page: ReviewServer, browser: Browser) -> None:  # noqa: F811
    stories = data(page.output)["stories"]
    browser.navigate(page.url)
    titles = browser.evaluate(
        "Array.from(document.querySelectorAll('article.story .title')).map(e => e.textContent)"
    )
    assert titles == [s["title"] for s in stories]
    assert browser.evaluate("document.getElementById('merge-button').disabled") is True

    drop = stories[-1]
    _act(browser, f"document.querySelector('#story-{drop['id']} button.drop').click()")
    assert browser.evaluate(f"document.getElementById('story-{drop['id']}')") is None
    assert drop["id"] not in {s["id"] for s in data(page.output)["stories"]}

    first, second = stories[0], stories[1]
    for story in (first, second):
        browser.evaluate(f"document.querySelector('#story-{story['id']} input.pick').click()")
    assert browser.evaluate("document.getElementById('merge-button').disabled") is False
    _act(browser, "document.getElementById('merge-button').click()")
    now = data(page.output)["stories"]
    assert len(now) == len(stories) - 2
    merged = next(s for s in now if s["title"] == first["title"])
    assert {x["url"] for x in merged["sources"]} == {
        x["url"] for x in first["sources"] + second["sources"]
    }
    assert browser.evaluate(f"document.getElementById('story-{merged['id']}')") is not None

    _act(browser, "document.getElementById('approve').click()")
    state = browser.evaluate("document.getElementById('state').textContent")
    assert state.startswith("Approved by ana")
    review = data(page.output)["review"]
    assert review["approved_by"] == "ana"
    assert [a["action"] for a in review["actions"]] == ["drop", "merge", "approve"]
    problems = [
        e
        for e in browser.events
        if e.get("method") in ("Runtime.exceptionThrown", "Log.entryAdded")
        and (
            e["method"] == "Runtime.exceptionThrown" or e["params"]["entry"].get("level") == "error"
        )
    ]
    assert problems == []
