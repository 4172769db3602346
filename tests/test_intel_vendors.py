"""The vendor/product table and its matcher (``briefing.intel.vendors``)."""

from __future__ import annotations

import pytest

from briefing.intel.normalize import alias_key
from briefing.intel.tagger import get_tagger
from briefing.intel.vendors import TableError, VendorTable, find_vendors, parse_table, vendor_table


def found(text: str) -> dict[str, tuple[str, ...]]:
    return {v.name: v.products for v in find_vendors(text)}


def test_table_loads_with_a_version_and_hundreds_of_vendors() -> None:
    table = vendor_table()
    assert table.version >= 1
    assert len(table.vendors) >= 300
    assert all(v.name and not v.name.startswith("~") for v in table.vendors)


def test_no_name_is_listed_twice_for_one_vendor_and_no_vendor_twice() -> None:
    table = vendor_table()
    keys = [alias_key(v.name) for v in table.vendors]
    assert len(keys) == len(set(keys))
    for vendor in table.vendors:
        names = table.names_of(vendor.name)
        assert len(names) == len(set(names))


def test_parse_rejects_a_duplicate_vendor_and_a_product_without_vendor() -> None:
    with pytest.raises(TableError, match="line 2"):
        parse_table("Acme\nACME\n")
    with pytest.raises(TableError, match="line 1"):
        parse_table("    Widget\n")
    version, parsed = parse_table("# version: 3\nAcme | ~Acme Corp\n    ~Widget | Widget Pro\n")
    assert version == 3
    vendor, ambiguous = parsed[0]
    assert vendor.aliases == ("Acme Corp",)
    assert vendor.products[0].names == ("Widget", "Widget Pro")
    assert ambiguous == {"Acme Corp", "Widget"}


def test_a_product_names_its_vendor_and_vendor_product_pairs_are_one_mention() -> None:
    assert found("Attackers exploit FortiOS SSL-VPN.") == {"Fortinet": ("FortiOS",)}
    refs = find_vendors("A flaw in Cisco ASA and FTD software is exploited.")
    assert refs[0].name == "Cisco"
    assert refs[0].products == ("ASA/FTD",)
    assert "Cisco ASA" in refs[0].mentions


def test_case_tells_ciscos_ios_from_apples_ios() -> None:
    assert found("Cisco IOS XE web UI flaw") == {"Cisco": ("IOS XE",)}
    assert found("Apple fixed a bug in iOS 18.") == {"Apple": ("iOS",)}
    assert found("The ios of the world") == {}


@pytest.mark.parametrize(
    "text",
    [
        "HHS' Office for Civil Rights settled the case.",
        "The Securities and Exchange Commission fined the firm.",
        "He opened the windows and the door.",
        "An apple a day. The oracle spoke.",
        "Teams of analysts worked through the night.",
        "Oracle Park hosted the game.",
        "Visit microsoft.com or mail admin@oracle.example for more.",
    ],
)
def test_ambiguous_names_need_context(text: str) -> None:
    assert found(text) == {}


@pytest.mark.parametrize(
    ("text", "vendor", "product"),
    [
        ("A flaw in Chrome lets attackers escape the sandbox.", "Google", "Chrome"),
        ("Microsoft warned that attackers abuse Teams to send lures.", "Microsoft", "Teams"),
        ("Attackers scanned for Exchange servers.", "Microsoft", "Exchange Server"),
        ("The Edge browser got a fix.", "Microsoft", "Edge"),
        ("Oracle denied the breach of Oracle Cloud.", "Oracle", "Oracle Cloud"),
        ("Apple Fixes Two Zero-Days Exploited In Attacks", "Apple", None),
    ],
)
def test_ambiguous_names_count_in_context(text: str, vendor: str, product: str | None) -> None:
    got = found(text)
    assert vendor in got
    if product:
        assert product in got[vendor]


def test_a_vendor_named_only_as_a_research_source_is_not_what_the_text_is_about() -> None:
    assert found("Kaspersky researchers found a backdoor in a bank.") == {}
    assert found("According to ESET, the group used a new implant.") == {}
    assert found("The loader was discovered by Akamai last week.") == {}
    # Its products still count, and so does the vendor named otherwise elsewhere.
    assert found("Microsoft said a Windows flaw was exploited.") == {"Microsoft": ("Windows",)}


def test_a_name_several_vendors_share_needs_exactly_one_of_them_named() -> None:
    table = VendorTable("Acme\n    Harmony\nGlobex\n    Harmony\n")
    assert table.find("Harmony was exploited.") == ()
    refs = table.find("Acme patched Harmony after it was exploited.")
    assert [(r.name, r.products) for r in refs] == [("Acme", ("Harmony",))]


def test_lookup_resolves_any_name_or_alias() -> None:
    table = vendor_table()
    assert table.lookup("cisco systems") == ("Cisco", None)
    assert table.lookup("Firepower Threat Defense") == ("Cisco", "ASA/FTD")
    assert table.lookup("MOVEit") == ("Progress Software", "MOVEit Transfer")
    assert table.lookup("No Such Vendor Inc") is None


def test_names_inside_urls_are_not_mentions() -> None:
    assert found("See https://example.com/cisco/fortinet-report for details.") == {}


def test_the_tagger_fills_entities_vendors() -> None:
    entities = get_tagger().tag(
        "Cisco warned that a zero-day in ASA firewalls is exploited.",
        title="Cisco ASA zero-day exploited",
    )
    assert [v.name for v in entities.vendors] == ["Cisco"]
    assert entities.vendors[0].products == ("ASA/FTD",)
    assert entities.to_dict()["vendors"][0]["name"] == "Cisco"
