from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.cluster_eval import read_pairs, score_pairs
from briefing.config import Config, FeedConfig
from briefing.intel.stage import Tagged
from briefing.models import ActorRef, Article, Entities, Entry, NamedRef, VendorRef
from briefing.stories.cluster import (
    MAX_PAIRS,
    Doc,
    cluster,
    digest,
    evidence,
    names,
    same_story,
    story_groups,
    voice,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
PAIRS = Path(__file__).parent / "data" / "cluster_pairs.tsv"

NO_ENTITIES = Entities()
APT = Entities(actors=(ActorRef("APT39", ("Chafer",), "Iran", "IR", True, ("APT39",)),))
OTHER_APT = Entities(actors=(ActorRef("APT28", (), "Russia", "RU", True, ("APT28",)),))
# What the tagger finds in the texts below: the actor and the victims' sector.
APT_TELECOMS = Entities(actors=APT.actors, sectors=(NamedRef("Telecommunications", ()),))
APT_UNIVERSITIES = Entities(actors=APT.actors, sectors=(NamedRef("Education", ()),))

LEAD = (
    "Investigators at a security company said an Iranian espionage crew broke into three regional "
    "telecommunications operators and copied subscriber records, travel bookings and call logs. "
    "The intrusions began in January through phishing messages sent to network engineers, and the "
    "attackers used a custom backdoor to move between billing and provisioning systems. "
)


def doc(
    feed: str, title: str, text: str, entities: Entities = NO_ENTITIES, link: str | None = None
) -> Doc:
    return Doc(feed=feed, link=link, title=title, text=text, entities=entities)


def test_same_link_is_one_story() -> None:
    docs = [
        doc("A", "x", "alpha beta", link="https://n/1"),
        doc("B", "y", "gamma", link="https://n/1"),
    ]
    assert cluster(docs) == [[0, 1]]


def test_syndicated_copy_merges_even_in_one_feed() -> None:
    docs = [doc("A", "One", LEAD * 2), doc("A", "One (updated)", LEAD * 2 + "An update follows.")]
    assert cluster(docs) == [[0, 1]]


def test_two_outlets_on_one_event_merge() -> None:
    other = (
        "An espionage group tied to Iran compromised telecommunications operators in the region "
        "and took subscriber records and travel bookings, a security company reported. Phishing "
        "messages sent to network engineers in January opened the way, and a custom backdoor let "
        "the intruders move between billing and provisioning systems."
    )
    docs = [
        doc("A", "Iranian crew raids telecom operators", LEAD, APT_TELECOMS),
        doc("B", "Telecoms hit by Iran-linked espionage group", other, APT_TELECOMS),
    ]
    assert cluster(docs) == [[0, 1]]


def test_two_events_of_one_actor_stay_apart() -> None:
    second = (
        "The same Iranian espionage crew was separately blamed for a password-spraying wave against "
        "university staff accounts in Europe, according to a national CERT advisory published on "
        "Monday. The advisory lists login attempts from rented servers and urges universities to "
        "enforce multi-factor authentication for research staff."
    )
    docs = [
        doc("A", "Iranian crew raids telecom operators", LEAD, APT_TELECOMS),
        doc("B", "CERT warns universities of password spraying", second, APT_UNIVERSITIES),
    ]
    assert cluster(docs) == [[0], [1]]


def test_one_actor_with_its_introduction_is_not_one_event() -> None:
    """Full articles about one actor share the paragraph introducing it; two campaigns against
    different victims stay two stories however much of that they share."""
    about = (
        "The group, tracked as APT39 and also known as Chafer and Remix Kitten, is an Iranian "
        "espionage crew active since 2014 that favours spear-phishing, web shells and custom "
        "backdoors, and has long focused on personal data. "
    )
    docs = [
        doc("A", "Iranian crew raids telecom operators", about + LEAD, APT_TELECOMS),
        doc(
            "B",
            "Remix Kitten plants web shells at universities",
            about + "This time it planted web shells on university portals to read staff mail.",
            APT_UNIVERSITIES,
        ),
    ]
    pair = evidence(docs)[(0, 1)]
    assert pair.same_actor and pair.cosine >= 0.25
    assert cluster(docs) == [[0], [1]]


def test_conflicting_actors_never_merge_even_when_worded_alike() -> None:
    docs = [
        doc("A", "Crew raids operators", LEAD, APT),
        doc("B", "Crew raids operators", LEAD[:300], OTHER_APT),
    ]
    pair = evidence(docs)[(0, 1)]
    assert pair.conflict
    assert pair.duplicate >= 0.5
    assert not same_story(pair)


def test_one_feeds_series_stays_apart() -> None:
    template = (
        "Daily podcast for {day}: today we look at scanning activity on port 8080 and phishing."
    )
    docs = [doc("ISC", f"Stormcast for {d}", template.format(day=d)) for d in ("Mon", "Tue", "Wed")]
    assert cluster(docs) == [[0], [1], [2]]


def test_labelled_pairs_by_title_alone() -> None:
    """The in-repo pairs (real items, titles only): what a build sees when feeds give nothing
    but a headline. Over-merging is the worse error, so precision is held higher."""
    rows = read_pairs(PAIRS)
    assert len(rows) >= 200
    assert sum(row["same"] == "1" for row in rows) >= 20
    scores, _wrong = score_pairs(rows, None)
    assert scores["all"].precision >= 0.95, scores["all"]
    assert scores["all"].recall >= 0.9, scores["all"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs ../shared/corpus (evaluation material)")
def test_labelled_pairs_with_feed_text() -> None:
    scores, wrong = score_pairs(read_pairs(PAIRS), CORPUS)
    assert scores["all"].precision == 1.0, wrong
    assert scores["all"].recall >= 0.9, wrong


def test_one_feeds_landing_page_link_does_not_merge_its_items() -> None:
    docs = [
        doc("CERT", "Advisory one about routers", "Routers need patching now.", link="https://c/a"),
        doc("CERT", "Advisory two about printers", "Printers need patching.", link="https://c/a"),
        doc(
            "Wire", "Advisory one about routers", "Coverage of the router fix.", link="https://c/a"
        ),
    ]
    assert cluster(docs) == [[0, 2], [1]]
    assert cluster(docs[:2]) == [[0], [1]]


def test_templated_advisories_with_different_cves_stay_apart() -> None:
    template = (
        "{cve} was added to the catalogue of known exploited vulnerabilities today. References: "
        "the vendor advisory, the national vulnerability database entry and the exploit details "
        "published by the researchers who found it, with scanning activity seen by honeypots."
    )
    docs = [
        doc("KEV", f"{cve} added", template.format(cve=cve), Entities(cves=(cve,)))
        for cve in ("CVE-2026-1001", "CVE-2026-1002")
    ]
    assert cluster(docs) == [[0], [1]]


def test_a_veto_holds_for_the_whole_story_not_only_the_pair() -> None:
    """A (CVE-1) and C (CVE-2) each read like B, which names no CVE: single-link merging would
    chain all three into one story; the veto against every member keeps A and C apart."""
    wording = (
        "Attackers are exploiting a critical flaw in a popular file-transfer appliance to steal "
        "data from companies, and the vendor urges customers to install the fixed release now. "
    )
    docs = [
        doc(
            "A",
            "File-transfer appliance flaw exploited",
            wording + "Tracked as CVE-2026-1111.",
            Entities(cves=("CVE-2026-1111",)),
        ),
        doc("B", "File-transfer appliance flaw under attack", wording),
        doc(
            "C",
            "File-transfer appliance flaw exploited again",
            wording + "It is CVE-2026-2222.",
            Entities(cves=("CVE-2026-2222",)),
        ),
    ]
    pairs = evidence(docs)
    assert same_story(pairs[(0, 1)]) and same_story(pairs[(1, 2)])  # the chain is there
    groups = cluster(docs)
    assert len(groups) == 2
    story = {member: n for n, group in enumerate(groups) for member in group}
    assert story[0] != story[2]


def test_one_headline_from_two_links_is_one_story_even_in_one_channel() -> None:
    """An aggregator channel carrying an outlet's item and a syndicated copy of it."""
    docs = [
        doc(
            "Wire",
            "Feds Tie Ransomware Duo to Millions in Extortion Payments",
            "Short teaser.",
            link="https://a.example/1",
        ),
        doc(
            "Wire",
            "Feds tie ransomware duo to millions in extortion payments",
            "Other teaser.",
            link="https://b.example/2",
        ),
        doc(
            "Wire",
            "Feds tie botnet crew to millions in fraud losses",
            "Teaser.",
            link="https://c.example/3",
        ),
    ]
    assert cluster(docs) == [[0, 1], [2]]


def test_stems_and_hyphens_meet_across_outlets() -> None:
    docs = [
        doc(
            "A",
            "Firewall zero-days exploited in attacks on agencies",
            "Two zero-day flaws in a firewall appliance were exploited in attacks on agencies.",
        ),
        doc(
            "B",
            "Agencies attacked through exploited firewall zero-day",
            "An exploited zero-day in a firewall appliance was used to attack government agencies.",
        ),
    ]
    assert evidence(docs)[(0, 1)].title > 0.8
    assert cluster(docs) == [[0, 1]]


def test_a_shared_product_is_evidence_a_shared_vendor_is_not() -> None:
    appliance = VendorRef("Acme", ("Acme Gate",), ("Acme Gate",))
    vendor_only = VendorRef("Acme", (), ("Acme",))
    texts = (
        "A critical flaw lets remote attackers take over the devices without a password.",
        "Hackers can hijack the boxes remotely; a patch is out and customers should apply it.",
    )
    with_product = [
        doc(
            "A",
            "Acme Gate flaw lets hackers take over devices",
            texts[0],
            Entities(vendors=(appliance,)),
        ),
        doc(
            "B",
            "Critical bug in Acme Gate appliances patched",
            texts[1],
            Entities(vendors=(appliance,)),
        ),
    ]
    pair = evidence(with_product)[(0, 1)]
    assert pair.shared
    vendor = [replace_entities(d, Entities(vendors=(vendor_only,))) for d in with_product]
    assert not evidence(vendor)[(0, 1)].shared


def replace_entities(d: Doc, entities: Entities) -> Doc:
    return Doc(d.feed, d.link, d.title, d.text, entities)


def test_a_digest_never_joins_a_story() -> None:
    story = (
        "A supply-chain attack on a popular build action leaked secrets from thousands of "
        "repositories, and the maintainers rotated every token."
    )
    docs = [
        doc("A", "Build action compromise leaks repository secrets", story),
        doc(
            "B",
            "Weekly Recap: build action compromise, phishing kits and more",
            story + " Also this week: phishing kits, a botnet takedown and new ransomware.",
        ),
    ]
    assert digest(docs[1].title) and not digest(docs[0].title)
    assert cluster(docs) == [[0], [1]]


def test_names_are_inner_capital_words_of_a_headline() -> None:
    assert names("CISA warns of CentreStack flaw exploited via SourceForge") == {
        "centrestack",
        "sourceforg",
    }
    assert names("Critical Flaw In File Sharing Servers") == set()


def test_two_vendors_zero_days_stay_apart_however_alike_the_wording() -> None:
    wording = (
        "The monthly security update fixes dozens of flaws, including two zero-day "
        "vulnerabilities already exploited in limited, targeted attacks, the vendor said."
    )
    phone = Entities(vendors=(VendorRef("Google", ("Android",), ("Android",)),))
    desktop = Entities(vendors=(VendorRef("Microsoft", ("Windows",), ("Windows",)),))
    docs = [
        doc("A", "Android update fixes two exploited zero-days", wording, phone),
        doc("B", "Windows update fixes two exploited zero-days", wording, desktop),
        doc("C", "Zero-days fixed in this month's Android update", wording, phone),
    ]
    pair = evidence(docs)[(0, 1)]
    assert pair.conflict and pair.cosine > 0.45
    assert cluster(docs) == [[0, 2], [1]]


def test_cluster_eval_scores_the_labelled_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.cluster_eval import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "titles only" in out and "train" in out and "test" in out


def test_names_are_words_with_inner_capitals_or_long_capitals() -> None:
    assert names("Agencies ordered to patch BRICKSTORM backdoor") == {"brickstorm"}
    assert names("AGENCIES ORDERED TO PATCH NOW") == set()


# --- bounded work whatever the items contain (#26 items 5 and 6) ------------------------------


def test_any_number_of_identical_copies_is_one_story() -> None:
    """Copies fold before blocking: no cliff where a word's posting grows past its limit."""
    for copies in (60, 61, 200):
        docs = [
            doc(
                "Spam", "Iranian crew raids telecom operators", LEAD, APT_TELECOMS, f"https://s/{k}"
            )
            for k in range(copies)
        ]
        assert cluster(docs) == [list(range(copies))], copies


def test_copies_repeating_an_events_wording_do_not_split_its_real_reports() -> None:
    reports = [
        doc("A", "Iranian crew raids telecom operators", LEAD, APT_TELECOMS, "https://a/1"),
        doc(
            "B",
            "Telecoms hit by Iran-linked espionage group",
            "An espionage group tied to Iran compromised telecommunications operators in the "
            "region and took subscriber records and travel bookings, a security company reported. "
            "Phishing messages sent to network engineers in January opened the way, and a custom "
            "backdoor let the intruders move between billing and provisioning systems.",
            APT_TELECOMS,
            "https://b/1",
        ),
        doc(
            "C",
            "Iran-linked spies copied telecom subscriber records",
            "Spies linked to Iran broke into regional telecommunications operators and copied "
            "subscriber records and call logs, after phishing network engineers in January; a "
            "custom backdoor carried them between billing and provisioning systems.",
            APT_TELECOMS,
            "https://c/1",
        ),
    ]
    flood = [
        doc(
            "Spam",
            "Telecom operators raided: subscriber records",
            LEAD,
            APT_TELECOMS,
            f"https://s/{k}",
        )
        for k in range(61)
    ]
    alone = cluster(reports)
    assert alone == [[0, 1, 2]]
    groups = cluster([*reports, *flood])
    assert any({0, 1, 2} <= set(group) for group in groups), groups


def _crafted(count: int) -> list[Doc]:
    """The review's items: 100 CVEs each, every CVE shared by 50 items (under the old skip
    limit of 60), each item's text a list of them."""
    out = []
    for k in range(count):
        cves = tuple(f"CVE-2026-{10000 + (k + 7 * c) % (2 * count)}" for c in range(100))
        out.append(
            doc(
                "Flood",
                f"Advisory bundle {k}",
                "Fixed: " + ", ".join(cves),
                Entities(cves=cves),
                f"https://flood/{k}",
            )
        )
    return out


def test_crafted_items_create_a_bounded_number_of_candidate_pairs() -> None:
    """Work grows linearly with items whatever they contain: an item creates at most
    ``MAX_PAIRS`` candidate pairs, however many CVEs it shares with how many items."""
    docs = _crafted(400)
    pairs = evidence(docs)
    assert len(pairs) <= MAX_PAIRS * len(docs)
    groups = cluster(docs)
    assert sum(len(group) for group in groups) == len(docs)


# --- the stage: voices as readers subscribe (#21 item 1) --------------------------------------

REPORTS = (
    ("Iranian crew raids telecom operators", LEAD),
    (
        "Telecoms hit by Iran-linked espionage group",
        "An espionage group tied to Iran compromised telecommunications operators in the region "
        "and took subscriber records and travel bookings, a security company reported. Phishing "
        "messages sent to network engineers in January opened the way, and a custom backdoor let "
        "the intruders move between billing and provisioning systems.",
    ),
    (
        "Iran-linked spies copied telecom subscriber records",
        "Spies linked to Iran broke into regional telecommunications operators and copied "
        "subscriber records and call logs, after phishing network engineers in January; a custom "
        "backdoor carried them between billing and provisioning systems.",
    ),
)


def _tagged(feed: str, outlet: str | None, host: str, k: int) -> Tagged:
    title, text = REPORTS[k]
    when = datetime(2026, 3, 9, 8, k, tzinfo=UTC)
    link = f"https://{host}/news/{k}"
    entry = Entry(f"e{k}", feed, link, title, text, "", "", when, when, 1, outlet)
    article = Article(f"e{k}", link, title, text, "", when, None, "feed-only")
    return entry, article, APT_TELECOMS


def _config(*names: str, aggregator: bool = False) -> Config:
    return Config(
        feeds=tuple(
            FeedConfig(name=name, url="https://feeds.example/x", aggregator=aggregator)
            for name in names
        )
    )


@pytest.mark.parametrize("aggregator", [False, True])
def test_an_aggregator_feed_naming_its_outlets_needs_no_flag(aggregator: bool) -> None:
    """One feed whose items name their outlet in <source>: three outlets' reports of one event
    are one story whether or not the config marks the feed ``aggregator``; the flag decides only
    whether the outlets are shown as the sources' voices."""
    outlets = ("Harbor", "Eastwind", "Meridian")
    tagged = [_tagged("Bundle", outlets[k], f"{outlets[k].lower()}.example", k) for k in range(3)]
    groups = story_groups(_config("Bundle", aggregator=aggregator), tagged)
    assert [[entry.id for entry, _, _ in group] for group in groups] == [["e0", "e1", "e2"]]
    shown = {entry.outlet for entry, _, _ in groups[0]}
    assert shown == (set(outlets) if aggregator else {None})


def test_a_bundle_without_source_tells_outlets_by_the_links_host() -> None:
    tagged = [_tagged("Bundle", None, f"outlet{k}.example", k) for k in range(3)]
    groups = story_groups(_config("Bundle"), tagged)
    assert len(groups) == 1
    assert voice("Bundle", None, "https://www.a.example/1") == voice(
        "Bundle", None, "https://a.example/2"
    )
    assert voice("Bundle", None, "https://a.example/1") != voice(
        "Bundle", None, "https://b.example/1"
    )
    # Feeds whose links share a host (a mirror, a local site) stay apart by feed.
    assert voice("A", None, "http://127.0.0.1/1") != voice("B", None, "http://127.0.0.1/2")
