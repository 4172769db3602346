"""Compose helpers: the day's ranked stories -> the parts by vendor, by victim and by family.

In: ranked ``Story``s (their entities from the tagger, title, summary and source texts). Out:
``Section``s for three parts of the briefing, and per story the facts they show:

* **vulnerabilities and patches, by vendor** (``vendor_sections``): a story whose title or
  summary speaks of a vulnerability, a patch, an exploit, an outage or a compromise (or that
  has a CVE) goes under each vendor its title or summary names (``headline_vendors``: the
  vendor table's matcher run on what the reader sees, so every story under a vendor names it
  or one of its products there); other security news (abuse, phishing under a brand, a new
  protection) under the vendor its title names. A story naming an actor goes under a vendor
  only with a CVE or a title about that vendor's flaw (the actor's part has it). Exploited
  stories first, then by rank; the section lists the products named.
* **incidents and breaches, by victim sector** (``incident_sections``): a story whose title
  says an organisation was hit (breach, ransomware attack, cyberattack, outage, leak; not a
  digest, advice, court or policy news) and that names the victim (``victim_name``), its
  sector or its country; under the first sector named (the tagger's sectors are victims').
* **malware and tools, by family** (``malware_sections``): a story about a malware family or
  tool, with no named actor, whose title or summary names the family; with the family's
  aliases from the knowledge base. Stories of phishing, fraud or malware naming no family
  and in no other part close it under "Phishing and fraud" and "Malware, family not named".

``cvss_score`` and ``kev_cves`` read the severity and KEV status a story's text gives.
Everything is a pure function of the stories, so the same store and clock give the same parts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace

from briefing.intel import geo
from briefing.intel.iocs import find_cves
from briefing.intel.normalize import alias_key
from briefing.intel.vendors import find_vendors, vendor_table
from briefing.intel.victim import NOT_VICTIM, victim_of
from briefing.models import NamedRef, Section, Story, VendorRef, slug

# A sentence that says a vulnerability is exploited in the wild.
EXPLOITED = re.compile(
    r"exploited in the wild|actively exploited|active(?:ly)? exploit|under (?:active )?exploitation"
    r"|zero[- ]day|0-?day|known exploited vulnerabilit|\bKEV\b|exploited (?:in|by|to)|"
    r"being exploited|exploitation attempts",
    re.IGNORECASE,
)
_VULN = re.compile(
    r"vulnerab|\bflaws?\b|\bbugs?\b|zero[- ]?days?|\b0-?days?\b|\bpatch|\bexploit|\bCVE-"
    r"|security (?:update|fix|advisor|bulletin)|\badvisor(?:y|ies)\b|\bRCE\b|remote code"
    r"|privilege escalation|authentication bypass|\bhotfix|\bfix(?:es|ed)?\b|\bupdates?\b"
    r"|\bKEV\b|known exploited"
    # a vendor's product or service abused, compromised or down is the vendor's news too
    r"|\boutages?\b|supply[- ]chain|\babused?\b|\bcompromised?\b|\bbreach(?:ed|es)?\b",
    re.IGNORECASE,
)
# What a title says when an organisation was hit.
_INCIDENT = re.compile(
    r"\bbreach(?:ed|es)?\b|\bhacked\b|\bhack of\b|ransomware attack|cyber[- ]?attack"
    r"|cyber incident|security incident|data (?:leak|theft|exposure)|\bleaked\b|\bstolen\b"
    r"|exfiltrat|\boutages?\b|\bcompromised\b|\bextort|\bhit by\b|\bhit with\b"
    r"|\bdefaced\b|(?:knocked|taken) offline|takes? down|\bdisrupt(?:s|ed|ion)\b"
    r"|personal information|customer data|\bspied on\b",
    re.IGNORECASE,
)
# Titles that are about something else than an organisation hit: advice, digests, court and
# police news, policy.
_NOT_INCIDENT = re.compile(
    r"\bhow to\b|\brecap\b|\bround-?up\b|\bin review\b|\bweekly\b|\bnewsletter\b"
    r"|\blitigation\b|\barrest|\bsentenced\b|\bcharged\b|\bextradit|\bindicted\b"
    r"|\bsanction|\bsettle|\bsecures \$|\bfine[sd]?\b|\bresponse to\b|\bpolicy\b",
    re.IGNORECASE,
)
_MALWARE_WORDS = (
    r"(?:malware|ransomware|RAT|stealer|infostealer|botnet|loader|backdoor|trojan|wiper"
    r"|spyware|rootkit|worm|dropper|implant|miner|cryptominer|keylogger|bot)"
)
# A family a title introduces: "New MassJacker Malware", "StilachiRAT", "TCESB malware".
_TITLE_FAMILY = re.compile(
    r"(?<![\w#])(?P<name>[A-Z][\w#]*[A-Za-z0-9])(?:\s+(?i:"
    + _MALWARE_WORDS
    + r")s?\b)|(?<![\w#])(?P<camel>[A-Z][a-z]+[A-Z]?[a-z]*(?:RAT|Stealer|Loader|Bot|Locker))\b"
)

# Security news about a product its title names: abuse, phishing under its brand, a new
# protection, an outage.
_SECURITY = re.compile(
    r"\bmalicious\b|\bfake\b|\bphish|\bscam|\bmalware\b|\bhijack|\battack|\babus"
    r"|\btarget|\bexpos|\bleak|\bencrypt|\bprotect|\bsecur|\bauthenticat|\bpassword"
    r"|\bblocks?\b|\bdisables?\b|\bbreak|\bcrash|\bbsods?\b|\bremoves?\b|\bdisclos",
    re.IGNORECASE,
)
_CVSS = re.compile(
    r"CVSS(?:\s*v?[234](?:\.\d)?)?(?:\s+(?:base|severity))?(?:\s+score)?"
    r"(?:\s+(?:of|rating of|is|at))?\s*[:=(]?\s*(?P<score>10(?:\.0)?|\d\.\d)\b",
    re.IGNORECASE,
)
_KEV = re.compile(r"known exploited vulnerabilit|\bKEV\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def headline(story: Story) -> str:
    return f"{story.title}\n\n{story.summary}"


def headline_vendors(story: Story) -> tuple[VendorRef, ...]:
    """The vendors a story's title or summary names (what the reader sees of it); for a
    vulnerability story whose headline names no vendor of the table, the one its title says
    the flaw is in (``title_vendor``)."""
    found = find_vendors(headline(story))
    if found or not is_vulnerability_story(story):
        return found
    guessed = title_vendor(story.title)
    return (guessed,) if guessed is not None else ()


_FLAW_IN = re.compile(
    r"(?i:vulnerabilit(?:y|ies)|flaws?|bugs?|bypass|zero-days?|exploitation of CVE-\d{4}-\d+"
    r"|CVE-\d{4}-\d+|RCE)\s+in\s+(?i:the\s+|its\s+|popular\s+|widely[- ]used\s+)?"
    r"(?P<vendor>[A-Z][\w.-]*\w)(?P<product>(?:\s+[A-Z0-9][\w.-]*\w)*)"
)


def title_vendor(title: str) -> VendorRef | None:
    """The vendor (and product) a title says a flaw is in, for vendors the table lacks:
    "vulnerabilities in Halvorsen BMC-400 building controllers" -> Halvorsen (BMC-400)."""
    for m in _FLAW_IN.finditer(title):
        vendor = m.group("vendor")
        if not vendor[:1].isupper() or vendor in NOT_VICTIM or geo.country_code_for_name(vendor):
            continue
        product = m.group("product").strip()
        mention = f"{vendor} {product}".strip()
        return VendorRef(vendor, (product,) if product else (), (mention,))
    return None


def is_vulnerability_story(story: Story) -> bool:
    return bool(story.entities.cves) or _VULN.search(headline(story)) is not None


def cvss_score(texts: Iterable[str]) -> float | None:
    """The highest CVSS score the texts give (0-10), or None."""
    best: float | None = None
    for text in texts:
        for m in _CVSS.finditer(text):
            value = float(m.group("score"))
            if value <= 10 and (best is None or value > best):
                best = value
    return best


def kev_cves(texts: Iterable[str], cves: Sequence[str]) -> tuple[str, ...]:
    """CVEs a sentence says are in a Known Exploited Vulnerabilities catalogue (for a one-CVE
    story, any such sentence)."""
    found: set[str] = set()
    said = False
    for text in texts:
        if _KEV.search(text) is None:
            continue
        for sentence in _SENTENCE.split(text):
            if _KEV.search(sentence):
                said = True
                found.update(find_cves(sentence))
    if said and len(cves) == 1:
        found.add(cves[0])
    return tuple(sorted(found & set(cves)))


def with_facts(story: Story, texts: Sequence[str], listed: Collection[str] = ()) -> Story:
    """``story`` with its CVSS score, KEV CVEs (``listed`` by a KEV feed's entries, or said
    to be in KEV by the texts) and victim filled from its sources' texts."""
    cves = story.entities.cves
    kev = tuple(sorted(set(listed) | set(kev_cves(texts, cves))))
    return replace(
        story,
        kev=kev,
        cvss=cvss_score([story.title, *texts]),
        # Its members' victim (the tag stage's), else one its title and summary give
        # (entities from an older tagger have none).
        victim=story.entities.victim or victim_of(story.title, story.summary, story.kind),
    )


def _named_in(refs: Sequence[NamedRef], text: str) -> list[NamedRef]:
    out = []
    for ref in refs:
        for mention in (ref.name, *ref.mentions):
            if re.search(r"(?<!\w)" + re.escape(mention) + r"(?!\w)", text):
                out.append(ref)
                break
    return out


# A vendor that reports on something else: "Microsoft warns of StilachiRAT", "ESET: ...".
_REPORTS = re.compile(
    r"\s*(?::|warns?\b|warned\b|says\b|said\b|reports?\b|reported\b|details\b|spots\b"
    r"|tracks\b|links\b|attributes\b|uncovers\b|exposes\b|finds\b)",
    re.IGNORECASE,
)


def _reporters(title: str) -> set[str]:
    """Vendors a title names as the one reporting, not as the one the news is about (a
    vendor that also names its own product is about itself: "Microsoft warns of Windows
    bug")."""
    out = set()
    for ref in find_vendors(title):
        if ref.products:
            continue
        for mention in ref.mentions:
            i = title.find(mention)
            if i >= 0 and _REPORTS.match(title, i + len(mention)):
                out.add(ref.name)
    return out


def _order(members: dict[str, list[str]], first_key: Callable[[str], tuple[int, ...]]) -> list[str]:
    first = {name: position for position, name in enumerate(members)}
    return sorted(members, key=lambda n: (*first_key(n), -len(members[n]), first[n]))


def vendor_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    """Vendor -> its vulnerability and patch stories, exploited first (a CVE said exploited,
    or the title or summary says so: a teaser may name no CVE); vendors with an exploited story
    first, then the larger, then the one whose best story ranks higher."""
    members: dict[str, list[str]] = defaultdict(list)
    products: dict[str, dict[str, None]] = defaultdict(dict)
    exploited: set[str] = set()
    for story in stories:
        if story.kind is not None:
            # The classifier has read it: only a flaw's disclosure, patch or exploitation is
            # a vendor's listing (a breach at a vendor is an incident with it as victim).
            # A campaign is a vendor's news too when it names the flaw it used (a CVE) or its
            # title is about the vendor's flaw ("APT28 exploits Cisco ASA zero-day").
            used_flaw = story.kind == "campaign" and (
                bool(story.entities.cves)
                or (bool(find_vendors(story.title)) and EXPLOITED.search(story.title) is not None)
            )
            if story.kind == "vulnerability" or used_flaw:
                _list_vulnerability(story, members, products)
                if story.exploited or EXPLOITED.search(headline(story)):
                    exploited.add(story.id)
            continue
        vulnerability = is_vulnerability_story(story)
        if not vulnerability and _SECURITY.search(story.title) is None:
            continue
        in_title = {ref.name for ref in find_vendors(story.title)}
        # The actor's part shows an actor's campaign; it is a vendor's news too when it names
        # the vulnerability used, or its title is about a vendor's flaw ("ASA zero-day").
        title_flaw = bool(in_title) and _VULN.search(story.title) is not None
        if story.entities.actors and not story.entities.cves and not title_flaw:
            continue
        reporting = _reporters(story.title) if not vulnerability else set()
        for ref in headline_vendors(story):
            if not vulnerability and (ref.name not in in_title or ref.name in reporting):
                continue  # other security news goes under the vendor its title names
            if story.entities.actors and not story.entities.cves and ref.name not in in_title:
                continue
            if story.id not in members[ref.name]:
                members[ref.name].append(story.id)
            for product in ref.products:
                products[ref.name].setdefault(product)
        if story.exploited or EXPLOITED.search(headline(story)):
            exploited.add(story.id)
    out = []
    for name in _order(members, lambda n: (0 if exploited & set(members[n]) else 1,)):
        ids = sorted(members[name], key=lambda sid: sid not in exploited)  # stable: rank kept
        hot = sum(1 for sid in ids if sid in exploited)
        detail = ", ".join(products[name])
        if hot:
            detail = f"{detail}; {hot} exploited" if detail else f"{hot} exploited"
        out.append(
            Section(
                key=slug(name),
                title=name,
                detail=detail,
                story_ids=tuple(ids),
                products=tuple(products[name]),
                exploited=tuple(sid for sid in ids if sid in exploited),
            )
        )
    return tuple(out)


def _list_vulnerability(
    story: Story, members: dict[str, list[str]], products: dict[str, dict[str, None]]
) -> None:
    """A vulnerability story under every vendor its headline names, but a vendor named only as
    the one reporting it ("Microsoft warns of ...", "ESET:") when the headline names others."""
    refs = headline_vendors(story)
    reporting = _reporters(story.title)
    if any(ref.name not in reporting for ref in refs):
        refs = tuple(ref for ref in refs if ref.name not in reporting)
    for ref in refs:
        if story.id not in members[ref.name]:
            members[ref.name].append(story.id)
        for product in ref.products:
            products[ref.name].setdefault(product)


UNKNOWN_SECTOR = "Sector not stated"


def is_incident_story(story: Story) -> bool:
    """The title says an organisation was hit (and is no digest, advice, court or policy
    news)."""
    return _INCIDENT.search(story.title) is not None and _NOT_INCIDENT.search(story.title) is None


def incident_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    """Victim sector -> stories of an organisation hit, the victims' countries as detail."""
    members: dict[str, list[str]] = defaultdict(list)
    countries: dict[str, dict[str, None]] = defaultdict(dict)
    for story in stories:
        if story.kind is not None and story.kind != "incident":
            continue
        if story.kind is None and not is_incident_story(story):
            continue
        # Where the victim is: the countries the story says were hit, else those it names
        # (never the attacker's state).
        named = [c for c in story.entities.countries if c.role != "attributed"]
        targets = [c for c in named if c.role == "target"] or named
        sectors = [s.name for s in story.entities.sectors]
        if story.kind is None and story.victim is None and not sectors and not targets:
            continue
        # The first sector named is the victim's; the others are often its clients' or a
        # vendor's list of markets: one part per story.
        sector = sectors[0] if sectors else UNKNOWN_SECTOR
        members[sector].append(story.id)
        for country in targets:
            countries[sector].setdefault(country.name)
    return tuple(
        Section(
            key=slug(name),
            title=name,
            detail=", ".join(countries[name]),
            story_ids=tuple(members[name]),
            countries=tuple(countries[name]),
        )
        for name in _order(members, lambda n: (int(n == UNKNOWN_SECTOR),))
    )


NO_NAME = "Actor and family not named"


def family_aliases(stories: Sequence[Story]) -> dict[str, tuple[str, ...]]:
    """alias_key of a malware family -> its other names, as the tag stage gave them (the
    knowledge base's): no stage after tagging opens the knowledge base."""
    return {
        alias_key(ref.name): ref.aliases
        for story in stories
        for ref in story.entities.malware
        if ref.aliases
    }


def campaign_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    """Campaign stories by the actor they name (the first; a state the story attributes the
    activity to without naming a group is "Unnamed <state>-linked actors"), else by the malware
    family (``story_families``), else under "Phishing and fraud", "Malware, family not named"
    or "Actor and family not named"."""
    known_aliases = family_aliases(stories)
    members: dict[str, list[str]] = defaultdict(list)
    details: dict[str, str] = {}
    shown: dict[str, str] = {}
    for story in stories:
        if story.kind != "campaign":
            continue
        actors = story.entities.actors
        attributed = [c for c in story.entities.countries if c.role == "attributed"]
        families = story_families(story)
        if actors:
            actor = actors[0]
            name = actor.name
            where = f"attributed to {actor.country}" if actor.country else "attribution unknown"
            details.setdefault(name, "actor; " + where)
        elif attributed:
            name = f"Unnamed {attributed[0].name}-linked actors"
            details.setdefault(name, f"attributed to {attributed[0].name}; no group named")
        elif families:
            name = shown.setdefault(alias_key(families[0]), families[0])
            aliases = known_aliases.get(alias_key(name), ())
            details.setdefault(
                name, "malware" + ("; also " + ", ".join(aliases[:6]) if aliases else "")
            )
        elif _FRAUD.search(story.title):
            name = FRAUD
        elif _UNNAMED_MALWARE.search(story.title):
            name = UNNAMED
        else:
            name = NO_NAME
        members[name].append(story.id)
    last = (FRAUD, UNNAMED, NO_NAME)
    return tuple(
        Section(key=slug(name), title=name, detail=details.get(name, ""), story_ids=tuple(ids))
        for name in _order(members, lambda n: (last.index(n) + 1 if n in last else 0,))
        for ids in (members[name],)
    )


NO_COUNTRY = "International or country not stated"
ACTION_KINDS = frozenset({"law-enforcement", "policy"})


def action_sections(stories: Sequence[Story]) -> tuple[Section, ...]:
    """Law-enforcement and policy stories (arrests, takedowns, sanctions, laws, fines, agency
    orders) by the country whose jurisdiction acts: the first country the story names as a
    place (never an attacker's attributed state), else "International or country not
    stated". The detail says which kinds the part holds."""
    members: dict[str, list[str]] = defaultdict(list)
    kinds: dict[str, set[str]] = defaultdict(set)
    for story in stories:
        if story.kind not in ACTION_KINDS:
            continue
        places = [c for c in story.entities.countries if c.role != "attributed"]
        targets = [c for c in places if c.role == "target"] or places
        name = targets[0].name if targets else NO_COUNTRY
        members[name].append(story.id)
        kinds[name].add(str(story.kind))
    return tuple(
        Section(
            key=slug(name),
            title=name,
            detail=" and ".join(sorted(kinds[name])),
            story_ids=tuple(members[name]),
        )
        for name in _order(members, lambda n: (int(n == NO_COUNTRY),))
    )


NOTED_KINDS = frozenset({"industry", "research", "opinion"})


def story_families(story: Story) -> list[str]:
    """The malware families a story with no named actor is about: those its title names,
    else at most two its summary names. A name counts where the headline writes it as one:
    followed by a malware word ("Akira ransomware", "Clipper Malware"), or with inner capitals,
    digits or in capitals ("XWorm", "TCESB", "StilachiRAT"). A vendor's or product's name is
    none ("Android", "Windows 10").
    Families the knowledge base lacks count when the title introduces them the same way
    ("New MassJacker Malware")."""
    if story.entities.actors:
        return []
    out: dict[str, None] = {}
    for text, limit in ((story.title, 9), (story.summary, 2)):
        found: list[tuple[int, str]] = []
        for ref in story.entities.malware:
            for mention in dict.fromkeys((ref.name, *ref.mentions)):
                m = re.search(r"(?<![\w#])" + re.escape(mention) + r"(?![\w#])", text)
                if m is not None and _named_family(text, m.start(), m.end()):
                    found.append((m.start(), mention if ref.name.islower() else ref.name))
                    break
        if text is story.title:
            for m in _TITLE_FAMILY.finditer(text):
                start, end = m.span("name") if m.group("name") else m.span("camel")
                name = text[start:end]
                if _named_family(text, start, end, known=False) and not any(
                    alias_key(name) == alias_key(other) for _, other in found
                ):
                    found.append((start, name))
        for _, name in sorted(found)[:limit]:
            out.setdefault(name, None)
        if out:
            break
    return list(out)


def _named_family(text: str, start: int, end: int, known: bool = True) -> bool:
    """``known``: a knowledge-base family, which a malware word after it confirms; a name the
    knowledge base lacks must look like one itself ("MassJacker", not "Stealthy RAT")."""
    name = text[start:end]
    if len(name) < 3 or vendor_table().lookup(name) is not None or find_vendors(name):
        return False
    if known and re.match(r"\s+" + _MALWARE_WORDS + r"s?\b", text[end:], re.IGNORECASE):
        return True
    # A plain word ("Red", "Mercury", "Sun") names too many things to be a family on its own.
    return len(name) >= 4 and any(ch.isupper() or ch.isdigit() or ch == "#" for ch in name[1:])


# Stories about malware or fraud that name no family, left out of every other part, go under
# a heading for their kind rather than in "Other notable stories".
_FRAUD = re.compile(r"\bphish|\bvish|\bsmish|\bscam|\bfraud|\bspam\b", re.IGNORECASE)
_UNNAMED_MALWARE = re.compile(
    r"\b(?:malware|ransomware|RAT|stealer|infostealer|botnet|loader|backdoor|trojan|wiper"
    r"|spyware|rootkit|worm|dropper|implant|cryptominer|keylogger|shellcode)s?\b"
    r"|\bmalicious\b|\binfect",
    re.IGNORECASE,
)
FRAUD = "Phishing and fraud"
UNNAMED = "Malware, family not named"


def malware_sections(
    stories: Sequence[Story], placed: set[str] | frozenset[str] = frozenset()
) -> tuple[Section, ...]:
    """Malware family -> the stories about it that name no actor (the actor's part shows the
    others), when the title or summary names the family (``story_families``); then, for the
    stories in no family and not in ``placed`` (the other parts), "Phishing and fraud" and
    "Malware, family not named" by what their title speaks of. A family's other names are the
    ones the tag stage gave it (the knowledge base's)."""
    known_aliases = family_aliases(stories)
    members: dict[str, list[str]] = defaultdict(list)
    shown: dict[str, str] = {}  # alias_key -> the first spelling seen
    kinds: dict[str, list[str]] = {FRAUD: [], UNNAMED: []}
    for story in stories:
        families = story_families(story)
        for name in families:
            name = shown.setdefault(alias_key(name), name)
            if story.id not in members[name]:
                members[name].append(story.id)
        if families or story.entities.actors or story.id in placed:
            continue
        if _FRAUD.search(story.title):
            kinds[FRAUD].append(story.id)
        elif _UNNAMED_MALWARE.search(story.title):
            kinds[UNNAMED].append(story.id)
    out = []
    for name in _order(members, lambda n: ()):
        aliases = known_aliases.get(alias_key(name), ())
        out.append(
            Section(
                key=slug(name),
                title=name,
                detail="also " + ", ".join(aliases[:6]) if aliases else "",
                story_ids=tuple(members[name]),
                aliases=aliases,
            )
        )
    out += [
        Section(key=slug(kind), title=kind, detail="no family named", story_ids=tuple(ids))
        for kind, ids in kinds.items()
        if ids
    ]
    return tuple(out)
