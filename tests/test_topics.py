"""The parts by vendor, by victim sector and by malware family (``briefing.stories.topics``),
through ``compose`` as the pipeline runs them, and their way into interests, JSON and archive."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from briefing.config import Config, FeedConfig, InterestsConfig
from briefing.deliver.interests import filter_briefing
from briefing.models import Article, Briefing, Entry
from briefing.publish.archive import update_archive
from briefing.publish.render import write_briefing
from briefing.serialize import from_json, to_json
from briefing.stories.topics import cvss_score, kev_cves, title_vendor
from tests.conftest import NOW_DT, compose_pairs

CONFIG = Config(
    feeds=(
        FeedConfig(name="Wire", url="https://wire.example/feed"),
        FeedConfig(name="Desk", url="https://desk.example/feed"),
        FeedConfig(name="Catalogue", url="https://kev.example/feed", tags=("kev",)),
    ),
)

# Our own texts (no third-party article text): one story per kind of part.
ASA = (
    "Cisco warned on Wednesday that attackers are exploiting a zero-day in its Adaptive "
    "Security Appliance (ASA) and Firepower Threat Defense (FTD) software, tracked as "
    "CVE-2026-20333 with a CVSS score of 9.9. Administrators should upgrade at once."
)
IOS = (
    "Cisco fixed a denial-of-service flaw in IOS XE, CVE-2026-20100, that lets an unauthenticated "
    "attacker reload a device. No attacks are known."
)
APT39 = (
    "A cyber espionage group linked to Iran, tracked as APT39 and also known as Chafer, broke into "
    "telecommunications operators in Saudi Arabia and copied subscriber records, researchers "
    "said. The intrusions began with phishing e-mails sent to network engineers."
)
BREACH = (
    "Northfield Markets, a regional grocery chain, said hackers stole customer data from its "
    "loyalty programme in the United Kingdom; the retail company has told regulators."
)
MALWARE = (
    "Researchers found a new version of the AsyncRAT malware spreading through fake invoices; the "
    "loader now hides its configuration and fetches a second stage from rented servers."
)
ESSAY = "Some thoughts on how teams can run calmer meetings, and why agendas help everyone."


def pair(feed: str, n: int, title: str, text: str, hours: int) -> tuple[Entry, Article]:
    when = NOW_DT - timedelta(hours=hours)
    link = f"https://{feed.lower()}.example/{n}"
    entry = Entry(f"id{feed}{n}", feed, link, title, "", "", "", when, when, 1)
    return entry, Article(entry.id, link, title, text, "", when, "en", "feed-only")


def build() -> Briefing:
    pairs = [
        pair("Wire", 1, "Cisco ASA and FTD zero-day exploited in attacks", ASA, 2),
        pair("Desk", 2, "Cisco patches IOS XE denial-of-service bug", IOS, 3),
        pair("Wire", 3, "Iranian espionage group raids Gulf telecoms", APT39, 4),
        pair("Desk", 4, "Northfield Markets discloses data breach", BREACH, 5),
        pair("Wire", 5, "AsyncRAT malware returns with fake invoices", MALWARE, 6),
        pair("Desk", 6, "Calmer meetings", ESSAY, 7),
    ]
    return compose_pairs(CONFIG, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)


def by_title(briefing: Briefing) -> dict[str, str]:
    return {story.title: story.id for story in briefing.stories}


def test_vulnerability_stories_go_under_their_vendor_exploited_first() -> None:
    b = build()
    ids = by_title(b)
    assert [s.title for s in b.by_vendor] == ["Cisco"]
    cisco = b.by_vendor[0]
    asa = ids["Cisco ASA and FTD zero-day exploited in attacks"]
    assert cisco.story_ids == (asa, ids["Cisco patches IOS XE denial-of-service bug"])
    assert set(cisco.products) == {"ASA/FTD", "IOS XE"}
    story = next(s for s in b.stories if s.id == asa)
    assert story.exploited == ("CVE-2026-20333",)
    assert story.cvss == 9.9
    assert "exploited" in cisco.detail
    assert cisco.exploited == (asa,)


def test_every_story_under_a_vendor_names_it_in_title_or_summary() -> None:
    b = build()
    stories = {s.id: s for s in b.stories}
    for section in b.by_vendor:
        for sid in section.story_ids:
            seen = f"{stories[sid].title} {stories[sid].summary}"
            assert section.title in seen or any(p.split("/")[0] in seen for p in section.products)


def test_an_actor_story_stays_with_its_actor_and_region_and_under_no_vendor() -> None:
    b = build()
    apt = by_title(b)["Iranian espionage group raids Gulf telecoms"]
    assert any(apt in s.story_ids for s in b.by_actor)
    assert not any(apt in s.story_ids for s in b.by_vendor)
    assert not any(apt in s.story_ids for s in (*b.by_incident, *b.by_malware))


def test_an_organisation_hit_goes_under_its_sector_with_its_name() -> None:
    b = build()
    sid = by_title(b)["Northfield Markets discloses data breach"]
    story = next(s for s in b.stories if s.id == sid)
    assert story.victim == "Northfield Markets"
    sections = [s for s in b.by_incident if sid in s.story_ids]
    assert len(sections) == 1  # one part per story: the first sector named is the victim's
    assert sections[0].countries == ("United Kingdom",)


def test_malware_without_actor_goes_under_its_family() -> None:
    b = build()
    sid = by_title(b)["AsyncRAT malware returns with fake invoices"]
    family = next(s for s in b.by_malware if sid in s.story_ids)
    assert family.title == "AsyncRAT"


def test_other_stories_is_what_no_part_holds() -> None:
    b = build()
    placed = {
        sid
        for section in (
            *b.by_actor,
            *b.by_region,
            *b.by_vendor,
            *b.by_incident,
            *b.by_malware,
            *b.by_campaign,
            *b.by_action,
        )
        for sid in section.story_ids
    } | set(b.also_noted)
    assert b.other_story_ids == tuple(s.id for s in b.stories if s.id not in placed)
    assert b.other_story_ids == ()
    assert b.also_noted == (by_title(b)["Calmer meetings"],)  # an essay: one line, no card


def test_a_kev_feed_marks_its_cves_as_kev() -> None:
    pairs = [
        pair(
            "Catalogue",
            1,
            "CVE-2026-20100 Cisco IOS XE denial of service",
            "Cisco IOS XE contains a denial-of-service vulnerability, CVE-2026-20100.",
            1,
        )
    ]
    b = compose_pairs(CONFIG, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    assert b.stories[0].kev == ("CVE-2026-20100",)
    assert b.by_vendor[0].title == "Cisco"


def test_cvss_kev_and_title_vendor_readers() -> None:
    assert cvss_score(["rated CVSS v3.1 7.5", "a CVSS score of 9.8", "CVSS: 4.3"]) == 9.8
    assert cvss_score(["no score here, version 10.4 only"]) is None
    text = "CISA added CVE-2026-1111 to its Known Exploited Vulnerabilities catalog. CVE-2026-2222 not."
    assert kev_cves([text], ["CVE-2026-1111", "CVE-2026-2222"]) == ("CVE-2026-1111",)
    ref = title_vendor("Advisory: vulnerabilities in Halvorsen BMC-400 building controllers")
    assert ref is not None and (ref.name, ref.products) == ("Halvorsen", ("BMC-400",))
    assert title_vendor("Flaws in Chinese routers exploited") is None


def test_a_vendors_interest_gets_only_that_vendors_stories() -> None:
    b = build()
    cisco = {sid for s in b.by_vendor if s.title == "Cisco" for sid in s.story_ids}
    for wanted in ("Cisco", "cisco systems"):
        got = filter_briefing(b, InterestsConfig(vendors=(wanted,))).briefing
        assert {s.id for s in got.stories} == cisco
        assert [s.title for s in got.by_vendor] == ["Cisco"]
        assert not got.by_actor and not got.by_malware
    # A product asks for that product only.
    asa = filter_briefing(b, InterestsConfig(vendors=("Firepower Threat Defense",))).briefing
    assert [s.title for s in asa.stories] == ["Cisco ASA and FTD zero-day exploited in attacks"]


def test_parts_survive_briefing_json_and_make_vendor_pages(tmp_path: Path) -> None:
    b = build()
    data = json.loads(json.dumps(to_json(b)))
    assert [s["name"] for s in data["sections"]["vendors"]] == ["Cisco"]
    assert data["sections"]["vendors"][0]["products"]
    assert data["sections"]["incidents"] and data["sections"]["malware"]
    back = from_json(data)
    assert back.by_vendor == b.by_vendor
    assert back.by_incident == b.by_incident
    assert back.by_malware == b.by_malware
    assert [s.entities.vendors for s in back.stories] == [s.entities.vendors for s in b.stories]
    assert [(s.kev, s.cvss, s.victim) for s in back.stories] == [
        (s.kev, s.cvss, s.victim) for s in b.stories
    ]
    config = Config(feeds=CONFIG.feeds)
    write_briefing(b, config, tmp_path)
    update_archive(config, tmp_path, [b.date])
    page = (tmp_path / "vendors" / "cisco.html").read_text(encoding="utf-8")
    assert "Cisco ASA and FTD zero-day exploited in attacks" in page
    assert "Iranian espionage group" not in page
    assert "cisco.html" in (tmp_path / "vendors" / "index.html").read_text(encoding="utf-8")
    day = (tmp_path / b.date / "briefing.html").read_text(encoding="utf-8")
    assert 'id="by-vendor"' in day and "../vendors/cisco.html" in day


def test_a_family_section_lists_the_knowledge_bases_aliases() -> None:
    from briefing.stories.topics import malware_sections

    pairs = [pair("Wire", 1, "SmokeLoader malware spreads again", "SmokeLoader is back.", 1)]
    b = compose_pairs(CONFIG, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    (section,) = malware_sections(b.stories)
    assert section.title == "SmokeLoader"
    assert "Dofoil" in section.aliases and "Dofoil" in section.detail


def test_campaigns_naming_no_actor_or_family_go_under_what_they_are() -> None:
    pairs = [
        pair("Wire", 1, "Phishing kits now check victims before they steal", "Kits check.", 1),
        pair("Desk", 2, "Fake converters push malware", "Converters drop a payload.", 2),
        pair("Wire", 3, "Calmer meetings", ESSAY, 3),
    ]
    b = compose_pairs(CONFIG, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    ids = by_title(b)
    kinds = {s.title: s.story_ids for s in b.by_campaign}
    assert kinds == {
        "Phishing and fraud": (ids["Phishing kits now check victims before they steal"],),
        "Malware, family not named": (ids["Fake converters push malware"],),
    }
    assert b.also_noted == (ids["Calmer meetings"],)


def test_the_e_mail_of_a_vendors_reader_names_the_vendor_part() -> None:
    from briefing.config import EmailConfig, RecipientConfig
    from briefing.deliver.send import build_message
    from briefing.publish.render import environment

    b = build()
    reader = RecipientConfig(
        address="patch@example.org", interests=InterestsConfig(vendors=("ASA",))
    )
    email_config = EmailConfig.model_validate(
        {"smtp_host": "127.0.0.1", "from": "b@example.org", "recipients": [reader]}
    )
    config = Config(feeds=CONFIG.feeds)
    filtered = filter_briefing(b, reader.interests)
    message = build_message(
        config, email_config, reader, filtered, b"%PDF-1.4", environment(config), NOW_DT
    )
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    body = text.get_content()
    assert "Filtered for vendors: ASA" in body
    assert "Vendors: Cisco (1)" in body
    assert "Cisco ASA and FTD zero-day exploited in attacks" in body
    assert "IOS XE" not in body  # the reader asked for one product


def test_an_actors_zero_day_in_a_vendors_product_goes_under_the_vendor_too() -> None:
    text = (
        "The state-backed group tracked as APT28 exploited a zero-day in Cisco ASA firewalls "
        "to plant a backdoor on government networks, Cisco said."
    )
    pairs = [pair("Wire", 1, "APT28 exploits Cisco ASA zero-day", text, 1)]
    b = compose_pairs(CONFIG, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    (story,) = b.stories
    assert story.entities.actors and not story.entities.cves
    (cisco,) = b.by_vendor
    assert (cisco.title, cisco.story_ids, cisco.exploited) == ("Cisco", (story.id,), (story.id,))
    assert any(story.id in s.story_ids for s in b.by_actor)


def test_a_vendor_reporting_on_malware_is_not_the_news() -> None:
    text = "Microsoft said a new remote access trojan steals credentials and wallet data."
    pairs = [pair("Wire", 1, "Microsoft warns of a new RAT that steals wallets", text, 1)]
    b = compose_pairs(CONFIG, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    assert b.by_vendor == ()


def test_a_vendor_page_goes_when_no_briefing_lists_the_vendor_any_more(tmp_path: Path) -> None:
    from dataclasses import replace

    b = build()
    config = Config(feeds=CONFIG.feeds)
    write_briefing(b, config, tmp_path)
    update_archive(config, tmp_path, [b.date])
    assert (tmp_path / "vendors" / "cisco.html").is_file()
    write_briefing(replace(b, by_vendor=()), config, tmp_path)  # the day built anew
    update_archive(config, tmp_path, [b.date])
    assert not (tmp_path / "vendors" / "cisco.html").exists()
    assert "cisco.html" not in (tmp_path / "vendors" / "index.html").read_text(encoding="utf-8")
