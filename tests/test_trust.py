"""publish/trust.py: MISP's warning lists, as shipped inside pymispwarninglists, decide which
indicator values are benign; the lookups agree with the package's own matcher."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from pymispwarninglists.api import WarningList

from briefing.publish.trust import LISTS, MISP_TYPES, _loaded, lists_folder, warning

PROBES = (
    ("ipv4", "8.8.8.8"),
    ("ipv4", "1.1.1.1"),
    ("ipv4", "9.9.9.9"),
    ("ipv4", "10.20.30.40"),
    ("ipv4", "172.31.255.1"),
    ("ipv4", "192.168.0.1"),
    ("ipv4", "100.64.1.1"),
    ("ipv4", "192.0.2.15"),
    ("ipv4", "198.51.100.3"),
    ("ipv4", "203.0.113.9"),
    ("ipv4", "224.0.0.251"),
    ("ipv4", "45.77.12.9"),
    ("ipv4", "185.220.101.4"),
    ("ipv6", "2001:db8::7"),
    ("ipv6", "fe80::1"),
    ("ipv6", "2606:4700:4700::1111"),
    ("ipv6", "2a01:4f8::1"),
    ("domain", "login.microsoftonline.com"),
    ("domain", "windowsupdate.com"),
    ("domain", "ocsp.digicert.com"),
    ("domain", "api.ipify.org"),
    ("domain", "www.virustotal.com"),
    ("domain", "c2.evil-updates.example"),
    ("domain", "evil.example.net"),
    ("domain", "example.net"),
    ("url", "https://www.bleepingcomputer.com/news/security/x/"),
    ("url", "https://evil-updates.example/gate.php"),
    ("url", "http://[::1/x"),  # a malformed IPv6 literal must not raise
    ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("sha256", "9f" * 32),
)
# pymispwarninglists compiles a bit trie for an address list: 5 s for this one, whose
# entries are all single addresses (checked below), so its exact matching is the same.
_SLOW = "public-dns-v4"


def _data(folder: str) -> dict[str, object]:
    return dict(json.loads((lists_folder() / folder / "list.json").read_text(encoding="utf-8")))


def test_the_lists_ship_inside_the_pinned_package() -> None:
    """Offline: every list we use is a file of the installed package, nothing is fetched."""
    for folder in LISTS:
        assert (lists_folder() / folder / "list.json").is_file(), folder
    project = tomllib.loads(
        (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    )
    (pin,) = [d for d in project["project"]["dependencies"] if d.startswith("pymispwarninglists")]
    assert "==" in pin  # a new release changes what is benign: moving on is a decision


@pytest.mark.parametrize("folder", LISTS)
def test_our_lookup_agrees_with_the_package_on_every_list(folder: str) -> None:
    data = _data(folder)
    entries = [str(e) for e in data["list"]]  # type: ignore[attr-defined]
    if folder == _SLOW:
        assert all("/" not in e and ":" not in e for e in entries)
    theirs = WarningList(data, slow_search=folder != _SLOW)
    types = set(data.get("matching_attributes") or ())  # type: ignore[call-overload]
    (ours,) = [m for name, _, m in _loaded() if name == data["name"]]
    for kind, value in PROBES:
        if MISP_TYPES[kind] in types:
            try:
                expected = value in theirs
            except ValueError:  # the package raises on a malformed URL; we must not
                expected = value in set(entries)
            assert (value in ours) == expected, (folder, value)


def test_the_values_of_the_review_are_warning_listed_and_threats_are_not() -> None:
    assert warning("ipv4", "8.8.8.8") == "List of known IPv4 public DNS resolvers"
    assert warning("sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
    for kind, value in PROBES[:11] + PROBES[13:15] + PROBES[17:22] + PROBES[28:31]:
        assert warning(kind, value) is not None, value
    for kind, value in (
        ("ipv4", "45.77.12.9"),  # a rented server is where C2 lives: no list for hosting
        ("domain", "c2.evil-updates.example"),
        ("domain", "evil.example.net"),  # rfc6761 names example.net itself, exactly
        ("url", "https://evil-updates.example/gate.php"),
        ("sha256", "9f" * 32),
        ("email", "a@b.example"),  # no list applies to this type
    ):
        assert warning(kind, value) is None, value
