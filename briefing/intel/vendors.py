"""Vendors and products: text -> the vendors (with their products) a text is about.

In: text (a title and an article, as the tagger sees it). Out: ``VendorRef``s (canonical
vendor name, the vendor's products named, the exact surface forms that matched), in order of
first mention. The table is data: ``data/vendors.txt`` (its header says what it holds, how it
was made and its syntax), loaded once per process by ``vendor_table()``. The tagger fills
``Entities.vendors`` with ``VendorTable.find``; clustering, the briefing's vendor sections and
per-reader interests use the same table (``VendorTable.lookup`` resolves any name or alias).

How: one Aho-Corasick automaton over ``normalize.scan_text`` (the same scan text as the actor
matcher: lower case, punctuation as spaces, offsets kept) holds every vendor and product name,
plus "<vendor> <product>" for each pair ("Microsoft Exchange", "Google Chrome"), each key
between two spaces so a hit is whole words; among the hits, leftmost-longest wins (not
``iter_long``'s leftmost-longest key, which would let "Exchange Server" swallow "Exchange
servers"). Each hit then gets the checks that make it a mention:

* it is not glued into an address or file name ("microsoft.com",
  "/cisco/", "user@oracle");
* case: a short name (4 characters or fewer: "iOS" vs Cisco's "IOS", "ASA") must be written
  exactly so; a longer one in any case but all lower case ("VMWare" is VMware, "progress" is
  a word) -- except in a line naming a CVE, where catalogues write CPE's lower-case names
  ("CVE-2025-0001 - rarlab winrar");
* an ambiguous name (``~`` in the table: "Apple", "Oracle", "Windows", "Exchange", "Edge",
  "Teams", "Chrome", "Zoom"...) and a name several vendors share count only in context: the
  vendor (or, for a shared name, exactly one of its vendors) is named unambiguously elsewhere
  in the text, or a product or vulnerability word stands within a few words in the same
  sentence ("Edge browser", "a flaw in Chrome", "Windows zero-day");
* a vendor named only as the source of research ("Kaspersky researchers", "ESET said",
  "according to Check Point", "discovered by Akamai") is not a vendor the text is about; its
  products still count ("Microsoft said a Windows flaw..." names Windows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import ahocorasick

from briefing.intel.normalize import alias_key, scan_text_lowered, scan_variants, walk_order
from briefing.models import VendorRef

DATA_FILE = "vendors.txt"

# Within a few words of an ambiguous name, these make it a product or vendor mention.
_CUE_WORDS = frozenset(
    """vulnerability vulnerabilities flaw flaws bug bugs zero day zeroday cve exploit exploits
    exploited exploitation patch patches patched fix fixes fixed update updates updated
    advisory advisories security rce hotfix firmware server servers browser browsers app apps
    application software product products device devices appliance appliances users
    customers accounts account instances installations deployments version versions build
    release releases plugin plugins extension extensions kernel driver drivers client
    clients agent cloud endpoint endpoints platform platforms service services tenants
    admin router routers firewall firewalls vpn gateway gateways processor processors cpu
    cpus chip chips chipset chipsets""".split()  # noqa: SIM905
)
_CUE_SPAN = 4  # words either side
_SENTENCE_STOP = re.compile(r"[.!?;\n]")
_RESEARCH_AFTER = re.compile(
    r" +(?:s +)?(?:researchers?|research|labs|threat intelligence|threat research|analysts?"
    r"|threat hunters?|telemetry|intelligence|global research|incident response|team|said"
    r"|says|told|observed|discovered|spotted|detected|attributed|assessed|tracks|tracked"
    r"|noted|reported|published|uncovered|found|security researchers?"
    # research arms named after the vendor ("Cisco Talos", "Palo Alto Networks Unit 42")
    r"|talos|unit 42|x force|threatlabz|spiderlabs|mandiant|securelist)(?= |$)"
)
_RESEARCH_BEFORE = re.compile(
    r"(?:according to|researchers? (?:at|from)|analysts? (?:at|from)|experts? (?:at|from)"
    r"|(?:discovered|spotted|observed|found|documented|analy[sz]ed|reported|detailed"
    r"|uncovered|identified|published|disclosed|attributed) by)(?: the)? +$"
)
_URL_AT = re.compile(r"(?:https?|hxxps?|ftp)://\S+|www\.\S+", re.IGNORECASE)
_GLUE_BEFORE = frozenset("/\\_=@.")
_GLUE_AFTER = frozenset("/\\_=@")


@dataclass(frozen=True)
class Product:
    name: str
    names: tuple[str, ...]  # every name, the canonical one first ("~" markers removed)


@dataclass(frozen=True)
class Vendor:
    name: str
    aliases: tuple[str, ...]
    products: tuple[Product, ...]


class _Name(NamedTuple):
    vendor: int
    product: int  # index into the vendor's products, -1 for the vendor itself
    form: str  # the name as the table writes it
    ambiguous: bool


class _Hit(NamedTuple):
    start: int
    end: int
    surface: str
    names: tuple[_Name, ...]


class TableError(ValueError):
    """The vendor table is malformed (line number and reason in the message)."""


def parse_table(text: str) -> tuple[int, tuple[tuple[Vendor, frozenset[str]], ...]]:
    """``vendors.txt`` -> (version, vendors with the set of their names marked ambiguous)."""
    version = 0
    vendors: list[tuple[str, list[str], list[Product], set[str]]] = []
    seen: dict[str, int] = {}  # alias_key of a vendor's own name -> line
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if line.startswith("#"):
            m = re.match(r"#\s*version:\s*(\d+)", line)
            if m:
                version = int(m.group(1))
            continue
        if not line.strip():
            continue
        names = [n.strip() for n in line.split("|")]
        if any(not n or n == "~" for n in names):
            raise TableError(f"line {number}: empty name")
        ambiguous = {n[1:] for n in names if n.startswith("~")}
        clean = [n.lstrip("~") for n in names]
        if line[0].isspace():
            if not vendors:
                raise TableError(f"line {number}: product before any vendor")
            vendors[-1][2].append(Product(clean[0], tuple(dict.fromkeys(clean))))
            vendors[-1][3].update(ambiguous)
            continue
        key = alias_key(clean[0])
        if key in seen:
            raise TableError(f"line {number}: vendor {clean[0]!r} already on line {seen[key]}")
        seen[key] = number
        vendors.append((clean[0], list(dict.fromkeys(clean[1:])), [], set(ambiguous)))
    return version, tuple(
        (Vendor(name, tuple(aliases), tuple(products)), frozenset(amb))
        for name, aliases, products, amb in vendors
    )


def _case_ok(surface: str, form: str) -> bool:
    s = surface.replace(" ", "").replace("-", "")
    f = form.replace(" ", "").replace("-", "")
    if s == f or form.islower():
        return True
    if len(f) <= 4:
        return False  # "IOS" is Cisco's, "iOS" Apple's; "ASA" is no "asa"
    # A longer name in another case is the same name ("VMWare", "FORTINET"), but not in
    # lower case: "progress", "edge" and "spring" are words.
    return not surface.islower()


def _tail_ok(text: str, end: int, form: str) -> bool:
    """A name ending in symbols the scan text drops ("Notepad++", "C#") must be written with
    them: "Notepad" alone is another program."""
    tail = form[len(form.rstrip("+#")) :]
    return not tail or text.startswith(tail, end)


def _cpe_line(text: str, start: int, end: int) -> bool:
    """The hit stands in a line naming a CVE: catalogue and advisory titles write the vendor
    and product as CPE does, in lower case ("CVE-2025-0001 - rarlab winrar ...")."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return "CVE-" in text[line_start : line_end if line_end >= 0 else len(text)].upper()


def _glued(text: str, start: int, end: int) -> bool:
    prev = text[start - 1 : start]
    if prev and prev in _GLUE_BEFORE and text[start - 2 : start - 1].isalnum():
        return True  # "sub.oracle", "x/cisco"
    if prev in ("/", "\\", "@"):
        return True
    nxt = text[end : end + 1]
    if nxt and nxt in _GLUE_AFTER:
        return True
    return nxt == "." and text[end + 1 : end + 2].isalnum()  # "microsoft.com"


class VendorTable:
    """The vendor/product table and its matcher. Build once (``vendor_table``)."""

    def __init__(self, text: str):
        self.version, parsed = parse_table(text)
        self.vendors: tuple[Vendor, ...] = tuple(v for v, _ in parsed)
        self._index: dict[str, list[tuple[int, int]]] = {}
        slots: dict[str, dict[tuple[int, int, str], _Name]] = {}

        def add(name: str, vendor: int, product: int, ambiguous: bool) -> None:
            key = alias_key(name)
            if key and (vendor, product) not in self._index.get(key, []):
                self._index.setdefault(key, []).append((vendor, product))
            for variant in scan_variants(name, drop_optional=False):
                if len(variant.replace(" ", "")) < 2:
                    continue
                slot = slots.setdefault(f" {variant} ", {})
                # One entry per written form: "NGINX" and "nginx" share a key, not a case rule.
                slot.setdefault((vendor, product, name), _Name(vendor, product, name, ambiguous))

        for vi, (vendor, amb) in enumerate(parsed):
            vendor_names = (vendor.name, *vendor.aliases)
            for name in vendor_names:
                add(name, vi, -1, name in amb)
            for pi, product in enumerate(vendor.products):
                for name in product.names:
                    add(name, vi, pi, name in amb)
                    for vname in vendor_names:
                        if not alias_key(name).startswith(alias_key(vname)):
                            # "Microsoft Exchange", "Google Chrome": never ambiguous.
                            add(f"{vname} {name}", vi, pi, False)
        self._automaton = ahocorasick.Automaton()
        for key in sorted(slots, key=walk_order):
            slot = slots[key]
            self._automaton.add_word(key, (len(key) - 2, tuple(slot.values())))
        self._automaton.make_automaton()

    # --- lookups ------------------------------------------------------------------------

    def lookup(self, name: str) -> tuple[str, str | None] | None:
        """Any vendor or product name or alias -> (vendor, product or None); None when the
        table does not know it, or when several vendors share it."""
        found = self._index.get(alias_key(name), [])
        vendors = {v for v, _ in found}
        if len(vendors) != 1:
            return None
        vi, pi = found[0]
        if any(p == -1 for _, p in found):
            pi = -1
        vendor = self.vendors[vi]
        return vendor.name, None if pi == -1 else vendor.products[pi].name

    def names_of(self, vendor: str) -> tuple[str, ...]:
        """Every name of a vendor and of its products (for clustering and interests)."""
        for v in self.vendors:
            if v.name == vendor:
                out = [v.name, *v.aliases]
                for product in v.products:
                    out.extend(product.names)
                return tuple(dict.fromkeys(out))
        return ()

    # --- matching -----------------------------------------------------------------------

    def find(
        self, text: str, low: str | None = None, scan: str | None = None
    ) -> tuple[VendorRef, ...]:
        """The vendors ``text`` is about, each with the products it names (module docstring).
        ``low``: ``text.lower()``; ``scan``: ``" " + scan_text_lowered(text, low)``, if the
        caller has them (the tagger does)."""
        if low is None:
            low = text.lower()
        if scan is None:
            scan = " " + scan_text_lowered(text, low)
        scan += " "
        if "://" in text or "www." in low:
            # A name inside an address is no mention; the pieces are joined once (a text of
            # ten thousand links must not be copied ten thousand times).
            parts: list[str] = []
            last = 0
            for m in _urls(text, low):
                parts += [scan[last : m.start() + 1], " " * (m.end() - m.start())]
                last = m.end() + 1
            scan = "".join(parts) + scan[last:]
        # Every whole-word hit, then leftmost-longest among them (module docstring).
        candidates: list[_Hit] = []
        for e, (klen, names) in self._automaton.iter(scan):
            # ``e`` is the space after the name in the scan, which has one space in front.
            start, end = e - 1 - klen, e - 1
            surface = text[start:end]
            if _glued(text, start, end):
                continue
            ok = tuple(
                nm for nm in names if _case_ok(surface, nm.form) and _tail_ok(text, end, nm.form)
            )
            if not ok and len(surface) > 4 and _cpe_line(text, start, end):
                ok = tuple(nm for nm in names if not nm.ambiguous)
            if ok:
                candidates.append(_Hit(start, end, surface, ok))
        candidates.sort(key=lambda h: (h.start, -h.end))
        hits: list[_Hit] = []
        for hit in candidates:
            if not hits or hit.start >= hits[-1].end:
                hits.append(hit)
        if not hits:
            return ()
        # Vendors named for certain: an unambiguous name of one vendor, not as a research source.
        certain: set[int] = set()
        for hit in hits:
            vendors = {nm.vendor for nm in hit.names}
            if len(vendors) == 1 and not all(nm.ambiguous for nm in hit.names):
                nm = min(hit.names, key=lambda x: x.ambiguous)
                if nm.product >= 0 or not self._research(scan, hit):
                    certain.add(nm.vendor)
        found: dict[int, tuple[int, dict[str, None], dict[str, None]]] = {}
        for hit in hits:
            vendors = {nm.vendor for nm in hit.names}
            chosen: _Name | None = None
            if len(vendors) == 1:
                nm = min(hit.names, key=lambda x: x.ambiguous)  # an unambiguous form wins
                if not nm.ambiguous or (
                    not _compound(text, hit) and (nm.vendor in certain or _cue(text, hit))
                ):
                    chosen = nm
            else:
                named = vendors & certain
                if len(named) == 1:
                    chosen = next(nm for nm in hit.names if nm.vendor in named)
            if chosen is None:
                continue
            if chosen.product < 0 and chosen.vendor not in certain and self._research(scan, hit):
                continue
            _first, products, mentions = found.setdefault(chosen.vendor, (hit.start, {}, {}))
            if chosen.product >= 0:
                products.setdefault(self.vendors[chosen.vendor].products[chosen.product].name)
            mentions.setdefault(hit.surface)
        ordered = sorted(found.items(), key=lambda kv: (kv[1][0], self.vendors[kv[0]].name))
        return tuple(
            VendorRef(self.vendors[vi].name, tuple(products), tuple(mentions))
            for vi, (_first, products, mentions) in ordered
        )

    @staticmethod
    def _research(scan: str, hit: _Hit) -> bool:
        after = scan[hit.end + 1 : hit.end + 40]
        before = scan[max(0, hit.start - 40) : hit.start + 1]
        return bool(_RESEARCH_AFTER.match(after) or _RESEARCH_BEFORE.search(before))


def _urls(text: str, low: str) -> list[re.Match[str]]:
    """The addresses in ``text``, found from their literal parts ("://", "www."): a regex
    tried at every offset of a long text costs more than all the matching."""
    starts: list[int] = []
    for literal, backs in (("://", (5, 4, 3)), ("www.", (0,))):
        i = low.find(literal)
        while i >= 0:
            starts.extend(i - b for b in backs if i >= b)
            i = low.find(literal, i + 1)
    out: list[re.Match[str]] = []
    end = 0
    for start in sorted(starts):
        if start < end or (start and text[start - 1].isalnum()):
            continue
        m = _URL_AT.match(text, start)
        if m is not None:
            out.append(m)
            end = m.end()
    return out


_OF_AFTER = re.compile(r" (?:for|of|de|del) [A-Z]")
_CAPITAL_AFTER = re.compile(r" ([A-Z][a-z]+)")


def _compound(text: str, hit: _Hit) -> bool:
    """An ambiguous name that starts a longer proper name ("Office for Civil Rights",
    "Exchange Commission", "Oracle Park") is part of that name. In a Title Case line every
    word is capitalised: there only "of"/"for" + a capital counts."""
    if _OF_AFTER.match(text, hit.end):
        return True
    m = _CAPITAL_AFTER.match(text, hit.end)
    if m is None or m.group(1).lower() in _CUE_WORDS:
        return False
    line_start = text.rfind("\n", 0, hit.start) + 1
    line_end = text.find("\n", hit.end)
    words = [
        w for w in text[line_start : line_end if line_end >= 0 else None].split() if len(w) > 3
    ]
    title_case = len(words) >= 3 and sum(w[:1].isupper() for w in words) >= 0.7 * len(words)
    return not title_case


def _cue(text: str, hit: _Hit) -> bool:
    """A product or vulnerability word within a few words of ``hit``, in the same sentence."""
    before = _SENTENCE_STOP.split(text[max(0, hit.start - 80) : hit.start])[-1]
    after = _SENTENCE_STOP.split(text[hit.end : hit.end + 80])[0]
    words_before = scan_text_lowered(before, before.lower()).split()[-_CUE_SPAN:]
    words_after = scan_text_lowered(after, after.lower()).split()[:_CUE_SPAN]
    return bool(_CUE_WORDS.intersection(words_before) or _CUE_WORDS.intersection(words_after))


@lru_cache(maxsize=1)
def vendor_table() -> VendorTable:
    """The packaged table (``data/vendors.txt``), parsed and compiled once per process."""
    text = resources.files("briefing.intel").joinpath("data", DATA_FILE).read_text("utf-8")
    return VendorTable(text)


def find_vendors(
    text: str, low: str | None = None, scan: str | None = None
) -> tuple[VendorRef, ...]:
    """``vendor_table().find(text, low, scan)``."""
    return vendor_table().find(text, low, scan)
