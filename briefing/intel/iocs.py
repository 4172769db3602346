"""Indicators, CVE ids and ATT&CK technique ids (tag stage, regex side).

In: article text (defanged or not). Out: refanged canonical values by kind
("ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "email"), CVE ids
("CVE-2024-12345"), technique ids ("T1059", "T1059.001"); ``defang``/``refang`` for display.

Decisions:
* ``refang`` undoes the usual defanging: hxxp(s), [.] (.) {.} [dot] (dot), [:]//, [://],
  [@] (@) [at] (at); indicators are then found in the refanged text and stored refanged.
* A domain needs a real top-level domain (``tlds.txt``, generated from the Public Suffix List by
  ``gen_tlds.py``: no network at run time). Rejected as domains: two-label names whose TLD is
  also a common file extension (report.zip, setup.py, install.sh) unless they were written
  defanged; AV detection names (Trojan.Win32.Agent); names under the article's own host
  (``source_host``); example/test/localhost/invalid names.
* IP addresses must be global (no private, loopback, link-local, multicast, reserved or
  documentation ranges); "version 1.2.3.4"-style numbers are rejected.
* A hash is a 32/40/64 hex run with both letters and digits, not part of a longer hex run.
* URLs under ``source_host`` and to a small set of reference sites (MITRE, NVD, GitHub,
  social networks...) are dropped unless written defanged: they are citations, not
  indicators. Domains inside URLs and e-mail addresses are not reported again as domains.
* CVE: "CVE-2024-1234", also with en dash, underscore or spaces; year 1999..2099.
* ATT&CK: T1001..T1699 with an optional .001..099 sub-technique, upper-case T only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

IndicatorKind = str  # one of INDICATOR_KINDS
INDICATOR_KINDS: tuple[str, ...] = (
    "ipv4",
    "ipv6",
    "domain",
    "url",
    "md5",
    "sha1",
    "sha256",
    "email",
)

_REFANG_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bhxxp(s?)(?=\s*[\[(]?:)", re.IGNORECASE), r"http\1"),
    (re.compile(r"\bh\*\*p(s?)(?=:)", re.IGNORECASE), r"http\1"),
    (re.compile(r"\bfxp(?=\[://\]|://)", re.IGNORECASE), "ftp"),
    (re.compile(r"\[\s*:\s*//\s*\]|\[\s*:\s*\]\s*//|\(\s*:\s*\)\s*//"), "://"),
    (re.compile(r"\s?[\[({]\s*(?:\.|dot)\s*[\])}]\s?", re.IGNORECASE), "."),
    (re.compile(r"\s?[\[({]\s*(?:@|at)\s*[\])}]\s?", re.IGNORECASE), "@"),
    (re.compile(r"\[:\]"), ":"),
)
_DEFANG_MARK = re.compile(
    r"hxxp|h\*\*p|\[\s*\.\s*\]|\(\s*\.\s*\)|\{\s*\.\s*\}|\[dot\]|\(dot\)|\[:\]|\[://\]|\[@\]|\(@\)|\[at\]",
    re.IGNORECASE,
)


def refang(text: str) -> str:
    """Undo common defanging so that indicators can be matched and stored canonically."""
    for pattern, repl in _REFANG_RULES:
        text = pattern.sub(repl, text)
    return text


def defang(value: str, kind: str) -> str:
    """Make an indicator safe to display: not clickable, not resolvable.

    URLs: scheme hxxp(s) and [.] in the host; domains, IPv4 and e-mails: the last dot as
    [.] (and @ as [@]); IPv6: ":" -> "[:]"; hashes, CVEs and techniques are returned as they
    are. ``refang(defang(v, kind)) == v`` for every value the extractor produces.
    """
    if kind == "url":
        m = re.match(r"(?i)(https?|ftp)://([^/?#]*)(.*)", value, re.DOTALL)
        if not m:
            return value.replace(".", "[.]")
        scheme = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}[m.group(1).lower()]
        return f"{scheme}[://]{m.group(2).replace('.', '[.]')}{m.group(3)}"
    if kind in ("domain", "ipv4"):
        return value.replace(".", "[.]")
    if kind == "email":
        local, _, host = value.rpartition("@")
        return f"{local}[@]{host.replace('.', '[.]')}"
    if kind == "ipv6":
        return value.replace(":", "[:]")
    return value


@lru_cache(maxsize=1)
def tlds() -> frozenset[str]:
    data = resources.files("briefing.intel").joinpath("tlds.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in data.splitlines() if line.strip())


_FILE_EXT_TLDS = frozenset(
    "zip mov py sh pl rs md cc so ps ai pm sc in it is am at be bz cs do es go id js ml mp "
    "pt rb sr st sy tk ts vb to ls cpp lua php".split()
)
_AV_PREFIXES = frozenset(
    """trojan backdoor worm virus exploit hacktool riskware adware spyware ransom pua pup
    win32 win64 w32 w64 msil java js vbs html linux unix android andr osx macos heur
    generic gen trojandownloader trojandropper trojanspy trojan-downloader trojan-dropper
    trojan-spy trojan-ransom trojanpsw w97m x97m o97m vba script bat doc xml multi""".split()
)
_REFERENCE_HOSTS = frozenset(
    """attack.mitre.org cve.mitre.org mitre.org nvd.nist.gov nist.gov cisa.gov us-cert.gov
    github.com twitter.com x.com t.co youtube.com youtu.be linkedin.com facebook.com
    instagram.com wikipedia.org en.wikipedia.org virustotal.com www.virustotal.com
    google.com www.google.com microsoft.com learn.microsoft.com msrc.microsoft.com
    apple.com support.apple.com schema.org w3.org www.w3.org creativecommons.org
    malpedia.caad.fkie.fraunhofer.de""".split()
)
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "localhost")
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local"})

_URL_RE = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`\]\[{}|\\^]+", re.IGNORECASE)
_EMAIL_RE = re.compile(
    r"\b[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b",
    re.IGNORECASE,
)
_DOMAIN_RE = re.compile(
    r"(?<![\w.@-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,24}|xn--[a-z0-9-]{2,59})"
    r"(?![\w-]|\.[a-z0-9])",
    re.IGNORECASE,
)
_IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
_IPV6_RE = re.compile(
    r"(?<![\w:.])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:])", re.IGNORECASE
)
_HASH_RE = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![0-9a-fA-F])")
_VERSION_BEFORE = re.compile(r"(?:\bv|version|ver\.?|build|release|firmware|update)\s*$", re.IGNORECASE)
CVE_RE = re.compile(r"\bCVE[\s\-–—_]{0,2}((?:19|20)\d\d)[\s\-–—_]{1,2}(\d{4,7})\b", re.IGNORECASE)
TECHNIQUE_RE = re.compile(r"\bT(1[0-6]\d\d)(?:\.(0\d\d))?\b")


def find_cves(text: str) -> list[str]:
    """CVE ids in order of first appearance, normalised and deduplicated."""
    seen: dict[str, None] = {}
    for m in CVE_RE.finditer(text):
        seen.setdefault(f"CVE-{m.group(1)}-{m.group(2)}", None)
    return list(seen)


def find_techniques(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for m in TECHNIQUE_RE.finditer(text):
        if int(m.group(1)) < 1001:
            continue
        sub = m.group(2)
        if sub is not None and sub == "000":
            continue
        seen.setdefault(f"T{m.group(1)}" + (f".{sub}" if sub else ""), None)
    return list(seen)


def _host_of(url: str) -> str:
    m = re.match(r"(?i)[a-z]+://(?:[^@/?#]*@)?([^/:?#]+)", url)
    return m.group(1).lower() if m else ""


def _under(host: str, parents: Iterable[str]) -> bool:
    return any(host == p or host.endswith("." + p) for p in parents)


def _own_hosts(source_host: str | None) -> tuple[str, ...]:
    if not source_host:
        return ()
    host = source_host.lower().strip().rstrip(".")
    host = _host_of(host) if "://" in host else host.split("/")[0].split(":")[0]
    bare = host[4:] if host.startswith("www.") else host
    return (host, bare)


def _valid_domain(dom: str, defanged: bool) -> bool:
    labels = dom.lower().split(".")
    if len(labels) < 2:
        return False
    tld = labels[-1]
    if tld not in tlds() or tld in _RESERVED_TLDS:
        return False
    if labels[0] in _AV_PREFIXES or labels[-2] in {"win32", "win64", "msil", "generic", "gen"}:
        return False
    if not defanged and len(labels) == 2 and tld in _FILE_EXT_TLDS:
        return False
    return not _under(dom.lower(), _RESERVED_DOMAINS)


def _global_ip(value: str) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return bool(ip.is_global) and not ip.is_multicast


def extract_indicators(
    text: str, source_host: str | None = None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Indicators by kind (kinds in INDICATOR_KINDS order, values in order of appearance)."""
    found: dict[str, dict[str, None]] = {k: {} for k in INDICATOR_KINDS}
    own = _own_hosts(source_host)
    has_marks = _DEFANG_MARK.search(text) is not None
    defanged_values: set[str] = set()
    if has_marks:
        clean = refang(text)
        # Values that were written defanged are surely indicators: remember them.
        last_end = -1
        for m in _DEFANG_MARK.finditer(text):
            if m.start() < last_end:
                continue
            # Expand the mark to its whitespace-delimited token (no regex: tokens can be huge).
            left = max(text.rfind(" ", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
            right_candidates = [i for i in (text.find(" ", m.end()), text.find("\n", m.end())) if i >= 0]
            right = min(right_candidates) if right_candidates else len(text)
            last_end = right
            token = text[left:right]
            if len(token) <= 2048:
                defanged_values.add(refang(token).strip(".,;:()[]{}<>\"'").lower())
    else:
        clean = text

    def was_defanged(value: str) -> bool:
        v = value.lower()
        return any(v in d for d in defanged_values) if defanged_values else False

    buf = list(clean)

    def blank(start: int, end: int) -> None:
        buf[start:end] = " " * (end - start)

    for m in _URL_RE.finditer(clean):
        url = m.group(0).rstrip(".,;:!?)'\"”’>")
        host = _host_of(url)
        blank(m.start(), m.start() + len(url))
        if not host or _under(host, own):
            continue
        if (_under(host, _REFERENCE_HOSTS) or _under(host, _RESERVED_DOMAINS)) and not was_defanged(url):
            continue
        if "." not in host:
            continue
        found["url"].setdefault(url, None)
    rest = "".join(buf)
    buf = list(rest)
    for m in _EMAIL_RE.finditer(rest):
        addr = m.group(0)
        host = addr.rpartition("@")[2].lower()
        blank(m.start(), m.end())
        if _under(host, own) or not _valid_domain(host, True):
            continue
        found["email"].setdefault(addr.lower(), None)
    rest = "".join(buf)

    for m in _IPV4_RE.finditer(rest):
        value = m.group(0)
        if _VERSION_BEFORE.search(rest[max(0, m.start() - 12) : m.start()]):
            continue
        if any(len(p) > 1 and p.startswith("0") for p in value.split(".")):
            continue
        if _global_ip(value):
            found["ipv4"].setdefault(value, None)
    if "::" in rest or rest.count(":") >= 4:
        for m in _IPV6_RE.finditer(rest):
            value = m.group(0)
            if ":" in value and _global_ip(value) and re.search(r"[0-9a-f]{3}", value, re.I):
                found["ipv6"].setdefault(str(ipaddress.ip_address(value)), None)
    for m in _HASH_RE.finditer(rest):
        h = m.group(0)
        if h.isdigit() or h.isalpha():
            continue
        kind = {32: "md5", 40: "sha1", 64: "sha256"}[len(h)]
        found[kind].setdefault(h.lower(), None)
    for m in _DOMAIN_RE.finditer(rest):
        dom = m.group(0).rstrip(".")
        low = dom.lower()
        if low.replace(".", "").isdigit():
            continue
        defanged = was_defanged(low)
        if not _valid_domain(dom, defanged) or _under(low, own):
            continue
        if not defanged and _looks_like_prose(dom):
            continue
        found["domain"].setdefault(low, None)
    return tuple((k, tuple(v)) for k, v in found.items() if v)


def _looks_like_prose(dom: str) -> bool:
    """Dotted identifiers in code or prose ("System.Net", "Foo.Bar.Baz") are not hosts."""
    labels = dom.split(".")
    return all(lbl[:1].isupper() and not lbl.isupper() for lbl in labels) and len(labels) >= 2
