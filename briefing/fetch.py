"""Bounded HTTP fetching shared by poll (feeds) and extract (article pages).

In: a URL and optional request headers. Out: a ``Fetched`` response whose body never exceeds
the size cap, or a ``FetchError`` whose ``kind`` says what went wrong in a word the feed-health
table can show.

Every fetch is bounded: a global and a per-host concurrency limit, connect and read timeouts
plus a total deadline, a cap on the body counted after decompression (the body is streamed and
dropped as soon as it passes the cap), a bounded number of redirects followed one hop at a time
(only ``http``/``https``), and bounded retries on 429/5xx that honour ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections import defaultdict
from dataclasses import dataclass
from types import TracebackType
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from briefing import __version__
from briefing.config import PollConfig

USER_AGENT = f"briefing/{__version__} (+https://github.com/briefing-cti/briefing; threat briefing)"

FetchErrorKind = Literal["http-error", "timeout", "connection-error", "too-large", "bad-url"]
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
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


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


class Fetcher:
    """An async HTTP client with the project's limits. Use as ``async with Fetcher(limits)``."""

    def __init__(self, limits: PollConfig) -> None:
        self.limits = limits
        self._global = asyncio.Semaphore(limits.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(limits.per_host)
        )
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=limits.connect_timeout,
                read=limits.read_timeout,
                write=limits.read_timeout,
                pool=limits.total_timeout,
            ),
            limits=httpx.Limits(
                max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency
            ),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            trust_env=False,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def get(self, url: str, headers: dict[str, str] | None = None) -> Fetched:
        """GET ``url`` within every limit; 200 and 304 return, anything else raises."""
        host = urlsplit(url).hostname or ""
        async with self._global, self._hosts[host]:
            try:
                async with asyncio.timeout(self.limits.total_timeout):
                    return await self._get_with_retries(url, headers or {})
            except TimeoutError:
                raise FetchError(
                    "timeout", f"no complete answer within {self.limits.total_timeout:g} s"
                ) from None

    async def _get_with_retries(self, url: str, headers: dict[str, str]) -> Fetched:
        attempt = 0
        while True:
            try:
                return await self._follow(url, headers)
            except FetchError as exc:
                if exc.status not in _RETRY_STATUSES or attempt >= self.limits.retries:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else 0.5 * 2**attempt
                if wait > self.limits.max_retry_wait:
                    raise FetchError(
                        "http-error", f"{exc} (asked to retry after {wait:.0f} s)", exc.status
                    ) from None
                attempt += 1
                await asyncio.sleep(wait)

    async def _follow(self, url: str, headers: dict[str, str]) -> Fetched:
        for _hop in range(self.limits.max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError("bad-url", f"refusing to fetch {url[:200]!r}: not http(s)")
            fetched = await self._one(url, headers)
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
            async with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                names = {k.lower(): v for k, v in response.headers.items()}
                if status in _REDIRECTS or status == 304:
                    return Fetched(url=url, status=status, headers=names, body=b"")
                if status != 200:
                    raise FetchError(
                        "http-error",
                        f"HTTP {status} {response.reason_phrase}",
                        status,
                        _retry_after(names.get("retry-after"), time.time()),
                    )
                declared = names.get("content-length", "")
                if declared.isdigit() and int(declared) > self.limits.max_bytes and (
                    "content-encoding" not in names
                ):
                    raise FetchError("too-large", self._too_large())
                chunks: list[bytes] = []
                size = 0
                # aiter_bytes yields decompressed bytes: the cap holds against gzip bombs.
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        raise FetchError("too-large", self._too_large())
                    chunks.append(chunk)
                return Fetched(url=url, status=status, headers=names, body=b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"timed out ({type(exc).__name__})") from None
        except httpx.DecodingError as exc:
            raise FetchError("connection-error", f"undecodable body: {exc}") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            message = str(exc) or type(exc).__name__
            raise FetchError("connection-error", message[:300]) from None

    def _too_large(self) -> str:
        return f"body larger than {self.limits.max_bytes:,} bytes"
