"""DIR/misp/: a MISP feed of the archive that MISP's own client reads back unchanged: one event a
day with the TLP and galaxy tags and typed attributes, a manifest and hashes.csv; rewritten
from the stored days, byte-identical on rebuild, stale days removed."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pymisp import MISPEvent

from benchmarks.samples import END, synthetic_briefing
from briefing.cli import cli
from briefing.config import Config, FeedConfig, load_config
from briefing.errors import ConfigError
from briefing.files import write_atomic
from briefing.models import Briefing, Entities
from briefing.publish.archive import update_archive
from briefing.publish.misp import event_uuid, misp_event
from briefing.publish.trust import MISP_TYPES
from briefing.serialize import dumps

TITLE = "ACME SOC briefing"


def _config(**extra: Any) -> Config:
    settings = {"title": TITLE, **extra}
    return Config(feeds=(FeedConfig(name="x", url="https://example.org/feed"),), **settings)


def _build(out: Path, config: Config, days: int = 2) -> list[Briefing]:
    made = []
    for n in range(days):
        briefing = synthetic_briefing(8, seed=n + 1, end=END - timedelta(days=days - 1 - n))
        briefing = replace(briefing, title=config.title, tlp=config.tlp)  # as compose sets them
        # The feed is made from the stored briefing.json alone (the day's pages are render's).
        write_atomic(out / briefing.date / "briefing.json", dumps(briefing))
        update_archive(config, out, [briefing.date])
        made.append(briefing)
    return made


def _event(out: Path, date: str) -> dict[str, Any]:
    path = out / "misp" / f"{event_uuid(TITLE, date)}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_pymisp_reads_every_event_back_as_written(tmp_path: Path) -> None:
    briefings = _build(tmp_path, _config(tlp="TLP:AMBER"))
    manifest = json.loads((tmp_path / "misp" / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest) == [event_uuid(TITLE, b.date) for b in briefings]
    for briefing in briefings:
        data = _event(tmp_path, briefing.date)
        event = MISPEvent()
        event.load(copy.deepcopy(data))  # load() consumes its argument
        # MISP's own feed writer, fed the loaded event, gives back exactly our file and line
        assert event.to_feed() == data
        assert event.manifest == {event.uuid: manifest[event.uuid]}
        assert event.info == f"{TITLE} {briefing.date}"
        assert str(event.date) == briefing.date


def test_tags_and_attributes_carry_what_the_day_found(tmp_path: Path) -> None:
    (briefing,) = _build(tmp_path, _config(tlp="TLP:AMBER+STRICT"), days=1)
    event = MISPEvent()
    event.load(_event(tmp_path, briefing.date))
    tags = {t.name for t in event.tags}
    assert "tlp:amber+strict" in tags
    assert 'misp-galaxy:threat-actor="APT39"' in tags  # MISP's own cluster value
    assert 'misp-galaxy:country="iran"' in tags
    assert 'misp-galaxy:sector="Telecoms"' in tags  # MISP's word for our Telecommunications
    by_type: dict[str, dict[str, bool]] = {}
    for attribute in event.attributes:
        by_type.setdefault(attribute.type, {})[attribute.value] = attribute.to_ids
    indicators = {(k, v) for s in briefing.stories for k, vs in s.entities.indicators for v in vs}
    kinds = {"ipv4": "ip-dst", "domain": "domain", "sha256": "sha256"}
    assert {(kinds[k], v) for k, v in indicators} == {
        (t, v) for t in ("ip-dst", "domain", "sha256") for v in by_type.get(t, {})
    }
    # news is context: no feed of this config is marked ids, so nothing is an IDS rule
    assert not any(to_ids for values in by_type.values() for to_ids in values.values())
    cves = {c for s in briefing.stories for c in s.entities.cves}
    assert set(by_type["vulnerability"]) == cves and not any(by_type["vulnerability"].values())
    links = {src.url for s in briefing.stories for src in s.sources}
    assert set(by_type["link"]) == links and not any(by_type["link"].values())


def test_hashes_csv_is_the_md5_of_every_attribute(tmp_path: Path) -> None:
    _build(tmp_path, _config())
    lines = (tmp_path / "misp" / "hashes.csv").read_text(encoding="utf-8").splitlines()
    manifest = json.loads((tmp_path / "misp" / "manifest.json").read_text(encoding="utf-8"))
    expected = []
    for uuid in manifest:
        event = json.loads((tmp_path / "misp" / f"{uuid}.json").read_text(encoding="utf-8"))
        for attribute in event["Event"]["Attribute"]:
            digest = hashlib.md5(attribute["value"].encode()).hexdigest()
            expected.append(f"{digest},{uuid}")
    assert lines == expected and len(set(lines)) == len(lines)


def test_rebuild_is_byte_identical_and_drops_removed_days(tmp_path: Path) -> None:
    config = _config()
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        f"title: {TITLE}\nfeeds:\n  - name: x\n    url: https://example.org/feed\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    briefings = _build(out, config)
    before = {p.name: p.read_bytes() for p in (out / "misp").iterdir()}
    result = CliRunner().invoke(
        cli, ["archive", "rebuild", "-c", str(config_file), "-o", str(out), "--no-pdf"]
    )
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in (out / "misp").iterdir()} == before

    shutil.rmtree(out / briefings[0].date)
    (out / briefings[1].date / "briefing.json").write_text("{not json", encoding="utf-8")
    update_archive(config, out)
    assert sorted(p.name for p in (out / "misp").iterdir()) == ["hashes.csv", "manifest.json"]
    assert json.loads((out / "misp" / "manifest.json").read_text(encoding="utf-8")) == {}


def test_a_new_title_leaves_the_days_already_pulled_alone(tmp_path: Path) -> None:
    (briefing,) = _build(tmp_path, _config(), days=1)
    before = (tmp_path / "misp" / f"{event_uuid(TITLE, briefing.date)}.json").read_bytes()
    update_archive(_config(title="Renamed desk"), tmp_path)
    event = json.loads(before)["Event"]
    after = _event(tmp_path, briefing.date)["Event"]
    assert after["uuid"] == event["uuid"] and after["info"] == event["info"]
    assert after["Orgc"]["name"] == "Renamed desk"  # the producer is who publishes now


# The values of the review (#26): a feed listing them must not put DNS, Microsoft's login,
# Windows Update, certificate checks or every empty file into a blocklist.
BENIGN = (
    ("ipv4", "8.8.8.8"),
    ("ipv4", "1.1.1.1"),
    ("domain", "login.microsoftonline.com"),
    ("domain", "windowsupdate.com"),
    ("domain", "ocsp.digicert.com"),
    ("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("ipv4", "10.20.30.40"),  # RFC 1918
    ("ipv4", "192.0.2.15"),  # documentation (RFC 5737, in MISP's rfc5735 list)
    ("ipv6", "2001:db8::7"),  # documentation (RFC 3849)
)
SPECIFIC = (
    ("domain", "c2.evil-updates.example"),
    ("url", "https://evil-updates.example/gate.php"),
    ("sha256", "9f" * 32),
)


def _story_from(*feeds: str, indicators: tuple[tuple[str, str], ...]) -> Briefing:
    """A one-story day told by ``feeds`` that names ``indicators``."""
    briefing = synthetic_briefing(1, seed=1)
    story = briefing.stories[0]
    sources = tuple(replace(story.sources[0], feed=feed) for feed in feeds)
    grouped: dict[str, list[str]] = {}
    for kind, value in indicators:
        grouped.setdefault(kind, []).append(value)
    entities = Entities(indicators=tuple((k, tuple(v)) for k, v in grouped.items()))
    return replace(briefing, stories=(replace(story, sources=sources, entities=entities),))


def _to_ids(event: dict[str, Any]) -> dict[str, bool]:
    kinds = set(MISP_TYPES.values())
    return {a["value"]: a["to_ids"] for a in event["Event"]["Attribute"] if a["type"] in kinds}


def test_news_indicators_are_context_unless_the_operator_trusts_every_feed() -> None:
    briefing = _story_from("Wire", indicators=SPECIFIC)
    assert not any(_to_ids(misp_event(briefing, TITLE)).values())  # the default
    assert all(_to_ids(misp_event(briefing, TITLE, trusted={"Wire"})).values())
    # one untrusted co-source: its indicators were merged into the story's, so none is a rule
    mixed = _story_from("Wire", "Stranger", indicators=SPECIFIC)
    assert not any(_to_ids(misp_event(mixed, TITLE, trusted={"Wire"})).values())


def test_warning_listed_values_are_never_ids_rules_and_say_which_list() -> None:
    briefing = _story_from("Wire", indicators=BENIGN + SPECIFIC)
    event = misp_event(briefing, TITLE, trusted={"Wire"})
    to_ids = _to_ids(event)
    assert {v for v, rule in to_ids.items() if rule} == {v for _, v in SPECIFIC}
    comments = {a["value"]: a["comment"] for a in event["Event"]["Attribute"]}
    for _, value in BENIGN:
        assert comments[value].startswith("MISP warning list: "), value
    assert comments["8.8.8.8"].startswith("MISP warning list: List of known IPv4 public DNS")
    assert not any(comments[v].startswith("MISP warning list") for _, v in SPECIFIC)
    loaded = MISPEvent()
    loaded.load(copy.deepcopy(event))
    assert loaded.to_feed() == event


def test_a_feed_marked_ids_in_the_config_raises_trust_in_the_published_feed(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "feeds.yaml"
    config_file.write_text(
        "feeds:\n  - name: Wire\n    url: https://wire.example/feed\n    ids: true\n"
        "  - name: Blog\n    url: https://blog.example/feed\n",
        encoding="utf-8",
    )
    config = load_config(config_file)
    briefing = replace(_story_from("Wire", indicators=SPECIFIC), title=config.title)
    write_atomic(tmp_path / briefing.date / "briefing.json", dumps(briefing))
    update_archive(config, tmp_path, [briefing.date])
    event = json.loads(
        (tmp_path / "misp" / f"{event_uuid(config.title, briefing.date)}.json").read_text()
    )
    assert all(_to_ids(event).values())
    config_file.write_text(
        "feeds:\n  - name: Wire\n    url: https://wire.example/feed\n    ids: maybe\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as bad:
        load_config(config_file)
    assert "\n" not in str(bad.value) and "feeds[0].ids" in str(bad.value)


def test_a_quote_in_a_name_cannot_break_a_galaxy_tag() -> None:
    from briefing.models import ActorRef

    story = synthetic_briefing(1, seed=1).stories[0]
    actor = ActorRef('Storm"-0\\x', (), None, None, True, ('Storm"-0',))
    briefing = replace(
        synthetic_briefing(1, seed=1),
        stories=(replace(story, entities=Entities(actors=(actor,))),),
    )
    tags = [t["name"] for t in misp_event(briefing, TITLE)["Event"]["Tag"]]
    assert 'misp-galaxy:threat-actor="Storm\'-0\\x"' in tags
    assert all(t.count('"') in (0, 2) for t in tags)


def test_an_unknown_actor_is_an_attribute_never_a_galaxy_tag() -> None:
    """A name the knowledge base does not know claims no MISP cluster: not the cluster its
    spelling resembles ("LazarusGroup"), not one of its own name."""
    from briefing.models import ActorRef

    story = synthetic_briefing(1, seed=1).stories[0]
    forged = ActorRef("LazarusGroup", (), "Russia", "RU", False, ("LazarusGroup",))
    known = ActorRef("Lazarus Group", ("Hidden Cobra",), "North Korea", "KP", True, ("Lazarus",))
    briefing = replace(
        synthetic_briefing(1, seed=1),
        stories=(replace(story, entities=Entities(actors=(forged, known))),),
    )
    event = misp_event(briefing, TITLE)["Event"]
    actors = [t["name"] for t in event["Tag"] if t["name"].startswith("misp-galaxy:threat-actor")]
    assert actors == ['misp-galaxy:threat-actor="Lazarus Group"']
    (attribute,) = [a for a in event["Attribute"] if a["type"] == "threat-actor"]
    assert attribute["value"] == "LazarusGroup" and attribute["to_ids"] is False
    assert attribute["category"] == "Attribution"
    loaded = MISPEvent()
    loaded.load(copy.deepcopy({"Event": event}))
    assert loaded.to_feed() == {"Event": event}


def test_the_days_vendors_and_products_are_attributes_misp_correlates() -> None:
    """#25: each vendor of the briefing's vendor part, and each product of its that a story
    names (with the maker's name, so "Contoso Mailflow Server" correlates across events)."""
    briefing = synthetic_briefing(12, seed=3)
    assert briefing.by_vendor
    event = misp_event(briefing, TITLE)
    text = {a["value"]: a for a in event["Event"]["Attribute"] if a["type"] == "text"}
    for section in briefing.by_vendor:
        assert text[section.title]["comment"].startswith("Vendor")
        for product in section.products:
            attribute = text[f"{section.title} {product}"]
            assert attribute["comment"].startswith(f"Product of {section.title}.")
            assert attribute["to_ids"] is False and attribute["category"] == "External analysis"
    loaded = MISPEvent()
    loaded.load(copy.deepcopy(event))
    assert loaded.to_feed() == event
