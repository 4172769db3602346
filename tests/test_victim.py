"""The victim finder: who a title says was hit, in sentence case and in Title Case."""

from __future__ import annotations

import pytest

from briefing.intel.victim import victim_name, victim_of


@pytest.mark.parametrize(
    ("title", "victim"),
    [
        ("Hackers breach Ridgeway Water Authority, cut billing", "Ridgeway Water Authority"),
        ("Ransomware attack on Lakeside County schools", "Lakeside County"),
        ("Eastshire Council's network breached", "Eastshire Council"),
        # Title Case: the verb and the harm are capitalised like the name
        ("Robo-Advisor Quillstone Discloses Data Breach", "Robo-Advisor Quillstone"),
        ("Shipping giant Norrvik offline after wiper attack", "Norrvik"),
        ("Dutch Energy Company Veldmark Hacked", "Veldmark"),
        ("Thousands Affected by Brightwater Clinics Data Breach", "Brightwater Clinics"),
        ("Ransomware Hits Lakeside Justice Ministry Days Before Vote", "Lakeside Justice Ministry"),
        ("pLumio discloses data breach, says hackers stole files", "pLumio"),
    ],
)
def test_names_the_organisation_hit(title: str, victim: str) -> None:
    assert victim_name(title) == victim


@pytest.mark.parametrize(
    "title",
    [
        "How attackers breach networks in three steps",
        "Eastshire hospital hit by ransomware",  # no name given
        "Sandworm-like hackers target IT pros with a fake VPN client",
        "Webinar: what to do in the first hour of a breach",
    ],
)
def test_names_none_when_no_organisation_is_named(title: str) -> None:
    assert victim_name(title) is None


def test_the_summary_first_sentence_names_it_when_the_title_does_not() -> None:
    assert victim_name("Attack halts buses", "Hackers breached Mid-Valley Transit on Monday.") == (
        "Mid-Valley Transit"
    )


def test_commentary_and_business_news_name_no_victim() -> None:
    title = "Norrvik Confirms Data Breach"
    assert victim_of(title, "", "incident") == "Norrvik"
    for kind in ("opinion", "industry", "research"):
        assert victim_of(title, "", kind) is None
