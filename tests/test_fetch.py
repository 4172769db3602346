from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator

import pytest

from briefing.config import PollConfig
from briefing.ingest.fetch import USER_AGENT, Fetched, Fetcher, FetchError
from briefing.ingest.netguard import Reach
from briefing.localsite import LocalSite, RecordedRequest, Response

LIMITS = PollConfig(
    connect_timeout=1,
    read_timeout=1,
    total_timeout=3,
    max_bytes=100_000,
    retries=2,
    max_retry_wait=2,
    max_redirects=3,
)


@pytest.fixture
def server() -> Iterator[LocalSite]:
    with LocalSite() as site:
        yield site


def get(url: str, limits: PollConfig = LIMITS, headers: dict[str, str] | None = None) -> Fetched:
    async def go() -> Fetched:
        # The loopback test server is the one configured origin (as in poll's fetcher).
        async with Fetcher(limits, reach=Reach.for_feeds([url])) as fetcher:
            return await fetcher.get(url, headers)

    return asyncio.run(go())


def test_plain_get_sends_user_agent(server: LocalSite) -> None:
    server.route("/x", lambda _r: Response(body=b"hello"))
    fetched = get(server.base_url + "/x")
    assert (fetched.status, fetched.body) == (200, b"hello")
    assert server.requests[0].headers["user-agent"] == USER_AGENT
    assert "briefing/" in USER_AGENT


def test_body_over_cap_is_refused(server: LocalSite) -> None:
    server.route("/big", lambda _r: Response(body=b"x" * 200_000))
    with pytest.raises(FetchError) as info:
        get(server.base_url + "/big")
    assert info.value.kind == "too-large"


def test_gzip_bomb_is_counted_after_decompression(server: LocalSite) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < LIMITS.max_bytes
    server.route("/bomb", lambda _r: Response(body=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(FetchError) as info:
        get(server.base_url + "/bomb")
    assert info.value.kind == "too-large"


def test_redirects_are_followed_and_bounded(server: LocalSite) -> None:
    server.route("/a", lambda _r: Response(status=302, headers={"Location": "/b"}))
    server.route("/b", lambda _r: Response(body=b"landed"))
    fetched = get(server.base_url + "/a")
    assert fetched.body == b"landed"
    assert fetched.url.endswith("/b")
    server.route("/loop", lambda _r: Response(status=301, headers={"Location": "/loop"}))
    with pytest.raises(FetchError, match="redirects"):
        get(server.base_url + "/loop")
    assert len(server.requests_for("/loop")) == LIMITS.max_redirects + 1


def test_redirect_to_another_scheme_is_refused(server: LocalSite) -> None:
    server.route(
        "/evil", lambda _r: Response(status=302, headers={"Location": "file:///etc/passwd"})
    )
    with pytest.raises(FetchError) as info:
        get(server.base_url + "/evil")
    assert info.value.kind == "bad-url"


def test_retry_after_is_honoured(server: LocalSite) -> None:
    calls: list[RecordedRequest] = []

    def flaky(request: RecordedRequest) -> Response:
        calls.append(request)
        if len(calls) == 1:
            return Response(status=429, headers={"Retry-After": "1"})
        return Response(body=b"ok now")

    server.route("/flaky", flaky)
    assert get(server.base_url + "/flaky").body == b"ok now"
    assert len(calls) == 2


def test_retries_are_bounded(server: LocalSite) -> None:
    server.route("/down", lambda _r: Response(status=503))
    limits = LIMITS.model_copy(update={"retries": 1})
    with pytest.raises(FetchError) as info:
        get(server.base_url + "/down", limits)
    assert (info.value.kind, info.value.status) == ("http-error", 503)
    assert len(server.requests_for("/down")) == 2


def test_too_long_retry_after_is_a_failure_not_a_wait(server: LocalSite) -> None:
    server.route("/later", lambda _r: Response(status=429, headers={"Retry-After": "3600"}))
    with pytest.raises(FetchError, match="retry after 3600"):
        get(server.base_url + "/later")
    assert len(server.requests_for("/later")) == 1


def test_slow_server_times_out(server: LocalSite) -> None:
    server.route("/slow", lambda _r: Response(body=b"late", delay=5))
    with pytest.raises(FetchError) as info:
        get(server.base_url + "/slow")
    assert info.value.kind == "timeout"


def test_refused_connection() -> None:
    with pytest.raises(FetchError) as info:
        get("http://127.0.0.1:9/feed")
    assert info.value.kind == "connection-error"


def test_304_is_returned_not_raised(server: LocalSite) -> None:
    server.route("/feed", lambda _r: Response(status=304))
    assert get(server.base_url + "/feed", headers={"If-None-Match": '"x"'}).status == 304
