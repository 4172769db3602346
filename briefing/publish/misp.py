"""MISP feed (archive stage): the stored briefings -> ``DIR/misp/``, a static MISP feed.

In: every archived day's ``Briefing`` (the archive stage reads the ``DIR/YYYY-MM-DD/briefing.json``
files once and hands them over: this module reads no day itself) and the producer's name (the
config's ``title``).
Out, all under ``DIR/misp/``, in the format MISP's "Feeds" pull (the one PyMISP's
``MISPEvent.to_feed`` and ``tools/feed.py`` write):

* ``<event-uuid>.json`` — one event a day, ``{"Event": {...}}``: ``info`` (title and date),
  ``date``, ``threat_level_id``, ``analysis``, ``Orgc`` (the producer), ``Tag`` (the TLP tag
  and ``misp-galaxy:threat-actor`` / ``country`` / ``sector`` tags for the day's actors known
  to the knowledge base, attributed and targeted countries and sectors), ``Attribute`` (the
  indicators refanged, typed ``ip-dst``, ``domain``, ``url``, ``md5``, ``sha1``, ``sha256``,
  ``email``; actors the knowledge base does not know as ``threat-actor``, never as a galaxy
  tag, which would claim MISP's cluster of that name; the CVEs as ``vulnerability``; the
  vendors the briefing's vendor part lists and the products of theirs each story names as
  ``text`` (category External analysis, "Cisco ASA" rather than "ASA", so that MISP
  correlates the events about one product; MISP has no galaxy of vendors); the stories'
  sources as ``link``);
* ``manifest.json`` — event uuid -> ``{Orgc, Tag, info, date, analysis, threat_level_id,
  timestamp}``;
* ``hashes.csv`` — ``md5(value),event-uuid`` per attribute, for MISP's cache and correlation.

Every uuid is a UUIDv5 (the event's over the day's title and date, an attribute's over the
event, type and value), every timestamp the briefing's own clock: a rebuild writes the same
bytes. ``to_ids`` (MISP exports the attribute to IDS rules) is false for whatever the news
says, unless every source of the story comes from a feed the operator marked ``ids: true``, and
always false for a value on one of MISP's warning lists, which the comment then names
(``publish.trust``); never for CVEs, actors and links. Nothing is fetched; indicator values
come refanged from ``briefing.json`` only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from briefing.files import write_atomic
from briefing.intel.normalize import alias_key
from briefing.models import Briefing
from briefing.publish.stix import NAMESPACE, stable_key
from briefing.publish.trust import MISP_TYPES, for_ids, warning
from briefing.serialize import safe_url

FOLDER = "misp"

# MISP's default category per type (its describeTypes.json "sane_defaults").
_CATEGORY = {
    "ip-dst": "Network activity",
    "domain": "Network activity",
    "url": "Network activity",
    "md5": "Payload delivery",
    "sha1": "Payload delivery",
    "sha256": "Payload delivery",
    "email": "Social network",
    "vulnerability": "External analysis",
    "threat-actor": "Attribution",
    "text": "External analysis",
    "link": "External analysis",
}
# MISP's tlp taxonomy: tag name and colour per TLP label.
_TLP_COLOUR = {
    "clear": "#ffffff",
    "white": "#ffffff",
    "green": "#33FF00",
    "amber": "#FFC000",
    "amber+strict": "#FFC000",
    "red": "#FF2B2B",
}
_GALAXY_COLOUR = "#0088cc"
THREAT_LEVEL_UNDEFINED = "4"  # a news briefing assesses no threat level of its own
ANALYSIS_COMPLETED = "2"  # the day's briefing is final once built


def event_uuid(title: str, date: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"misp-event|{stable_key(title)}|{date}"))


# --- galaxy tags ----------------------------------------------------------------------------


def _cluster_values(name: str) -> list[dict[str, Any]]:
    """A MISP galaxy cluster's values (the user's copy from ``briefing kb update``, else the
    one shipped in pymispgalaxies)."""
    from briefing.intel.kb import cluster_file, read_cluster

    path = cluster_file(name)
    if path is None:
        return []
    return [v for v in read_cluster(path)["values"] if isinstance(v, dict) and v.get("value")]


@lru_cache(maxsize=1)
def _actor_values() -> dict[str, str]:
    """alias key -> MISP threat-actor cluster value (a value's own name before synonyms)."""
    index: dict[str, str] = {}
    values = _cluster_values("threat-actor")
    for entry in values:
        index.setdefault(alias_key(str(entry["value"])), str(entry["value"]))
    for entry in values:
        for synonym in (entry.get("meta") or {}).get("synonyms") or ():
            index.setdefault(alias_key(str(synonym)), str(entry["value"]))
    return index


@lru_cache(maxsize=1)
def _country_values() -> dict[str, str]:
    """ISO code -> MISP country cluster value ("IR" -> "iran")."""
    out: dict[str, str] = {}
    for entry in _cluster_values("country"):
        code = (entry.get("meta") or {}).get("ISO")
        if isinstance(code, str):
            out.setdefault(code.upper(), str(entry["value"]))
    return out


@lru_cache(maxsize=1)
def _sector_values() -> dict[str, str]:
    """Our sector name -> MISP sector cluster value. Several MISP values fold into one of ours
    ("Railway", "Transport" -> Transportation); the tag names the closest: the same word, else
    one containing ours ("News - Media"), else the longest shared prefix ("Telecoms"); none
    when no MISP value is that close."""
    from briefing.intel.sectors import MISP_SECTOR_MAP, SECTOR_FORMS

    forms = {name.lower(): name for name in SECTOR_FORMS}
    for name, variants in SECTOR_FORMS.items():
        for form in variants:
            forms.setdefault(form.lstrip("=").lower(), name)

    def closeness(value: str, ours: str) -> tuple[bool, bool, int]:
        a, b = value.lower(), ours.lower()
        prefix = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        return (a == b, b in a or a in b, min(len(a), len(b)) if prefix is None else prefix)

    best: dict[str, str] = {}
    for entry in _cluster_values("sector"):
        value = str(entry["value"])
        ours = MISP_SECTOR_MAP.get(value) or forms.get(value.lower())
        score = closeness(value, ours) if ours else (False, False, 0)
        # A narrower MISP sector is no name for ours ("Water" is not all critical
        # infrastructure): such a sector keeps its own name in the tag.
        close = score[1] or score[2] >= 4
        if ours and close and (ours not in best or score > closeness(best[ours], ours)):
            best[ours] = value
    return best


def _galaxy(kind: str, value: str) -> str:
    # A double quote would end the machine tag's value early: a name from text may hold one.
    return f'misp-galaxy:{kind}="{value.replace(chr(34), chr(39))}"'


def _tags(briefing: Briefing) -> list[dict[str, Any]]:
    tlp = briefing.tlp.strip().lower().removeprefix("tlp:")
    names = [(f"tlp:{tlp}", _TLP_COLOUR.get(tlp, "#ffffff"))]
    galaxy: dict[str, None] = {}
    actors, countries, sectors = _actor_values(), _country_values(), _sector_values()
    for story in briefing.stories:
        for actor in story.entities.actors:
            if not actor.in_kb:
                continue  # an attribute (``_attributes``): a galaxy tag claims MISP's cluster
            found = next(
                (actors[k] for n in (actor.name, *actor.aliases) if (k := alias_key(n)) in actors),
                actor.name,
            )
            galaxy.setdefault(_galaxy("threat-actor", found))
        codes = [a.country_code for a in story.entities.actors if a.country_code]
        codes += [c.code for c in story.entities.countries if c.role != "mentioned"]
        for code in codes:
            if code.upper() in countries:
                galaxy.setdefault(_galaxy("country", countries[code.upper()]))
        for sector in story.entities.sectors:
            galaxy.setdefault(_galaxy("sector", sectors.get(sector.name, sector.name)))
    names += [(name, _GALAXY_COLOUR) for name in galaxy]
    return [
        {"colour": colour, "local": False, "name": name, "relationship_type": ""}
        for name, colour in names
    ]


# --- events ---------------------------------------------------------------------------------


def _attributes(
    briefing: Briefing, event: str, timestamp: str, trusted: Collection[str]
) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}

    def add(kind: str, value: str, to_ids: bool, comment: str) -> None:
        if (kind, value) in seen:
            return
        seen[(kind, value)] = {
            "category": _CATEGORY[kind],
            "comment": comment,
            "deleted": False,
            "disable_correlation": False,
            "timestamp": timestamp,
            "to_ids": to_ids,
            "type": kind,
            "uuid": str(uuid.uuid5(uuid.UUID(event), f"{kind}|{value}")),
            "value": value,
        }

    # story id -> (vendor, the products the vendor part lists for it), as in the STIX bundle
    vendors: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for section in briefing.by_vendor:
        for sid in section.story_ids:
            vendors.setdefault(sid, []).append((section.title, section.products))
    for story in briefing.stories:
        comment = story.title[:500]
        named = {v.name: v.products for v in story.entities.vendors}
        for vendor, products in vendors.get(story.id, ()):
            own = [p for p in named.get(vendor, ()) if p in products]
            add("text", vendor, False, f"Vendor{': ' + ', '.join(own) if own else ''}. {comment}")
            for product in own:
                # "Cisco ASA", not "ASA": a product's name correlates across events with its maker
                full = (
                    product if product.lower().startswith(vendor.lower()) else f"{vendor} {product}"
                )
                add("text", full, False, f"Product of {vendor}. {comment}")
        for kind, values in story.entities.indicators:
            if kind in MISP_TYPES:
                for value in values:
                    listed = warning(kind, value)
                    note = f"MISP warning list: {listed}. {comment}" if listed else comment
                    add(MISP_TYPES[kind], value, for_ids(kind, value, story, trusted), note)
        for actor in story.entities.actors:
            if not actor.in_kb:  # a name the knowledge base does not know: context only
                add("threat-actor", actor.name, False, comment)
        for cve in story.entities.cves:
            add("vulnerability", cve.upper(), False, comment)
        for source in story.sources:
            if url := safe_url(source.url):
                add("link", url, False, source.title[:500] or comment)
    return list(seen.values())


def misp_event(briefing: Briefing, producer: str, trusted: Collection[str] = ()) -> dict[str, Any]:
    """The day's event in MISP's feed form, ``{"Event": {...}}``. Its uuid and ``info`` come
    from the title the day was built under (a later change of ``title`` leaves the days
    already pulled alone); ``Orgc`` is the producer now. ``trusted``: the feeds marked
    ``ids: true`` (``publish.trust``)."""
    title = briefing.title or producer
    ident = event_uuid(title, briefing.date)
    timestamp = str(int(briefing.window_end.timestamp()))
    event: dict[str, Any] = {
        "analysis": ANALYSIS_COMPLETED,
        "date": briefing.date,
        "extends_uuid": "",
        "info": f"{title} {briefing.date}",
        "protected": False,
        "publish_timestamp": timestamp,
        "published": True,
        "threat_level_id": THREAT_LEVEL_UNDEFINED,
        "timestamp": timestamp,
        "uuid": ident,
        "Orgc": {"name": producer, "uuid": str(uuid.uuid5(NAMESPACE, f"misp-org|{producer}"))},
        "Tag": _tags(briefing),
    }
    attributes = _attributes(briefing, ident, timestamp, trusted)
    if attributes:
        event["Attribute"] = attributes
    return {"Event": event}


def manifest_entry(event: dict[str, Any]) -> dict[str, Any]:
    """The event's line of ``manifest.json`` (numbers as numbers there, as PyMISP writes it;
    the event file itself has them as strings, as MISP exports them)."""
    body = event["Event"]
    entry = {key: body[key] for key in ("Orgc", "Tag", "info", "date")}
    for key in ("analysis", "threat_level_id", "timestamp"):
        entry[key] = int(body[key])
    return {body["uuid"]: entry}


def attribute_hashes(event: dict[str, Any]) -> Iterator[str]:
    """``md5(value),event-uuid`` per attribute (MISP's ``hashes.csv`` line)."""
    body = event["Event"]
    for attribute in body.get("Attribute", ()):
        digest = hashlib.md5(str(attribute["value"]).encode("utf-8")).hexdigest()
        yield f"{digest},{body['uuid']}"


def _dump(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def write_misp_feed(
    output: Path, days: Iterable[Briefing], producer: str, trusted: Collection[str] = ()
) -> Path:
    """(Re)write ``output/misp/`` from every archived day (``days``, oldest first); ``trusted``
    names the feeds marked ``ids: true``.

    Event files whose bytes did not change are left alone; events of days no longer in the
    archive are removed. Every write is atomic and the manifest comes after the events, so a
    MISP pulling during a build never finds the manifest naming a missing file. Returns the
    folder."""
    folder = output / FOLDER
    manifest: dict[str, Any] = {}
    hashes: list[str] = []
    for event in (misp_event(briefing, producer, trusted) for briefing in days):
        path = folder / f"{event['Event']['uuid']}.json"
        text = _dump(event)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
        manifest.update(manifest_entry(event))
        hashes += attribute_hashes(event)
    write_atomic(folder / "hashes.csv", "".join(f"{line}\n" for line in hashes))
    write_atomic(folder / "manifest.json", _dump(manifest))
    for stale in folder.glob("*.json"):
        if stale.name != "manifest.json" and stale.stem not in manifest:
            stale.unlink()
    return folder
