"""Indicator trust (publish stage, below ``stix`` and ``misp``): which indicators named in the
news may become detection rules.

In: an indicator (the extractor's kind and its refanged value) and the story that names it,
with the feeds the operator vouches for (``ids: true`` in the config). Out: the MISP warning
list that knows the value as benign or shared (``warning``), and whether the value may feed IDS
rules (``for_ids``).

Two rules, both of them fail-safe:

* **A value on a warning list is never a rule.** MISP's own warning lists
  (``pymispwarninglists``, pinned; the lists ship inside the package, nothing is fetched) name
  values that are real but not malicious: the public resolvers 8.8.8.8 and 1.1.1.1, Microsoft's
  login and update hosts, CA status hosts, the hashes of the empty file, RFC 1918 and the
  documentation ranges. A list applies to the MISP attribute types it declares
  (``matching_attributes``), as in MISP. Such a value stays in the MISP event as context
  (``to_ids`` false, the list named in the comment) and is no STIX ``indicator``.
* **News is context unless the operator says otherwise.** An indicator is ``to_ids`` only when
  every source of its story comes from a feed marked ``ids: true``: a story merges its sources'
  indicators, so one untrusted co-source makes all of them untrusted.

``LISTS`` picks the lists whose match means "blocking this breaks something or catches
nothing": reserved and special-use space, resolvers and what-is-my-IP services, certificate and
operating-system infrastructure, benign-file hashes, security vendors and sandboxes, sinkholes,
and the 20,000 host names most queried through Cisco Umbrella (exact names only). Left out:
rankings matched by suffix (Tranco, Alexa, Majestic: any subdomain of a million sites, where
attackers host too), the resolvers' host names (34,000 names, many of them whole registered
domains such as example.com, matched by suffix), address space anyone can rent (cloud, VPN and
hosting ranges: where C2 servers live), and the largest lists (loading them all takes 9 s).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
from collections.abc import Collection
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from briefing.models import Story

# the indicator extractor's kind -> MISP attribute type
MISP_TYPES = {
    "ipv4": "ip-dst",
    "ipv6": "ip-dst",
    "domain": "domain",
    "url": "url",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "email": "email",
}

# MISP warning lists by directory name (see the module docstring for the choice).
LISTS = (
    # reserved and special-use addresses and names
    "rfc1918",
    "rfc3849",
    "rfc5735",
    "rfc6598",
    "rfc6761",
    "ipv6-linklocal",
    "multicast",
    # resolvers and "what is my IP" services
    "public-dns-v4",
    "public-dns-v6",
    "whats-my-ip",
    "findip-host",
    "captive-portals",
    # certificate status and operating-system infrastructure
    "crl-hostname",
    "crl-ip",
    "microsoft",
    "microsoft-office365",
    "microsoft-win10-connection-endpoints",
    "google",
    "cisco_top20k",
    # benign files
    "empty-hashes",
    "eicar.com",
    "common-ioc-false-positive",
    "ti-falsepositives",
    "mozilla-CA",
    # the reporters, their sandboxes, and sinkholes
    "security-provider-blogpost",
    "automated-malware-analysis",
    "sinkholes",
)


class _Matcher:
    """One warning list with pymispwarninglists' matching (``WarningList._slow_search``) for
    its type, built for lookups: its own matcher compiles a bit trie for an address list (5 s
    for the 62,745 resolvers) and its module imports ``jsonschema`` when present (1.4 s here).
    ``tests/test_trust.py`` checks that both agree."""

    def __init__(self, kind: str, entries: list[str]) -> None:
        self.kind = kind
        self.exact = frozenset(entries)
        self.stripped = frozenset(e.lstrip(".") for e in entries)
        self.entries = tuple(entries)
        self.addresses: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        if kind == "cidr":
            for entry in entries:
                entry = entry.strip()
                if "/" not in entry and ":" not in entry:
                    self.addresses.add(entry)  # dotted IPv4 as is: parsing 62,745 takes 0.4 s
                    continue
                try:
                    net = ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    continue
                if net.num_addresses == 1:
                    self.addresses.add(str(net.network_address))
                else:
                    self.networks.append(net)
        elif kind not in ("string", "substring", "hostname"):
            raise ValueError(f"warning list type {kind!r} is not matched here")

    def __contains__(self, value: str) -> bool:
        if self.kind == "string":
            return value in self.exact
        if self.kind == "substring":
            return any(entry in value for entry in self.entries)
        if self.kind == "hostname":  # a URL is matched by its host, a host by its suffixes
            host = value
            if "://" in value:
                with suppress(ValueError):  # a malformed IPv6 literal: compared whole
                    host = urlsplit(value).hostname or value
            if host in self.exact:
                return True
            return any(host[i + 1 :] in self.stripped for i, c in enumerate(host) if c == ".")
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return value in self.exact  # as the package: a non-address is compared whole
        return str(address) in self.addresses or any(address in n for n in self.networks)


def lists_folder() -> Path:
    """Where pymispwarninglists keeps the lists it ships (found without importing it)."""
    spec = importlib.util.find_spec("pymispwarninglists")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pymispwarninglists is not installed")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package / "data" / "misp-warninglists" / "lists"


@lru_cache(maxsize=1)
def _loaded() -> tuple[tuple[str, frozenset[str], _Matcher], ...]:
    """(name, MISP types it applies to, matcher) per list of ``LISTS``, read once."""
    out = []
    for folder in LISTS:
        data = json.loads((lists_folder() / folder / "list.json").read_text(encoding="utf-8"))
        types = frozenset(data.get("matching_attributes") or ())
        out.append((str(data["name"]), types, _Matcher(str(data["type"]), list(data["list"]))))
    return tuple(out)


@lru_cache(maxsize=65536)
def warning(kind: str, value: str) -> str | None:
    """The name of the first MISP warning list that knows ``value`` (of the extractor's
    ``kind``), or None."""
    misp_type = MISP_TYPES.get(kind)
    if misp_type is None:
        return None
    probe = value.lower() if kind in ("domain", "md5", "sha1", "sha256") else value
    for name, types, matcher in _loaded():
        if misp_type in types and probe in matcher:
            return name
    return None


def trusted_story(story: Story, trusted: Collection[str]) -> bool:
    """Whether every source of ``story`` comes from a feed the operator marked ``ids: true``."""
    return bool(story.sources) and all(source.feed in trusted for source in story.sources)


def for_ids(kind: str, value: str, story: Story, trusted: Collection[str]) -> bool:
    """Whether an indicator of ``story`` may become a detection rule (``to_ids``)."""
    return trusted_story(story, trusted) and warning(kind, value) is None
