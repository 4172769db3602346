"""The kind classifier: its committed weights, a story's kind from its members, its training."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.train_kind import fit
from briefing.intel.commands import tag_command
from briefing.intel.kind import (
    KINDS,
    LEAD_CHARS,
    WEIGHTS,
    Model,
    classify,
    features,
    model,
    story_kind,
)
from briefing.intel.stage import tag_articles
from briefing.models import Article, Entry
from tests.conftest import NOW_DT
from tests.test_intel_stage import stored


@pytest.mark.parametrize(
    ("title", "text", "kind"),
    [
        (
            "Critical flaw in Fabrikam VPN gateways exploited in attacks",
            "Fabrikam released patches for CVE-2026-1234, a remote code execution vulnerability.",
            "vulnerability",
        ),
        (
            "Hospital chain Northwind Health discloses data breach after ransomware attack",
            "Northwind Health said hackers stole patient records.",
            "incident",
        ),
        (
            "North Korean hackers target developers with fake job interviews",
            "The campaign delivers a new backdoor through malicious npm packages.",
            "campaign",
        ),
        (
            "Police arrest suspected ransomware operators in Europe-wide operation",
            "Europol said officers detained five suspects and seized servers.",
            "law-enforcement",
        ),
        (
            "Regulator fines telecom operator over privacy law violations",
            "The fine follows an investigation under the GDPR.",
            "policy",
        ),
        (
            "Security startup raises $50 million in Series B funding",
            "The company will use the funding to expand its platform.",
            "industry",
        ),
        (
            "Survey: 60% of CISOs expect budget cuts next year",
            "The report surveyed 500 security leaders about trends.",
            "research",
        ),
        (
            "Webinar: How to build a resilient security program",
            "Join our experts to learn best practices.",
            "opinion",
        ),
    ],
)
def test_each_kind_is_told_from_a_plain_example(title: str, text: str, kind: str) -> None:
    assert classify(title, text) == kind


def test_the_committed_weights_hold_every_kind_and_are_small() -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(data["kinds"]) == KINDS
    assert all(len(row) == len(KINDS) for row in data["weights"].values())
    assert WEIGHTS.stat().st_size < 300_000


def test_a_full_page_reads_like_its_teaser() -> None:
    """Only the opening counts: what follows a teaser's length cannot turn an incident into
    an essay."""
    title = "Northwind Health discloses data breach"
    opening = ("Northwind Health said hackers stole patient records from its clinics. " * 20)[
        :LEAD_CHARS
    ]
    column = " In this column we discuss why boards should care about webinars." * 30
    assert features(title, opening + column) == features(title, opening)
    assert classify(title, opening + column) == "incident"


def test_a_story_takes_the_leads_kind_unless_most_members_say_otherwise() -> None:
    assert story_kind([]) is None
    assert story_kind(["incident"]) == "incident"
    assert story_kind(["incident", "opinion"]) == "incident"  # a tie: the lead's
    assert story_kind(["opinion", "incident", "incident"]) == "incident"
    assert story_kind(["opinion", "incident", "campaign"]) == "opinion"  # no majority


def test_training_is_deterministic_and_learns_the_words() -> None:
    data = [
        (features("Police arrest hackers", ""), KINDS.index("law-enforcement"), "a"),
        (features("Police arrest fraud suspects", ""), KINDS.index("law-enforcement"), "a"),
        (features("Startup raises funding", ""), KINDS.index("industry"), "b"),
        (features("Startup raises seed funding", ""), KINDS.index("industry"), "b"),
    ]
    one, two = fit(data, 1e-3), fit(data, 1e-3)
    assert one.to_json() == two.to_json()
    assert one.predict(features("Police arrest a suspect", "")) == "law-enforcement"
    assert one.predict(features("Startup raises money", "")) == "industry"
    assert isinstance(model(), Model)


def test_the_tag_stage_stores_kind_and_victim_with_the_entities(tmp_path: Path) -> None:
    when = NOW_DT - timedelta(hours=1)
    title = "Northwind Health discloses data breach after ransomware attack"
    entry = Entry("k1", "Wire", "https://wire.example/1", title, "", "", "", when, when, 1)
    text = "Hackers stole patient records."
    article = Article("k1", entry.link, title, text, "", when, "en", "full")
    store = stored(tmp_path / "s.sqlite3", [(entry, article)])
    first = tag_articles([(entry, article)], store)
    ((_, _, entities),) = first.items
    assert (entities.kind, entities.victim) == ("incident", "Northwind Health")
    again = tag_articles([(entry, article)], store)  # read back from the store, not tagged
    assert (again.tagged, again.items[0][2]) == (0, entities)


def test_briefing_tag_prints_kind_and_victim() -> None:
    text = "Northwind Health discloses data breach\nHackers stole patient records.\n"
    result = CliRunner().invoke(tag_command, [], input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["kind"], data["victim"]) == ("incident", "Northwind Health")
    line = json.dumps({"id": "1", "title": "Webinar: cloud security tips", "text": "Join us."})
    out = json.loads(CliRunner().invoke(tag_command, ["--jsonl"], input=line + "\n").output)
    assert (out["kind"], out["victim"]) == ("opinion", None)
