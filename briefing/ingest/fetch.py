"""Bounded HTTP fetching shared by poll (feeds) and extract (article pages).

In: a URL and optional request headers. Out: a ``Fetched`` response whose body never exceeds
the size cap, or a ``FetchError`` whose ``kind`` says what went wrong in a word the feed-health
table can show.

Every fetch is bounded: a global and a per-host concurrency limit, connect and read timeouts
plus a total deadline, a cap on the body counted after decompression (the body is streamed and
dropped as soon as it passes the cap), a bounded number of redirects followed one hop at a time
(only ``http``/``https``), and bounded retries on 429/5xx that honour ``Retry-After``. Every
connection goes through the SSRF guard (``netguard``).

The stack is deliberately thin, since a poll's event-loop CPU per feed sets how far apart its
rounds of requests are: httpcore's connection pool and HTTP/1.1, on asyncio's own streams
(``AsyncioBackend``), under the guard -- no httpx client, no anyio.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from briefing import __version__
from briefing.config import PollConfig
from briefing.ingest.netguard import AddressBlocked, GuardedBackend, Reach, Target, current_target
from briefing.retry import Backoff, TryAgain, WaitTooLong, acall, retry_after

USER_AGENT = f"briefing/{__version__} (+https://github.com/briefing-cti/briefing; threat briefing)"

FetchErrorKind = Literal[
    "http-error", "timeout", "connection-error", "too-large", "bad-url", "blocked"
]
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_HEADERS = ((b"User-Agent", USER_AGENT.encode()), (b"Accept-Encoding", b"gzip, deflate"))
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Fetched:
    url: str  # the final URL, after redirects
    status: int  # 200, or 304 for a conditional request that matched
    headers: dict[str, str]  # lower-case names
    body: bytes


class FetchError(Exception):
    def __init__(
        self,
        kind: FetchErrorKind,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: FetchErrorKind = kind
        self.status = status
        self.retry_after = retry_after


# Output of one decompression step: small, so a bomb never expands in one go.
_DECODE_STEP = 64 * 1024


class _Stage(Protocol):
    def feed(self, data: bytes, limit: int) -> list[bytes]: ...


class _Inflate:
    """gzip or deflate, decompressed at most ``_DECODE_STEP`` bytes at a time.

    httpx's own decoders expand a whole network chunk at once (64 KiB of gzip can be 60 MB), so
    its size cap is checked only after the damage; here decompression stops as soon as the
    output passes ``limit``.
    """

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding in ("gzip", "x-gzip")
        self.started = False
        self._new(zlib.MAX_WBITS | 16 if self.gzip else zlib.MAX_WBITS)

    def _new(self, wbits: int) -> None:
        self.wbits = wbits
        self.obj = zlib.decompressobj(wbits)

    def feed(self, data: bytes, limit: int) -> list[bytes]:
        out: list[bytes] = []
        size = 0
        while data and size <= limit:
            try:
                piece = self.obj.decompress(data, _DECODE_STEP)
            except zlib.error:
                if not self.gzip and not self.started and self.wbits > 0:
                    # Some servers send raw deflate for "deflate": retry without the header.
                    self._new(-zlib.MAX_WBITS)
                    continue
                raise
            self.started = True
            out.append(piece)
            size += len(piece)
            if self.obj.unconsumed_tail:
                data = self.obj.unconsumed_tail
            elif self.obj.eof and self.obj.unused_data and self.gzip:
                data = self.obj.unused_data  # a further gzip member
                self._new(self.wbits)
            else:
                data = b""
        return out


class _BodyDecoder:
    """Content-Encoding (possibly several, applied in order) -> body bytes, under a cap."""

    def __init__(self, content_encoding: str, cap: int, too_large: str) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        for name in names:
            if name not in ("gzip", "x-gzip", "deflate"):
                raise FetchError("connection-error", f"unsupported Content-Encoding {name!r}")
        # The last encoding applied is the first to undo.
        self.stages: list[_Stage] = [_Inflate(n) for n in reversed(names)]
        self.cap = cap
        self.too_large = too_large
        self.size = 0
        self.chunks: list[bytes] = []

    def feed(self, data: bytes) -> None:
        pieces = [data]
        try:
            for stage in self.stages:
                # No stage may produce more than what is left under the cap.
                left = self.cap - self.size
                produced: list[bytes] = []
                for piece in pieces:
                    out = stage.feed(piece, left)
                    produced += out
                    left -= sum(len(p) for p in out)
                    if left < 0:
                        raise FetchError("too-large", self.too_large)
                pieces = produced
        except zlib.error as exc:
            raise FetchError("connection-error", f"undecodable body: {exc}") from None
        for piece in pieces:
            self.size += len(piece)
            if self.size > self.cap:
                raise FetchError("too-large", self.too_large)
            if piece:
                self.chunks.append(piece)

    def body(self) -> bytes:
        return b"".join(self.chunks)


def _connect_problem(exc: BaseException, url: str) -> str:
    """A line for feed health: anyio says "All connection attempts failed"; the cause says why."""
    message = str(exc) or type(exc).__name__
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {urlsplit(url).netloc}"
        if isinstance(cause, OSError) and cause.strerror and cause.errno:
            return f"cannot connect to {urlsplit(url).netloc}: {cause.strerror}"
        cause = cause.__cause__ or cause.__context__
    return message


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context a process, shared by every client: loading the CA bundle costs
    20-35 ms, which httpx otherwise pays for each client and transport it makes."""
    return httpx.create_ssl_context(trust_env=False)


# What httpcore raises for a failed exchange (timeouts are a subclass, told apart first).
_CORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)


class _Stream(httpcore.AsyncNetworkStream):
    """One connection as asyncio's own streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("no data within the read timeout") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("could not send within the write timeout") from None
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("no TLS handshake within the connect timeout") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":
            # asyncio reads eagerly: a peer's close shows as EOF on the reader at once, with no
            # syscall (httpcore asks this of every idle connection on every request).
            return self._reader.at_eof() or self._writer.is_closing()
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network on plain asyncio streams, under the guard.

    httpcore's default backend goes through anyio, whose cancel scopes around every read and
    write and whose per-call socket attribute tables (a ``getpeername`` syscall each time
    httpcore checks an idle connection) were a fifth of the event loop's work per feed."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(local_address, 0) if local_address else None
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout("no connection within the connect timeout") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _Stream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Fetcher:
    """An async HTTP client with the project's limits. Use as ``async with Fetcher(limits)``.

    Every connection of every request and redirect hop goes through the SSRF guard
    (``netguard.GuardedBackend``): a non-public address is reached only within a ``Reach``.
    With ``reach`` given (feeds: the configured feed origins) every request has that one reach,
    so a connection is kept for the host's next request; with none (article pages), each
    ``get`` names its own and no connection is reused, so each is checked against its own.
    ``per_host`` overrides ``limits.per_host`` (feeds use ``limits.feed_per_host``: the
    operator chose those hosts, the feed authors chose the pages').
    """

    def __init__(
        self, limits: PollConfig, *, reach: Reach | None = None, per_host: int | None = None
    ) -> None:
        self.limits = limits
        self.reach = reach
        self._global = asyncio.Semaphore(limits.concurrency)
        host_limit = per_host or limits.per_host
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(host_limit)
        )
        # The guard is the pool's network backend: it resolves, checks and connects to the
        # checked address. Kept connections: at most a host's worth (httpcore checks every idle
        # one with a syscall on every request, and 48 idle ones to hosts already polled cost
        # the event loop more than the reuse saved), none when each request has its own reach.
        self.backend = GuardedBackend(AsyncioBackend())
        # httpcore's pool, without httpx's client on top: its request and response models,
        # cookie jar and redirect machinery cost ~0.4 ms a request on the event loop, for
        # nothing this fetcher uses (it follows redirects itself, hop by hop, and sends no
        # cookies).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls(),
            max_connections=limits.concurrency,
            max_keepalive_connections=host_limit if reach is not None else 0,
            network_backend=self.backend,
        )
        self._timeouts = {
            "connect": limits.connect_timeout,
            "read": limits.read_timeout,
            "write": limits.read_timeout,
            "pool": limits.total_timeout,
        }

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._pool.aclose()

    async def get(
        self, url: str, headers: dict[str, str] | None = None, reach: Reach | None = None
    ) -> Fetched:
        """GET ``url`` within every limit; 200 and 304 return, anything else raises.

        ``reach`` says which non-public addresses this request may connect to (default: none);
        a fetcher made with a ``reach`` of its own takes no other.
        """
        if self.reach is not None and reach is not None:
            raise ValueError("this fetcher keeps connections: its one reach is fixed")
        allowed = self.reach or reach or Reach()
        host = urlsplit(url).hostname or ""
        async with self._global, self._hosts[host]:
            try:
                async with asyncio.timeout(self.limits.total_timeout):
                    return await self._get_with_retries(url, headers or {}, allowed)
            except TimeoutError:
                raise FetchError(
                    "timeout", f"no complete answer within {self.limits.total_timeout:g} s"
                ) from None

    async def _get_with_retries(self, url: str, headers: dict[str, str], reach: Reach) -> Fetched:
        async def attempt() -> Fetched:
            try:
                return await self._follow(url, headers, reach)
            except FetchError as exc:
                if exc.status in _RETRY_STATUSES:
                    raise TryAgain(exc, exc.retry_after) from None
                raise

        backoff = Backoff(self.limits.retries, 0.5, self.limits.max_retry_wait)
        try:
            return await acall(attempt, backoff)
        except WaitTooLong as exc:
            status = exc.error.status if isinstance(exc.error, FetchError) else None
            raise FetchError("http-error", str(exc), status) from None

    async def _follow(self, url: str, headers: dict[str, str], reach: Reach) -> Fetched:
        for _hop in range(self.limits.max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError("bad-url", f"refusing to fetch {url[:200]!r}: not http(s)")
            # The connection is opened in this task, so the guard sees this hop's target.
            token = current_target.set(Target(reach, parts.scheme))
            try:
                fetched = await self._one(url, headers)
            finally:
                current_target.reset(token)
            if fetched.status in _REDIRECTS:
                location = fetched.headers.get("location")
                if not location:
                    raise FetchError(
                        "http-error", f"HTTP {fetched.status} without a Location", fetched.status
                    )
                url = urljoin(url, location)
                continue
            return fetched
        raise FetchError("http-error", f"more than {self.limits.max_redirects} redirects")

    async def _one(self, url: str, headers: dict[str, str]) -> Fetched:
        try:
            # httpx's URL model: IDNA hosts and percent-encoding as every client sends them.
            parsed = httpx.URL(url)
            target = httpcore.URL(
                scheme=parsed.raw_scheme,
                host=parsed.raw_host,
                port=parsed.port,
                target=parsed.raw_path,
            )
            sent = [
                (b"Host", parsed.netloc),
                *_HEADERS,
                *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
            ]
            extensions = {"timeout": self._timeouts}
            async with self._pool.stream(
                "GET", target, headers=sent, extensions=extensions
            ) as response:
                status = response.status
                names = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers
                }
                if status in _REDIRECTS or status == 304:
                    return Fetched(url=url, status=status, headers=names, body=b"")
                if status != 200:
                    reason = response.extensions.get("reason_phrase", b"")
                    raise FetchError(
                        "http-error",
                        f"HTTP {status} {reason.decode('latin-1', 'replace')}".strip(),
                        status,
                        retry_after(names.get("retry-after")),
                    )
                declared = names.get("content-length", "")
                if (
                    declared.isdigit()
                    and int(declared) > self.limits.max_bytes
                    and ("content-encoding" not in names)
                ):
                    raise FetchError("too-large", self._too_large())
                # Raw bytes, decompressed here step by step: the cap holds against gzip bombs
                # without ever holding more than the cap (see _Inflate).
                decoder = _BodyDecoder(
                    names.get("content-encoding", ""), self.limits.max_bytes, self._too_large()
                )
                async for chunk in response.aiter_stream():
                    decoder.feed(chunk)
                return Fetched(url=url, status=status, headers=names, body=decoder.body())
        except AddressBlocked as exc:
            raise FetchError("blocked", str(exc)) from None
        except httpcore.TimeoutException as exc:
            raise FetchError("timeout", f"timed out ({type(exc).__name__})") from None
        except (*_CORE_ERRORS, httpx.InvalidURL, UnicodeEncodeError) as exc:
            raise FetchError("connection-error", _connect_problem(exc, url)[:300]) from None

    def _too_large(self) -> str:
        return f"body larger than {self.limits.max_bytes:,} bytes"
