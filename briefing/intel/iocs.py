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
  defanged; AV detection names (Trojan.Win32.Agent); dotted identifiers (System.Net) and
  sentences glued by a missing space ("a problem.As ever"), unless written defanged; calls in
  quoted code ("hmac.new("); names under the article's own host (``source_host``);
  example/test/localhost/invalid names.
* IP addresses must be global (no private, loopback, link-local, multicast, reserved or
  documentation ranges); "version 1.2.3.4"-style numbers are rejected.
* A hash is a 32/40/64 hex run with both letters and digits, not part of a longer hex run;
  a 40-hex git commit id (in a ".../commit/", "/blob/" or "/tree/" path, or after the word
  "commit") is none.
* URLs under ``source_host`` and to a small set of reference sites (MITRE, NVD, GitHub,
  social networks...) are dropped unless written defanged: they are citations, not
  indicators. Domains inside URLs and e-mail addresses are not reported again as domains.
* CVE: "CVE-2024-1234", also with en dash, underscore or spaces; year 1999..2099.
* ATT&CK: T1001..T1699 with an optional .001..099 sub-technique, upper-case T only.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

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

# No leading \b: it would disable the regex engine's fast first-character scan.
_SCHEME_FANG = re.compile(r"(?:[hH](?:[xX]{2}|\*\*)[pP]([sS]?)|([fF])[xX][pP])(?=\s*[\[(]?:)")
# Bracketed marks start with a bracket: a charset start keeps the scan fast (no IGNORECASE).
_BRACKET_FANG = re.compile(
    r"[\[({]\s*(?:(?P<dot>\.|dot|DOT|Dot)|(?P<at>@|at|AT)|(?P<colon>:))\s*[\])}](?P<slashes>//)?"
    r"|[\[({]\s*(?P<sep>://)\s*[\])}]"
)


def _bracket_repl(m: re.Match[str]) -> str:
    if m.group("dot"):
        return "."
    if m.group("at"):
        return "@"
    if m.group("sep"):
        return "://"
    return "://" if m.group("slashes") else ":"


def _scheme_fangs(text: str, low: str) -> list[re.Match[str]]:
    """``_SCHEME_FANG.finditer(text)``, tried only where ``low`` (``text.lower()``) has
    "xxp", "**p" or "fxp": the regex starts with [hHfF] and would be tried at every h and f."""
    if "xxp" not in low and "**p" not in low and "fxp" not in low:
        return []
    if len(low) != len(text):  # offsets in ``low`` are not offsets in ``text``
        return list(_SCHEME_FANG.finditer(text))
    starts: list[int] = []
    for lit, back in (("xxp", 1), ("**p", 1), ("fxp", 0)):
        i = low.find(lit)
        while i >= 0:
            if i >= back:
                starts.append(i - back)
            i = low.find(lit, i + 1)
    starts.sort()
    out: list[re.Match[str]] = []
    last = 0
    for p in starts:
        if p < last:
            continue
        m = _SCHEME_FANG.match(text, p)
        if m is not None:
            out.append(m)
            last = m.end()
    return out


def _scheme_repl(m: re.Match[str]) -> str:
    return "ftp" if m.group(2) else "http" + m.group(1)


def _refang_with(text: str, brackets: list[re.Match[str]], schemes: list[re.Match[str]]) -> str:
    """``refang(text)`` from the text's bracket and scheme matches. Scheme replacements keep
    the length and only touch letters no bracket mark contains, so both sets of matches can
    be taken from the original text and applied in one pass."""
    if not schemes and not brackets:
        return text
    marks = sorted(
        [(m.start(), m.end(), _scheme_repl(m)) for m in schemes]
        + [(m.start(), m.end(), _bracket_repl(m)) for m in brackets]
    )
    parts: list[str] = []
    last = 0
    for start, end, repl in marks:
        parts.append(text[last:start])
        parts.append(repl)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def refang(text: str) -> str:
    """Undo common defanging so that indicators can be matched and stored canonically:
    hxxp/h**p/fxp schemes, [.] (.) {.} [dot], [@] [at], [:] [://] (:)//."""
    return _refang_with(text, list(_BRACKET_FANG.finditer(text)), _scheme_fangs(text, text.lower()))


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
    "zip mov py sh pl rs md cc so ps ai pm sc in it is am at be bz cs do es go id js ml mp "  # noqa: SIM905
    "pt rb sr st sy tk ts vb to ls cpp lua php".split()
)
_AV_PREFIXES = frozenset(
    """trojan backdoor worm virus exploit hacktool riskware adware spyware ransom pua pup
    win32 win64 w32 w64 msil java js vbs html linux unix android andr osx macos heur
    generic gen trojandownloader trojandropper trojanspy trojan-downloader trojan-dropper
    trojan-spy trojan-ransom trojanpsw w97m x97m o97m vba script bat doc xml multi""".split()  # noqa: SIM905
)
_REFERENCE_HOSTS = frozenset(
    """attack.mitre.org cve.mitre.org mitre.org nvd.nist.gov nist.gov cisa.gov us-cert.gov
    github.com twitter.com x.com t.co youtube.com youtu.be linkedin.com facebook.com
    instagram.com wikipedia.org en.wikipedia.org virustotal.com www.virustotal.com
    google.com www.google.com microsoft.com learn.microsoft.com msrc.microsoft.com
    apple.com support.apple.com schema.org w3.org www.w3.org creativecommons.org
    malpedia.caad.fkie.fraunhofer.de
    cve.org first.org osv.dev vulncheck.com shadowserver.org crowdsec.net exploit-db.com
    packetstormsecurity.com zerodayinitiative.com vuldb.com huntr.com wpscan.com snyk.io
    hackerone.com cert.org kb.cert.org jvn.jp""".split()  # noqa: SIM905
)
_RESERVED_DOMAINS = frozenset({"example.com", "example.org", "example.net", "localhost"})
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local"})

_COMMIT_BEFORE = re.compile(r"(?:/(?:commits?|blob|tree)/|\bcommit[\s:#]+)$", re.IGNORECASE)
_VERSION_BEFORE = re.compile(
    r"(?:\bv|version|ver\.?|build|release|firmware|update)\s*$", re.IGNORECASE
)
# No leading \b or look-behind: a literal start keeps the scan fast; boundaries are checked
# on the few hits.
CVE_RE = re.compile(r"CVE[\s\-–—_]{0,2}((?:19|20)\d\d)[\s\-–—_]{1,2}(\d{4,7})(?!\d)", re.IGNORECASE)
TECHNIQUE_RE = re.compile(r"T(1[0-6]\d\d)(?:\.(0\d\d))?(?![\w])")


def _word_start(text: str, pos: int) -> bool:
    return pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] in "_-")


def _cve_matches(text: str, low: str) -> list[re.Match[str]]:
    """``CVE_RE.finditer(text)``, tried only where ``low`` (``text.lower()``) has "cve" (an
    IGNORECASE literal prefix gets no fast scan)."""
    i = low.find("cve")
    if i < 0:
        return []
    if len(low) != len(text):
        return list(CVE_RE.finditer(text))
    out: list[re.Match[str]] = []
    last = 0
    while i >= 0:
        if i >= last:
            m = CVE_RE.match(text, i)
            if m is not None:
                out.append(m)
                last = m.end()
        i = low.find("cve", i + 1)
    return out


def find_cves(text: str, low: str | None = None) -> list[str]:
    """CVE ids in order of first appearance, normalised and deduplicated. ``low``:
    ``text.lower()`` if the caller has it."""
    seen: dict[str, None] = {}
    for m in _cve_matches(text, text.lower() if low is None else low):
        if not _word_start(text, m.start()):
            continue
        seen.setdefault(f"CVE-{m.group(1)}-{m.group(2)}", None)
    return list(seen)


def find_techniques(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for m in TECHNIQUE_RE.finditer(text):
        if not _word_start(text, m.start()) or int(m.group(1)) < 1001:
            continue
        sub = m.group(2)
        if sub is not None and sub == "000":
            continue
        seen.setdefault(f"T{m.group(1)}" + (f".{sub}" if sub else ""), None)
    return list(seen)


_HOST_RE = re.compile(r"(?i)[a-z]+://(?:[^@/?#]*@)?([^/:?#]+)")


def _host_of(url: str) -> str:
    m = _HOST_RE.match(url)
    return m.group(1).lower() if m else ""


def _under(host: str, parents: Iterable[str]) -> bool:
    return any(host == p or host.endswith("." + p) for p in parents)


def _under_set(host: str, parents: frozenset[str]) -> bool:
    """``_under`` for a large set of parents: look up ``host`` and each parent of it."""
    if host in parents:
        return True
    i = host.find(".")
    while i >= 0:
        if host[i + 1 :] in parents:
            return True
        i = host.find(".", i + 1)
    return False


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
    return not _under_set(dom.lower(), _RESERVED_DOMAINS)


def _letter_beyond_ascii(text: str, start: int, end: int) -> bool:
    """Whether the ASCII token ``text[start:end]`` touches a letter or digit of another
    script on either side."""
    before = text[start - 1 : start]
    after = text[end : end + 1]
    return any(c and not c.isascii() and (c.isalnum() or c in "\u00b7") for c in (before, after))


def _idna(host: str) -> str | None:
    """``host`` in its ASCII (punycode) form, or None when it is no valid name."""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def _script(char: str) -> str:
    return unicodedata.name(char, "?").split(" ", 1)[0]


def idn_note(value: str, kind: str) -> str | None:
    """For an indicator whose host is internationalised (``xn--`` labels): how it reads, and
    whether it mixes scripts within a label -- a lookalike of a Latin name. None otherwise."""
    if kind == "url":
        host = _host_of(value)
    elif kind == "email":
        host = value.rpartition("@")[2]
    else:
        host = value if kind == "domain" else ""
    if "xn--" not in host.lower():
        return None
    try:
        shown = host.encode("ascii").decode("idna")
    except UnicodeError:
        return "lookalike: not a valid international name"
    mixed = any(len({_script(c) for c in label if c.isalpha()}) > 1 for label in shown.split("."))
    return f"{'lookalike' if mixed else 'international name'}: {defang(shown, 'domain')}"


_NON_ASCII_HOST = re.compile(r"(?:[^\W_]|-)+(?:\.(?:[^\W_]|-)+)+")


def defang_lookalikes(text: str) -> str:
    """``text`` with every host written in another script (or mixing scripts, or spelled in
    punycode) replaced by its defanged punycode: a summary must not carry a live lookalike of
    a real name."""
    if text.isascii() and "xn--" not in text.lower():
        return text

    def repl(m: re.Match[str]) -> str:
        token = m.group(0)
        if token.isascii() and "xn--" not in token.lower():
            return token
        host = _idna(token)
        if host and _DOMAIN_FULL.fullmatch(host) and _valid_domain(host, True):
            return defang(host, "domain")
        return token

    return _NON_ASCII_HOST.sub(repl, text)


def _global_ip(value: str) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return bool(ip.is_global) and not ip.is_multicast


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9.\-]*")
# A host written with letters of any script ("login.microsоft.com" with a Cyrillic о).
_IDN_CHARS = re.compile(r"(?:[^\W_]|[.\-])*")

_IPV4_FULL = re.compile(
    r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
)
_DOMAIN_FULL = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,24}|xn--[a-z0-9-]{2,59})", re.IGNORECASE
)
_DOT_RE = re.compile(r"\.[0-9A-Za-z]")
_COLON_RE = re.compile(r":[0-9A-Fa-f:]")
_SCHEME_RE = re.compile(r"://")
_URL_TAIL = re.compile(r"[^\s<>\"'`\]\[{}|\\^]+")
_SCHEME_BACK = re.compile(r"(?:https?|ftp)$", re.IGNORECASE)
_EMAIL_LOCAL_REV = re.compile(r"[A-Za-z0-9._%+-]{1,64}")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")
# For _hex_runs, over UTF-8 bytes: hex digit -> "h", continuation byte -> "c", other -> " ".
_HEX_BYTES = bytes(
    0x68 if chr(c) in "0123456789abcdefABCDEF" else 0x63 if 0x80 <= c < 0xC0 else 0x20
    for c in range(256)
)
_HEX32 = b"h" * 32
_IPV6_TOKEN = re.compile(r"[0-9A-Fa-f:]*")


def _hex_runs(text: str) -> list[tuple[int, int]]:
    """Spans of ``_HEX_RUN.finditer(text)`` (maximal runs of >= 32 hex digits), found with
    ``bytes.find`` on a translated UTF-8 copy instead of a regex tried at every hex letter."""
    raw = text.encode("utf-8", "surrogatepass")
    b = raw.translate(_HEX_BYTES)
    i = b.find(_HEX32)
    if i < 0:
        return []
    ascii_only = len(raw) == len(text)
    out: list[tuple[int, int]] = []
    cont = 0  # continuation bytes before ``done``: byte offset - cont = character offset
    done = 0
    while i >= 0:
        # A hex digit is never followed by a continuation byte: the run ends at a space.
        end = b.find(b" ", i)
        if end < 0:
            end = len(b)
        if not ascii_only:
            cont += b.count(b"c", done, i)
            done = i
        out.append((i - cont, end - cont))
        i = b.find(_HEX32, end)
    return out


def _token_host(token: str) -> str:
    """The host a refanged token names: "http://user@evil.com:8080/x" -> "evil.com"."""
    rest = token.split("://", 1)[-1]
    rest = re.split(r"[/?#]", rest, maxsplit=1)[0]
    rest = rest.rsplit("@", 1)[-1]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def _back(pattern: re.Pattern[str], text: str, pos: int, limit: int) -> int:
    """Start of the run of ``pattern`` characters ending at ``pos`` (matched on the reversed
    window: a ``...$`` search would be quadratic)."""
    window = text[max(0, pos - limit) : pos][::-1]
    m = pattern.match(window)
    return pos - (m.end() if m else 0)


def extract_indicators(
    text: str, source_host: str | None = None, low: str | None = None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Indicators by kind (kinds in INDICATOR_KINDS order, values in order of appearance).

    Literal anchors ("://", "@", ".", ":") find the few candidate spots and small regexes
    expand them: whole-text regexes with look-behinds cost ~0.1 s a megabyte each.
    ``low``: ``text.lower()`` if the caller has it.
    """
    found: dict[str, dict[str, None]] = {k: {} for k in INDICATOR_KINDS}
    own = _own_hosts(source_host)
    defanged_values: set[str] = set()
    if low is None:
        low = text.lower()
    brackets = list(_BRACKET_FANG.finditer(text))
    if brackets or "xxp" in low:
        schemes = _scheme_fangs(text, low)
        clean = _refang_with(text, brackets, schemes)
        marks = [m.span() for m in brackets]
        if schemes:
            marks.extend(m.span() for m in schemes)
            marks.sort()
        last_end = -1
        tokens: list[str] = []
        for mstart, mend in marks:
            if mstart < last_end:
                continue
            # Expand the mark to its whitespace-delimited token (no regex: tokens can be huge).
            left = max(text.rfind(" ", 0, mstart), text.rfind("\n", 0, mstart)) + 1
            rights = [i for i in (text.find(" ", mend), text.find("\n", mend)) if i >= 0]
            right = min(rights) if rights else len(text)
            last_end = right
            if right - left <= 2048:
                tokens.append(text[left:right])
        # One refang pass over all tokens, not one per token.
        for tok in refang("\n".join(tokens)).split("\n"):
            value = tok.strip(".,;:()[]{}<>\"'").lower()
            defanged_values.add(value)
            defanged_values.add(_token_host(value))
    else:
        clean = text

    def was_defanged(value: str) -> bool:
        # A whole defanged token or its host: "report.zip" in "hxxp://evil[.]com/report.zip"
        # was not written defanged, and is a file name when it stands on its own.
        return value.lower() in defanged_values

    consumed: list[tuple[int, int]] = []  # spans of URLs and e-mails
    starts: list[int] = []

    def inside(pos: int) -> bool:
        i = bisect.bisect_right(starts, pos) - 1
        return i >= 0 and pos < consumed[i][1]

    def seal() -> None:
        consumed.sort()
        starts[:] = [a for a, _ in consumed]

    for m in _SCHEME_RE.finditer(clean):
        sm = _SCHEME_BACK.search(clean, max(0, m.start() - 5), m.start())
        if sm is None:
            continue
        tail = _URL_TAIL.match(clean, m.end())
        if tail is None:
            continue
        url = clean[sm.start() : tail.end()].rstrip(".,;:!?)'\"”’>")
        consumed.append((sm.start(), sm.start() + len(url)))
        host = _host_of(url)
        if not host.isascii():
            # Stored with the host in punycode: what a resolver would ask for.
            ascii_host = _idna(host)
            if ascii_host is None:
                continue
            url = url.replace(host, ascii_host, 1) if host in url else url
            host = ascii_host
        if not host or "." not in host or _under(host, own):
            continue
        if (_under_set(host, _REFERENCE_HOSTS) or _under_set(host, _RESERVED_DOMAINS)) and not (
            was_defanged(url) or was_defanged(host)
        ):
            continue
        found["url"].setdefault(url, None)

    seal()
    pos = clean.find("@")
    while pos >= 0:
        if not inside(pos):
            lstart = _back(_EMAIL_LOCAL_REV, clean, pos, 64)
            local = clean[lstart:pos]
            dm = _DOMAIN_FULL.match(clean, pos + 1)
            if local and dm and local[:1].isalnum():
                addr = f"{local}@{dm.group(0)}".lower()
                host = dm.group(0).lower()
                consumed.append((lstart, dm.end()))
                if not _under(host, own) and _valid_domain(host, True):
                    found["email"].setdefault(addr, None)
        pos = clean.find("@", pos + 1)

    seal()
    seen_tokens: set[int] = set()
    # An ASCII text has no letter of another script next to any token.
    clean_ascii = clean.isascii()
    tok_start, tok_end = 0, -1  # the last token expanded
    for m in _DOT_RE.finditer(clean):
        p0 = m.start()
        if tok_start < p0 < tok_end and p0 - tok_start <= 255:
            # Another dot of the token just seen: _back would find its start again.
            continue
        if inside(p0):
            continue
        start = _back(_TOKEN_CHARS, clean, p0, 255)
        if start in seen_tokens:
            continue
        seen_tokens.add(start)
        fwd = _TOKEN_CHARS.match(clean, p0)
        end = fwd.end() if fwd else p0
        if not clean_ascii and _letter_beyond_ascii(clean, start, end):
            # Part of a host in another script, or mixing scripts: the whole host or nothing,
            # never its ASCII tail ("ft.com" out of "login.microsоft.com").
            start = _back(_IDN_CHARS, clean, p0, 255)
            fwd = _IDN_CHARS.match(clean, p0)
            end = fwd.end() if fwd else p0
            tok_start, tok_end = start, end
            seen_tokens.add(start)
            idn = _idna(clean[start:end].strip(".-"))
            valid = bool(idn and _DOMAIN_FULL.fullmatch(idn) and _valid_domain(idn, True))
            if idn and valid and not _under(idn, own):
                found["domain"].setdefault(idn, None)
            continue
        tok_start, tok_end = start, end
        token = clean[start:end].strip(".-")
        if not token or "." not in token:
            continue
        prev = clean[start - 1 : start] if start else ""
        # "hmac.new(": a call in quoted code, not a host.
        if prev in ("@", "/", "\\", "_") or clean[end : end + 1] in ("@", "_", "("):
            continue
        if token[0].isdigit() and _IPV4_FULL.fullmatch(token):
            if _VERSION_BEFORE.search(clean, max(0, start - 12), start):
                continue
            if _global_ip(token):
                found["ipv4"].setdefault(token, None)
            continue
        if not _DOMAIN_FULL.fullmatch(token):
            continue
        low = token.lower()
        if low.replace(".", "").isdigit():
            continue
        defanged = was_defanged(low)
        if not _valid_domain(token, defanged) or _under(low, own):
            continue
        if not defanged and _looks_like_prose(token):
            continue
        found["domain"].setdefault(low, None)

    for m in _COLON_RE.finditer(clean):
        p0 = m.start()
        start = _back(_IPV6_TOKEN, clean, p0, 45)
        if start in seen_tokens:
            continue
        seen_tokens.add(start)
        fwd = _IPV6_TOKEN.match(clean, p0)
        token = clean[start : fwd.end() if fwd else p0].strip(":")
        if clean[start - 1 : start].isalnum() or token.count(":") < 2:
            continue
        if (clean[start - 2 : start] == "::") or not re.search(r"[0-9a-fA-F]{3}", token):
            continue
        if _global_ip(token):
            found["ipv6"].setdefault(str(ipaddress.ip_address(token)), None)

    for hstart, end in _hex_runs(clean):
        h = clean[hstart:end]
        if len(h) not in (32, 40, 64) or h.isdigit() or h.isalpha():
            continue
        if hstart and clean[hstart - 1].isalnum():
            continue
        if end < len(clean) and clean[end].isalnum():
            continue
        if len(h) == 40 and _COMMIT_BEFORE.search(clean, max(0, hstart - 12), hstart):
            continue  # a git commit id (".../commit/62bb18...", "fixed in commit 62bb18...")
        kind = {32: "md5", 40: "sha1", 64: "sha256"}[len(h)]
        found[kind].setdefault(h.lower(), None)
    return tuple((k, tuple(v)) for k, v in found.items() if v)


def _looks_like_prose(dom: str) -> bool:
    """Dotted identifiers in code or prose ("System.Net", "Foo.Bar.Baz") are not hosts, nor
    two sentences glued by a missing space ("a problem.As ever", "it was.Here is"): a host is
    written in lower case or in capitals, never with a Title-case top-level label."""
    labels = dom.split(".")
    if len(labels) < 2:
        return False
    last = labels[-1]
    if last[:1].isupper() and last[1:].islower():
        return True
    return all(lbl[:1].isupper() and not lbl.isupper() for lbl in labels)
