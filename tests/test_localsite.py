"""Tests for briefing.localsite: a real loopback server queried with httpx."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from briefing.localsite import LAST_MODIFIED, LocalSite, RecordedRequest, Response
from tests.conftest import wait_until

RSS = """<?xml version="1.0" encoding="utf-8"?>
<!-- a comment before the root -->
<rss version="2.0"><channel><title>t</title>
<item><title>one</title><link>{{BASE}}/pages/one.html</link></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<link href="{{BASE}}/"/></feed>
"""


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "pages").mkdir(parents=True)
    (site / "feed.xml").write_text(RSS, encoding="utf-8")
    (site / "atom.xml").write_text(ATOM, encoding="utf-8")
    (site / "pages" / "one.html").write_text(
        "<html><body><a href='{{BASE}}/x'>x</a></body></html>", encoding="utf-8"
    )
    (site / "pages" / "index.html").write_text("<p>index</p>", encoding="utf-8")
    (site / "raw.bin").write_bytes(b"{{BASE}}")
    (tmp_path / "secret.txt").write_text("do not serve", encoding="utf-8")
    return site


@pytest.fixture()
def site(root: Path) -> Iterator[LocalSite]:
    with LocalSite(root) as s:
        yield s


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def raw_get(site: LocalSite, target: str) -> bytes:
    """Send a request line exactly as written (httpx would normalise the dots away)."""
    with socket.create_connection((site.host, site.port), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_base_url_before_start_raises(root: Path) -> None:
    with pytest.raises(RuntimeError):
        _ = LocalSite(root).base_url


def test_serves_file_with_base_substituted(site: LocalSite, client: httpx.Client) -> None:
    assert site.base_url.startswith("http://127.0.0.1:")
    assert not site.base_url.endswith("/")
    r = client.get(f"{site.base_url}/feed.xml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/rss+xml")
    assert f"<link>{site.base_url}/pages/one.html</link>" in r.text
    assert "{{BASE}}" not in r.text
    page = client.get(f"{site.base_url}/pages/one.html")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert f"href='{site.base_url}/x'" in page.text


def test_atom_is_sniffed_and_binary_is_untouched(site: LocalSite, client: httpx.Client) -> None:
    r = client.get(f"{site.base_url}/atom.xml")
    assert r.headers["content-type"].startswith("application/atom+xml")
    raw = client.get(f"{site.base_url}/raw.bin")
    assert raw.content == b"{{BASE}}"
    assert raw.headers["content-type"] == "application/octet-stream"


def test_directory_serves_index(site: LocalSite, client: httpx.Client) -> None:
    r = client.get(f"{site.base_url}/pages/")
    assert r.status_code == 200
    assert r.text == "<p>index</p>"


def test_query_string_is_ignored_for_files(site: LocalSite, client: httpx.Client) -> None:
    r = client.get(f"{site.base_url}/pages/one.html?utm_source=x#frag")
    assert r.status_code == 200
    assert site.requests[-1].path == "/pages/one.html?utm_source=x"


def test_etag_and_if_none_match(site: LocalSite, client: httpx.Client) -> None:
    url = f"{site.base_url}/feed.xml"
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert first.headers["last-modified"] == LAST_MODIFIED
    assert client.get(url).headers["etag"] == etag  # stable
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"nope", W/{etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(site: LocalSite, client: httpx.Client) -> None:
    url = f"{site.base_url}/feed.xml"
    r = client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": LAST_MODIFIED})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("since", "status"),
    [
        (LAST_MODIFIED, 304),
        ("Tue, 10 Mar 2026 06:00:00 GMT", 304),
        ("Sun, 08 Mar 2026 06:00:00 GMT", 200),
        ("not a date", 200),
    ],
)
def test_if_modified_since(site: LocalSite, client: httpx.Client, since: str, status: int) -> None:
    r = client.get(f"{site.base_url}/feed.xml", headers={"If-Modified-Since": since})
    assert r.status_code == status
    if status == 304:
        assert r.content == b""


def test_head_has_headers_but_no_body(site: LocalSite, client: httpx.Client) -> None:
    get = client.get(f"{site.base_url}/feed.xml")
    head = client.head(f"{site.base_url}/feed.xml")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["etag"] == get.headers["etag"]


def test_missing_is_404(site: LocalSite, client: httpx.Client) -> None:
    assert client.get(f"{site.base_url}/nope.html").status_code == 404
    assert client.get(f"{site.base_url}/pages/nope/").status_code == 404


def test_other_methods_on_files_are_405(site: LocalSite, client: httpx.Client) -> None:
    assert client.post(f"{site.base_url}/feed.xml", content=b"x").status_code == 405


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/pages/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/pages%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
    ],
)
def test_traversal_is_refused(site: LocalSite, target: str) -> None:
    answer = raw_get(site, target)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:40]
    assert b"do not serve" not in answer


def test_symlink_out_of_root_is_refused(root: Path, site: LocalSite) -> None:
    (root / "link.txt").symlink_to(root.parent / "secret.txt")
    answer = raw_get(site, "/link.txt")
    assert answer.startswith(b"HTTP/1.1 403")


def test_no_root_serves_only_routes(client: httpx.Client) -> None:
    with LocalSite() as s:
        s.route("/x", lambda req: Response(body=b"x"))
        assert client.get(f"{s.base_url}/x").text == "x"
        assert client.get(f"{s.base_url}/feed.xml").status_code == 404


def test_custom_route_wins_over_file(site: LocalSite, client: httpx.Client) -> None:
    seen: list[RecordedRequest] = []

    def handler(req: RecordedRequest) -> Response:
        seen.append(req)
        return Response(503, b"busy", {"Content-Type": "text/plain", "Retry-After": "120"})

    site.route("/feed.xml", handler)
    r = client.get(f"{site.base_url}/feed.xml?page=2", headers={"User-Agent": "probe/1"})
    assert r.status_code == 503
    assert r.text == "busy"
    assert r.headers["retry-after"] == "120"
    assert seen[0].path == "/feed.xml?page=2"
    assert seen[0].headers["user-agent"] == "probe/1"


def test_route_with_query_is_exact(site: LocalSite, client: httpx.Client) -> None:
    site.route("/q?a=1", lambda req: Response(body=b"one"))
    site.route("/q", lambda req: Response(body=b"any"))
    assert client.get(f"{site.base_url}/q?a=1").text == "one"
    assert client.get(f"{site.base_url}/q?a=2").text == "any"


def test_route_sees_every_method(site: LocalSite, client: httpx.Client) -> None:
    site.route("/api", lambda req: Response(201, req.method.encode()))
    r = client.post(f"{site.base_url}/api", content=b"payload")
    assert (r.status_code, r.text) == (201, "POST")


def test_handler_exception_is_500(site: LocalSite, client: httpx.Client) -> None:
    def boom(req: RecordedRequest) -> Response:
        raise ValueError("boom")

    site.route("/boom", boom)
    assert client.get(f"{site.base_url}/boom").status_code == 500
    assert client.get(f"{site.base_url}/feed.xml").status_code == 200  # still serving


def test_delay(site: LocalSite) -> None:
    site.route("/slow", lambda req: Response(body=b"late", delay=0.3))
    start = time.monotonic()
    with httpx.Client(timeout=5) as c:
        assert c.get(f"{site.base_url}/slow").text == "late"
    assert time.monotonic() - start >= 0.3
    with httpx.Client(timeout=0.1) as c, pytest.raises(httpx.ReadTimeout):
        c.get(f"{site.base_url}/slow")


def test_stop_cuts_pending_delays_short(root: Path) -> None:
    site = LocalSite(root).start()
    site.route("/slow", lambda req: Response(body=b"late", delay=30))
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            with httpx.Client(timeout=10) as c:
                c.get(f"{site.base_url}/slow")
        except httpx.HTTPError as exc:
            errors.append(exc)

    t = threading.Thread(target=fetch)
    t.start()
    wait_until(lambda: bool(site.requests), "the slow request at the server")
    start = time.monotonic()
    site.stop()
    t.join(timeout=5)
    assert not t.is_alive()
    assert time.monotonic() - start < 5
    assert errors  # the connection was dropped, not answered


def test_requests_are_recorded_in_order(site: LocalSite, client: httpx.Client) -> None:
    client.get(f"{site.base_url}/feed.xml", headers={"If-None-Match": '"x"'})
    client.head(f"{site.base_url}/pages/one.html")
    client.get(f"{site.base_url}/nope")
    assert [(r.method, r.path) for r in site.requests] == [
        ("GET", "/feed.xml"),
        ("HEAD", "/pages/one.html"),
        ("GET", "/nope"),
    ]
    assert site.requests[0].headers["if-none-match"] == '"x"'
    assert all(name == name.lower() for r in site.requests for name in r.headers)
    assert [r.path for r in site.requests_for("/pages/")] == ["/pages/one.html"]


def test_concurrent_requests_are_all_recorded(site: LocalSite) -> None:
    def fetch(i: int) -> None:
        with httpx.Client(timeout=5) as c:
            c.get(f"{site.base_url}/feed.xml?i={i}")

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(site.requests_for("/feed.xml")) == 20


def test_fixed_port_and_restart(root: Path, client: httpx.Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = LocalSite(root, port=port)
    with site:
        assert site.base_url == f"http://127.0.0.1:{port}"
        assert client.get(f"{site.base_url}/feed.xml").status_code == 200
    site.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{port}/feed.xml")


# -- the bundled sites: their feeds parse and their links answer as documented ---------------

FIXTURE_SITE = Path(__file__).parent / "fixtures" / "site"


def _parse_feed(client: httpx.Client, url: str) -> list[dict[str, object]]:
    import feedparser

    r = client.get(url)
    assert r.status_code == 200
    headers = {**r.headers, "content-location": url}
    parsed = feedparser.parse(r.content, response_headers=headers)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return list(parsed.entries)


def _links(client: httpx.Client, site: LocalSite, feed: str) -> dict[str, int]:
    out = {}
    for entry in _parse_feed(client, site.base_url + feed):
        link = str(entry["link"])
        assert link.startswith(site.base_url + "/")
        out[link.removeprefix(site.base_url)] = client.get(link).status_code
    return out


def test_demo_site_feeds(client: httpx.Client) -> None:
    from briefing.demo import DEMO_FEEDS, SITE_DIR

    with LocalSite(SITE_DIR) as s:
        statuses: dict[str, int] = {}
        for _name, path, _tags, _weight in DEMO_FEEDS:
            statuses |= _links(client, s, path)
        assert len(statuses) == 11
        missing = [p for p, code in statuses.items() if code != 200]
        assert missing == ["/news/2026/03/loyalty-program-credential-stuffing.html"]
        page = client.get(
            s.base_url + "/news/2026/03/iran-linked-group-targets-telecom-travel.html"
        )
        assert "{{BASE}}" not in page.text
        assert f"{s.base_url}/labs/reports/apt39-2026.html" in page.text
        assert client.get(s.base_url + "/labs/reports/apt39-2026.html").status_code == 200


def test_fixture_site_matches_manifest(client: httpx.Client) -> None:
    manifest = (FIXTURE_SITE / "MANIFEST.md").read_text(encoding="utf-8")
    rows = [line for line in manifest.splitlines() if re.match(r"\| [ABC]\d \| `/", line)]
    assert len(rows) == 9
    with LocalSite(FIXTURE_SITE) as s:
        statuses: dict[str, int] = {}
        for feed in ("/a/feed.xml", "/b/atom.xml", "/c/feed.xml"):
            statuses |= _links(client, s, feed)
        for row in rows:
            cells = [c.strip().strip("`") for c in row.strip("|").split("|")]
            link, exists = cells[3], cells[7]
            assert link in statuses, link
            assert statuses[link] == (200 if exists == "yes" else 404), link
