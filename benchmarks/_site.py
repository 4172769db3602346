"""A generated loopback site for the benchmarks: N feeds × M items, each item with a page.

In: sizes, a latency per request and a clock. Out: a running asyncio HTTP/1.1 server (in a
thread of its own) on a few loopback addresses (127.0.1.1, 127.0.1.2, … all on one port), so
that feeds sit on distinct hosts as they do on the internet and the fetcher's per-host limit
does not turn a fleet of feeds into one queue. Stdlib only.

Every answer waits ``latency`` seconds first (asyncio, so thousands of waits cost no threads),
carries a strong ETag, and ``If-None-Match`` with that ETag gets ``304 Not Modified``.
Connections are kept alive unless the client asks otherwise. The site counts what it served
(feeds, pages, 304s) so a benchmark can check that a second run fetched no page.

``Site(..., process=True)`` serves from a child process instead of a thread: the server's own
CPU (a millisecond or so a request) then no longer competes for the measured client's GIL, as
it would not with a real server on another machine. The benchmarks use it for every timed case.

Content is deterministic for a seed: threat-intel prose (actors, malware, countries, sectors,
CVEs) inside a page with real-world boilerplate (navigation, sidebars, related links, cookie
banner, comments, footer), and the same text as the feed item's ``content:encoded``.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import random
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from multiprocessing.connection import Connection
from pathlib import Path

ACTORS = (
    "APT28",
    "APT29",
    "Lazarus Group",
    "Sandworm",
    "Volt Typhoon",
    "APT39",
    "Kimsuky",
    "Turla",
    "FIN7",
    "MuddyWater",
    "Charming Kitten",
    "APT41",
    "Gamaredon",
    "OilRig",
)
MALWARE = (
    "Cobalt Strike",
    "PlugX",
    "ShadowPad",
    "Emotet",
    "QakBot",
    "LockBit",
    "BlackCat",
    "AgentTesla",
    "Mimikatz",
    "Sliver",
    "IcedID",
    "Raccoon Stealer",
)
COUNTRIES = (
    "Germany",
    "Ukraine",
    "Poland",
    "Japan",
    "South Korea",
    "Israel",
    "Saudi Arabia",
    "Brazil",
    "India",
    "France",
    "the United Kingdom",
    "Taiwan",
    "Vietnam",
    "Kenya",
)
SECTORS = (
    "energy",
    "telecommunications",
    "government",
    "healthcare",
    "finance",
    "defence",
    "education",
    "manufacturing",
    "transportation",
    "retail",
    "water utilities",
)
VERBS = (
    "targeted",
    "breached",
    "compromised",
    "phished",
    "attacked",
    "infiltrated",
    "probed",
)
FILLER = (
    "Researchers said the campaign relied on spear-phishing e-mails carrying malicious "
    "attachments disguised as invoices.",
    "The intrusion began with a vulnerable VPN appliance that had not been patched for months.",
    "Investigators found scheduled tasks and registry run keys used for persistence.",
    "The operators moved laterally with stolen credentials and remote desktop sessions.",
    "Data was staged in password-protected archives before being exfiltrated over HTTPS.",
    "The group has previously been linked to espionage against diplomatic entities.",
    "Defenders are urged to review authentication logs and rotate exposed secrets.",
    "The loader decrypts its payload in memory and injects it into a legitimate process.",
    "Command-and-control traffic was hidden behind a content delivery network.",
    "Several victims only noticed the breach weeks later during a routine audit.",
    "The vendor released an emergency update and published indicators of compromise.",
    "Analysts observed overlaps in infrastructure with an earlier wave of attacks.",
    "The malware collects system information, screenshots and browser credentials.",
    "Initial access brokers sold the footholds on underground forums.",
    "National agencies issued a joint advisory describing the tactics in detail.",
    "The attackers abused a legitimate remote management tool to avoid detection.",
)
_WORD_TEXT = (
    "network server domain account cloud backup firmware router policy incident response "
    "telemetry endpoint kernel driver module certificate token session browser extension "
    "mailbox gateway firewall proxy tunnel registry archive payload dropper beacon implant "
    "exploit patch advisory bulletin disclosure sample hash signature campaign operator"
)
WORDS = tuple(_WORD_TEXT.split())


def _rng(*parts: object) -> random.Random:
    seed = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def article_text(feed: int, item: int, paragraphs: int = 6) -> tuple[str, list[str]]:
    """A title and paragraphs of plausible threat-intel prose, unique per (feed, item)."""
    rng = _rng("article", feed, item)
    actor, malware = rng.choice(ACTORS), rng.choice(MALWARE)
    country, sector = rng.choice(COUNTRIES), rng.choice(SECTORS)
    cve = f"CVE-{rng.randint(2019, 2026)}-{rng.randint(1000, 49999)}"
    title = f"{actor} {rng.choice(VERBS)} {sector} in {country} with {malware} (#{feed}-{item})"
    paras = [
        f"{actor} {rng.choice(VERBS)} organisations in the {sector} sector in {country}, "
        f"deploying {malware} after exploiting {cve}, according to a report published this "
        f"week. The activity, tracked as operation {rng.choice(WORDS)}-{feed}-{item}, "
        f"used technique T{rng.randint(1001, 1599)}."
    ]
    for _ in range(paragraphs - 1):
        sentences = rng.sample(FILLER, 3)
        extra = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30)))
        paras.append(" ".join(sentences) + f" Notes mention {extra}.")
    return title, paras


# Real article pages are ~100 KB and take trafilatura ~16 ms (median of the corpus pages here);
# these chrome blocks bring a generated page to that size and cost, so the extraction case
# measures the work a real morning run does rather than a toy page's.
_MENU = "".join(
    f"<li class='menu-item menu-{a}'><div class='wrap'><div class='inner'><span class='label'>"
    f"<a href='/section/{a}/{b}' class='nav-link' data-track='{a}-{b}'>{a.title()} {b}</a>"
    "</span></div></div></li>"
    for a in WORDS[:30]
    for b in WORDS[30:42]
)
_BOILER_TOP = (
    "<head-extra><script type='application/ld+json'>"
    + "{"
    + ",".join(f'"k{i}": "{WORDS[i % len(WORDS)]} {i}"' for i in range(600))
    + "}"
    + "</script><script>window.dataLayer=["
    + ",".join(str(i) for i in range(2000))
    + "];"
    "</script></head-extra>"
    "<header class='site'><a href='/'>Cyber Daily</a><nav class='mega'><ul>"
    + _MENU
    + "</ul></nav><form action='/search'><input name='q'></form></header>"
    "<div class='cookie'>We use cookies to improve your experience. <button>Accept</button>"
    "<button>Manage preferences</button></div>"
    "<div class='promo'>Register now for our threat summit. <a href='/summit'>Register</a></div>"
)
_BOILER_SIDE = (
    "<aside class='sidebar'><h3>Most read</h3><ul>"
    + "".join(
        f"<li class='card'><div class='card-body'><div class='card-text'><a href='/story/{i}'>"
        f"Story about {w} number {i}</a><p>A short teaser about {w} and "
        f"{WORDS[(i * 7) % len(WORDS)]} that readers clicked on this week.</p></div></div></li>"
        for i, w in enumerate(WORDS[:60])
    )
    + "</ul><h3>Newsletter</h3><p>Subscribe to get the top stories every morning.</p></aside>"
)
_BOILER_FOOT = (
    "<footer><p>© 2026 Cyber Daily. All rights reserved.</p><ul>"
    + "".join(f"<li><a href='/legal/{w}'>{w}</a></li>" for w in WORDS[:120])
    + "</ul></footer>"
)


def page_html(
    feed: int, item: int, corpus: list[str] | None = None, published: datetime | None = None
) -> str:
    """The article page: the text wrapped in boilerplate, or a corpus page when given.

    Like most news pages it declares its date (``article:published_time``): without one,
    trafilatura's date search scans the whole page and triples the extraction time.
    """
    if corpus:
        return corpus[(feed * 7919 + item) % len(corpus)]
    rng = _rng("comments", feed, item)
    date = (published or datetime(2026, 3, 9, 12, 0)).isoformat()
    title, paras = article_text(feed, item, paragraphs=12)
    comments = "".join(
        f"<li class='comment'><b>user{rng.randint(1, 999)}</b><p>"
        f"{' '.join(rng.choice(WORDS) for _ in range(rng.randint(8, 25)))}</p></li>"
        for _ in range(rng.randint(10, 30))
    )
    body = "".join(f"<p>{escape(p)}</p>" for p in paras)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><meta name='author' content='Staff Writer'>"
        f"<meta property='article:published_time' content='{date}'></head><body>{_BOILER_TOP}"
        f"<main><article><h1>{escape(title)}</h1><p class='byline'>By Staff Writer</p>"
        f"{body}</article><section class='related'><h2>Related</h2><ul>"
        + "".join(
            f"<li><a href='/f{feed}/a{(item + k) % 20}.html'>More</a></li>" for k in range(1, 5)
        )
        + f"</ul></section><section id='comments'><h2>Comments</h2><ul>{comments}</ul>"
        f"</section></main>{_BOILER_SIDE}{_BOILER_FOOT}</body></html>"
    )


def feed_xml(
    feed: int, items: int, base: str, now: datetime, full_content: bool, spacing: timedelta
) -> str:
    """RSS 2.0 with ``items`` items, newest first, each ``spacing`` apart before ``now``."""
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>"
        "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        f"<channel><title>Feed {feed}</title><link>{base}/</link>"
        f"<description>Generated feed {feed}</description>"
    ]
    for item in range(items):
        title, paras = article_text(feed, item)
        published = format_datetime(now - spacing * (item + 1))
        content = ""
        if full_content:
            html = "".join(f"<p>{escape(p)}</p>" for p in paras)
            content = f"<content:encoded>{escape(html)}</content:encoded>"
        parts.append(
            f"<item><title>{escape(title)}</title><link>{base}/f{feed}/a{item}.html</link>"
            f"<guid isPermaLink='false'>feed{feed}-item{item}</guid><pubDate>{published}"
            f"</pubDate><description>{escape(paras[0][:240])}</description>{content}</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts)


@dataclass
class Site:
    """The generated site; ``start()`` serves it, ``feed_url(i)`` names feed i."""

    feeds: int
    items: int
    now: datetime
    latency: float = 0.0
    hosts: int = 64
    full_content: bool = False
    spacing: timedelta = timedelta(minutes=30)
    corpus: list[str] | None = None
    process: bool = False
    served: Counter[str] = field(default_factory=Counter)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _servers: list[asyncio.Server] = field(default_factory=list)
    _cache: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    _child: multiprocessing.process.BaseProcess | None = None
    _control: Connection | None = None

    def host(self, feed: int) -> str:
        return f"127.0.1.{1 + feed % min(self.hosts, 250)}"

    def base(self, feed: int) -> str:
        return f"http://{self.host(feed)}:{self.port}"

    def feed_url(self, feed: int) -> str:
        return f"{self.base(feed)}/f{feed}/feed.xml"

    def page_url(self, feed: int, item: int) -> str:
        return f"{self.base(feed)}/f{feed}/a{item}.html"

    def config(self, **extra: object) -> dict[str, object]:
        """A config dict for ``Config.model_validate`` that polls every feed of the site."""
        feeds = [{"name": f"feed-{i:04d}", "url": self.feed_url(i)} for i in range(self.feeds)]
        return {"feeds": feeds, **extra}

    # -- content ---------------------------------------------------------------------------
    def _resource(self, path: str, host: str) -> tuple[bytes, str, str] | None:
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("f") or not parts[0][1:].isdigit():
            return None
        feed = int(parts[0][1:])
        if feed >= self.feeds or self.host(feed) != host:
            return None
        if parts[1] == "feed.xml":
            body = feed_xml(
                feed, self.items, self.base(feed), self.now, self.full_content, self.spacing
            ).encode()
            kind = "application/rss+xml; charset=utf-8"
        elif parts[1].startswith("a") and parts[1].endswith(".html") and parts[1][1:-5].isdigit():
            item = int(parts[1][1:-5])
            if item >= self.items:
                return None
            published = self.now - self.spacing * (item + 1)
            body = page_html(feed, item, self.corpus, published).encode()
            kind = "text/html; charset=utf-8"
        else:
            return None
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        self._cache[path] = (body, kind, etag)
        return body, kind, etag

    # -- HTTP ------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                lines = request.decode("latin-1").split("\r\n")
                method, target, version = [*lines[0].split(" "), "", "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                if self.latency:
                    await asyncio.sleep(self.latency)
                host = headers.get("host", "").rsplit(":", 1)[0]
                resource = self._resource(target.split("?", 1)[0], host)
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                if resource is None:
                    status, body, extra = "404 Not Found", b"not found", ""
                    self.served["404"] += 1
                else:
                    body, kind, etag = resource
                    extra = f"Content-Type: {kind}\r\nETag: {etag}\r\n"
                    if etag in headers.get("if-none-match", ""):
                        status, body = "304 Not Modified", b""
                        self.served["304"] += 1
                    else:
                        status = "200 OK"
                        self.served["feed" if target.endswith("feed.xml") else "page"] += 1
                if method == "HEAD":
                    body = b""
                head = (
                    f"HTTP/1.1 {status}\r\n{extra}Content-Length: {len(body)}\r\n"
                    f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n"
                )
                writer.write(head.encode("latin-1") + body)
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _serve(self) -> None:
        hosts = sorted({self.host(i) for i in range(self.feeds)})
        for attempt in range(20):
            sockets: list[socket.socket] = []
            try:
                for host in hosts:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sockets.append(sock)
                    sock.bind((host, self.port if sockets[1:] else 0))
                    if len(sockets) == 1:
                        self.port = sock.getsockname()[1]
                break
            except OSError:
                for sock in sockets:
                    sock.close()
                self.port = 0
                if attempt == 19:
                    raise
        for sock in sockets:
            sock.listen(1024)
            self._servers.append(await asyncio.start_server(self._handle, sock=sock))

    def counts(self) -> Counter[str]:
        """What the site served so far (asked of the child process when there is one)."""
        if self._control is None:
            return Counter(self.served)
        self._control.send("counts")
        counts: Counter[str] = self._control.recv()
        return counts

    def start(self) -> Site:
        if self.process:
            return self._start_child()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            # Stopped: end the handlers of kept-alive connections, then close the loop.
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            if tasks:
                self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="bench-site", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def _start_child(self) -> Site:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._child = context.Process(
            target=_serve_child, args=(replace(self, process=False), child), daemon=True
        )
        self._child.start()
        child.close()
        self.port = parent.recv()
        self._control = parent
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.send("stop")
            self._control.close()
            self._control = None
            if self._child is not None:
                self._child.join(timeout=10)
            return
        loop = self._loop
        if loop is None:
            return

        async def close() -> None:
            for server in self._servers:
                server.close()
            self._servers.clear()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = None

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load_corpus(path: Path) -> list[str]:
    """The ``*.html`` pages of a corpus folder (``pages/`` inside it when present)."""
    folder = path / "pages" if (path / "pages").is_dir() else path
    return [p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.html"))]


def _serve_child(site: Site, control: Connection) -> None:
    """The child process of ``Site(process=True)``: serve until told to stop."""
    with site:
        control.send(site.port)
        while (message := control.recv()) != "stop":
            if message == "counts":
                control.send(Counter(site.served))
