"""Address checks against server-side request forgery (SSRF) for every fetch.

Not a pipeline stage: ``fetch.Fetcher`` connects through it for feeds and article pages alike.
In: the scheme, host and port a request is about to connect to, plus a ``Reach`` (the origins
the operator configured, and the networks the operator allowed). Out: the checked IP address to
connect to, or ``AddressBlocked``.

Why the check sits in the connection itself: a URL's host name is resolved here, every address
it resolves to is checked, and the socket is then opened to the checked address — not to the
name, which a hostile DNS server could answer differently a second time (DNS rebinding). Every
redirect hop is a new request and so a new check. The TLS layer still sees the URL's host name,
so SNI and certificate checks are unchanged.

A fetch may reach a non-public address (loopback, private, link-local, CGNAT, multicast,
reserved, unspecified, or a cloud metadata endpoint) only at the exact origin (scheme, host,
port) of a configured feed -- for a feed fetch any configured feed, for an article page a feed
that listed it -- or in a network the operator listed in ``poll.allow_networks``. A feed's own
URL passes because the operator configured it; where it redirects is checked like any link
(a feed answering 302 to ``http://127.0.0.1:8080/admin`` is refused before connecting).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that lead to cloud instance metadata whatever they resolve to on this machine.
METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "metadata.azure.com"}
)
# Metadata endpoints; most are link-local or private anyway, listed so the error says why.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
# Ranges Python's ``is_global`` misses or that embed an IPv4 address we must unwrap first.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class AddressBlocked(Exception):
    """A fetch led to an address it may not reach; the message says what kind of address, never
    which (feed health publishes it)."""


# Cached: the guard checks every connection, and a poll connects to the same few hosts again
# and again (parsing an address costs more than the rest of the check).
@functools.lru_cache(maxsize=4096)
def normalise_host(host: str) -> str:
    """One spelling per host: lower case, no trailing dot, IP literals in canonical form.

    ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``::ffff:127.0.0.1`` all become
    ``127.0.0.1`` — the C resolver accepts those spellings, so a comparison must too.
    """
    host = host.strip().strip("[]").rstrip(".").lower()
    address = parse_ip(host)
    return str(address) if address is not None else host


@functools.lru_cache(maxsize=4096)
def parse_ip(host: str) -> IPAddress | None:
    """An IP address in any spelling the system resolver accepts, else None (a name)."""
    host = host.strip().strip("[]")
    try:
        address: IPAddress = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        try:
            # inet_aton takes the legacy forms: one decimal number, octal and hex parts.
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    return _unwrap(address)


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped, NAT64 or 6to4 IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def why_not_public(address: IPAddress) -> str | None:
    """None for an ordinary public address, else a few words saying what it is."""
    address = _unwrap(address)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a shared (CGNAT) address"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else (443 if scheme == "https" else 80)


def _refusal(reason: str) -> AddressBlocked:
    # Only the kind of address: never the host, address or port, which feed health would
    # publish (a feed's redirects are the feed author's probe of the operator's network).
    return AddressBlocked(
        f"refused: {reason}, not a configured feed's origin nor in poll.allow_networks"
    )


@dataclass(frozen=True)
class Reach:
    """Where one fetch may go besides the public internet.

    ``origins``: (scheme, normalised host, port) of the configured feeds the fetch is for --
    the operator pointed us at those, so exactly that origin may be private. ``networks``: the
    operator's ``poll.allow_networks``.
    """

    origins: frozenset[tuple[str, str, int]] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def for_feeds(cls, feed_urls: Iterable[str], networks: Iterable[str] = ()) -> Reach:
        origins = set()
        for url in feed_urls:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if parts.hostname:
                origins.add((scheme, normalise_host(parts.hostname), _port(scheme, parts.port)))
        return cls(
            frozenset(origins), tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        )

    def check(self, scheme: str, host: str, port: int, address: IPAddress) -> None:
        """Raise ``AddressBlocked`` unless ``scheme://host:port`` may connect to ``address``."""
        reason = why_not_public(address)
        if reason is None:
            return
        if any(_unwrap(address) in net or address in net for net in self.networks):
            return
        if (scheme, normalise_host(host), port) in self.origins or (
            scheme,
            str(_unwrap(address)),
            port,
        ) in self.origins:
            return
        raise _refusal(reason)


@dataclass(frozen=True)
class Target:
    """What the request being made in this task may reach, and its scheme (the connection
    itself sees only host and port)."""

    reach: Reach
    scheme: str


# Set by the fetcher around each request (each redirect hop); a connection opened with none
# set is refused, so nothing connects unchecked.
current_target: contextvars.ContextVar[Target | None] = contextvars.ContextVar(
    "briefing_target", default=None
)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from None
    out: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in out:
            out.append(address)
    return out


@dataclass
class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks, then connects to the checked IP."""

    inner: httpcore.AsyncNetworkBackend
    # Which addresses were connected to, for tests and logs (bounded: newest 1,000).
    connected: list[tuple[str, str]] = field(default_factory=list)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target = current_target.get()
        if target is None:
            raise AddressBlocked("refused: a connection outside any checked request")
        if normalise_host(host) in METADATA_NAMES:
            # Refused before resolving: on a cloud machine the name is the metadata service.
            raise _refusal("a cloud metadata host")
        addresses = await resolve(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"{host!r} resolves to no address")
        # Every address must pass: a name that resolves to one public and one private address
        # is a rebinding attempt, not a choice we make for the attacker.
        for address in addresses:
            target.reach.check(target.scheme, host, port, address)
        ip = str(addresses[0])
        stream = await self.inner.connect_tcp(ip, port, timeout, local_address, socket_options)
        self.connected.append((host, ip))
        del self.connected[:-1000]
        return stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressBlocked("refused: unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
