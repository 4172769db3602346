"""SSRF: a link from a feed reaches a non-public address only on its feed's own host, or in a
network the operator allowed; the check is on the address actually connected to, on every hop.

Two loopback servers stand in for "the feed's host" (127.0.0.1) and "a second private host"
(127.0.0.2): the second must never see a request. Nothing here leaves 127.0.0.0/8 — refused
addresses such as 169.254.169.254 are refused before any packet is sent.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefing.config import PollConfig, load_config
from briefing.ingest.fetch import Fetched, Fetcher, FetchError
from briefing.ingest.netguard import IPAddress, Reach, normalise_host, parse_ip, why_not_public
from briefing.pipeline import extract, poll, store_path
from briefing.store import Store
from tests.conftest import NOW_DT
from tests.faults import FaultServer, answer, redirect, refused_port, rss

LIMITS = PollConfig(connect_timeout=1, read_timeout=2, total_timeout=4, retries=0)
PAGE = (
    b"<html><body><article><p>"
    + b"A long enough article body. " * 30
    + b"</p></article></body></html>"
)


@pytest.fixture
def feed_host() -> Iterator[FaultServer]:
    with FaultServer("127.0.0.1") as server:
        server.route("/page", answer(PAGE, content_type="text/html; charset=utf-8"))
        yield server


@pytest.fixture
def private_host() -> Iterator[FaultServer]:
    with FaultServer("127.0.0.2") as server:
        server.route("/secret", answer(b"internal admin page", content_type="text/plain"))
        yield server
        # Whatever a test did, the second private host must have seen nothing.
        assert server.requests == [], server.requests


def fetch(url: str, reach: Reach | None, limits: PollConfig = LIMITS) -> Fetched | FetchError:
    async def go() -> Fetched | FetchError:
        async with Fetcher(limits) as fetcher:
            try:
                return await fetcher.get(url, None, reach)
            except FetchError as exc:
                return exc

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # one decimal number
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0x7f.0.0.1", "127.0.0.1"),  # hex
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # short form
        ("[::ffff:127.0.0.1]", "127.0.0.1"),  # IPv4-mapped IPv6
        ("::ffff:7f00:2", "127.0.0.2"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("LocalHost.", "localhost"),
        ("[fd00:ec2::254]", "fd00:ec2::254"),
    ],
)
def test_every_spelling_of_an_address_is_normalised(spelling: str, canonical: str) -> None:
    assert normalise_host(spelling) == canonical


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12::1", "private"),
        ("100.64.0.1", "CGNAT"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "address"),  # reserved (Python files 240/4 under "private")
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    reason = why_not_public(ipaddress.ip_address(address))
    assert reason is not None and kind in reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) is None


def test_parse_ip_leaves_names_alone() -> None:
    assert parse_ip("example.com") is None
    assert parse_ip("metadata.google.internal") is None


def test_same_host_as_the_feed_is_allowed(feed_host: FaultServer) -> None:
    reach = Reach.for_feeds([feed_host.url("/feed.xml")])
    result = fetch(feed_host.url("/page"), reach)
    assert isinstance(result, Fetched) and result.body == PAGE
    # ...also spelled as a decimal number: the same host, normalised.
    result = fetch(f"http://2130706433:{feed_host.port}/page", reach)
    assert isinstance(result, Fetched)


def test_private_address_without_reach_is_blocked(feed_host: FaultServer) -> None:
    result = fetch(feed_host.url("/page"), None)
    assert isinstance(result, FetchError) and result.kind == "blocked"
    assert "loopback" in str(result)
    assert feed_host.requests == []


@pytest.mark.parametrize(
    "spelling", ["127.0.0.2", "2130706434", "0177.0.0.2", "0x7f.0.0.2", "[::ffff:127.0.0.2]"]
)
def test_second_private_host_is_never_contacted(
    feed_host: FaultServer, private_host: FaultServer, spelling: str
) -> None:
    reach = Reach.for_feeds([feed_host.url("/feed.xml")])
    result = fetch(f"http://{spelling}:{private_host.port}/secret", reach)
    assert isinstance(result, FetchError), result
    # httpx itself rejects some spellings ("Invalid IPv4 address"); the rest reach the guard.
    assert result.kind == "blocked" or "Invalid IPv4" in str(result), result
    if result.kind == "blocked":
        # The kind of address, never which: feed health publishes a feed's errors.
        assert "loopback" in str(result) and "127.0.0.2" not in str(result)
        assert str(private_host.port) not in str(result)


def test_same_host_redirect_to_private_host_is_blocked_at_the_hop(
    feed_host: FaultServer, private_host: FaultServer
) -> None:
    feed_host.route("/hop", redirect(f"http://2130706434:{private_host.port}/secret"))
    reach = Reach.for_feeds([feed_host.url("/feed.xml")])
    result = fetch(feed_host.url("/hop"), reach)
    assert isinstance(result, FetchError) and result.kind == "blocked"
    assert feed_host.requests_for("/hop") == ["/hop"]


def test_other_port_on_the_feed_host_is_another_host(
    feed_host: FaultServer,
) -> None:
    with FaultServer("127.0.0.1") as other:
        other.route("/x", answer(b"x"))
        reach = Reach.for_feeds([feed_host.url("/feed.xml")])
        result = fetch(other.url("/x"), reach)
        assert isinstance(result, FetchError) and result.kind == "blocked"
        assert other.requests == []


def test_allow_networks_opens_a_private_network(private_host: FaultServer) -> None:
    # The fixture asserts the private host saw nothing; use a third server for the allowed case.
    with FaultServer("127.0.0.3") as allowed:
        allowed.route("/ok", answer(b"fine"))
        reach = Reach.for_feeds([], ["127.0.0.3/32"])
        result = fetch(allowed.url("/ok"), reach)
        assert isinstance(result, Fetched) and result.body == b"fine"
        blocked = fetch(private_host.url("/secret"), reach)
        assert isinstance(blocked, FetchError) and blocked.kind == "blocked"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::ffff:169.254.169.254]/",
        "http://100.100.100.200/latest/meta-data/",
        "http://10.0.0.1/",
        "http://0.0.0.0:80/",
    ],
)
def test_metadata_and_private_addresses_are_refused_before_connecting(url: str) -> None:
    result = fetch(url, Reach.for_feeds(["http://127.0.0.1:1/feed.xml"]))
    assert isinstance(result, FetchError) and result.kind == "blocked", result


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "data:text/html,<script>alert(1)</script>",
        "gopher://127.0.0.1:70/_x",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat",
    ],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    result = fetch(url, Reach.for_feeds([url]))
    assert isinstance(result, FetchError) and result.kind == "bad-url"


def test_connection_goes_to_the_checked_address(
    feed_host: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name is resolved once, the answer checked, and the socket opened to that address."""
    calls: list[str] = []

    async def fake_resolve(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        # A rebinding server would answer differently next time; there is no next time.
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr("briefing.ingest.netguard.resolve", fake_resolve)
    url = f"http://rebind.invalid:{feed_host.port}/page"
    blocked = fetch(url, Reach())
    assert isinstance(blocked, FetchError) and blocked.kind == "blocked"
    allowed = fetch(url, Reach.for_feeds([], ["127.0.0.1/32"]))
    assert isinstance(allowed, Fetched) and allowed.body == PAGE
    assert calls == ["rebind.invalid", "rebind.invalid"]  # once per connection


def test_a_name_with_any_private_address_is_refused(
    feed_host: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def mixed(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.3"), ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr("briefing.ingest.netguard.resolve", mixed)
    reach = Reach.for_feeds([], ["127.0.0.1/32"])  # one of the two is allowed: not enough
    result = fetch(f"http://mixed.invalid:{feed_host.port}/page", reach)
    assert isinstance(result, FetchError) and result.kind == "blocked"


def test_a_feed_fetcher_reaches_exactly_the_configured_origins(
    feed_host: FaultServer, private_host: FaultServer
) -> None:
    """poll's fetcher: every configured feed's origin (scheme, host, port), nothing else
    private -- not the feed host's other ports, not another scheme on the same port."""
    feed = feed_host.route("/feed.xml", answer(rss([])))
    feed_host.route("/hop", redirect(private_host.url("/secret")))

    async def go(url: str) -> Fetched | FetchError:
        reach = Reach.for_feeds([feed])
        async with Fetcher(LIMITS, reach=reach) as fetcher:
            try:
                return await fetcher.get(url)
            except FetchError as exc:
                return exc

    assert isinstance(asyncio.run(go(feed)), Fetched)
    assert isinstance(asyncio.run(go(feed_host.url("/page"))), Fetched)  # same origin
    for url in (feed_host.url("/hop"), private_host.url("/secret")):
        result = asyncio.run(go(url))
        assert isinstance(result, FetchError) and result.kind == "blocked", result
    https = asyncio.run(go(f"https://127.0.0.1:{feed_host.port}/feed.xml"))
    assert isinstance(https, FetchError) and https.kind == "blocked", https


def test_a_fetcher_with_its_own_reach_takes_no_other() -> None:
    async def go() -> None:
        async with Fetcher(LIMITS, reach=Reach()) as fetcher:
            await fetcher.get("http://127.0.0.1:1/", None, Reach.for_feeds([], ["127.0.0.0/8"]))

    with pytest.raises(ValueError, match="reach"):
        asyncio.run(go())


# --- the pipeline ------------------------------------------------------------------------------


def test_hostile_links_in_a_feed_end_as_page_errors(
    tmp_path: Path, feed_host: FaultServer, private_host: FaultServer
) -> None:
    """poll + extract over a feed whose links point at a second private host in every spelling:
    the items are kept (text from the feed), the refusals are the pages' errors."""
    base, other = feed_host.base_url, private_host.port
    feed_host.route("/hop", redirect(f"http://127.0.0.2:{other}/secret"))
    links = {
        "same host": f"{base}/page",
        "second host": f"http://127.0.0.2:{other}/secret",
        "decimal": f"http://2130706434:{other}/secret",
        "mapped": f"http://[::ffff:127.0.0.2]:{other}/secret",
        "hop": f"{base}/hop",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "file": "file:///etc/passwd",
    }
    items = [
        {
            "title": name,
            "guid": f"g-{i}",
            "link": link.replace("&", "&amp;"),
            "pubDate": "Tue, 10 Mar 2026 06:00:00 GMT",
            "description": f"summary of {name}",
        }
        for i, (name, link) in enumerate(links.items())
    ]
    feed_url = feed_host.route("/feed.xml", answer(rss(items)))
    config_path = tmp_path / "feeds.yaml"
    config_path.write_text(
        "poll:\n  connect_timeout: 1\n  read_timeout: 2\n  total_timeout: 4\n  retries: 0\n"
        "extract:\n  workers: 1\n"
        f"feeds:\n  - name: Hostile\n    url: {feed_url}\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    output = tmp_path / "out"
    poll(config, output, NOW_DT)
    stats = extract(config, output, NOW_DT)
    assert stats.entries == len(links)
    with Store.open(store_path(config, output)) as store:
        pages: dict[str, Any] = {name: store.page(link) for name, link in links.items()}
        articles = {a.title: a for _e, a in store.articles_between(NOW_DT.replace(hour=0), NOW_DT)}
    assert pages["same host"].ok
    assert articles["same host"].quality == "full"
    for name in ("second host", "decimal", "mapped", "hop", "metadata"):
        assert not pages[name].ok
        assert "refused" in pages[name].error, (name, pages[name].error)
        assert articles[name].quality == "feed-only"
    assert articles["file"].quality == "feed-only"
    assert feed_host.requests_for("/hop") == ["/hop"]


def test_a_refused_page_is_fetched_once_allow_networks_allows_it(
    tmp_path: Path, feed_host: FaultServer
) -> None:
    """The guard's refusal follows the config, not the page: after the operator widens
    ``poll.allow_networks``, the next run fetches the page it refused before."""
    article = "<html><body><article>" + "<p>An intranet advisory paragraph.</p>" * 20
    with FaultServer("127.0.0.3") as intranet:
        link = intranet.route("/advisory", answer(article.encode(), content_type="text/html"))
        item = {
            "title": "Intranet advisory",
            "guid": "i-1",
            "link": link,
            "pubDate": "Tue, 10 Mar 2026 06:00:00 GMT",
            "description": "teaser",
        }
        feed_url = feed_host.route("/feed.xml", answer(rss([item])))
        output = tmp_path / "out"

        def run(extra: str) -> str:
            config_path = tmp_path / "feeds.yaml"
            config_path.write_text(
                f"poll:\n  retries: 0\n{extra}extract:\n  workers: 1\n"
                f"feeds:\n  - name: Internal\n    url: {feed_url}\n",
                encoding="utf-8",
            )
            config = load_config(config_path)
            poll(config, output, NOW_DT)
            extract(config, output, NOW_DT)
            with Store.open(store_path(config, output)) as store:
                ((_entry, found),) = store.articles_between(NOW_DT.replace(hour=0), NOW_DT)
            assert found is not None
            return found.quality

        assert run("") == "feed-only"
        assert intranet.requests == []
        assert run('  allow_networks: ["127.0.0.3/32"]\n') == "full"
        assert intranet.requests_for("/advisory") == ["/advisory"]
        assert run('  allow_networks: ["127.0.0.3/32"]\n') == "full"  # fetched once, kept
        assert len(intranet.requests) == 1


def test_a_feed_redirecting_into_the_network_publishes_nothing_of_it(
    tmp_path: Path, feed_host: FaultServer
) -> None:
    """#26 item 1: a configured loopback feed answers 302 to another loopback port's secret
    feed. Nothing of the secret feed is stored or built, and feed health says "refused" without
    naming the address, the port or anything the internal server would have answered."""
    from briefing.pipeline import build

    secret_item = {
        "title": "SECRET internal change window",
        "guid": "s-1",
        "link": "http://intranet.invalid/change",
        "pubDate": "Tue, 10 Mar 2026 05:00:00 GMT",
        "description": "SECRET the admin password rotates tonight",
    }
    public_item = {**secret_item, "title": "Public advisory", "guid": "p-1"}
    public_item["description"] = "A public advisory about a patched flaw."
    with FaultServer("127.0.0.1") as internal:
        internal.route("/secret.atom", answer(rss([secret_item])))
        honest = feed_host.route("/feed.xml", answer(rss([public_item])))
        hostile = feed_host.route("/moved.xml", redirect(internal.url("/secret.atom")))
        gone = feed_host.route("/gone.xml", redirect(f"http://127.0.0.1:{refused_port()}/x"))
        config_path = tmp_path / "feeds.yaml"
        config_path.write_text(
            "poll:\n  retries: 0\nextract:\n  fetch_pages: false\nfeeds:\n"
            f"  - name: Honest\n    url: {honest}\n"
            f"  - name: Hostile\n    url: {hostile}\n"
            f"  - name: Scanner\n    url: {gone}\n",
            encoding="utf-8",
        )
        config = load_config(config_path)
        output = tmp_path / "out"
        outcomes = {o.feed: o for o in poll(config, output, NOW_DT)}
        extract(config, output, NOW_DT)
        build(config, output, NOW_DT)
        assert internal.requests == []
    assert outcomes["Honest"].status == "ok"
    for name in ("Hostile", "Scanner"):
        error = outcomes[name].error or ""
        assert outcomes[name].status == "http-error" and error.startswith("refused:"), error
        assert str(internal.port) not in error and "127.0.0.1" not in error
        assert "connection refused" not in error and "HTTP" not in error
    published = [p for p in output.rglob("*") if p.is_file() and "sqlite" not in p.name]
    assert any(p.name == "briefing.json" for p in published)
    for path in published:
        text = path.read_bytes()
        assert b"SECRET" not in text, path
        assert str(internal.port).encode() not in text, path
