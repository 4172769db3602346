"""briefing.stix.json: a STIX 2.1 bundle that OASIS's validator accepts, with the actor, place,
sector and indicator objects and relationships the briefing found, and ids that stay the same
across builds, days and installations."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import stix2
from click.testing import CliRunner
from stix2validator import ValidationOptions, validate_string

from benchmarks.samples import END, synthetic_briefing
from briefing.cli import cli
from briefing.config import Config, FeedConfig
from briefing.models import Briefing
from briefing.publish.render import write_briefing
from briefing.publish.stix import indicator_pattern, stix_json, tlp_marking

# Pinned: the id every installation gives APT39, today and on every later day. If this changes,
# every intrusion-set ever published gets a new identity in the platforms that imported it.
APT39_ID = "intrusion-set--2b80ce0c-c6ac-5bd6-9aa4-1e373f25e4fd"


def _config(**extra: Any) -> Config:
    return Config(feeds=(FeedConfig(name="x", url="https://example.org/feed"),), **extra)


def _objects(text: str) -> list[dict[str, Any]]:
    data = json.loads(text)
    assert data["type"] == "bundle"
    return list(data["objects"])


def _validate(text: str) -> None:
    result = validate_string(text, ValidationOptions(version="2.1"))
    errors = [str(e) for r in getattr(result, "object_results", [result]) for e in r.errors]
    assert result.is_valid, errors


def _by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in objects}


def _related(objects: list[dict[str, Any]], source: str, kind: str) -> list[dict[str, Any]]:
    ids = _by_id(objects)
    return [
        ids[o["target_ref"]]
        for o in objects
        if o["type"] == "relationship"
        and o["source_ref"] == source
        and o["relationship_type"] == kind
    ]


def _actor(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(o for o in objects if o["type"] == "intrusion-set" and o["name"] == name)


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled demo site (three outlets on APT39 among others) built end to end."""
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["-q", "demo", "-o", str(out)])
    assert result.exit_code == 0, result.output
    (day,) = [p for p in out.iterdir() if p.name.startswith("20")]
    return day


def test_a_real_build_validates_and_says_who_targets_what(demo_day: Path) -> None:
    text = (demo_day / "briefing.stix.json").read_text(encoding="utf-8")
    _validate(text)
    objects = _objects(text)
    apt39 = _actor(objects, "APT39")
    assert apt39["id"] == APT39_ID
    assert "Chafer" in apt39["aliases"]
    assert "G0087" not in apt39["aliases"]  # ATT&CK's id is a reference, not a name
    assert {"source_name": "mitre-attack", "external_id": "G0087"}.items() <= (
        apt39["external_references"][0].items()
    )
    assert [o["country"] for o in _related(objects, apt39["id"], "originates-from")] == ["IR"]
    targets = _related(objects, apt39["id"], "targets")
    assert {"SA", "AE"} <= {t.get("country") for t in targets}
    assert "middle-east" in {t.get("region") for t in targets}
    sector = next(t for t in targets if t["name"] == "Telecommunications")
    assert sector["type"] == "identity" and sector["identity_class"] == "class"
    assert sector["sectors"] == ["telecommunications"]
    reports = [o for o in objects if o["type"] == "report"]
    data = json.loads((demo_day / "briefing.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in reports] == [s["title"] for s in data["stories"]]
    story = next(r for r in reports if apt39["id"] in r["object_refs"])
    sources = next(s["sources"] for s in data["stories"] if s["title"] == story["name"])
    assert len(sources) > 1  # several outlets told it: each is a reference
    assert [ref["url"] for ref in story["external_references"]] == [s["url"] for s in sources]
    assert all(ref in _by_id(objects) for r in reports for ref in r["object_refs"])


def test_indicators_are_refanged_patterns_that_indicate(demo_day: Path) -> None:
    objects = _objects((demo_day / "briefing.stix.json").read_text(encoding="utf-8"))
    data = json.loads((demo_day / "briefing.json").read_text(encoding="utf-8"))
    defanged = [v for s in data["stories"] for vs in s["indicators"].values() for v in vs]
    assert defanged and all("[.]" in v or len(v) == 64 for v in defanged)
    indicators = [o for o in objects if o["type"] == "indicator"]
    assert len(indicators) == len(defanged)
    for indicator in indicators:
        assert "[.]" not in indicator["pattern"] and "hxxp" not in indicator["pattern"]
    assert "[url:value = 'http://update-check.example.net/fw/sync.sh']" in {
        i["pattern"] for i in indicators
    }


def test_same_ids_for_the_same_day_and_the_actor_on_the_next(tmp_path: Path) -> None:
    config = _config(tlp="TLP:AMBER")
    today = synthetic_briefing(12, seed=3)
    first = stix_json(today, config.title)
    assert stix_json(synthetic_briefing(12, seed=3), config.title) == first  # byte-identical
    tomorrow = synthetic_briefing(12, seed=9, end=END + timedelta(days=1))
    second = stix_json(tomorrow, config.title)
    assert _actor(_objects(first), "APT39")["id"] == _actor(_objects(second), "APT39")["id"]
    assert _actor(_objects(first), "APT39")["id"] == APT39_ID
    # shared objects keep one ``created`` and move ``modified`` on; reports follow story ids
    a, b = _actor(_objects(first), "APT39"), _actor(_objects(second), "APT39")
    assert a["created"] == b["created"] and a["modified"] < b["modified"]
    report_ids = {o["id"] for o in _objects(first) if o["type"] == "report"}
    assert len(report_ids) == len(today.stories)
    _validate(second)


def test_every_object_carries_the_configured_tlp(tmp_path: Path) -> None:
    briefing: Briefing = synthetic_briefing(6, seed=1)
    for tlp, marking in (
        ("TLP:AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
        ("TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
        ("TLP:GREEN", stix2.TLP_GREEN.id),
        ("TLP:RED", stix2.TLP_RED.id),
    ):
        from dataclasses import replace

        text = stix_json(replace(briefing, tlp=tlp), "ACME SOC")
        _validate(text)
        objects = _objects(text)
        (definition,) = [o for o in objects if o["type"] == "marking-definition"]
        assert definition["id"] == marking and definition["name"] == tlp
        assert all(
            o["object_marking_refs"] == [marking]
            for o in objects
            if o["type"] != "marking-definition"
        )
    with pytest.raises(ValueError):
        tlp_marking("TLP:PURPLE")


def test_write_briefing_writes_the_bundle_beside_the_json(tmp_path: Path) -> None:
    briefing = synthetic_briefing(4, seed=2)
    folder = write_briefing(briefing, _config(title="ACME SOC"), tmp_path)
    objects = _objects((folder / "briefing.stix.json").read_text(encoding="utf-8"))
    producer = next(o for o in objects if o["type"] == "identity" and o["name"] == "ACME SOC")
    assert producer["identity_class"] == "organization"
    assert all(
        o.get("created_by_ref") == producer["id"]
        for o in objects
        # observables (a product's ``software``) are facts with no creator in STIX
        if o["type"] not in ("marking-definition", "software") and o is not producer
    )


@pytest.mark.parametrize(
    ("kind", "value", "pattern"),
    [
        ("ipv4", "203.0.113.7", "[ipv4-addr:value = '203.0.113.7']"),
        ("domain", "evil.example.net", "[domain-name:value = 'evil.example.net']"),
        ("sha256", "AB" * 32, f"[file:hashes.'SHA-256' = '{'ab' * 32}']"),
        ("md5", "c" * 32, f"[file:hashes.MD5 = '{'c' * 32}']"),
        ("url", "http://x.example/a'b\\c", "[url:value = 'http://x.example/a\\'b\\\\c']"),
    ],
)
def test_patterns_quote_hostile_values(kind: str, value: str, pattern: str) -> None:
    assert indicator_pattern(kind, value) == pattern
    # OASIS's library parses the pattern when it builds the object: a broken quote raises.
    stix2.Indicator(pattern=pattern, pattern_type="stix", valid_from=END)


def test_hostile_text_still_makes_a_valid_bundle() -> None:
    from dataclasses import replace

    from briefing.models import ActorRef, CountryRef, Entities, NamedRef

    briefing = synthetic_briefing(2, seed=1)
    story = briefing.stories[0]
    weird = "\x00'\"\\<script>é🛰\n" * 3
    source = replace(story.sources[0], feed="", outlet=None, title="", url="javascript:alert(1)")
    entities = Entities(
        actors=(ActorRef(weird, (weird, "", "Other name"), "Iran", "IR", False, ()),),
        countries=(CountryRef("XX", weird, "target", ()),),
        regions=(NamedRef(weird, ()),),
        sectors=(NamedRef(weird, ()),),
        malware=(NamedRef(weird, ()),),
        cves=("cve-2026-0001",),
        techniques=("t1566.001",),
        indicators=(("url", ("http://a.example/'\\x",)), ("email", ("a@b.example",))),
    )
    hostile = replace(story, title="", summary="", sources=(source,), entities=entities)
    text = stix_json(replace(briefing, stories=(hostile,)), weird)
    _validate(text)
    objects = _objects(text)
    (report,) = [o for o in objects if o["type"] == "report"]
    assert "url" not in report["external_references"][0]  # javascript: is no link
    assert _actor(objects, weird)["aliases"] == ["Other name"]
    patterns = {o["pattern"] for o in objects if o["type"] == "indicator"}
    assert patterns == {
        "[url:value = 'http://a.example/\\'\\\\x']",
        "[email-addr:value = 'a@b.example']",
    }


def test_vocabulary_tables_name_real_sectors_regions_and_terms() -> None:
    """The mapping tables track the tagger's names: a renamed sector or region would silently
    lose its STIX vocabulary term."""
    from briefing.intel.geo import REGIONS
    from briefing.intel.sectors import SECTOR_FORMS
    from briefing.publish.stix import _INDUSTRY, _REGION_OV, INDUSTRY_SECTOR

    assert set(stix2.v21.vocab.INDUSTRY_SECTOR) == INDUSTRY_SECTOR  # our copy of the spec's
    assert set(_INDUSTRY) <= set(SECTOR_FORMS)
    assert set(_INDUSTRY.values()) <= INDUSTRY_SECTOR
    assert set(_REGION_OV) <= set(REGIONS)
    assert set(_REGION_OV.values()) <= set(stix2.v21.vocab.REGION)


def test_an_unknown_name_never_takes_a_known_actors_id_or_object() -> None:
    """#26: "LazarusGroup" (not in the knowledge base) once normalised onto Lazarus Group's id,
    and the hostile story, ranked first, wrote the object and attached "originates-from
    Russia" to it. The entities come from the real tagger."""
    from dataclasses import replace

    from briefing.intel import get_tagger
    from briefing.models import Entities
    from briefing.publish.stix import stable_key, stix_id

    tagger = get_tagger()
    hostile = tagger.tag(
        "A Russian threat actor tracked as LazarusGroup breached a bank in Poland."
    )
    real = tagger.tag("North Korea's Lazarus Group stole $40 million from a crypto exchange.")
    (forged,) = hostile.actors
    (lazarus,) = real.actors
    assert not forged.in_kb and forged.country_code == "RU"  # what the tagger made of it
    assert lazarus.in_kb and stable_key(forged.name) == stable_key(lazarus.name)  # the old key

    briefing = synthetic_briefing(2, seed=1)
    first, second = briefing.stories
    stories = (
        replace(first, title="LazarusGroup hits a bank", entities=hostile),
        replace(second, title="Lazarus Group hits an exchange", entities=real),
    )
    text = stix_json(replace(briefing, stories=stories), "ACME")
    _validate(text)
    objects = _objects(text)
    known = _actor(objects, "Lazarus Group")
    assert known["id"] == stix_id("intrusion-set", "lazarusgroup")  # unchanged since day one
    # the knowledge base's names (ATT&CK's group id as a reference, not a name)
    groups = {a for a in lazarus.aliases if a[0] == "G" and a[1:].isdigit()}
    assert set(known["aliases"]) == set(lazarus.aliases) - {lazarus.name} - groups
    assert {r["external_id"] for r in known["external_references"]} == groups
    assert [o["country"] for o in _related(objects, known["id"], "originates-from")] == ["KP"]
    impostor = _actor(objects, "LazarusGroup")
    assert impostor["id"] != known["id"] and "aliases" not in impostor  # none of Lazarus
    assert [o["country"] for o in _related(objects, impostor["id"], "originates-from")] == ["RU"]
    # spelled another way, the unknown name is still one actor (the tagger's alias key)
    respelled = replace(forged, name="LAZARUSGROUP", mentions=("LAZARUSGROUP",))
    again = replace(stories[0], id="other", entities=Entities(actors=(respelled,)))
    objects = _objects(stix_json(replace(briefing, stories=(*stories, again)), "ACME"))
    assert {o["id"] for o in objects if o["type"] == "intrusion-set"} == {
        known["id"],
        impostor["id"],
    }


def test_a_value_on_a_misp_warning_list_is_no_indicator() -> None:
    """#26: 8.8.8.8, Microsoft's login host, the empty file... named in the news are no
    indicator of anything; the story's other values still are."""
    from dataclasses import replace

    from briefing.models import Entities

    benign = {
        "ipv4": ("8.8.8.8", "1.1.1.1", "10.20.30.40", "192.0.2.15"),
        "ipv6": ("2001:db8::7",),
        "domain": ("login.microsoftonline.com", "windowsupdate.com", "ocsp.digicert.com"),
        "sha256": ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",),
    }
    briefing = synthetic_briefing(1, seed=1)
    indicators = (
        *benign.items(),
        ("url", ("https://evil-updates.example/gate.php",)),
        ("md5", ("c" * 32,)),
    )
    story = replace(briefing.stories[0], entities=Entities(indicators=indicators))
    text = stix_json(replace(briefing, stories=(story,)), "ACME")
    _validate(text)
    patterns = {o["pattern"] for o in _objects(text) if o["type"] == "indicator"}
    assert patterns == {
        "[url:value = 'https://evil-updates.example/gate.php']",
        f"[file:hashes.MD5 = '{'c' * 32}']",
    }


def test_the_days_vendors_and_products_are_in_the_bundle() -> None:
    """#25: every vendor of the briefing's vendor part is an organisation the reports of its
    stories refer to; the products they name are ``software`` of that vendor, which ``has``
    the story's CVEs when the story is one vendor's."""
    briefing = synthetic_briefing(12, seed=3)
    assert briefing.by_vendor
    text = stix_json(briefing, "ACME")
    _validate(text)
    objects = _objects(text)
    ids = _by_id(objects)
    reports = {o["name"]: o for o in objects if o["type"] == "report"}
    stories = {s.id: s for s in briefing.stories}
    for section in briefing.by_vendor:
        (vendor,) = [
            o
            for o in objects
            if o["type"] == "identity" and o["name"] == section.title
            and o["identity_class"] == "organization"
        ]  # fmt: skip
        for sid in section.story_ids:
            story = stories[sid]
            report = reports[story.title]
            assert vendor["id"] in report["object_refs"]
            (named,) = [v for v in story.entities.vendors if v.name == section.title]
            software = [ids[r] for r in report["object_refs"] if r.startswith("software--")]
            assert {s["name"] for s in software} == set(named.products)
            assert {s["vendor"] for s in software} == {section.title}
            for product in software:  # STIX's own id for the observable: OASIS's library agrees
                expected = stix2.Software(name=product["name"], vendor=section.title).id
                assert product["id"] == expected
                assert "created_by_ref" not in product
                has = {ids[o["target_ref"]]["name"] for o in objects
                       if o["type"] == "relationship" and o["source_ref"] == product["id"]
                       and o["relationship_type"] == "has"}  # fmt: skip
                assert set(story.entities.cves) <= has
