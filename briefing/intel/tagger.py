"""The tagger: article text -> ``Entities`` (tag stage).

In: text (plus the title and the article's own host). Out: ``briefing.models.Entities``:
actors, countries with roles, regions, sectors, malware, CVEs, ATT&CK techniques and
indicators; entities ordered by first mention, ``mentions`` the exact surface forms.

How: one Aho-Corasick automaton (pyahocorasick) holds every name of the KB and gazetteers
(actor aliases, malware, countries, regions, sectors, vendor-scheme suffixes) as keys over
``normalize.scan_text`` (lower case, punctuation as spaces, same length as the text), each
key prefixed by a space so that it can only start at a word start. ``iter_long`` yields
leftmost-longest hits ("Cobalt Strike" beats "Cobalt", "North Korea" beats "Korea"), then the
few hits get word-end, case and context checks in Python. Regexes are used only for CVE /
ATT&CK / indicators and for unknown vendor-scheme actor names.

Ambiguity rule for actor aliases. An alias is *ambiguous* when it is a single word that is
also an ordinary word (it occurs in lower case in the KB's own prose, or is in
``intel/data/common_words.txt``), a malware family's name, a place or sector name, or has at most 3
characters. Every actor mention must contain a capital letter or a digit. An ambiguous
mention counts only
  (a) in an actor context: followed by "group", "gang", "team", "crew", "actor(s)", "APT",
      "hackers", "operators", ... or preceded by "dubbed", "known as", "tracked as", "aka",
      "attributed to", "the threat actor", ...; or
  (b) when the same actor is also named unambiguously in the same text; or
  (c) for the ordinary-word kind only (not malware, place or sector names): written as a
      proper name on its own -- capitalised, not at a sentence start, with no capitalised word
      right before or after it (so "Equation Editor" and "Lotus Notes" do not count, "the
      Leviathan actors" or "... by Patchwork in 2019" do).
Without such a context a name that is also a malware family is reported as that malware
("Winnti" alone is the malware; "the Winnti group" is APT41), and "Cobalt Strike" never
yields the Cobalt group -- except a vendor-scheme name (Bear, Panda, Kitten...) written in two
words where the malware's name is one word, with no malware word after it: "Cozy Bear" is
APT29, "CozyBear" and "Cozy Bear implant" are Malpedia's CozyDuke. A ransomware gang known
only from the ransomware cluster (kind "ransomware") is an actor unless every mention is
directly followed by a malware word
("LockBit ransomware", "LockBit 3.0" -> malware only; "LockBit claimed" -> actor and malware).

Where a mention may stand (all kinds). URLs and markdown link targets are blanked before
matching, so a name inside an address ("/groups/apt28/", "](https://x/ta505-report)") is no
mention. An actor name glued to path or identifier characters ("...)Play\\_VN_1.html",
"Lazarus.dll", "x=APT28") is none either; "APT33/Elfin" (a capital or digit across the slash)
still names two.

Further actor rules:
  (d) a name introduced as an actor's -- an actor noun, then "known as", "dubbed", "named",
      "called", "tracked as", or "naming the attackers ... as", then the name in quotes or as
      one CamelCase word ('the threat actor known as "Fancy Lazarus"', "a group named
      ReconHellcat") -- is an actor (``in_kb`` False unless the KB knows it), every other
      occurrence of it counts, and a KB name inside it ("Lazarus") is not a mention;
  (e) an unknown vendor-scheme name given as another name of a KB actor right next to it
      ("TA0001, also known as FIN7", "FIN7 (aka TA0001)") is that actor;
  (f) a one-word Title-case name followed by another capitalised word that is no group word,
      or by a hyphen and a capital ("Alibaba Cloud", "Alibaba-Cloud"), is the start of a longer
      name and no mention of the actor -- unless in an actor context;
  (g) list context: an item of "groups/actors such as|including|like X, Y and Z" is in an
      actor context (but a place name, "Cuba", never becomes an actor that way), and so is
      "X and Y APT groups";
  (h) passing mentions: an actor named once, past 40% of a text longer than 6,000 characters,
      is context (a comparison, a past case), not what the report is about -- unless that
      mention is in an actor context (the report introduces it as a group). The text of a
      markdown link that reads as a title ("[How X hit banks](url)") is a reference: it gives
      no such exemption.

Names that follow vendor naming schemes but are not in the KB (UNC1234, Storm-0558, DEV-0537,
TA4903, UAC-0050, "Void Rabisu", "<Word> Panda/Bear/Kitten/...", "<Word> Typhoon/Blizzard/...",
"BRONZE/IRON/GOLD <WORD>") are actors with ``in_kb`` False; where the scheme encodes the
state (Panda: China, Bear: Russia, Kitten: Iran, Chollima: North Korea, Typhoon: China,
Blizzard: Russia, Sandstorm: Iran, Sleet: North Korea, ...) that is their country.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import ahocorasick

from briefing.intel import decide, geo
from briefing.intel.iocs import extract_indicators, find_cves, find_techniques
from briefing.intel.kb import Actor, KnowledgeBase, cluster_files, load_kb, read_cluster
from briefing.intel.normalize import (
    alias_key,
    scan_text,
    scan_text_lowered,
    scan_variants,
    walk_order,
)
from briefing.intel.sectors import (
    ADJECTIVE_FORMS,
    NOT_AFTER,
    NOT_BEFORE,
    ORG_NOUNS,
    organisations,
    sector_terms,
)
from briefing.intel.vendors import find_vendors, vendor_table
from briefing.models import ActorRef, CountryRef, Entities, NamedRef

# payload kinds (payloads of one key are sorted by kind: a scheme payload comes last)
_ACTOR, _MALWARE, _COUNTRY, _REGION, _SECTOR, _SCHEME, _INTRO = 0, 1, 2, 3, 4, 5, 6
# actor ambiguity levels
_AMB_NONE, _AMB_WORD, _AMB_MALWARE, _AMB_PLACE = 0, 1, 2, 3

_MALWARE_WORDS = (  # noqa: SIM905
    "malware ransomware backdoor backdoors trojan trojans rat loader loaders stealer "
    "infostealer implant implants botnet dropper downloader wiper worm spyware rootkit "
    "keylogger payload payloads variant variants family families sample samples beacon "
    "framework toolkit tool tools miner cryptominer webshell virus encryptor builder "
    "binary binaries strain strains version versions locker decryptor module modules "
    "plugin plugins"
).split()
_MALWARE_AFTER = re.compile(r" +(?:" + "|".join(_MALWARE_WORDS) + r"|v?\d+(?: \d+)*)(?= |$)")
_MALWARE_AFTER_STRONG = re.compile(
    r" +(?:malware|ransomware|backdoor|backdoors|trojan|trojans|rat|loader|stealer"
    r"|infostealer|implant|botnet|dropper|downloader|wiper|worm|spyware|rootkit|keylogger"
    r"|miner|cryptominer|webshell|variant|variants|strain|payload|samples?|family)(?= |$)"
)
_MALWARE_CUE = re.compile(
    r" (?:malware|ransomware|backdoor|trojan|rat|loader|stealer|infostealer|implant|botnet"
    r"|dropper|downloader|wiper|worm|spyware|rootkit|keylogger|payload|c2|infection|infected"
    r"|samples?|variant|strain|encrypt(?:s|ed|ion)?|decrypt(?:or|s|ed)?|spam|phishing|exploit"
    r"|executable|dll|persistence) "
)
_GROUP_AFTER = re.compile(
    # an apposition: "EncryptHub, a notorious threat actor", "X, the ransomware gang"
    r" +(?:(?:a|an|the) +(?:[a-z]+ +){0,2}(?=(?:threat |hacking |ransomware |apt )?"
    r"(?:actor|group|gang|crew|collective)(?= |$)))?"
    r"(?:(?:and|or) +[a-z0-9]+ +(?=(?:apt |threat )?(?:groups|actors|gangs)(?= |$)))?"
    r"(?:apt |threat |hacking |hacker |cyber ?espionage |espionage |ransomware |cybercrime "
    r"|criminal |state sponsored |nation state |affiliated )?"
    r"(?:group|groups|gang|crew|actor|actors|apt|hackers|operators|adversary|intrusion set"
    r"|activity group|cluster|syndicate|collective|affiliates|threat actor|threat group"
    r"|cybercriminals|operation|operations)(?= |$)"
)
_GROUP_BEFORE = re.compile(
    r"(?:(?:group|actor|actors|apt|gang|adversary|hackers|operators|cluster|collective)"
    r" (?:known as|dubbed|called|named|tracked as|referred to as|designated)"
    r"|aka|a k a|also known as|also called|dubbed|tracked as|tracks as|attributed to|linked to"
    r"|associated with|overlaps with|overlap with|affiliated with|attribute this to"
    r"|the (?:threat actor|threat group|group|actor|apt|gang|adversary|hackers|operators)"
    r"|(?:operators?|affiliates?|members?|developers?|administrators?|operations?) of"
    r"|(?:apt|threat|hacking|espionage|ransomware|cybercrime|criminal) group)"
    r" +(?:the +)?$"
)
# What a group does to its victims, right after its name ("Patchwork targeted ...").
_ATTACK_VERB_RE = re.compile(
    r" (?:has |have |had |was |is )?(?:target(?:s|ed|ing)|attack(?:s|ed)|compromis(?:es|ed)"
    r"|breach(?:es|ed)|hack(?:s|ed)|spied|spies|stole|steals|deploy(?:s|ed)|exploit(?:s|ed)"
    r"|abus(?:es|ed)|launch(?:es|ed)|phish(?:es|ed)|impersonat(?:es|ed)|infiltrat(?:es|ed)"
    r"|return(?:s|ed)|resurfac(?:es|ed))\b"
)
# What a ransomware gang does that its ransomware cannot: "LockBit claimed the attack",
# "Qilin ransomware claims ..." (a headline's way of naming the gang).
_GANG_ACTS = re.compile(
    r" +(?:(?:ransomware|extortion)(?: +(?:gang|group|crew|operators?))? +)?"
    r"(?:claim(?:s|ed|ing)?|took responsibility|listed|lists|leaked|leaks|posted|published"
    r"|demand(?:s|ed|ing)?|threaten(?:s|ed|ing)?|added|says|said|announced|extorted"
    r"|negotiat(?:ed|es|ing)"
    # "Gunra ransomware targeting agencies", "X ransomware gang hits": the gang attacks (the
    # guide: a ransomware name is an actor where the text has it act, malware where a
    # victim is "encrypted with" it).
    r"|target(?:s|ed|ing)|hits?|attack(?:s|ed|ing)|exploit(?:s|ed|ing)|breach(?:es|ed)"
    r"|compromis(?:es|ed)|holds?|rises|returns|resurfaces|strikes|struck)(?= |$)"
)
# Capitals inside a word after a lower-case run that CamelCase does not explain: "AnDROid".
_ODD_CASE_RE = re.compile(r"[a-z][A-Z]{2,}[a-z]|^[a-z]+[A-Z]")
_SENTENCE_END = frozenset(".!?:;\n\"“”'(")

_NAMING = tomllib.loads(
    resources.files("briefing.intel").joinpath("data/naming.toml").read_text("utf-8")
)
# Vendor naming schemes for actors not in the KB: suffix word -> attributed country (or None).
_SCHEME_ANIMALS: dict[str, str | None] = {
    k: (v or None) for k, v in _NAMING["scheme_suffix"].items()
}
_SCHEME_STOP = frozenset(_NAMING["words"]["not_a_name"])
_ELEMENT_WORDS = frozenset(_NAMING["words"]["title_case_products"])
_BARE_NOT_REGION = frozenset(_NAMING["words"]["bare_region_not_region"])
# Scheme names are found through the automaton (a prefix or suffix word as key) and checked
# with these anchored patterns at the hit: no whole-text regex.
_SCHEME_CODE_RE = re.compile(
    r"(?:(?:UNC|Unc)\d{3,5}|(?:Storm|STORM|DEV|Dev)-\d{3,4}|TA\d{3,4}|UAC-\d{4}|TAG-\d{2,3}"
    r"|APT-?C-\d{2,3}|FIN\d{1,2}|TEMP\.[A-Z][a-zA-Z]+)(?![\w-])"
)
_SCHEME_TREND_RE = re.compile(r"(?:Void|Water|Earth) ([A-Z][a-z]{3,})(?![\w-])")
_SCHEME_SW_RE = re.compile(
    r"(?:BRONZE|IRON|GOLD|COBALT|NICKEL|TUNGSTEN|ALUMINUM|PLATINUM|ZINC|COPPER) [A-Z]{4,}(?![\w-])"
)
_SCHEME_PREV_RE = re.compile(r"([A-Z][a-z]{2,}) $")
_SCHEME_KEYS: dict[str, str] = {
    **{w: "code" for w in ("unc", "storm", "dev", "ta", "uac", "tag", "fin", "temp", "apt")},
    **{w: "trend" for w in ("void", "water", "earth")},
    **{
        w: "sw"
        for w in (
            "bronze iron gold cobalt nickel tungsten aluminum platinum zinc copper".split()  # noqa: SIM905
        )
    },
    **{w.lower(): "suffix" for w in _SCHEME_ANIMALS},
}
# Words that introduce a name ("the threat actor known as 'X'"); checked by _INTRO_RE at
# the hit, with an actor noun required right before (or, for "naming", right after).
_INTRO_KEYS = (
    "known as",
    "dubbed",
    "named",
    "called",
    "tracked as",
    "tracks",
    "track",
    "referred to as",
    "naming",
    "calls itself",
    "calling itself",
)
_INTRO_RE = re.compile(
    r"(?:known as|dubbed|named|called|tracked as|tracks? (?:it|them) as|referred to as"
    r"|call(?:s|ing) itself"
    r"|naming (?:the |these |this )?(?:attackers|actors?|group|threat actor|hackers|operators)"
    r"[^.\n“”\"]{0,80}? as)"
    r"[ \xa0]+(?P<q>[“\"‘'])?(?P<name>[A-Z][\w-]*(?:[ \xa0][A-Z][\w-]*){0,2})"
    r"(?P<close>[.,]?[”\"’'])?"
)
_INTRO_NOUN_RE = re.compile(
    r"(?:actor|actors|group|gang|crew|adversary|apt|attackers|hackers|operators|cluster"
    r"|intrusion set|collective|syndicate"
    # "a ransomware-as-a-service (RaaS) operation called X": the gang, not a campaign
    r"|(?:ransomware|raas|extortion|cybercrime)(?: +[a-z]+){0,5} +operation)"
    r"(?: (?:is|are|was|were|has been|have been|now|also|commonly|publicly|internally))* $"
)
_CAMEL_RE = re.compile(r"[A-Z][a-z]+[A-Z0-9][\w-]*")
# An unquoted introduced name of one or two Title-case words ("a group named Weaver Ant");
# a third capitalised word means the name runs on into something else.
_TITLE_NAME_RE = re.compile(r"[A-Z][a-z0-9]+(?:-[A-Za-z0-9]+)?(?: [A-Z][a-z0-9]+)?")
_AKA = r"(?:also known as|aka|a\.k\.a\.?|also tracked as|also referred to as|also called)"
_AKA_AFTER_RE = re.compile(r"[ \xa0]*[,(]?[ \xa0]*" + _AKA + r"[ \xa0]+(?:the[ \xa0]+)?")
_AKA_BEFORE_RE = re.compile(r"[ \xa0]*[,(][ \xa0]*" + _AKA + r"[ \xa0]+$")
_PREFIX_STATE: dict[str, str] = dict(_NAMING["scheme_prefix_state"])


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    surface: str


@dataclass(slots=True)
class _Acc:
    first: int
    mentions: dict[str, None] = field(default_factory=dict)
    count: int = 0
    ctx: int = 0  # mentions in an explicit actor context
    hits: list[tuple[int, str]] = field(default_factory=list)

    def add(self, pos: int, surface: str, ctx: bool = False) -> None:
        self.first = min(self.first, pos)
        self.mentions.setdefault(surface, None)
        self.count += 1
        self.ctx += ctx
        self.hits.append((pos, surface))


def _note(accs: dict[Any, _Acc], key: Any, pos: int, surface: str, ctx: bool = False) -> None:
    """``accs.setdefault(key, _Acc(pos)).add(pos, surface, ctx)`` without building an
    ``_Acc`` for every repeated mention (the hot loop's most frequent allocation)."""
    acc = accs.get(key)
    if acc is None:
        accs[key] = acc = _Acc(pos)
    acc.add(pos, surface, ctx)


@dataclass
class _Candidates:
    """What part 1 found in one text, before the decider and assembly."""

    text: str
    low: str
    source_host: str | None
    actors: dict[int, _Acc]
    unknown: dict[str, tuple[str | None, _Acc]]
    malware: dict[int, _Acc]
    countries: dict[str, _Acc]
    roles: dict[str, int]
    regions: dict[str, _Acc]
    sectors: dict[str, _Acc]
    # " " + the scan text (``scan_text_lowered``) of ``text``, URLs not blanked: the vendor
    # table scans it too, and making it is a pass over the whole text.
    plain_scan: str


# Texts up to this long are decided by the country model (see _assemble).
COUNTRY_MODEL_MAX_CHARS = 1500
PASSING_MAX = 1
PASSING_MIN_CHARS = 6000
PASSING_DEPTH = 0.4


class Tagger:
    """Finds threat-intel entities in text. Build once (``get_tagger``), call ``tag`` often."""

    def __init__(
        self,
        kb: KnowledgeBase,
        misp_sectors: list[tuple[str, list[str]]] | None = None,
        decider: bool = True,
    ):
        self.kb = kb
        # False: every candidate is kept (``benchmarks.train_tagger`` learns from them).
        self.decider = decider
        # The decider's models by kind ("sector", "country"); None: the committed weights
        # (``data/decider.json``). ``benchmarks.tag_eval --cv`` sets ones fitted without the
        # block it scores.
        self.models: dict[str, decide.Model] | None = None
        self._automaton = ahocorasick.Automaton()
        self._build(misp_sectors or [])

    # --- building -------------------------------------------------------------------------

    def _build(self, misp_sectors: list[tuple[str, list[str]]]) -> None:
        kb = self.kb
        keys: dict[str, dict[tuple[int, Any], tuple[int, Any, str, int]]] = {}

        def add(variant: str, payload: tuple[int, Any, str, int]) -> None:
            if len(variant.replace(" ", "")) < 2:
                return
            if payload[0] in (_SCHEME, _INTRO):
                keys.setdefault(" " + variant, {})[(payload[0], payload[1])] = payload
                return
            slot = keys.setdefault(" " + variant, {})
            slot.setdefault((payload[0], payload[1]), payload)

        place_keys: set[str] = set()
        for term in geo.geo_terms():
            v = " ".join(scan_text(term.form).split())
            kind = _COUNTRY if term.kind == "country" else _REGION
            add(v, (kind, term.target, term.form, int(term.exact)))
            place_keys.add(alias_key(term.form))
        for form, canon, exact in sector_terms(misp_sectors):
            v = " ".join(scan_text(form).split())
            add(v, (_SECTOR, canon, form, int(exact)))
            place_keys.add(alias_key(form))

        malware_keys = set(kb.malware_index)
        for actor in kb.actors:
            for name in (actor.name, *actor.aliases):
                key = alias_key(name)
                resolved = kb.actor_index.get(key, actor.id)
                amb = self._actor_ambiguity(name, key, malware_keys, place_keys)
                full_forms = scan_variants(name, drop_optional=False)
                for v in scan_variants(name):
                    v_amb = amb
                    if v not in full_forms:
                        # "Shell Crew" -> "Shell", "Hacking Team" -> "Hacking": a trimmed form
                        # that is an ordinary word would be noise.
                        vk = v.replace(" ", "")
                        if vk in kb.common_words or vk in malware_keys or vk in place_keys:
                            continue
                        v_amb = self._actor_ambiguity(v, vk, malware_keys, place_keys)
                    add(v, (_ACTOR, resolved, name, v_amb))
        self._twin: dict[int, int] = {}
        for actor in kb.actors:
            base = _GENERIC_TAIL.sub("", actor.name)
            twin = kb.actor_index.get(alias_key(base)) if base != actor.name else None
            if (
                twin is not None
                and twin != actor.id
                and alias_key(kb.actors[twin].name) == alias_key(base)
            ):
                self._twin[actor.id] = twin
        for fam in kb.malware:
            for name in (fam.name, *fam.aliases):
                key = alias_key(name)
                if len(key) < 3 or key.isdigit():
                    continue
                risky = self._malware_risky(name, key, place_keys)
                # A ransomware's spelling is also its gang's ("Black Basta" / BlackBasta):
                # the gang may be named in every way its ransomware is.
                gang = kb.actor_index.get(key)
                if gang is not None and kb.actors[gang].kind != "ransomware":
                    gang = None
                amb = self._actor_ambiguity(name, key, malware_keys, place_keys)
                for v in scan_variants(name, drop_optional=False):
                    add(v, (_MALWARE, fam.id, name, risky))
                    if gang is not None:
                        add(v, (_ACTOR, gang, name, amb))
        for word, sub in _SCHEME_KEYS.items():
            add(word, (_SCHEME, sub, word, 0))
        for word in _INTRO_KEYS:
            add(word, (_INTRO, word, word, 0))
        for k in sorted(keys, key=walk_order):
            slot = keys[k]
            payloads = tuple(sorted(slot.values(), key=lambda p: p[0]))
            # Per key, precomputed for the tag loop: the first malware payload, whether any
            # payload is an actor's.
            mal = next((p for p in payloads if p[0] == _MALWARE), None)
            has_actor = any(p[0] == _ACTOR for p in payloads)
            needs_cap = all(_needs_capital(p) for p in payloads)
            self._automaton.add_word(k, (len(k), payloads, mal, has_actor, needs_cap))
        self._automaton.make_automaton()

    def _actor_ambiguity(self, name: str, key: str, malware: set[str], places: set[str]) -> int:
        single = len(name.split()) == 1 and "-" not in name
        if key in places:
            return _AMB_PLACE
        if key in malware:
            return _AMB_MALWARE
        if single and (key in self.kb.common_words or len(key) <= 3):
            return _AMB_WORD
        return _AMB_NONE

    def _malware_risky(self, name: str, key: str, places: set[str]) -> int:
        """0: plain; 1: needs a malware word right after it; 2: needs a malware cue nearby."""
        if key in places or len(key) <= 3:
            return 1
        single = len(name.split()) == 1
        if single and (key in self.kb.common_words or key in self.kb.actor_index):
            return 1
        # A plain capitalised word ("Trump", "Olympic") may be a person or a brand: it counts
        # as malware only with malware vocabulary in the same stretch of text.
        if single and re.fullmatch(r"[A-Z][a-z]+", name):
            return 2
        return 0

    # --- tagging --------------------------------------------------------------------------

    def tag(self, text: str, title: str = "", source_host: str | None = None) -> Entities:
        """Entities found in ``title`` and ``text`` (see module docstring for the rules):
        candidates -> decider -> assembly."""
        return self._assemble(self._candidates(text, title, source_host))

    def sector_candidates(
        self, text: str, title: str = ""
    ) -> dict[str, list[tuple[str, list[float]]]]:
        """Every mention of every sector candidate with its decider features (training)."""
        c = self._candidates(text, title, None)
        out: dict[str, list[tuple[str, list[float]]]] = {}
        if not decide.harm_in(c.low):
            return out
        for k in c.sectors:
            found = list(sector_features(c.text, c.sectors, k))
            if found:
                out[k] = found
        return out

    def country_candidates(self, text: str) -> list[tuple[str, list[float]]]:
        """Every country the rules place in the story (target or mentioned, after actors'
        states are ranked attributed) with its decider features (training)."""
        c = self._candidates(text, "", None)
        decider, self.decider = self.decider, False
        try:
            self._assemble(c)  # ranks the actors' states in c.roles
        finally:
            self.decider = decider
        return [
            (code, self._country_features(c.text, c.countries, code, rank))
            for code in sorted(c.countries)
            if (rank := c.roles.get(code, 2)) in (1, 2)
        ]

    @staticmethod
    def _country_features(
        text: str, countries: dict[str, _Acc], code: str, rank: int
    ) -> list[float]:
        name = geo.country_name(code) or code
        return decide.country_features(text, countries[code].hits, rank, len(countries), name)

    def _model(self, kind: str) -> decide.Model | None:
        return (self.models or decide.models()).get(kind)

    def _candidates(self, text: str, title: str, source_host: str | None) -> _Candidates:
        """Part 1: every name the KB and gazetteers find, with the checks that need only the
        words around one hit (case, word ends, actor context)."""
        full = f"{title}\n\n{text}" if title else text
        low = full.lower()
        plain_scan = " " + scan_text_lowered(full, low)
        scan = _mask_urls(full, plain_scan)
        n = len(scan)

        actors: dict[int, _Acc] = {}
        amb_actor_hits: list[tuple[int, _Hit, bool]] = []  # (actor id, hit, malware fallback)
        malware: dict[int, _Acc] = {}
        countries: dict[str, _Acc] = {}
        roles: dict[str, int] = {}
        regions: dict[str, _Acc] = {}
        sectors: dict[str, _Acc] = {}
        taken: list[tuple[int, int]] = []
        # actor id -> (malware payload, hit): names that are an actor's and a malware's
        amb_malware_fallback: dict[int, list[tuple[tuple[int, Any, str, int], _Hit]]] = {}

        unknown: dict[str, tuple[str | None, _Acc]] = {}
        introduced: dict[str, int | None] = {}  # name -> KB actor id (None: not in the KB)
        for e, (klen, payloads, mal, has_actor, needs_cap) in self._automaton.iter_long(scan):
            start = e - klen + 1  # original offset of the word start
            last = payloads[-1]
            if last[0] == _INTRO:
                self._intro_at(full, scan, start, introduced)
                if len(payloads) == 1:
                    continue
                last = payloads[-2]
            if last[0] == _SCHEME and last[1] != "suffix":
                if self._scheme_at(full, start, last[1], unknown, actors, taken):
                    continue
                if len(payloads) == 1:
                    continue
            if e + 1 < n and scan[e + 1] != " ":
                continue
            end = e
            if needs_cap and _CAP_OR_DIGIT.search(full, start, end) is None:
                # "it", "one", "final": a key every reading of which needs a capital or a
                # digit, written in lower case. Most hits of a text are these; skipping them
                # before any slicing is a third of this loop's time.
                continue
            surface = full[start:end]
            if start and full[start - 1] == "." and full[start - 2 : start - 1] in _DOT_LEAD:
                continue  # ".NET", ".lnk": a framework or a file extension, never an entity
            if last[0] == _SCHEME and last[1] == "suffix":
                if self._scheme_suffix(full, start, end, unknown, taken):
                    continue
                if len(payloads) == 1:
                    continue
            after = scan[e + 1 : e + 60]
            before = scan[start - 60 if start > 60 else 0 : start + 1]
            done = False
            glued = has_actor and _glued(full, start, end)
            ctx: int | None = None  # actor context (_actor_context), for actor hits only
            # 1. An actor in an explicit actor context.
            for p in payloads if has_actor else ():
                if (
                    p[0] == _ACTOR
                    and not glued
                    and self._actor_surface_ok(surface)
                    and (p[3] != _AMB_NONE or self.kb.actors[p[1]].kind == "ransomware")
                ):
                    if ctx is None:
                        ctx = _actor_context(after, before, scan[max(0, start - 200) : start + 1])
                    if (
                        not ctx
                        and self.kb.actors[p[1]].kind == "ransomware"
                        and full[end : end + 1] == " "  # "with X, demanding": not X's act
                        and _GANG_ACTS.match(after)
                    ):
                        ctx = 2  # "LockBit claimed the attack": the gang acts
                    if not ctx or (ctx == 1 and p[3] == _AMB_PLACE):
                        continue
                    ref = _in_link_title(full, start, end)
                    _note(actors, p[1], start, surface, not ref)
                    taken.append((start, end))
                    done = True
                    break
            if done:
                continue
            # 2. Malware with a malware word after it (a name that is also an ordinary or
            # short word needs a word that only malware takes: "CRM tools" is no malware).
            if (
                mal is not None
                and (_MALWARE_AFTER_STRONG if mal[3] else _MALWARE_AFTER).match(after) is not None
                and self._malware_surface_ok(surface, mal)
            ):
                _note(malware, mal[1], start, surface)
                continue
            # 3. Places and sectors.
            for p in payloads:
                kind = p[0]
                if kind == _COUNTRY:
                    if self._geo_ok(full, start, end, p):
                        if p[3] and p[2].endswith(".") and full[end : end + 1] == ".":
                            surface = full[start : end + 1]
                        _note(countries, p[1], start, surface)
                        if roles.get(p[1], 9) > 0:  # already attributed: nothing ranks lower
                            r = geo.ROLE_RANK[geo.country_role(full, start, end)]
                            roles[p[1]] = min(roles.get(p[1], 9), r)
                        done = True
                        break
                elif kind == _REGION:
                    if self._region_ok(full, start, end, p, after, before):
                        for name in geo.MULTI_REGIONS.get(p[1], (p[1],)):
                            _note(regions, name, start, surface)
                        done = True
                        break
                elif kind == _SECTOR and self._sector_ok(full, start, end, p, after, before):
                    _note(sectors, p[1], start, surface)
                    done = True
                    break
            if done:
                continue
            # 4. Actors without explicit context.
            for p in payloads if has_actor else ():
                if p[0] != _ACTOR or glued or not self._actor_surface_ok(surface):
                    continue
                actor = self.kb.actors[p[1]]
                amb = p[3]
                if actor.kind == "actor" and (
                    amb == _AMB_NONE
                    # An actor's own canonical name counts even if malware shares it
                    # ("Kimsuky", "OilRig"); an alias that is malware needs context...
                    or (amb == _AMB_MALWARE and alias_key(actor.name) == alias_key(surface))
                    # ...unless the text spells a vendor-scheme name as the actor's two
                    # words where the malware is one, and no malware word follows: "Cozy
                    # Bear" is APT29, "CozyBear" (or "Cozy Bear implant") Malpedia's CozyDuke.
                    or (
                        amb == _AMB_MALWARE
                        and " " in surface
                        and p[2].split()[-1].capitalize() in _SCHEME_ANIMALS
                        and (mal is None or " " not in mal[2])
                        and _MALWARE_AFTER.match(after) is None
                    )
                ):
                    if _TITLE_WORD_RE.fullmatch(surface) and _compound(full, start, end):
                        continue
                    if ctx is None:
                        ctx = _actor_context(after, before, scan[max(0, start - 200) : start + 1])
                    ref = ctx > 0 and _in_link_title(full, start, end)
                    _note(actors, p[1], start, surface, ctx > 0 and not ref)
                    taken.append((start, end))
                    done = True
                    break
                if (
                    amb == _AMB_WORD
                    and actor.kind == "actor"
                    and self._proper_name_alone(full, start, end)
                    and (surface.isupper() or surface.lower() not in _ELEMENT_WORDS)
                ):
                    # Rule (c) accepts it on its own.
                    _note(actors, p[1], start, surface)
                    taken.append((start, end))
                    done = True
                    break
                hit = _Hit(start, end, surface)
                amb_actor_hits.append((p[1], hit, mal is not None))
                if mal is not None:
                    amb_malware_fallback.setdefault(p[1], []).append((mal, hit))
                done = True
                break
            if done:
                continue
            # 5. Malware on its own.
            if (
                mal is not None
                and self._malware_surface_ok(surface, mal)
                and (
                    mal[3] == 0
                    or (mal[3] == 2 and _MALWARE_CUE.search(scan, max(0, start - 150), e + 150))
                )
            ):
                _note(malware, mal[1], start, surface)

        # Rule (b): ambiguous mentions of actors named unambiguously elsewhere join them;
        # the rest fall back to malware where the name is also malware.
        for aid, hit, _fallback in amb_actor_hits:
            if aid in actors:
                actors[aid].add(hit.start, hit.surface)
        for aid, lst in amb_malware_fallback.items():
            if aid in actors:
                continue
            for mal, hit in lst:
                # The malware reading needs what the name needs as malware alone: a
                # capital or digit, and for an ordinary or short word ("Global") a word
                # that only malware takes right after it, or malware talk nearby.
                if not (hit.surface[:1].isupper() or any(ch.isdigit() for ch in hit.surface)):
                    continue
                key = alias_key(mal[2])
                if mal[3] == 1 and (key in self.kb.common_words or len(key) <= 3):
                    continue
                if mal[3] == 2 and not _MALWARE_CUE.search(
                    scan, max(0, hit.start - 150), hit.end + 150
                ):
                    continue
                _note(malware, mal[1], hit.start, hit.surface)

        if introduced:
            self._apply_introduced(full, introduced, actors, unknown)
        if unknown:
            _link_aliases(full, actors, unknown)
        return _Candidates(
            full,
            low,
            source_host,
            actors,
            unknown,
            malware,
            countries,
            roles,
            regions,
            sectors,
            plain_scan,
        )

    # --- checks ---------------------------------------------------------------------------

    @staticmethod
    def _actor_surface_ok(surface: str) -> bool:
        return any(ch.isupper() or ch.isdigit() for ch in surface)

    @staticmethod
    def _malware_surface_ok(surface: str, payload: tuple[int, Any, str, int]) -> bool:
        name = payload[2]
        if _ODD_CASE_RE.search(name) and surface != name:
            # A name written in odd capitals ("AnDROid", "iSpy") is that name only so
            # written: "Android" is the platform.
            return False
        if payload[3]:
            return surface.replace(" ", "") == payload[2].replace(" ", "") or surface[:1].isupper()
        return any(ch.isupper() or ch.isdigit() for ch in surface) or payload[2].islower()

    @staticmethod
    def _proper_name_alone(text: str, start: int, end: int) -> bool:
        surface = text[start:end]
        if not surface[:1].isupper():
            return False
        i = start - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        if i < 0 or text[i] in _SENTENCE_END:
            # At a sentence start capitals say nothing; an attacker's verb right after
            # does ("Patchwork targeted ...").
            return _ATTACK_VERB_RE.match(text, end) is not None
        # Part of a hyphenated compound ("Alibaba-Cloud", "Kaspersky-Leviathan"): not alone.
        if text[end : end + 1] == "-" or text[start - 1 : start] == "-":
            return False
        prev = text[max(0, i - 30) : i + 1].split()
        if prev and prev[-1][:1].isupper():
            return False
        nxt = text[end : end + 30].split()
        if nxt and nxt[0][:1].isupper():
            return False
        if surface.isupper() and len(surface) >= 4:
            return True
        return not surface.isupper()

    @staticmethod
    def _geo_ok(text: str, start: int, end: int, p: tuple[int, Any, str, int]) -> bool:
        if _CURRENCY.match(text, end):
            return False  # "41 million US dollars": a currency, not a place in the story
        if p[3]:
            return geo.exact_form_ok(text, start, end, p[2])
        # Capitalised only ("china" is porcelain). "Georgia" always maps to GE: telling the
        # US state apart is not attempted.
        return text[start : start + 1].isupper()

    @staticmethod
    def _region_ok(
        text: str, start: int, end: int, p: tuple[int, Any, str, int], after: str, before: str
    ) -> bool:
        surface = text[start:end]
        if p[3]:
            return surface.replace(" ", "") == p[2].replace(" ", "")
        if not surface[:1].isupper():
            return False
        return surface not in _BARE_NOT_REGION

    def _sector_ok(
        self,
        text: str,
        start: int,
        end: int,
        p: tuple[int, Any, str, int],
        after: str,
        before: str,
    ) -> bool:
        surface = text[start:end]
        if p[3] and surface != p[2]:
            return False
        if (
            p[3]
            and surface.lower() in self.kb.common_words
            and start < decide.title_end(text)
            and _title_cased(text[: decide.title_end(text)])
        ):
            # An organisation named by an ordinary word ("Target") says nothing in a title
            # whose every word is capitalised ("Scams Target Users").
            return False
        low = " ".join(surface.lower().split())
        if low in ADJECTIVE_FORMS:
            nxt = after.split()[:1]
            if not (
                (nxt and (nxt[0] in ORG_NOUNS or nxt[0] in ("and", "or")))
                or text[end : end + 1] == ","
                or text[max(0, start - 2) : start].strip() == ","
            ):
                return False
        for word in NOT_BEFORE.get(low, ()):
            if after.startswith(" " + word + " ") or after == " " + word:
                return False
        prev = before.split()[-1:] if before.strip() else []
        for word in NOT_AFTER.get(low, ()):
            if prev and prev[0] == word:
                return False
        if low in ("government", "governments"):
            # "the Iranian government" / "Iran's government" names a state, not a victim.
            prev_raw = text[max(0, start - 40) : start].split()
            if prev_raw:
                w = prev_raw[-1].rstrip("'’s").strip(".,")
                if geo.country_code_for_name(w) is not None:
                    return False
        return True

    def _scheme_at(
        self,
        text: str,
        start: int,
        sub: str,
        unknown: dict[str, tuple[str | None, _Acc]],
        actors: dict[int, _Acc],
        taken: list[tuple[int, int]],
    ) -> bool:
        """A vendor-scheme name starting at ``start`` (code, Trend Micro, Secureworks)."""
        country: str | None = None
        if sub == "code":
            m = _SCHEME_CODE_RE.match(text, start)
            if m is None:
                return False
            name = _format_code(m.group(0))
        elif sub == "trend":
            m = _SCHEME_TREND_RE.match(text, start)
            if m is None or m.group(1).lower() in self.kb.common_words:
                return False
            name = m.group(0)
            country = _PREFIX_STATE.get(name.split()[0])
        else:
            m = _SCHEME_SW_RE.match(text, start)
            if m is None:
                return False
            name = " ".join(w.capitalize() for w in m.group(0).split())
            country = _PREFIX_STATE.get(m.group(0).split()[0])
        surface = m.group(0)
        known = self.kb.lookup(surface)
        taken.append((start, m.end()))
        if known is not None:
            _note(actors, known.id, start, surface)
            return True
        unknown.setdefault(name, (country, _Acc(start)))[1].add(start, surface)
        return True

    def _scheme_suffix(
        self,
        text: str,
        start: int,
        end: int,
        unknown: dict[str, tuple[str | None, _Acc]],
        taken: list[tuple[int, int]],
    ) -> bool:
        """ "<Word> Panda/Typhoon/..." where <Word> is a capitalised word, not a stop word,
        country or demonym, and not at a sentence start."""
        if not text[start : start + 1].isupper():
            return False
        m = _SCHEME_PREV_RE.search(text, max(0, start - 30), start)
        if m is None:
            return False
        adj = m.group(1)
        s0 = m.start(1)
        if (
            adj in _SCHEME_STOP
            or geo.country_code_for_name(adj)
            or _sentence_start(text, s0)
            or any(ts < end and s0 < te for ts, te in taken)
            or _MALWARE_AFTER.match(scan_text(text[end : end + 20]))
        ):
            return False
        animal = text[start:end]
        name = f"{adj} {animal}"
        known = self.kb.lookup(name)
        if known is not None:
            return False  # the automaton would have matched it; a variant we do not trust
        country = _SCHEME_ANIMALS.get(animal.capitalize())
        unknown.setdefault(name, (country, _Acc(s0)))[1].add(s0, name)
        taken.append((s0, end))
        return True

    def _intro_at(
        self, text: str, scan: str, start: int, introduced: dict[str, int | None]
    ) -> None:
        """Rule (d): a name introduced as an actor's ("the threat actor known as 'X'")."""
        m = _INTRO_RE.match(text, start)
        if m is None:
            return
        name = m.group("name").replace("\xa0", " ")
        quoted = m.group("q") is not None and m.group("close") is not None
        if not quoted and not (
            (" " not in name and _CAMEL_RE.fullmatch(name)) or _TITLE_NAME_RE.fullmatch(name)
        ):
            return
        if not text.startswith("naming", start) and not _INTRO_NOUN_RE.search(
            scan, max(0, start - 70), start + 1
        ):
            return
        if name.split()[0] in _SCHEME_STOP or name.lower() in self.kb.common_words:
            return
        known = self.kb.lookup(name)
        introduced.setdefault(name, None if known is None else known.id)

    def _apply_introduced(
        self,
        text: str,
        introduced: dict[str, int | None],
        actors: dict[int, _Acc],
        unknown: dict[str, tuple[str | None, _Acc]],
    ) -> None:
        """Every occurrence of an introduced name is a mention of it, and a KB name found
        inside it ("Lazarus" in "Fancy Lazarus") is not a mention of anything else."""
        for name, aid in introduced.items():
            spans: list[tuple[int, int]] = []
            i = text.find(name)
            while i >= 0:
                spans.append((i, i + len(name)))
                i = text.find(name, i + len(name))
            if not spans:
                continue
            if aid is None:
                cc = _SCHEME_ANIMALS.get(name.split()[-1]) if " " in name else None
                acc = unknown.setdefault(name, (cc, _Acc(spans[0][0])))[1]
            else:
                acc = actors.setdefault(aid, _Acc(spans[0][0]))
            seen = {p for p, _ in acc.hits}
            for s, _e in spans:
                if s not in seen:
                    acc.add(s, name, True)
                else:
                    acc.ctx += 1
            for other, oacc in list(actors.items()):
                if other == aid:
                    continue
                kept = [
                    (p, sf)
                    for p, sf in oacc.hits
                    if not any(s <= p and p + len(sf) <= e for s, e in spans)
                ]
                if len(kept) == len(oacc.hits):
                    continue
                if not kept:
                    del actors[other]
                    continue
                fresh = _Acc(kept[0][0])
                for p, sf in kept:
                    fresh.add(p, sf)
                fresh.ctx = oacc.ctx
                actors[other] = fresh

    # --- actor decisions ------------------------------------------------------------------

    def _settle_actors(
        self,
        text: str,
        low: str,
        actors: dict[int, _Acc],
        unknown: dict[str, tuple[str | None, _Acc]],
    ) -> None:
        """Decisions over all of a text's actor candidates at once (in place): gangs the
        text has act, one actor for names the text or the KB says are one, and none for a
        name that stands only as history, as a malware family or as a company."""
        self._gangs_acting(text, low, actors, unknown)
        # One gang listed twice in the KB ("DragonForce Ransomware Group" and "DragonForce",
        # which may be another's name too): the longer, plainer entry where both are named.
        for aid in [a for a in actors if self._twin.get(a) in actors]:
            _merge_acc(actors[aid], actors.pop(self._twin[aid]))
        if any(c in low for c in _AKA_CUES):
            self._merge_aka(text, actors, unknown)
        company = _company_keys()
        for aid in list(actors):
            acc = actors[aid]
            gang = self.kb.actors[aid].kind == "ransomware"
            if not any(self._acting(text, p, sf, acc.ctx, gang, company) for p, sf in acc.hits):
                del actors[aid]
        for name in list(unknown):
            acc = unknown[name][1]
            if not any(self._acting(text, p, sf, acc.ctx, True, company) for p, sf in acc.hits):
                del unknown[name]

    def _acting(
        self, text: str, pos: int, surface: str, ctx: int, gang: bool, company: frozenset[str]
    ) -> bool:
        """Whether this mention names the actor as one: not as history ("the successor of
        Conti"), not a family named after it ("ToxicPanda banking trojan"), not a company
        ("Alibaba Cloud", "Alibaba's servers") unless the text calls it a group."""
        before = " ".join(text[max(0, pos - 40) : pos].split()) + " "
        if _HISTORY_BEFORE.search(before):
            return False
        end = pos + len(surface)
        if not gang and _NAMED_AS_MALWARE.match(text, end):
            return False
        if not ctx and alias_key(surface) in self.kb.common_words:
            # "Plug and Play": an ordinary word joined to another capitalised one that is no
            # group's name is a compound name ("Akira and Play" is a list of gangs).
            m = _JOINED_BEFORE.search(before)
            if m is not None and self.kb.lookup(m.group(1)) is None:
                return False
        return bool(ctx) or (
            alias_key(surface) not in company and _COMPANY_AFTER.match(text, end) is None
        )

    def _merge_aka(
        self,
        text: str,
        actors: dict[int, _Acc],
        unknown: dict[str, tuple[str | None, _Acc]],
    ) -> None:
        """ "X, also known as Y and Z" makes one actor of X, Y and Z: the first the text
        names is kept, the others become its mentions (even two KB entries)."""
        at: dict[int, tuple[str, int | str]] = {}  # hit offset -> (surface, actor key)
        for aid, acc in actors.items():
            for p, sf in acc.hits:
                at[p] = (sf, aid)
        for name, (_cc, acc) in unknown.items():
            for p, sf in acc.hits:
                at[p] = (sf, name)
        if not at:
            return

        def who(pos: int, name: str) -> int | str | None:
            for p, (_sf, key) in at.items():
                if pos <= p < pos + len(name):
                    return key
            return None

        common = self.kb.common_words
        for (apos, aname), others in _aka_groups(text):
            sides = [(apos, aname), *others]
            keys = [who(p, n) for p, n in sides]
            keep = next((k for k in keys if k is not None), None)
            if keep is None:
                continue
            acc = actors[keep] if isinstance(keep, int) else unknown[keep][1]
            for (p, n), k in zip(sides, keys, strict=True):
                if k == keep:
                    continue
                if k is None:
                    n = _strip_lead(n)
                    if n.lower() in common:
                        continue
                    acc.add(text.find(n, p), n, True)
                    continue
                other = actors.pop(k) if isinstance(k, int) else unknown.pop(k)[1]
                if other is not acc:
                    _merge_acc(acc, other)
                    for q, _sf in other.hits:
                        at[q] = (_sf, keep)

    def _gangs_acting(
        self,
        text: str,
        low: str,
        actors: dict[int, _Acc],
        unknown: dict[str, tuple[str | None, _Acc]],
    ) -> None:
        """Gangs the text introduces by what they do: "INC Ransomware Group holds ...",
        "after ExfilSquad claims data theft", "'The Gentlemen' rapidly rises". A KB name is
        that actor; a name the KB lacks counts when it cannot be a word or a company: quoted,
        or one CamelCase word, and no vendor or organisation of the tables."""
        if not any(c in low for c in _GANG_INTRO_CUES):
            return
        common = self.kb.common_words
        company = _company_keys()
        intros = (
            _matches_at(low, _GANG_INTRO_CUES, _GANG_INTRO_RE, -1)
            if len(low) == len(text)
            else _GANG_INTRO_ANYCASE.finditer(text)
        )
        for v in intros:
            m = _GANG_NAME_RE.search(text, max(0, v.start() - 60), v.start())
            if m is None:
                continue
            quoted = m.group("q") is not None
            raw = m.group("q") or m.group("n")
            pos = m.start("q") if quoted else m.start("n")
            words = raw.split()
            for k in range(len(words)):  # the longest tail that is a name
                name = " ".join(words[k:])
                p = pos + raw.index(name) if k else pos
                key = alias_key(name)
                if not key or key in common or key in company or words[k].lower() in _ARTICLES:
                    continue
                known = self.kb.lookup(name)
                if known is not None and known.kind in ("actor", "ransomware"):
                    if known.id not in actors or p not in {q for q, _ in actors[known.id].hits}:
                        actors.setdefault(known.id, _Acc(p)).add(p, name, True)
                    break
                # A name the KB lacks needs a gang's act: "NewCore emerges from stealth" is a
                # start-up's news.
                if (
                    known is None
                    and v.group("v") is None
                    and (quoted or (" " not in name and _CAMEL_RE.fullmatch(name)))
                ):
                    if geo.country_code_for_name(name) is None:
                        unknown.setdefault(name, (None, _Acc(p)))[1].add(p, name, True)
                    break

    # --- output ---------------------------------------------------------------------------

    def _assemble(self, found: _Candidates) -> Entities:
        """Part 3: the decided candidates as ``Entities`` (roles, derived regions, order)."""
        text, low, source_host = found.text, found.low, found.source_host
        actors, unknown, malware = found.actors, found.unknown, found.malware
        countries, roles = found.countries, found.roles
        regions, sectors = found.regions, found.sectors
        role_names = ("attributed", "target", "mentioned")
        actor_refs: list[tuple[int, ActorRef]] = []
        actors, unknown = dict(actors), dict(unknown)
        self._settle_actors(text, low, actors, unknown)
        actors = {aid: acc for aid, acc in actors.items() if not _passing(acc, len(text))}
        unknown = {k: v for k, v in unknown.items() if not _passing(v[1], len(text))}
        # The text's own attribution ("a Chinese-affiliated threat actor") names the state of
        # an actor the KB has none for — only when that cannot be ambiguous: one such actor,
        # one attributed state.
        said = sorted(code for code, rank in roles.items() if rank == 0)
        stateless = [aid for aid in actors if not self.kb.actors[aid].country_code]
        stateless_unknown = [name for name, (cc, _acc) in unknown.items() if not cc]
        from_text: str | None = None
        if len(said) == 1 and len(stateless) + len(stateless_unknown) == 1:
            from_text = said[0]
            if stateless_unknown:
                name = stateless_unknown[0]
                unknown[name] = (from_text, unknown[name][1])
        for aid, acc in actors.items():
            a = self.kb.actors[aid]
            ref = _actor_ref(a, tuple(acc.mentions))
            if aid in self._twin:  # its other KB entry's name is one of its names
                ref = replace(ref, aliases=(*ref.aliases, self.kb.actors[self._twin[aid]].name))
            if from_text and stateless == [aid]:
                ref = replace(ref, country=geo.country_name(from_text), country_code=from_text)
            actor_refs.append((acc.first, ref))
            if a.country_code and a.country_code in geo.COUNTRIES:
                roles[a.country_code] = 0
                countries.setdefault(a.country_code, _Acc(len(text)))
        for name, (cc, acc) in unknown.items():
            actor_refs.append(
                (
                    acc.first,
                    ActorRef(
                        name=name,
                        aliases=(),
                        country=geo.country_name(cc) if cc else None,
                        country_code=cc,
                        in_kb=False,
                        mentions=tuple(acc.mentions),
                    ),
                )
            )
            if cc:
                roles[cc] = 0
                countries.setdefault(cc, _Acc(len(text)))
        actor_refs.sort(key=lambda t: (t[0], t[1].name))

        country_refs: list[tuple[int, CountryRef]] = []
        # The country model was fitted on feed items (title and teaser, under 600
        # characters): a long report, where every feature means something else (the "early"
        # third, a list of many countries), keeps the rules' roles.
        short = len(text) <= COUNTRY_MODEL_MAX_CHARS
        vendors = find_vendors(text, low, found.plain_scan)
        # A country named only as a vendor's name ("Aruba" of HPE Aruba) is no place.
        vendor_names = {alias_key(m) for v in vendors for m in (v.name, *v.mentions)}
        place_model = self._model("country") if self.decider and short else None
        for code, acc in countries.items():
            rank = roles.get(code, 2)
            if rank >= len(role_names):
                continue  # only where the reporter or a person is from (geo: "home")
            if acc.mentions and all(alias_key(m) in vendor_names for m in acc.mentions):
                continue
            if (
                rank
                and place_model is not None
                and not place_model.accepts(self._country_features(text, countries, code, rank))
            ):
                continue  # named, but no place of the story (the decider)
            role = role_names[rank]
            country_refs.append(
                (
                    acc.first,
                    CountryRef(
                        code=code,
                        name=geo.country_name(code) or code,
                        role=role,  # type: ignore[arg-type]
                        mentions=tuple(acc.mentions),
                    ),
                )
            )
        country_refs.sort(key=lambda t: (t[0], t[1].code))

        # Derived regions: from targets, else from mentioned countries (geo.py docstring).
        region_accs = dict(regions)
        targets = [c for _, c in country_refs if c.role == "target"]
        basis = targets or [c for _, c in country_refs if c.role == "mentioned"]
        for c in basis:
            first = countries[c.code].first
            for rname in geo.regions_of(c.code):
                acc = region_accs.setdefault(rname, _Acc(first))
                acc.first = min(acc.first, first)
        region_refs = sorted(
            ((acc.first, NamedRef(name, tuple(acc.mentions))) for name, acc in region_accs.items()),
            key=lambda t: (t[0], t[1].name),
        )
        model = self._model("sector")
        if self.decider and sectors and model is not None:
            harm = decide.harm_in(low)
            sectors = {
                k: acc
                for k, acc in sectors.items()
                if harm and any(model.accepts(x) for _sf, x in sector_features(text, sectors, k))
            }
        sector_refs = _named(sectors, lambda k: k)
        # A family carries its other names from here on: no later stage opens the KB.
        malware_refs = _named(
            malware, lambda k: self.kb.malware[k].name, lambda k: self.kb.malware[k].aliases
        )
        return Entities(
            actors=tuple(r for _, r in actor_refs),
            countries=tuple(r for _, r in country_refs),
            regions=tuple(r for _, r in region_refs),
            sectors=sector_refs,
            malware=malware_refs,
            cves=tuple(find_cves(text, low)),
            techniques=tuple(find_techniques(text)),
            indicators=extract_indicators(text, source_host, low),
            vendors=vendors,
        )


def sector_features(
    text: str, sectors: dict[str, _Acc], sector: str
) -> Iterator[tuple[str, list[float]]]:
    """The decider's features of every mention of ``sector`` that can name a victim at all
    (``decide.sector_features``), lazily: the decider stops at the first mention it accepts.
    The caller has checked ``decide.harm_in`` once for the whole text."""
    others = [p for o, acc in sectors.items() if o != sector for p, _ in acc.hits]
    for pos, surface in sectors[sector].hits:
        x = decide.sector_features(text, pos, surface, others)
        if x is not None:
            yield surface, x


def _passing(acc: _Acc, length: int) -> bool:
    """A name said once, deep inside a long report and not introduced as a group there, is
    context (a comparison, a past case), not what the report is about (rule (h))."""
    return (
        acc.count <= PASSING_MAX
        and acc.ctx == 0
        and length > PASSING_MIN_CHARS
        and acc.first > PASSING_DEPTH * length
    )


def _named(
    accs: dict[Any, _Acc],
    name_of: Callable[[Any], str],
    aliases_of: Callable[[Any], tuple[str, ...]] = lambda k: (),
) -> tuple[NamedRef, ...]:
    items = sorted(
        (
            (acc.first, NamedRef(name_of(k), tuple(acc.mentions), aliases_of(k)))
            for k, acc in accs.items()
        ),
        key=lambda t: (t[0], t[1].name),
    )
    return tuple(r for _, r in items)


def _actor_ref(a: Actor, mentions: tuple[str, ...]) -> ActorRef:
    return ActorRef(
        name=a.name,
        aliases=a.aliases,
        country=a.country,
        country_code=a.country_code,
        in_kb=True,
        mentions=mentions,
    )


def _format_code(surface: str) -> str:
    s = surface.replace(" ", "")
    m = re.match(r"(?i)(storm|dev)-(\d+)", s)
    if m:
        return ("Storm-" if m.group(1).lower() == "storm" else "DEV-") + m.group(2)
    m = re.match(r"(?i)unc(\d+)", s)
    if m:
        return "UNC" + m.group(1)
    return s


def _sentence_start(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


_URL_SPAN_RE = re.compile(
    r"(?:https?|hxxps?|ftp|file)://[^\s<>\"'\]]+|\]\([^\s)]*\)?|\bwww\.[^\s<>\"'\])]+"
)


def _url_span_starts(text: str) -> list[int]:
    """Every offset where a ``_URL_SPAN_RE`` match can start: a scheme of 3 to 5 letters
    before "://", a "](", a "www.". Found with ``str.find``: the regex itself has no literal
    prefix and would be tried at every offset of the text."""
    out: list[int] = []
    for lit, backs in (("://", (5, 4, 3)), ("](", (0,)), ("www.", (0,))):
        i = text.find(lit)
        while i >= 0:
            out.extend(i - b for b in backs if i >= b)
            i = text.find(lit, i + 1)
    out.sort()
    return out


def _url_spans(text: str, starts: list[int]) -> list[re.Match[str]]:
    """``_URL_SPAN_RE.finditer(text)`` (leftmost, non-overlapping), tried only at ``starts``."""
    out: list[re.Match[str]] = []
    last = 0
    for p in starts:
        if p < last:
            continue
        m = _URL_SPAN_RE.match(text, p)
        if m is not None:
            out.append(m)
            last = m.end()
    return out


def _mask_urls(text: str, scan: str) -> str:
    """``scan`` (the scan text of ``text`` behind one leading space) with every URL and
    markdown link target blanked: a name inside an address is no mention."""
    starts = _url_span_starts(text)
    if not starts:
        return scan
    parts: list[str] = []
    last = 0
    for m in _url_spans(text, starts):
        s, e = m.start() + 1, m.end() + 1
        parts.append(scan[last:s])
        parts.append(" " * (e - s))
        last = e
    if not parts:
        return scan
    parts.append(scan[last:])
    return "".join(parts)


_CURRENCY = re.compile(r"\.?\s*(?:dollars?|cents?|currency)\b", re.IGNORECASE)
# What stands before the dot of ".NET" or "(.lnk)": a space, a line start, an opening bracket.
_DOT_LEAD = frozenset({"", " ", "\n", "\t", "\xa0", "(", "[", '"', "'", "“", "‘"})
_GLUE_BEFORE = frozenset("/\\_=@)]%#")
_GLUE_AFTER = frozenset("/\\_=@%")


def _glued(text: str, start: int, end: int) -> bool:
    """A name glued to path or identifier characters ("...)Play\\_VN_1.html", "/apt28/",
    "Lazarus.dll") is part of a file name, path or identifier, not a mention."""
    prev = text[start - 1 : start]
    if prev and prev in _GLUE_BEFORE:
        # "APT33/Elfin" pairs two names; "/apt33/" or "files/Elfin" is a path.
        c = text[start - 2 : start - 1]
        return not (prev == "/" and (c.isupper() or c.isdigit()))
    nxt = text[end : end + 1]
    if nxt and nxt in _GLUE_AFTER:
        return not (nxt == "/" and text[end + 1 : end + 2].isupper())
    return nxt == "." and text[end + 1 : end + 2].isalnum()


def _link_aliases(
    text: str, actors: dict[int, _Acc], unknown: dict[str, tuple[str | None, _Acc]]
) -> None:
    """Rule (e): an unknown vendor-scheme name given as another name of a KB actor right
    next to it ("TA0001, also known as FIN7", "FIN7 (aka TA0001)") is that actor."""
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    for aid, acc in actors.items():
        for p, sf in acc.hits:
            starts[p] = aid
            ends[p + len(sf)] = aid
    for name in list(unknown):
        _cc, acc = unknown[name]
        target: int | None = None
        for p, sf in acc.hits:
            m = _AKA_AFTER_RE.match(text, p + len(sf))
            if m is not None and m.end() in starts:
                target = starts[m.end()]
                break
            m = _AKA_BEFORE_RE.search(text, max(0, p - 60), p)
            if m is not None and m.start() in ends:
                target = ends[m.start()]
                break
        if target is None:
            continue
        for p, sf in acc.hits:
            actors[target].add(p, sf, True)
        del unknown[name]


# "APT actors such as X, Y and Z", "groups including X": every item is an actor mention.
_LIST_BEFORE = re.compile(
    r"(?:groups|actors|gangs|apts|adversaries|operators|threat actors|apt groups|crews)"
    r"(?: \w+){0,3} (?:such as|including|like|namely|e g|incl)(?: \w+){0,6} $"
)

_LIST_WORDS = (" such as ", " including ", " like ", " namely ", " e g ", " incl ")

_TITLE_WORD_RE = re.compile(r"[A-Z][a-z]+")


# A capital or digit; any non-ASCII letter counts too (it may be a capital: "É").
_CAP_OR_DIGIT = re.compile(r"[A-Z0-9]|[^\x00-\x7f]")


def _needs_capital(p: tuple[int, Any, str, int]) -> bool:
    """Whether a payload's every check rejects a surface with no capital and no digit: an
    actor always (``_actor_surface_ok``); malware named with a capital
    (``_malware_surface_ok``); a place unless exact and written in lower case
    (``_geo_ok``, ``_region_ok``); a sector only in an exact form with a capital ("IT")."""
    kind, _target, form, exact = p
    cased = form != form.lower()
    if kind == _ACTOR:
        return True
    if kind == _MALWARE:
        return cased
    if kind in (_COUNTRY, _REGION):
        return cased or not exact
    if kind == _SECTOR:
        return bool(exact) and cased
    return False  # naming schemes and introductions are handled before the check


def _title_cased(title: str) -> bool:
    """Whether a title capitalises (nearly) every word of four letters or more."""
    words = [w for w in re.findall(r"[A-Za-z][a-z]{3,}", title)]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


_PREV_WORD_RE = re.compile(r"([A-Za-z][\w-]*) $")


def _compound(text: str, start: int, end: int) -> bool:
    """Rule (f): a one-word Title-case name followed by another capitalised word or a
    hyphen is the start of a longer name ("Alibaba Cloud", "Alibaba-Cloud"); right after a
    capitalised word that is no determiner, it is the end of one ("Google Play")."""
    m = _PREV_WORD_RE.search(text, max(0, start - 40), start)
    if m is not None and m.group(1)[:1].isupper() and m.group(1) not in _SCHEME_STOP:
        return True
    nxt = text[end : end + 2]
    if nxt[:1] == "-":
        return not text[end + 1 : end + 2].islower()  # "Sofacy-linked" is no compound
    if nxt[:1] != " " or not nxt[1:2].isupper():
        return False
    if re.match(r" Team\b", text[end : end + 6]):
        return False  # "Sandworm Team" (ATT&CK's name); "red team" stays no group word
    return _GROUP_AFTER.match(scan_text(text[end : end + 40])) is None


def _in_link_title(text: str, start: int, end: int) -> bool:
    """Inside the text of a markdown link that reads as a title ("[How X hit banks](url)"):
    a reference, which does not make a passing mention salient."""
    i = text.rfind("[", max(0, start - 200), start)
    if i < 0 or "]" in text[i:start] or "\n" in text[i:start]:
        return False
    j = text.find("]", end, end + 200)
    if j < 0 or "\n" in text[end:j] or text[j + 1 : j + 2] not in ("(", "\n"):
        return False
    return len(text[i + 1 : j].split()) >= 5


def _actor_context(after: str, before: str, wide: str) -> int:
    """2: a group word right next to the name; 1: an item of a list of groups; 0: none."""
    if _GROUP_AFTER.match(after) is not None or _GROUP_BEFORE.search(before) is not None:
        return 2
    window = " ".join(wide.split()) + " "
    # Every _LIST_BEFORE match holds one of its list words between spaces; the regex has no
    # literal start and would be tried at each of the window's 200 offsets.
    if not any(w in window for w in _LIST_WORDS):
        return 0
    return int(_LIST_BEFORE.search(window) is not None)


# --- actor decisions after the candidate loop (_settle_actors) ------------------------------

# A name as news writes one: Title-case or CamelCase words (up to three), or all capitals.
_NAME = r"[A-Z][\w-]*(?:[ \xa0][A-Z][\w-]*){0,2}"
# "Slow Pisces (also known as Jade Sleet and TraderTraitor)", "X, aka Y", "X, tracked as Y":
# the names on both sides are one actor. The right side may be a list of names. Found from
# the keyword (a fixed string) out, so the text is not tried at every capital.
_AKA_KEY_RE = re.compile(
    r"\b(?:also known as|aka|a\.k\.a\.?|also tracked as|tracked as|also referred to as"
    r"|also called|also dubbed)[ \xa0]+(?:the[ \xa0]+)?[‘'“\"]?"
)
_AKA_LEFT_RE = re.compile(r"(?P<a>" + _NAME + r")['’”\"]?[ \xa0]*[,(]?[ \xa0]*$")
_AKA_RIGHT_RE = re.compile(_NAME + r"(?:(?:,|,? and|,? or)[ \xa0]+" + _NAME + r")*")
_AKA_SPLIT_RE = re.compile(r",? and |,? or |, ")
# A name that is only history where it stands: "the successor of Conti", "formerly known as
# X", "a rebrand of X", "ex-members of X". Checked against the words right before a hit.
_HISTORY_BEFORE = re.compile(
    r"(?:successor|predecessor|offshoot|spin-?off|rebrand(?:ing)?|remnants?|ashes|heir)"
    r" (?:of|to) (?:the )?$|(?:formerly|previously|once) (?:known as |called |named )?(?:the )?$"
    r"|(?:ex-?|former )members? of (?:the )?$|(?:rebranded|emerged|split|evolved) from (?:the )?$"
    r"|(?:defunct|disbanded|now-defunct) $",
    re.IGNORECASE,
)
_JOINED_BEFORE = re.compile(r"\b([A-Z][a-z]+) (?:and|&|n'|'n') $")
# A malware noun after an actor's name that is not a ransomware word: "ToxicPanda banking
# trojan" is the family (a gang's ransomware name doubles as the gang's: the guide).
_NAMED_AS_MALWARE = re.compile(
    r"['’]?(?: (?:android|banking|mobile|windows|linux|macos|ios|new|custom|modular))*"
    r" (?:malware|trojan|backdoor|stealer|infostealer|rat|loader|botnet|spyware|implant"
    r"|wiper|dropper|rootkit|keylogger|worm)s?\b",
    re.IGNORECASE,
)
# Right after a name, the words that make it a company's: "Alibaba Cloud", "X's servers".
_COMPANY_AFTER = re.compile(
    r"(?:['’]s)? (?:cloud|servers?|platform|infrastructure|hosting|inc|corp(?:oration)?"
    r"|group's|holdings|networks?|networking|technologies|labs|accounts?|app|store)\b",
    re.IGNORECASE,
)
# A gang the text has act, named by the text: "INC Ransomware Group holds...", "after
# ExfilSquad claims data theft", "'The Gentlemen' rapidly rises". The noun/verb part is matched
# in any case; the name needs its capitals.
# Matched in the lower-cased text (a fixed-case pattern is the cheap kind); the name before
# it (with an adverb between: "'The Gentlemen' Rapidly Rises") in the text itself.
_GANG_INTRO = (
    r" (?:(?:ransomware|extortion|data extortion|cybercrime|hacking)"
    r" (?:gang|group|crew|operators?|outfit|collective)\b"
    # "RedVDS cybercrime service", "'X' phishing service": a crime service run as a group
    r"|(?:cybercrime|phishing|scam|fraud)(?:-as-a-service)?"
    r" (?:service|platform|marketplace|syndicate|network|ring)\b"
    r"|claim(?:s|ed)? (?:responsibility|credit|to have|data|the|an|a|theft|attack|breach|hack)\b"
    r"|(?P<v>rises|resurfaces|returns|emerges)\b)"
)
_GANG_INTRO_RE = re.compile(_GANG_INTRO)
_GANG_INTRO_ANYCASE = re.compile(_GANG_INTRO, re.IGNORECASE)  # where lower() moved offsets
_GANG_NAME_RE = re.compile(
    r"(?:[‘'“\"](?P<q>[A-Z][\w-]*(?: [A-Z][\w-]*){0,2})[’'”\"]|(?P<n>" + _NAME + r"))"
    r"(?: [A-Za-z]+ly)?$"
)
_GANG_INTRO_CUES = (
    "ransomware ",
    "extortion ",
    "data extortion",
    "cybercrime ",
    "hacking ",
    "phishing ",
    "scam ",
    "fraud ",
    "claim",
    "rises",
    "resurfaces",
    "returns",
    "emerges",
)
_AKA_CUES = (
    " aka ",
    "a.k.a",
    "known as",
    "tracked as",
    "referred to as",
    "also called",
    "also dubbed",
)
# The generic tail of a KB name whose head is another KB entry: "DragonForce Ransomware
# Group" and "DragonForce", "INC Ransom" and "INC" are one gang listed twice.
_GENERIC_TAIL = re.compile(
    r"[ -]+(?:ransomware group|ransomware gang|ransomware|ransom|group|gang|team)$", re.IGNORECASE
)


@lru_cache(maxsize=1)
def _company_keys() -> frozenset[str]:
    """Keys of the vendors' and well-known organisations' own names (not their products)."""
    keys = {alias_key(n) for v in vendor_table().vendors for n in (v.name, *v.aliases)}
    keys |= {alias_key(n) for n in organisations()}
    keys.discard("")
    return frozenset(keys)


# Every start of _AKA_KEY_RE (the longer form first where one ends with another).
_AKA_KEYS = (
    "also known as",
    "aka",
    "a.k.a",
    "also tracked as",
    "tracked as",
    "also referred to as",
    "also called",
    "also dubbed",
)


def _matches_at(
    text: str, keys: tuple[str, ...], pattern: re.Pattern[str], shift: int = 0
) -> Iterator[re.Match[str]]:
    """``pattern`` matched only where one of ``keys`` occurs (plus ``shift``), in text order
    and without overlaps: str.find runs in C, where an unanchored pattern is tried at every
    offset of a long report."""
    starts: set[int] = set()
    for key in keys:
        i = text.find(key)
        while i >= 0:
            starts.add(max(0, i + shift))
            i = text.find(key, i + 1)
    end = -1
    for i in sorted(starts):
        if i < end:
            continue
        m = pattern.match(text, i)
        if m is not None:
            end = m.end()
            yield m


def _aka_groups(text: str) -> Iterator[tuple[tuple[int, str], list[tuple[int, str]]]]:
    """Each "X, also known as Y (and Z)" of the text: X's (offset, name) and the others'."""
    for k in _matches_at(text, _AKA_KEYS, _AKA_KEY_RE):
        left = _AKA_LEFT_RE.search(text, max(0, k.start() - 60), k.start())
        right = _AKA_RIGHT_RE.match(text, k.end())
        if left is None or right is None:
            continue
        others: list[tuple[int, str]] = []
        pos = right.start()
        for part in _AKA_SPLIT_RE.split(right.group()):
            i = text.find(part, pos)
            others.append((i, part))
            pos = i + len(part)
        yield (left.start("a"), left.group("a")), others


_ARTICLES = frozenset({"the", "a", "an", "this", "that", "its", "their"})


def _strip_lead(name: str) -> str:
    """A name without a leading article ("The Lazarus Group" is "Lazarus Group")."""
    words = name.split()
    while len(words) > 1 and words[0].lower() in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def _merge_acc(into: _Acc, other: _Acc) -> None:
    """Another name's mentions as ``into``'s (one actor named two ways)."""
    seen = {p for p, _ in into.hits}
    for p, sf in other.hits:
        if p not in seen:
            into.add(p, sf)
    into.ctx += other.ctx


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _misp_sectors() -> list[tuple[str, list[str]]]:
    files = cluster_files()
    path = files.get("sector")
    if path is None:
        from briefing.intel.kb import packaged_clusters_dir

        p = packaged_clusters_dir() / "sector.json"
        if not p.is_file():
            return []
        path = p
    data = read_cluster(path)
    out: list[tuple[str, list[str]]] = []
    for v in data["values"]:
        syn = (v.get("meta") or {}).get("synonyms") or []
        out.append((str(v.get("value", "")), [str(s) for s in syn]))
    return out


_TAGGER: Tagger | None = None


def get_tagger() -> Tagger:
    """The process-wide tagger (the KB is loaded and the automaton built once)."""
    global _TAGGER
    with _lock:
        if _TAGGER is None:
            _TAGGER = Tagger(load_kb(), _misp_sectors())
        return _TAGGER


def reset_tagger() -> None:
    """Forget the cached tagger and KB (after ``kb update``)."""
    global _TAGGER
    with _lock:
        _TAGGER = None
        load_kb.cache_clear()
        _misp_sectors.cache_clear()
