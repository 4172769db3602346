"""STIX 2.1 output (publish stage): a ``Briefing`` -> ``DIR/YYYY-MM-DD/briefing.stix.json``.

In: the day's ``Briefing`` and the producer's name (the config's ``title``). Out: one STIX 2.1
bundle, built with the ``stix2`` library, that OpenCTI, Taranis AI or any STIX consumer imports:

* an ``identity`` (class ``organization``) for the producer, ``created_by_ref`` of everything;
* the config's TLP as a marking definition on every object (TLP:GREEN, AMBER and RED are the
  STIX 2.1 spec's own objects; TLP:CLEAR and TLP:AMBER+STRICT the TLP 2.0 extension's);
* one ``report`` per story: title, ``published``, summary, its sources as
  ``external_references`` and everything below that the story names in ``object_refs``;
* ``intrusion-set`` per actor (with aliases), ``location`` per country and region,
  ``identity`` of class ``class`` per victim sector, ``malware``, ``vulnerability`` (the CVE as
  an external reference), ``attack-pattern`` (the ATT&CK id as an external reference),
  ``indicator`` (a STIX pattern over the refanged value; nothing is ever fetched);
* relationships: actor ``originates-from`` its attributed state, actor ``targets`` the story's
  targeted countries, its regions, sectors and CVEs, actor ``uses`` its malware and techniques,
  indicator ``indicates`` the story's malware (else its actors).

Identity. Every id is a UUIDv5 in one namespace of ours over a stable key — an actor's
canonical name, a country's ISO code, a region's, sector's or malware's name, the CVE or
technique id, an indicator's kind and value, a story's id, a relationship's (source, type,
target) — so APT39 has the same ``intrusion-set`` id every day and in every installation.
``created`` of a shared object is one fixed moment and ``modified`` the briefing's clock
(``generated_at``), never the wall clock: the same store and ``--now`` give a byte-identical
file, and a later day's bundle is a newer version of the same objects.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import stix2

from briefing.files import write_atomic
from briefing.models import ActorRef, Briefing, Story
from briefing.serialize import safe_url

# Fixed for good: changing it (or ``stable_key``) changes every id ever published.
NAMESPACE = uuid.UUID("6c0f5e52-8f1d-5b4e-9a57-2f1b6d3c9e10")
# ``created`` of the objects several days share (actors, places, sectors...): one moment for
# every version of them, as STIX requires; each day's bundle then differs in ``modified`` only.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)

_ATTACK_GROUP = re.compile(r"[Gg]\d{4}")

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
# The TLP 2.0 marking definitions of the OASIS extension (cti-stix-common-objects,
# extension-definition-specifications/tlp-2.0): fixed ids every consumer recognises.
_TLP2_IDS = {
    "TLP:CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "TLP:AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
}
_TLP_SPEC = {"TLP:GREEN": stix2.TLP_GREEN, "TLP:AMBER": stix2.TLP_AMBER, "TLP:RED": stix2.TLP_RED}

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


def stix_id(kind: str, key: str) -> str:
    """``kind--<uuid5(NAMESPACE, "kind|key")>``."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}|{key}')}"


def tlp_marking(tlp: str) -> stix2.MarkingDefinition:
    """The marking definition of a TLP label (``TLP:CLEAR`` ... ``TLP:RED``)."""
    label = tlp.strip().upper()
    if label in _TLP_SPEC:
        return _TLP_SPEC[label]
    if label == "TLP:WHITE":
        label = "TLP:CLEAR"
    if label not in _TLP2_IDS:
        raise ValueError(f"not a TLP label: {tlp!r}")
    return stix2.MarkingDefinition(
        id=_TLP2_IDS[label],
        created="2022-10-01T00:00:00.000Z",
        name=label,
        extensions={
            TLP2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": label.removeprefix("TLP:").lower(),
            }
        },
    )


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


class _Builder:
    """Collects the bundle's objects once each, in first-seen order (which is deterministic:
    stories in rank order, entities in the order the story lists them)."""

    def __init__(self, briefing: Briefing, producer: str) -> None:
        self.now = _utc(briefing.window_end)
        self.marking = tlp_marking(briefing.tlp)
        self.producer = stix2.Identity(
            id=stix_id("identity", "producer|" + stable_key(producer)),
            created=EPOCH,
            modified=self.now,
            name=producer,
            identity_class="organization",
            object_marking_refs=[self.marking.id],
        )
        self.objects: dict[str, Any] = {self.marking.id: self.marking}
        self.objects[self.producer.id] = self.producer

    def common(self) -> dict[str, Any]:
        return {
            "created": EPOCH,
            "modified": self.now,
            "created_by_ref": self.producer.id,
            "object_marking_refs": [self.marking.id],
        }

    def add(self, kind: str, key: str, make: Any, **props: Any) -> str:
        ident = stix_id(kind, key)
        if ident not in self.objects:
            self.objects[ident] = make(id=ident, **self.common(), **props)
        return ident

    def relate(self, source: str, relation: str, target: str) -> str:
        ident = stix_id("relationship", f"{source}|{relation}|{target}")
        if ident not in self.objects:
            self.objects[ident] = stix2.Relationship(
                id=ident,
                relationship_type=relation,
                source_ref=source,
                target_ref=target,
                **self.common(),
            )
        return ident

    def actor(self, actor: ActorRef) -> str:
        own = stable_key(actor.name)
        names = [a.strip() for a in actor.aliases if a.strip() and stable_key(a) != own]
        # An ATT&CK group id among the names ("G0087") is a reference, not a name: consumers
        # such as OpenCTI match groups by it.
        groups = [n.upper() for n in names if _ATTACK_GROUP.fullmatch(n)]
        aliases = [n for n in names if not _ATTACK_GROUP.fullmatch(n)]
        extra: dict[str, Any] = {"aliases": aliases} if aliases else {}
        if groups:
            extra["external_references"] = [
                {
                    "source_name": "mitre-attack",
                    "external_id": group,
                    "url": f"https://attack.mitre.org/groups/{group}/",
                }
                for group in dict.fromkeys(groups)
            ]
        return self.add("intrusion-set", own, stix2.IntrusionSet, name=actor.name, **extra)

    def country(self, code: str, name: str) -> str:
        return self.add(
            "location", "country|" + code.upper(), stix2.Location, name=name, country=code.upper()
        )

    def region(self, name: str) -> str:
        region = _REGION_OV.get(name) or _slug(name)
        return self.add(
            "location", "region|" + stable_key(name), stix2.Location, name=name, region=region
        )

    def sector(self, name: str) -> str:
        industry = _INDUSTRY.get(name) or _slug(name)
        extra = {"sectors": [industry]} if industry in stix2.v21.vocab.INDUSTRY_SECTOR else {}
        return self.add(
            "identity",
            "sector|" + stable_key(name),
            stix2.Identity,
            name=name,
            identity_class="class",
            **extra,
        )

    def malware(self, name: str) -> str:
        return self.add("malware", stable_key(name), stix2.Malware, name=name, is_family=True)

    def vulnerability(self, cve: str) -> str:
        cve = cve.upper()
        return self.add(
            "vulnerability",
            cve,
            stix2.Vulnerability,
            name=cve,
            external_references=[
                {
                    "source_name": "cve",
                    "external_id": cve,
                    "url": f"https://www.cve.org/CVERecord?id={cve}",
                }
            ],
        )

    def technique(self, technique: str) -> str:
        technique = technique.upper()
        path = technique.replace(".", "/")
        return self.add(
            "attack-pattern",
            technique,
            stix2.AttackPattern,
            name=technique,
            external_references=[
                {
                    "source_name": "mitre-attack",
                    "external_id": technique,
                    "url": f"https://attack.mitre.org/techniques/{path}/",
                }
            ],
        )

    def indicator(self, kind: str, value: str, story: Story) -> str | None:
        pattern = indicator_pattern(kind, value)
        if pattern is None:
            return None
        return self.add(
            "indicator",
            f"{kind}|{value.lower() if kind in ('md5', 'sha1', 'sha256') else value}",
            stix2.Indicator,
            name=f"{kind} {value}",
            description=f"Named in: {story.title}",
            pattern=pattern,
            pattern_type="stix",
            valid_from=min(_utc(story.published), self.now),
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
        victims += [self.vulnerability(cve) for cve in entities.cves]
        tools = [self.malware(m.name) for m in entities.malware]
        tools += [self.technique(t) for t in entities.techniques]
        refs += victims + tools
        for ref in actors:
            refs += [self.relate(ref, "targets", victim) for victim in victims]
            refs += [self.relate(ref, "uses", tool) for tool in tools]
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
                "description": source.title or source.publisher,
                **({"url": url} if (url := safe_url(source.url)) else {}),
            }
            for source in story.sources
        ]
        published = min(_utc(story.published), self.now)
        ident = stix_id("report", story.id)
        self.objects[ident] = stix2.Report(
            id=ident,
            created=published,
            modified=self.now,
            created_by_ref=self.producer.id,
            object_marking_refs=[self.marking.id],
            name=story.title or story.id,
            published=published,
            report_types=["threat-report"],
            **({"description": story.summary} if story.summary else {}),
            **({"external_references": sources} if sources else {}),
            # A story that names nothing still needs one ref: who reported it.
            object_refs=list(dict.fromkeys(refs)) or [self.producer.id],
        )


def stix_bundle(briefing: Briefing, producer: str) -> stix2.Bundle:
    """The day's STIX 2.1 bundle (see the module docstring for the mapping)."""
    builder = _Builder(briefing, producer)
    for story in briefing.stories:
        builder.story(story)
    return stix2.Bundle(
        id=stix_id("bundle", f"{stable_key(producer)}|{briefing.date}"),
        objects=list(builder.objects.values()),
    )


def stix_json(briefing: Briefing, producer: str) -> str:
    """The bundle as JSON text (keys in STIX's canonical order, two-space indent)."""
    data = json.loads(stix_bundle(briefing, producer).serialize())
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_stix(briefing: Briefing, producer: str, folder: Path) -> Path:
    """Write ``folder/briefing.stix.json`` atomically; return its path."""
    path = folder / "briefing.stix.json"
    write_atomic(path, stix_json(briefing, producer))
    return path
