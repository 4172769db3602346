"""Countries, regions and roles."""

from __future__ import annotations

import pytest

from briefing.intel import get_tagger
from briefing.intel.geo import REGIONS, country_code_for_name, regions_of


def roles(text: str) -> dict[str, str]:
    return {c.code: c.role for c in get_tagger().tag(text).countries}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Iranian officials spoke.", "IR"),
        ("North Korean officials spoke.", "KP"),
        ("An Emirati bank was named.", "AE"),
        ("The U.S. and the UK agreed.", "US"),
        ("The U.S. and the UK agreed.", "GB"),
        ("Analysts in the DPRK watched.", "KP"),
        ("The PRC responded.", "CN"),
        ("Meetings in Tehran continued.", "IR"),
        ("A firm in Pyongyang was named.", "KP"),
        ("An office in Kyiv was named.", "UA"),
    ],
)
def test_names_demonyms_short_forms_and_cities(text: str, code: str) -> None:
    assert code in roles(text)


@pytest.mark.parametrize(
    "text",
    [
        "Write it in IT and IN order.",
        "CONTACT US TODAY",
        "The turkey and the china plates.",
        "Set it to DE or FR mode.",
    ],
)
def test_no_two_letter_codes_or_lower_case_words(text: str) -> None:
    assert roles(text) == {}


def test_attribution_wording() -> None:
    assert roles("An Iranian-linked group struck.")["IR"] == "attributed"
    assert roles("The North Korea-backed hackers struck.")["KP"] == "attributed"
    assert roles("It was tied to Russia's GRU.")["RU"] == "attributed"
    assert roles("Chinese state-sponsored actors were seen.")["CN"] == "attributed"


def test_target_wording() -> None:
    assert roles("The campaign is targeting ministries in Israel.")["IL"] == "target"
    assert roles("They hit victims in Germany last year.")["DE"] == "target"
    assert roles("Several Saudi organizations were breached.")["SA"] == "target"


def test_passing_mention_is_not_sponsorship() -> None:
    r = roles("Tehran was found copying Russia's playbook from past elections.")
    assert r["RU"] == "mentioned"


def test_region_table_decisions() -> None:
    me = REGIONS["Middle East"].members
    assert {"SA", "IR", "IL", "AE", "TR", "EG"} <= me
    assert "PK" not in me
    assert REGIONS["Gulf"].members == frozenset({"BH", "KW", "OM", "QA", "SA", "AE"})
    assert "Middle East" in regions_of("SA") and "Gulf" in regions_of("SA")
    assert "Europe" in regions_of("DE") and "Western Europe" in regions_of("DE")
    assert "Eastern Europe" in regions_of("UA")
    assert "North America" in regions_of("US") and "Latin America" in regions_of("MX")
    assert "Southeast Asia" in regions_of("VN") and "Asia-Pacific" in regions_of("JP")
    assert "Central Asia" in regions_of("KZ") and "Africa" in regions_of("NG")
    # UN subregions are recognised when named but not derived.
    assert "Western Asia" not in regions_of("SA")


def test_regions_named_and_derived_from_targets() -> None:
    ents = get_tagger().tag("Middle Eastern banks were hit, and attacks on Saudi Arabia grew.")
    names = [r.name for r in ents.regions]
    assert "Middle East" in names and "Gulf" in names


def test_attributed_state_alone_does_not_add_its_region() -> None:
    ents = get_tagger().tag("An Iranian-linked group is targeting companies in Germany.")
    names = {r.name for r in ents.regions}
    assert "Europe" in names and "Middle East" not in names


def test_country_code_for_data_source_names() -> None:
    assert country_code_for_name("Russian Federation") == "RU"
    assert country_code_for_name("Korea (Democratic People's Republic of)") == "KP"
    assert country_code_for_name("Iran (Islamic Republic of)") == "IR"


def test_a_victim_organisation_in_a_country_is_not_an_attribution() -> None:
    from briefing.intel import get_tagger

    text = "A ransomware gang encrypted the systems of a hospital group in Jordan on Sunday."
    roles = {c.name: c.role for c in get_tagger().tag(text).countries}
    assert roles["Jordan"] != "attributed"
    roles = {
        c.name: c.role for c in get_tagger().tag("The hackers based in Iran struck.").countries
    }
    assert roles["Iran"] == "attributed"


def test_a_currency_is_not_a_country_mention() -> None:
    from briefing.intel import get_tagger

    tag = get_tagger().tag
    assert tag("Tokens worth 41 million US dollars left the wallet.").countries == ()
    assert [c.name for c in tag("Tokens left a wallet in the US.").countries] == ["United States"]
