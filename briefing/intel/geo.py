"""Countries, regions and the role a country plays in a text (tag stage, geography).

In: the tables of ``geo_data.py``; a text and the span of a country mention in it.
Out: ``Country``/``Region`` records, ``GeoTerm``s for the tagger's automaton, and
``country_role`` -> "attributed" | "target" | "mentioned".

Rules (each tested in tests/test_intel_geo.py):

* Country names, other names, demonyms and cities must be written capitalised (or in
  capitals): "china" (porcelain) or "turkey" (the bird) do not count. Short forms listed in
  ``EXACT_FORMS`` ("U.S.", "UK", "DPRK", "PRC") count only written exactly so, and "US"/"UK"
  not inside an all-capitals run ("CONTACT US"). No other two-letter code is ever matched.
* Role "attributed" needs attribution wording next to the mention: a hyphenated
  "-linked/-backed/-sponsored/-nexus/..." ("Iranian-linked", "North Korea-backed"), the
  country (or its demonym, with or without "'s") directly before an actor noun or a named
  service ("Iranian hackers", "Chinese state-sponsored group", "Russia's GRU"), or
  "linked/attributed/tied to", "on behalf of", "hackers from/in/out of" right before it.
  A possessive on its own ("Russia's playbook") is not attribution.
* Role "target" needs targeting wording earlier in the same sentence ("targeting ... in
  Israel", "attacks against the U.S.", "victims in Germany") or a victim noun right after a
  demonym ("Israeli companies", "Saudi organisations").
* Role "home": a demonym right before the kind of organisation or person that reports,
  sells or is named in passing ("Slovak cybersecurity firm ESET", "an Israeli LockBit
  developer", "a Russian national") names where the reporter or the person comes from, not a
  place of the story: the tagger leaves such a country out unless another mention gives it a
  role.
* Anything else is "mentioned". Across mentions: attributed > target > mentioned > home.

Regions: named regions are recognised directly ("Middle East", "Middle Eastern", "APAC").
An article's derived regions come from its *target* countries, or, when it names no target,
from its *mentioned* countries; an attributed country alone never adds its region (an Iranian
actor attacking Germany is a Europe story, not a Middle East one). Only regions with
``derive`` set are derived (the analysts' regions); UN subregions count only when named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import ahocorasick

from briefing.intel.geo_data import (
    COUNTRY_TABLE,
    EXACT_FORMS,
    HISTORICAL_NAMES,
    REGION_TABLE,
)
from briefing.intel.normalize import alias_key

Role = Literal["attributed", "target", "mentioned", "home"]
GeoKind = Literal["country", "region"]


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    names: tuple[str, ...]  # other names
    demonyms: tuple[str, ...]
    places: tuple[str, ...]  # cities, provinces, states


@dataclass(frozen=True)
class Region:
    name: str
    aliases: tuple[str, ...]
    derive: bool
    members: frozenset[str]


@dataclass(frozen=True)
class GeoTerm:
    """One surface form for the tagger: ``exact`` forms must match case-sensitively."""

    form: str
    kind: GeoKind
    target: str  # country code or region name
    exact: bool


def _split(field: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in field.split(";") if x.strip())


def _parse_countries() -> dict[str, Country]:
    out: dict[str, Country] = {}
    for line in COUNTRY_TABLE.strip().splitlines():
        code, name, names, demonyms, places = line.split("|")
        out[code] = Country(code, name, _split(names), _split(demonyms), _split(places))
    return out


def _parse_regions() -> dict[str, Region]:
    out: dict[str, Region] = {}
    for line in REGION_TABLE.strip().splitlines():
        name, aliases, derive, members = line.split("|")
        out[name] = Region(name, _split(aliases), derive == "1", frozenset(members.split()))
    return out


COUNTRIES: dict[str, Country] = _parse_countries()
REGIONS: dict[str, Region] = _parse_regions()
# "EMEA" names three regions at once.
MULTI_REGIONS: dict[str, tuple[str, ...]] = {"EMEA": ("Europe", "Middle East", "Africa")}


def country_name(code: str) -> str | None:
    c = COUNTRIES.get(code.upper())
    return c.name if c else None


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    idx: dict[str, str] = {}
    for c in COUNTRIES.values():
        for n in (c.name, *c.names, *c.demonyms):
            idx.setdefault(alias_key(n), c.code)
    for form, code in EXACT_FORMS.items():
        idx.setdefault(alias_key(form), code)
    for form, code in HISTORICAL_NAMES.items():
        idx.setdefault(alias_key(form), code)
    return idx


def country_code_for_name(name: str) -> str | None:
    """ISO code for a country name as data sources write it ("Russian Federation",
    "Korea (Democratic People's Republic of)", "Iran (Islamic Republic of)")."""
    raw = name.strip()
    m = re.fullmatch(r"(.+?)\s*\((.+)\)", raw)
    if m:
        inner = m.group(2)
        if "democratic people" in inner.lower():
            return "KP"
        if inner.lower().startswith("republic of") and m.group(1).lower() == "korea":
            return "KR"
        raw = m.group(1)
    if len(raw) == 2 and raw.isupper():
        return raw if raw in COUNTRIES else None
    return _name_index().get(alias_key(raw))


def regions_of(code: str, derived_only: bool = True) -> tuple[str, ...]:
    """The regions a country belongs to, in table order."""
    return tuple(
        r.name for r in REGIONS.values() if code in r.members and (r.derive or not derived_only)
    )


def geo_terms() -> list[GeoTerm]:
    terms: list[GeoTerm] = []
    for c in COUNTRIES.values():
        for form in (c.name, *c.names, *c.demonyms, *c.places):
            if form.isupper() and len(form) <= 4:
                terms.append(GeoTerm(form, "country", c.code, True))
            else:
                terms.append(GeoTerm(form, "country", c.code, False))
    for form, code in EXACT_FORMS.items():
        terms.append(GeoTerm(form, "country", code, True))
    for form, code in HISTORICAL_NAMES.items():
        terms.append(GeoTerm(form, "country", code, False))
    for r in REGIONS.values():
        for form in (r.name, *r.aliases):
            terms.append(GeoTerm(form, "region", r.name, form.isupper() and len(form) <= 5))
    for form in MULTI_REGIONS:
        terms.append(GeoTerm(form, "region", form, True))
    return terms


# --- surface checks -------------------------------------------------------------------------

_CAPS_WORD = re.compile(r"[A-Z]{2,}")


def exact_form_ok(text: str, start: int, end: int, form: str) -> bool:
    """Whether text[start:end] is ``form`` written exactly (dots optional, spaces ignored)."""
    surface = text[start:end].replace(" ", "")
    bare = form.replace(".", "")
    if surface.replace(".", "") != bare:
        return False
    if len(bare) == 2:
        # "US"/"UK" inside a capitals run ("CONTACT US", "IN THE US") is not the country.
        before = text[max(0, start - 20) : start].split()
        after = text[end : end + 20].split()
        for words in (before[-1:], after[:1]):
            for w in words:
                core = w.strip(".,:;!?()[]\"'’-")
                if _CAPS_WORD.fullmatch(core) and core.replace(".", "") not in _EXACT_BARE:
                    return False
    return True


_EXACT_BARE = frozenset(f.replace(".", "") for f in EXACT_FORMS)


# --- roles ------------------------------------------------------------------------------------

_ACTOR_NOUN = (
    r"(?:hackers?|hacking\s+groups?|groups?|actors?|apts?|operators?|gangs?|crews?|"
    r"adversar(?:y|ies)|attackers?|operatives|spies|threat\s+actors?|threat\s+groups?|"
    r"cyber\s*spies|cyber\s*criminals?|cybercriminals?|gru|fsb|svr|mss|mois|irgc|pla|rgb|"
    r"military\s+intelligence|ministry\s+of\s+state\s+security|ministry\s+of\s+intelligence|"
    r"reconnaissance\s+general\s+bureau|intelligence\s+services?|security\s+services?|"
    r"cyber\s*army|state\s+hackers|nation[- ]state\s+actors?)"
)
_ACTOR_MODIFIER = (
    r"(?:state[- ]sponsored|state[- ]backed|state[- ]linked|government[- ]backed|"
    r"government[- ]sponsored|nation[- ]state|state|military|cyber|espionage|"
    r"cyber[- ]?espionage|advanced\s+persistent\s+threat|apt|hacking|hacker|threat|"
    r"sponsored|linked|backed|aligned|criminal|ransomware|intelligence)"
)
_ATTR_AFTER = re.compile(
    r"(?:['’]s)?\s*[-‐‑–]\s*(?:linked|backed|sponsored|nexus|aligned|affiliated|attributed|"
    r"supported|directed|tied|connected|associated|origin|based\s+(?:\w+\s+){0,3}?"
    + _ACTOR_NOUN
    + r"\b)"
    r"|(?:['’]s)?\s+(?:" + _ACTOR_MODIFIER + r"[\s-]+){0,4}" + _ACTOR_NOUN + r"\b",
    re.IGNORECASE,
)
_ATTR_BEFORE = re.compile(
    r"(?:\b(?:linked|tied|attributed|connected|affiliated|associated|aligned|traced(?:\s+back)?"
    r"|sponsored|backed|directed|supported|commissioned|working)\s+(?:to|with|by|for)"
    r"|\bon\s+behalf\s+of|\b(?:blamed|pinned)\s+on"
    # "hackers from Iran", "a group based in Iran" — but not "a hospital group in Jordan":
    # a bare "in" says where something is, not who sent it.
    r"|\b"
    + _ACTOR_NOUN
    + r"\s+(?:(?:based|operating|working)\s+(?:from|in|out\s+of)|from|out\s+of)"
    r"|\b(?:operat(?:es|ed|ing)|originat(?:es|ed|ing))\s+(?:from|out\s+of))"
    r"\s+(?:the\s+)?(?:(?:government|regime|state)\s+of\s+(?:the\s+)?)?$",
    re.IGNORECASE,
)
_VICTIM_NOUN = (
    r"(?:companies|company|firms?|organi[sz]ations?|entities|targets?|victims?|banks?|"
    r"ministr(?:y|ies)|government\s+(?:agencies|entities|networks|organi[sz]ations|"
    r"departments|institutions|bodies|officials|employees)|agencies|networks?|users|citizens|"
    r"businesses|institutions|hospitals?|universities|infrastructure|telecoms?|telcos?|"
    r"dissidents|journalists|activists|diplomats|embassy|embassies|energy|utilities|"
    r"manufacturers?|retailers?|airlines?|providers?|contractors?|enterprises?|servers?|"
    r"individuals|people|residents|nationals|officials|defen[cs]e\s+(?:contractors?|"
    r"industry|sector|companies|firms)|sector|industry|industries)"
)
_TARGET_AFTER = re.compile(
    r"(?:['’]s)?(?:\s*[-‐‑–]\s*based)?\s+(?:[a-z][a-z-]*\s+){0,2}?" + _VICTIM_NOUN + r"\b",
)
# "Slovak cybersecurity firm", "Israeli LockBit developer", "a Russian national": where the
# reporter or a person is from (role "home"). Organisation nouns here are the reporting kind
# (vendors, researchers); victim kinds ("Israeli companies") stay targets.
_HOME_AFTER = re.compile(
    r"(?:\s+(?:[a-z][a-z-]*\s+){0,2}?(?:cyber\s*security|security|anti-?virus|threat[- ]intel\w*"
    r"|research|software|tech(?:nology)?|intelligence)\s+(?:firms?|compan(?:y|ies)|vendors?"
    r"|researchers?|experts?|outfits?|providers?|giants?|researcher|analysts?|startups?)"
    r"|\s+(?:security\s+)?(?:researchers?|experts?|analysts?|journalists?|reporter)"
    r"|\s+(?:[A-Z][\w-]*\s+){0,3}(?i:nationals?|citizens?|man|woman|developers?|programmers?"
    r"|suspects?|founder|administrator|admin|teenager|individual))\b",
)
_TARGET_CUE = re.compile(
    r"\b(?:target(?:s|ed|ing)?|attack(?:s|ed|ing)?|against|victims?|compromis(?:ed|es|ing)|"
    r"breach(?:ed|es|ing)?|infiltrat(?:ed|es|ing)|hit(?:s|ting)?|struck|spy(?:ing)?\s+on|"
    r"spied\s+on|focus(?:ed|es|ing)?\s+on|aimed\s+at|impact(?:ed|ing)|affect(?:ed|ing)|"
    r"infect(?:ed|ing)|intrusions?|going\s+after|went\s+after|goes\s+after|"
    r"(?:organi[sz]ations?|entities|companies|firms|businesses|institutions|agencies|users|"
    r"customers|networks|governments?|ministries|victims|targets)\s+(?:in|of|across|from)|"
    r"located\s+in|in\s+countries\s+(?:such\s+as|including)|concentrated\s+in|"
    r"campaigns?\s+(?:in|against)|operations?\s+(?:in|against))\b",
    re.IGNORECASE,
)
# Every _ATTR_BEFORE match ends with one of these words and then whitespace.
_ATTR_BEFORE_LAST = frozenset({"to", "with", "by", "for", "of", "from", "in", "on", "the"})
# A demonym right before an attack noun is the attacker's state ("a North Korean
# cyberattack", "Chinese hacking", "Russian espionage"); a country's name there is more often
# the victim's ("the Japan cyberattack"), so the name form keeps the other rules.
_DEMONYMS = frozenset(d for c in COUNTRIES.values() for d in c.demonyms)
_ATTACK_AFTER = re.compile(
    r"(?:['’]s)?\s+(?:[a-z]+[- ]){0,1}?(?:cyber[- ]?attacks?|attacks?|hacks?|hacking|intrusions?"
    r"|(?:cyber[- ]?)?espionage|spying|heists?|cyber\s+(?:operations?|campaigns?|pressure))\b",
    re.IGNORECASE,
)
# Where the attacks come from: "cyberattacks against the UK now from Russia, Iran and China",
# "greater cyber pressure from China" (every country of the list, not only the first).
_FROM_ATTACKS = re.compile(
    r"(?i:\b(?:cyber[- ]?attacks?|attacks?|hacks?|hacking|intrusions?|threats?|pressure"
    r"|campaigns?|operations?|espionage)\s+(?:[\w-]+\s+){0,6}?from\s+(?:the\s+)?)"
    r"(?:[A-Z][\w-]*(?:\s[A-Z][\w-]*)?,?\s+){0,5}(?i:(?:and|or)\s+)?$",
)
# "Russian-speaking hackers", "Spanish-language lures": a language, neither a place nor a state.
_SPEAKING_AFTER = re.compile(r"[-‐‑ ](?:speaking|speakers?|language)\b", re.IGNORECASE)
# Agencies that co-sign another's advisory: "co-signed by agencies from Australia, Canada and
# the UK", "with partner agencies in Japan". Their countries are who speaks, not a place of
# the story (role "home"). The lead agency's own country keeps its role.
_COSIGN_BEFORE = re.compile(
    r"(?i:\b(?:co-?(?:signed|sealed|authored)|joined|supported|endorsed)\s+by"
    r"|\b(?:partner|allied|international|five\s+eyes)\s+(?:agencies|partners|authorities)"
    r"|\bcounterparts|\b(?:along\s+with|alongside|together\s+with)\s+(?:partners|agencies))"
    r"(?i:\s+(?:(?:agencies|partners|authorities|organi[sz]ations)\s+)?(?:(?:in|from|of)\s+)?"
    r"(?:the\s+)?)"
    r"(?:[A-Z][\w.-]*(?:\s[A-Z][\w.-]*)?,?\s+(?i:(?:and|or)\s+)?(?:the\s+)?){0,6}$",
)


def _attr_before(window: str) -> bool:
    """``_ATTR_BEFORE.search(window)``, skipped when the window's last word cannot end a
    match (the regex has no literal start and is tried at every offset). A non-ASCII word
    goes to the regex: under IGNORECASE "in" also matches "İn"."""
    words = window.rsplit(None, 1)
    last = words[-1] if words else ""
    if last.isascii() and last.lower() not in _ATTR_BEFORE_LAST:
        return False
    return _ATTR_BEFORE.search(window) is not None


# Every _TARGET_CUE match contains one of these (lower case): a cheap test before the regex.
_TARGET_CUE_WORDS = (
    "target",
    "attack",
    "against",
    "victim",
    "compromis",
    "breach",
    "infiltrat",
    "hit",
    "struck",
    "spy",
    "spied",
    "focus",
    "aimed",
    "impact",
    "affect",
    "infect",
    "intrusion",
    "going",
    "went",
    "goes",
    "organi",
    "entities",
    "companies",
    "firms",
    "businesses",
    "institutions",
    "agencies",
    "users",
    "customers",
    "networks",
    "government",
    "ministries",
    "located",
    "countries",
    "concentrated",
    "campaign",
    "operation",
)


@lru_cache(maxsize=1)
def _target_cue_anchors() -> ahocorasick.Automaton:
    """Built on first use, not at import: importing geo (the region table) costs nothing."""
    automaton = ahocorasick.Automaton()
    for word in _TARGET_CUE_WORDS:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


# Characters that IGNORECASE matches with an ASCII letter but lower() does not map to it.
_CASE_ODD = frozenset("\u0130\u0131\u017f")


def _target_cue(window: str) -> bool:
    """``_TARGET_CUE.search(window)``, skipped when the window holds none of its words."""
    if window.isascii() or not _CASE_ODD.intersection(window):
        for _ in _target_cue_anchors().iter(window.lower()):
            break
        else:
            return False
    return _TARGET_CUE.search(window) is not None


_SENTENCE_BREAK = re.compile(r"(?:[.!?][\"'”’)]?\s+(?=[A-Z\"“(])|\n)")


def country_role(text: str, start: int, end: int) -> Role:
    """The role of the country mentioned at text[start:end] (see module docstring)."""
    after = text[end : end + 90]
    if _ATTR_AFTER.match(after):
        return "attributed"
    before = text[max(0, start - 120) : start]
    if _attr_before(before[-60:]):
        return "attributed"
    if text[start:end] in _DEMONYMS and _ATTACK_AFTER.match(after):
        return "attributed"
    if "rom" in before[-90:] and _FROM_ATTACKS.search(before[-90:]):
        return "attributed"
    if _HOME_AFTER.match(after) or _SPEAKING_AFTER.match(after):
        return "home"
    if ("by" in before or "gen" in before or "part" in before) and _COSIGN_BEFORE.search(
        before[-100:]
    ):
        return "home"
    if _TARGET_AFTER.match(after):
        return "target"
    cut = 0
    for m in _SENTENCE_BREAK.finditer(before):
        cut = m.end()
    if _target_cue(before[cut:]):
        return "target"
    return "mentioned"


ROLE_RANK: dict[str, int] = {"attributed": 0, "target": 1, "mentioned": 2, "home": 3}
