"""STIX 2.1 output (publish stage): a ``Briefing`` -> ``DIR/YYYY-MM-DD/briefing.stix.json``.

In: the day's ``Briefing`` and the producer's name (the config's ``title``). Out: one STIX 2.1
bundle that OpenCTI, Taranis AI or any STIX consumer imports:

* an ``identity`` (class ``organization``) for the producer, ``created_by_ref`` of everything;
* the config's TLP as a marking definition on every object (TLP:GREEN, AMBER and RED are the
  STIX 2.1 spec's own objects; TLP:CLEAR and TLP:AMBER+STRICT the TLP 2.0 extension's);
* one ``report`` per story: title, ``published``, summary, its sources as
  ``external_references`` and everything below that the story names in ``object_refs``;
* ``intrusion-set`` per actor (with aliases), ``location`` per country and region,
  ``identity`` of class ``class`` per victim sector, ``malware``, ``vulnerability`` (the CVE as
  an external reference), ``attack-pattern`` (the ATT&CK id as an external reference),
  ``indicator`` (a STIX pattern over the refanged value; nothing is ever fetched; none for a
  value on a MISP warning list — a resolver, a Microsoft host, the empty file's hash, a
  documentation range —, see ``publish.trust``);
* the vendors the briefing's vendor part lists a story under, as ``identity`` (class
  ``organization``), and the products of theirs the story names as ``software`` (STIX's
  ``vendor`` property names the maker; ids in STIX's own namespace for observables);
* relationships: actor ``originates-from`` its attributed state, actor ``targets`` the story's
  targeted countries, its regions, sectors and CVEs, actor ``uses`` its malware and techniques,
  indicator ``indicates`` the story's malware (else its actors); for a story under one vendor,
  each product ``has`` the story's CVEs (the vendor is ``related-to`` them when no product is
  named; under several vendors, which has which flaw is not said, so none is drawn).

Identity. Every id is a UUIDv5 in one namespace of ours over a stable key — a known actor's
canonical name, a country's ISO code, a region's, sector's or malware's name, the CVE or
technique id, an indicator's kind and value, a story's id, a relationship's (source, type,
target) — so APT39 has the same ``intrusion-set`` id every day and in every installation.
``created`` of a shared object is one fixed moment and ``modified`` the briefing's clock
(``generated_at``), never the wall clock: the same store and ``--now`` give a byte-identical
file, and a later day's bundle is a newer version of the same objects.

Actors. Whether two names are one actor is the knowledge base's decision, made once, at the
tag stage, with ``intel.normalize.alias_key``: an actor it knows (``in_kb``) arrives under its
canonical name with the knowledge base's aliases and attributed state, and its id is a function
of that name alone (``stable_key``, frozen since the first bundle). An actor it does not know
gets an id from ``"unlisted|" + alias_key(name)`` — the tagger's own notion of "the same name"
in a key space no known actor's id can come from — and an object of its own: a story
about "LazarusGroup" can neither take Lazarus Group's id nor write its object, and every story
naming the known actor builds the same object from the same knowledge-base data.

Plain dicts. The objects are written as JSON-ready dicts with STIX's property order, not built
with the ``stix2`` library: its object model checked every property and parsed every pattern
as the bundle was built: 0.85-0.9 s of CPU for an 800-story day, against 0.13 s as dicts. The
checking moved to the tests, which run OASIS's ``stix2-validator`` over real bundles.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from briefing.files import write_atomic
from briefing.intel.normalize import alias_key
from briefing.models import ActorRef, Briefing, Story
from briefing.publish.trust import warning
from briefing.serialize import safe_url

# STIX's own namespace for the ids of cyber-observable objects (section 2.9): a ``software``
# id is a UUIDv5 of its name and vendor, the same whoever writes it.
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# Fixed for good: changing it (or ``stable_key``) changes every id ever published.
NAMESPACE = uuid.UUID("6c0f5e52-8f1d-5b4e-9a57-2f1b6d3c9e10")
# ``created`` of the objects several days share (actors, places, sectors...): one moment for
# every version of them, as STIX requires; each day's bundle then differs in ``modified`` only.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

_ATTACK_GROUP = re.compile(r"[Gg]\d{4}")

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"


def _tlp1(colour: str, ident: str) -> dict[str, Any]:
    """A TLP marking definition of the STIX 2.1 spec itself (section 7.2.1.4)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{ident}",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": f"TLP:{colour.upper()}",
        "definition": {"tlp": colour},
    }


def _tlp2(label: str, ident: str) -> dict[str, Any]:
    """A TLP 2.0 marking definition of the OASIS extension (cti-stix-common-objects,
    extension-definition-specifications/tlp-2.0): fixed ids every consumer recognises."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{ident}",
        "created": "2022-10-01T00:00:00.000Z",
        "name": label,
        "extensions": {
            TLP2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": label.removeprefix("TLP:").lower(),
            }
        },
    }


_TLP = {
    "TLP:GREEN": _tlp1("green", "34098fce-860f-48ae-8e50-ebd3cc5e41da"),
    "TLP:AMBER": _tlp1("amber", "f88d31f6-486f-44da-b317-01333bde0b82"),
    "TLP:RED": _tlp1("red", "5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
    "TLP:CLEAR": _tlp2("TLP:CLEAR", "94868c89-83c2-464b-929b-a1a8aa3c8487"),
    "TLP:AMBER+STRICT": _tlp2("TLP:AMBER+STRICT", "939a9414-2ddd-4d32-a0cd-375ea402b003"),
}

# kind (as the indicator extractor names it) -> the STIX pattern's object path
_PATTERN_PATHS = {
    "ipv4": "ipv4-addr:value",
    "ipv6": "ipv6-addr:value",
    "domain": "domain-name:value",
    "url": "url:value",
    "email": "email-addr:value",
    "md5": "file:hashes.MD5",
    "sha1": "file:hashes.'SHA-1'",
    "sha256": "file:hashes.'SHA-256'",
}

# STIX 2.1's industry-sector-ov (section 10.16).
INDUSTRY_SECTOR = frozenset(
    {
        "agriculture", "aerospace", "automotive", "chemical", "commercial", "communications",
        "construction", "defense", "education", "energy", "entertainment", "financial-services",
        "government", "emergency-services", "government-local",
        "government-national", "government-public-services", "government-regional",
        "healthcare", "hospitality-leisure", "infrastructure", "dams", "nuclear", "water",
        "insurance", "manufacturing", "mining", "non-profit", "pharmaceuticals", "retail",
        "technology", "telecommunications", "transportation", "utilities",
    }
)  # fmt: skip

# Our sector names -> STIX's industry-sector-ov, where one fits (the vocabulary is open, so a
# sector without one keeps just its name).
_INDUSTRY = {
    "Finance": "financial-services",
    "Pharmaceutical": "pharmaceuticals",
    "Hospitality": "hospitality-leisure",
    "Travel": "hospitality-leisure",
    "Critical infrastructure": "infrastructure",
    "IT": "technology",
    "High-tech": "technology",
    "Cybersecurity": "technology",
    "Media": "communications",
    "Logistics": "transportation",
    "NGOs": "non-profit",
    "Law enforcement": "government-public-services",
    "E-commerce": "retail",
}


# Our region names whose region-ov term is not their slug ("Europe" -> "europe" needs no entry).
# The vocabulary is open: "Middle East", not a UN M49 region, stays "middle-east".
_REGION_OV = {
    "North America": "northern-america",
    "Latin America": "latin-america-caribbean",
    "North Africa": "northern-africa",
    "East Asia": "eastern-asia",
    "Southeast Asia": "south-eastern-asia",
    "South Asia": "southern-asia",
}


def stable_key(name: str) -> str:
    """The part of an id's key that comes from a name: NFKC, case-folded, letters and digits
    only ("APT 39" and "apt-39" are one actor). Frozen with ``NAMESPACE``."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum()) or folded.strip()


@lru_cache(maxsize=65536)  # the same actor, place and relationship recur day after day
def stix_id(kind: str, key: str) -> str:
    """``kind--<uuid5(NAMESPACE, "kind|key")>``."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}|{key}')}"


def tlp_marking(tlp: str) -> dict[str, Any]:
    """The marking definition of a TLP label (``TLP:CLEAR`` ... ``TLP:RED``)."""
    label = tlp.strip().upper()
    if label == "TLP:WHITE":
        label = "TLP:CLEAR"
    if label not in _TLP:
        raise ValueError(f"not a TLP label: {tlp!r}")
    return _TLP[label]


def _quote(value: str) -> str:
    """A STIX pattern string literal: backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def indicator_pattern(kind: str, value: str) -> str | None:
    """The STIX pattern for one refanged indicator, or None for a kind STIX has no path for."""
    path = _PATTERN_PATHS.get(kind)
    if path is None:
        return None
    if kind in ("md5", "sha1", "sha256"):
        value = value.lower()
    return f"[{path} = {_quote(value)}]"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def timestamp(moment: datetime, *, millis: bool = False) -> str:
    """A STIX timestamp: UTC, ``Z``; ``created`` and ``modified`` carry exactly three decimals
    (the spec's millisecond precision), other timestamps only the decimals they have."""
    moment = _utc(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if millis:
        return f"{text}.{moment.microsecond // 1000:03d}Z"
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


class _Builder:
    """Collects the bundle's objects once each, in first-seen order (which is deterministic:
    stories in rank order, entities in the order the story lists them)."""

    def __init__(self, briefing: Briefing, producer: str) -> None:
        self.now = timestamp(briefing.window_end, millis=True)
        self.end = _utc(briefing.window_end)
        self.marking = tlp_marking(briefing.tlp)
        self.marks = [self.marking["id"]]
        self.producer_id = stix_id("identity", "producer|" + stable_key(producer))
        self.objects: dict[str, dict[str, Any]] = {
            self.marking["id"]: self.marking,
            self.producer_id: {
                "type": "identity",
                "spec_version": "2.1",
                "id": self.producer_id,
                "created": timestamp(EPOCH, millis=True),
                "modified": self.now,
                "name": producer,
                "identity_class": "organization",
                "object_marking_refs": self.marks,
            },
        }
        self.epoch = timestamp(EPOCH, millis=True)
        # story id -> (vendor, the products of it the story names), from the vendor part
        self.vendors: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for section in briefing.by_vendor:
            for sid in section.story_ids:
                self.vendors.setdefault(sid, []).append((section.title, section.products))

    def add(self, kind: str, key: str, props: dict[str, Any]) -> str:
        """The object of ``kind`` keyed ``key``, made from ``props`` (its own properties, in
        STIX's order) the first time; ``external_references`` go last, as STIX orders them."""
        ident = stix_id(kind, key)
        if ident not in self.objects:
            refs = props.pop("external_references", None)
            self.objects[ident] = {
                "type": kind,
                "spec_version": "2.1",
                "id": ident,
                "created_by_ref": self.producer_id,
                "created": self.epoch,
                "modified": self.now,
                **props,
                **({"external_references": refs} if refs else {}),
                "object_marking_refs": self.marks,
            }
        return ident

    def relate(self, source: str, relation: str, target: str) -> str:
        return self.add(
            "relationship",
            f"{source}|{relation}|{target}",
            {"relationship_type": relation, "source_ref": source, "target_ref": target},
        )

    def actor(self, actor: ActorRef) -> str:
        """The actor's ``intrusion-set`` (see "Actors" in the module docstring)."""
        own = stable_key(actor.name)
        names = [a.strip() for a in actor.aliases if a.strip() and stable_key(a) != own]
        # An ATT&CK group id among the names ("G0087") is a reference, not a name: consumers
        # such as OpenCTI match groups by it.
        groups = [n.upper() for n in names if _ATTACK_GROUP.fullmatch(n)]
        aliases = [n for n in names if not _ATTACK_GROUP.fullmatch(n)]
        props: dict[str, Any] = {"name": actor.name}
        if aliases:
            props["aliases"] = aliases
        if groups:
            props["external_references"] = [
                {
                    "source_name": "mitre-attack",
                    "url": f"https://attack.mitre.org/groups/{group}/",
                    "external_id": group,
                }
                for group in dict.fromkeys(groups)
            ]
        if not actor.in_kb:
            # Outside the knowledge base the tagger's alias key says "the same actor" (the
            # key its own lookups use), and a key space of its own keeps such a name from
            # ever landing on a known actor's id: "LazarusGroup" is not Lazarus Group.
            return self.add("intrusion-set", "unlisted|" + alias_key(actor.name), props)
        return self.add("intrusion-set", own, props)

    def country(self, code: str, name: str) -> str:
        code = code.upper()
        return self.add("location", "country|" + code, {"name": name, "country": code})

    def region(self, name: str) -> str:
        region = _REGION_OV.get(name) or _slug(name)
        return self.add("location", "region|" + stable_key(name), {"name": name, "region": region})

    def sector(self, name: str) -> str:
        industry = _INDUSTRY.get(name) or _slug(name)
        props: dict[str, Any] = {"name": name, "identity_class": "class"}
        if industry in INDUSTRY_SECTOR:
            props["sectors"] = [industry]
        return self.add("identity", "sector|" + stable_key(name), props)

    def malware(self, name: str) -> str:
        return self.add("malware", stable_key(name), {"name": name, "is_family": True})

    def vulnerability(self, cve: str) -> str:
        cve = cve.upper()
        reference = {
            "source_name": "cve",
            "url": f"https://www.cve.org/CVERecord?id={cve}",
            "external_id": cve,
        }
        return self.add("vulnerability", cve, {"name": cve, "external_references": [reference]})

    def technique(self, technique: str) -> str:
        technique = technique.upper()
        path = technique.replace(".", "/")
        reference = {
            "source_name": "mitre-attack",
            "url": f"https://attack.mitre.org/techniques/{path}/",
            "external_id": technique,
        }
        return self.add(
            "attack-pattern", technique, {"name": technique, "external_references": [reference]}
        )

    def vendor(self, name: str) -> str:
        return self.add(
            "identity",
            "vendor|" + stable_key(name),
            {"name": name, "identity_class": "organization"},
        )

    def software(self, name: str, vendor: str) -> str:
        """A product as STIX's ``software`` observable: an id from its name and vendor in
        STIX's own namespace (canonical JSON of the id properties), no creator or dates."""
        canonical = json.dumps(
            {"name": name, "vendor": vendor}, sort_keys=True, separators=(",", ":"),
            ensure_ascii=False,
        )  # fmt: skip
        ident = f"software--{uuid.uuid5(SCO_NAMESPACE, canonical)}"
        if ident not in self.objects:
            self.objects[ident] = {
                "type": "software",
                "spec_version": "2.1",
                "id": ident,
                "name": name,
                "vendor": vendor,
                "object_marking_refs": self.marks,
            }
        return ident

    def story_vendors(self, story: Story, vulnerabilities: list[str]) -> list[str]:
        """The vendors and products the briefing's vendor part lists the story under, and,
        when it lists one vendor only, which of them has the story's vulnerabilities."""
        refs: list[str] = []
        listed = self.vendors.get(story.id, [])
        named = {v.name: v.products for v in story.entities.vendors}
        for name, products in listed:
            vendor = self.vendor(name)
            # The products this story names, of those the part lists for the vendor.
            own = [p for p in named.get(name, ()) if p in products]
            software = [self.software(product, name) for product in own]
            refs += [vendor, *software]
            if len(listed) == 1:  # several vendors: which one has which flaw is not said
                for vulnerability in vulnerabilities:
                    for holder in software:
                        refs.append(self.relate(holder, "has", vulnerability))
                    if not software:
                        refs.append(self.relate(vendor, "related-to", vulnerability))
        return refs

    def indicator(self, kind: str, value: str, story: Story) -> str | None:
        pattern = indicator_pattern(kind, value)
        if pattern is None or warning(kind, value) is not None:
            return None  # a value a MISP warning list knows is no indicator of anything
        key = value.lower() if kind in ("md5", "sha1", "sha256") else value
        return self.add(
            "indicator",
            f"{kind}|{key}",
            {
                "name": f"{kind} {value}",
                "description": f"Named in: {story.title}",
                "pattern": pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": timestamp(min(_utc(story.published), self.end)),
            },
        )

    def story(self, story: Story) -> None:
        refs: list[str] = []
        entities = story.entities
        actors = [self.actor(a) for a in entities.actors]
        refs += actors
        for actor, ref in zip(entities.actors, actors, strict=True):
            if actor.country_code and actor.country:
                state = self.country(actor.country_code, actor.country)
                refs += [state, self.relate(ref, "originates-from", state)]
        victims = [self.country(c.code, c.name) for c in entities.countries if c.role == "target"]
        victims += [self.region(r.name) for r in entities.regions]
        victims += [self.sector(s.name) for s in entities.sectors]
        cves = [self.vulnerability(cve) for cve in entities.cves]
        victims += cves
        tools = [self.malware(m.name) for m in entities.malware]
        tools += [self.technique(t) for t in entities.techniques]
        refs += victims + tools
        for ref in actors:
            refs += [self.relate(ref, "targets", victim) for victim in victims]
            refs += [self.relate(ref, "uses", tool) for tool in tools]
        refs += self.story_vendors(story, cves)
        # An indicator points at the story's malware when it names some, else at its actors.
        indicated = [self.malware(m.name) for m in entities.malware] or actors
        for kind, values in entities.indicators:
            for value in values:
                indicator = self.indicator(kind, value, story)
                if indicator is not None:
                    refs.append(indicator)
                    refs += [self.relate(indicator, "indicates", t) for t in indicated]
        sources = [
            {
                "source_name": source.publisher or source.feed or "unknown",
                # STIX wants a url, an id or a description: the title stands when the link
                # is not http(s).
                "description": source.title or source.publisher or "untitled",
                **({"url": url} if (url := safe_url(source.url)) else {}),
            }
            for source in story.sources
        ]
        published = timestamp(min(_utc(story.published), self.end))
        ident = stix_id("report", story.id)
        report: dict[str, Any] = {
            "type": "report",
            "spec_version": "2.1",
            "id": ident,
            "created_by_ref": self.producer_id,
            "created": timestamp(min(_utc(story.published), self.end), millis=True),
            "modified": self.now,
            "name": story.title or story.id,
        }
        if story.summary:
            report["description"] = story.summary
        report["report_types"] = ["threat-report"]
        report["published"] = published
        # A story that names nothing still needs one ref: who reported it.
        report["object_refs"] = list(dict.fromkeys(refs)) or [self.producer_id]
        if sources:
            report["external_references"] = sources
        report["object_marking_refs"] = self.marks
        self.objects[ident] = report


def stix_bundle(briefing: Briefing, producer: str) -> dict[str, Any]:
    """The day's STIX 2.1 bundle (see the module docstring for the mapping)."""
    builder = _Builder(briefing, producer)
    for story in briefing.stories:
        builder.story(story)
    return {
        "type": "bundle",
        "id": stix_id("bundle", f"{stable_key(producer)}|{briefing.date}"),
        "objects": list(builder.objects.values()),
    }


def stix_json(briefing: Briefing, producer: str) -> str:
    """The bundle as JSON text (keys in STIX's order, two-space indent)."""
    return json.dumps(stix_bundle(briefing, producer), indent=2, ensure_ascii=False) + "\n"


def write_stix(briefing: Briefing, producer: str, folder: Path) -> Path:
    """Write ``folder/briefing.stix.json`` atomically; return its path."""
    path = folder / "briefing.stix.json"
    write_atomic(path, stix_json(briefing, producer))
    return path
