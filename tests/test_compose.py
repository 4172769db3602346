from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from briefing.config import Config, FeedConfig, InterestsConfig
from briefing.deliver.interests import filter_briefing
from briefing.deliver.send import subject_line
from briefing.models import ActorRef, Article, CountryRef, Entities, Entry, NamedRef
from briefing.stories.summarize import exploited_cves, merge_entities
from tests.conftest import NOW_DT, compose_pairs

CONFIG = Config(
    feeds=(
        FeedConfig(name="Wire", url="https://wire.example/feed"),
        FeedConfig(name="Labs", url="https://labs.example/feed", weight=1.5),
        FeedConfig(name="Desk", url="https://desk.example/feed"),
    ),
    top_stories=2,
)

APT39_A = (
    "A cyber espionage group linked to Iran, tracked as APT39 and also known as Chafer, broke into "
    "telecommunications operators in Saudi Arabia and the United Arab Emirates and copied "
    "subscriber records, researchers said on Tuesday. The intrusions began with phishing e-mails "
    "sent to network engineers, and the attackers moved between billing systems with a custom "
    "backdoor before taking travel bookings from partner airlines."
)
APT39_B = (
    "Researchers say APT39, an Iranian espionage group, copied subscriber records at telecoms "
    "operators in Saudi Arabia and the United Arab Emirates. The attackers sent phishing e-mails to "
    "network engineers, used a custom backdoor to move between billing systems, and took travel "
    "bookings from partner airlines, the researchers said on Tuesday."
)
VPN = (
    "Attackers are actively exploiting CVE-2026-21001, a critical flaw in a popular VPN appliance, "
    "to take over corporate gateways, the vendor warned on Monday. Administrators should apply the "
    "fixed firmware at once and look for web shells under the appliance's upload folder."
)
PATCH = (
    "The monthly update from a large software vendor fixes sixty vulnerabilities this month, among "
    "them CVE-2026-30000 in a print service, and none of them is known to be used in attacks yet. "
    "Administrators are advised to test the updates before a broad rollout across their fleets."
)


def pair(feed: str, n: int, title: str, text: str, hours: int) -> tuple[Entry, Article]:
    when = NOW_DT - timedelta(hours=hours)
    link = f"https://{feed.lower()}.example/{n}"
    entry = Entry(f"id{feed}{n}", feed, link, title, "", "", "", when, when, 1)
    return entry, Article(entry.id, link, title, text, "", when, "en", "full")


def build() -> tuple[object, ...]:
    pairs = [
        pair("Wire", 1, "Iranian espionage group raids Gulf telecoms", APT39_A, 3),
        pair("Labs", 2, "APT39 targets telecom operators in the Gulf", APT39_B, 5),
        pair("Desk", 3, "VPN flaw exploited in attacks", VPN, 2),
        pair("Wire", 4, "Monthly patches fix sixty flaws", PATCH, 1),
    ]
    briefing = compose_pairs(CONFIG, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    return (briefing,)


def test_one_story_per_event_with_all_sources() -> None:
    (briefing,) = build()
    stories = briefing.stories  # type: ignore[attr-defined]
    assert len(stories) == 3
    apt = next(s for s in stories if any(a.name == "APT39" for a in s.entities.actors))
    assert {source.feed for source in apt.sources} == {"Wire", "Labs"}
    assert apt.sentences and all(0 <= s.source < len(apt.sources) for s in apt.sentences)


def test_ranking_executive_and_sections() -> None:
    (briefing,) = build()
    b = briefing  # type: ignore[assignment]
    scores = [s.score for s in b.stories]
    assert scores == sorted(scores, reverse=True)
    # Two outlets and a state-attributed actor outrank a lone patch roundup.
    assert "APT39" in {a.name for a in b.stories[0].entities.actors}
    assert len(b.executive) == 2 and b.executive[0] == b.stories[0].id
    assert [s.title for s in b.by_actor] == ["APT39"]
    assert "Iran" in b.by_actor[0].detail
    assert "Middle East" in {s.title for s in b.by_region}
    cves = {row.id: row.exploited for row in b.cves}
    assert cves == {"CVE-2026-21001": True, "CVE-2026-30000": False}
    assert b.cves[0].id == "CVE-2026-21001"  # exploited first
    placed = {sid for section in (*b.by_actor, *b.by_region) for sid in section.story_ids}
    assert set(b.other_story_ids) == {s.id for s in b.stories} - placed


def test_deterministic() -> None:
    assert build() == build()


def test_exploited_cves_reads_the_sentence() -> None:
    text = "CVE-2026-1111 is exploited in the wild. CVE-2026-2222 was also fixed."
    assert exploited_cves([text], ("CVE-2026-1111", "CVE-2026-2222")) == ("CVE-2026-1111",)
    assert exploited_cves(["A zero-day is being exploited."], ("CVE-2026-3333",)) == (
        "CVE-2026-3333",
    )
    assert exploited_cves(["Nothing to see."], ("CVE-2026-3333",)) == ()
    # Written as the tagger still reads it ("CVE 2026–1111"): the same CVE, the same pattern.
    text = "CVE 2026\u20131111 is exploited in the wild. CVE-2026-2222 was also fixed."
    assert exploited_cves([text], ("CVE-2026-1111", "CVE-2026-2222")) == ("CVE-2026-1111",)


def test_merge_entities_keeps_strongest_role_and_all_mentions() -> None:
    iran_target = CountryRef("IR", "Iran", "mentioned", ("Iran",))
    iran_attr = CountryRef("IR", "Iran", "attributed", ("Iranian",))
    actor = ActorRef("APT39", ("Chafer",), "Iran", "IR", True, ("APT39",))
    merged = merge_entities(
        [
            Entities(
                actors=(actor,),
                countries=(iran_target,),
                sectors=(NamedRef("Travel", ("airlines",)),),
            ),
            Entities(
                actors=(ActorRef("APT39", ("Chafer",), "Iran", "IR", True, ("Chafer",)),),
                countries=(iran_attr,),
                cves=("CVE-2026-1",),
            ),
        ]
    )
    assert merged.actors[0].mentions == ("APT39", "Chafer")
    assert merged.countries[0].role == "attributed"
    assert merged.countries[0].mentions == ("Iran", "Iranian")
    assert merged.cves == ("CVE-2026-1",)


APT39_C = (
    "Subscriber records and travel bookings were siphoned from Gulf telecoms carriers by a hacking "
    "team that analysts link to Tehran and call Chafer. Engineers at the carriers were lured with "
    "phishing e-mails, after which a bespoke backdoor carried the intruders from one billing "
    "platform to the next; airline partners' booking data was also taken, investigators said."
)
SAME_REGION_OTHER_EVENT = (
    "A ransomware gang encrypted the patient systems of a hospital group in Jordan on Sunday, "
    "forcing doctors to cancel operations and send emergency cases to other cities. The hospital "
    "said it had restored its backups and that no ransom would be paid."
)


def test_three_outlets_one_event_and_a_neighbour_event_apart() -> None:
    pairs = [
        pair("Wire", 1, "Iranian espionage group raids Gulf telecoms", APT39_A, 3),
        pair("Labs", 2, "APT39 targets telecom operators in the Gulf", APT39_B, 5),
        pair("Desk", 3, "Chafer hackers siphon Gulf telecom data", APT39_C, 4),
        # A syndicated copy of the first article on another site.
        pair("Mirror", 4, "Iranian espionage group raids Gulf telecoms", APT39_A, 2),
        pair("Wire", 5, "Jordanian hospital hit by ransomware", SAME_REGION_OTHER_EVENT, 1),
        pair("Desk", 6, "Monthly patches fix sixty flaws", PATCH, 1),
    ]
    config = Config(
        feeds=tuple(
            FeedConfig(name=n, url=f"https://{n.lower()}.example/f")
            for n in ("Wire", "Labs", "Desk", "Mirror")
        )
    )
    briefing = compose_pairs(config, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    assert len(briefing.stories) == 3
    apt = briefing.stories[0]
    assert {s.feed for s in apt.sources} == {"Wire", "Labs", "Desk", "Mirror"}
    actor = next(s for s in briefing.by_actor if s.title == "APT39")
    assert actor.story_ids == (apt.id,)
    middle_east = next(s for s in briefing.by_region if s.title == "Middle East")
    assert apt.id in middle_east.story_ids
    hospital = next(s for s in briefing.stories if "Jordan" in s.title)
    assert hospital.id in middle_east.story_ids and hospital.id != apt.id
    for story in briefing.stories:
        assert 1 <= len(story.sentences) <= 3


def test_an_aggregators_outlets_count_as_separate_voices() -> None:
    a_entry, a_article = pair(
        "Bundle", 1, "Iranian espionage group raids Gulf telecoms", APT39_A, 3
    )
    b_entry, b_article = pair(
        "Bundle", 2, "APT39 targets telecom operators in the Gulf", APT39_B, 5
    )
    pairs = [
        (replace(a_entry, outlet="Wire"), a_article),
        (replace(b_entry, outlet="Labs"), b_article),
    ]
    config = Config(
        feeds=(FeedConfig(name="Bundle", url="https://bundle.example/f", aggregator=True),)
    )
    briefing = compose_pairs(config, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    assert len(briefing.stories) == 1
    assert {s.publisher for s in briefing.stories[0].sources} == {"Wire", "Labs"}


def test_outlets_a_plain_feed_claims_are_one_voice() -> None:
    """One feed naming eight outlets in <source> for one link does not outrank a real
    three-outlet story; only a feed the operator marks as an aggregator speaks for others."""
    fake = [
        replace(
            pair("Bundle", n, f"Critical flaw in gateway firmware {n}", PATCH, 1)[0],
            link="https://bundle.example/one",
            outlet=outlet,
        )
        for n, outlet in enumerate(
            ("CISA", "Reuters", "Mandiant", "BBC", "CERT", "AP", "NCSC", "X")
        )
    ]
    article = pair("Bundle", 0, "Critical flaw in gateway firmware", PATCH, 1)[1]
    pairs = [(entry, replace(article, entry_id=entry.id, url=entry.link)) for entry in fake] + [
        pair("Wire", 1, "Iranian espionage group raids Gulf telecoms", APT39_A, 3),
        pair("Labs", 2, "APT39 targets telecom operators in the Gulf", APT39_B, 5),
        # A syndicated copy on a third site.
        pair("Mirror", 3, "Iranian espionage group raids Gulf telecoms", APT39_A, 2),
    ]
    feeds = [
        FeedConfig(name=n, url=f"https://{n.lower()}.example/f") for n in ("Wire", "Labs", "Mirror")
    ]
    bundle = FeedConfig(name="Bundle", url="https://bundle.example/f", weight=0.8)
    briefing = compose_pairs(
        Config(feeds=(*feeds, bundle)), pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT
    )
    assert {s.feed for s in briefing.stories[0].sources} == {"Wire", "Labs", "Mirror"}
    claimed = next(s for s in briefing.stories if s.sources[0].feed == "Bundle")
    assert {s.publisher for s in claimed.sources} == {"Bundle"}


def test_a_shared_link_does_not_hand_another_feeds_story_to_an_attacker() -> None:
    """A feed that copies a trusted feed's link (and picks a GUID that sorts first, and writes
    more) does not get its title or summary onto the trusted feed's story."""
    link = "https://cert.example/advisories/2026-1"
    trusted = Entry(
        "zz-cert",
        "CERT",
        link,
        "CERT: patch CVE-2026-21001 now",
        "",
        "",
        "",
        NOW_DT - timedelta(hours=2),
        NOW_DT - timedelta(hours=2),
        1,
    )
    forged = Entry(
        "00-forged",
        "Blog",
        link + "?utm_source=blog",
        "CERT: CVE-2026-21001 is a false alarm, do not install",
        "",
        "",
        "",
        NOW_DT - timedelta(hours=1),
        NOW_DT - timedelta(hours=1),
        1,
    )
    lie = (
        "The national CERT now says CVE-2026-21001 is a false alarm and asks administrators not "
        "to install the fixed firmware, because the update breaks VPN gateways. "
    ) * 4
    pairs = [
        (
            trusted,
            Article(trusted.id, link, trusted.title, VPN, "", trusted.published, "en", "feed-only"),
        ),
        (
            forged,
            Article(forged.id, forged.link, forged.title, lie, "", forged.published, "en", "full"),
        ),
    ]
    for weights in ((1.0, 1.0), (1.0, 0.5)):
        config = Config(
            feeds=(
                FeedConfig(name="CERT", url="https://www.cert.example/feed.xml", weight=weights[0]),
                FeedConfig(name="Blog", url="https://blog.example/rss", weight=weights[1]),
            )
        )
        briefing = compose_pairs(config, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
        assert len(briefing.stories) == 1
        story = briefing.stories[0]
        assert story.title == "CERT: patch CVE-2026-21001 now"
        assert "false alarm" not in story.summary


def test_a_kev_tagged_feed_marks_its_cves_exploited() -> None:
    stub = (
        "The catalogue now lists CVE-2026-40001 in a file transfer server, with a remediation "
        "deadline three weeks from today for federal agencies and their contractors."
    )
    config = Config(feeds=(FeedConfig(name="KEV", url="https://kev.example/f", tags=("kev",)),))
    briefing = compose_pairs(
        config,
        [pair("KEV", 1, "CVE-2026-40001 added", stub, 2)],
        {},
        NOW_DT - timedelta(hours=24),
        NOW_DT,
    )
    assert briefing.stories[0].exploited == ("CVE-2026-40001",)
    assert [(row.id, row.exploited) for row in briefing.cves] == [("CVE-2026-40001", True)]


def test_kev_additions_rank_below_reported_attacks_and_are_catalogue_lines() -> None:
    entries = [
        (
            f"CVE-2026-4100{n} added",
            f"An injection flaw in the Corvid {product} lets a remote user run commands; "
            f"CVE-2026-4100{n} is exploited in the wild according to the catalogue.",
        )
        for n, product in enumerate(("mail gateway", "file server", "router", "wiki"))
    ]
    config = Config(
        feeds=(
            FeedConfig(name="KEV", url="https://kev.example/f", tags=("kev",)),
            FeedConfig(name="Desk", url="https://desk.example/feed"),
            FeedConfig(name="Wire", url="https://wire.example/feed"),
        ),
        top_stories=3,
    )
    pairs = [pair("KEV", n, title, text, 1) for n, (title, text) in enumerate(entries)]
    pairs += [
        pair("Desk", 10, "VPN flaw exploited in attacks", VPN, 2),
        pair("Wire", 11, "Iranian espionage group raids Gulf telecoms", APT39_A, 3),
    ]
    briefing = compose_pairs(config, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    kev = [s for s in briefing.stories if {src.feed for src in s.sources} == {"KEV"}]
    news = [s for s in briefing.stories if s not in kev]
    assert len(kev) == 4 and all(s.exploited for s in kev)
    # A report of exploitation outranks a catalogue line saying the same of another CVE.
    assert min(s.score for s in news) > max(s.score for s in kev)
    # Bare catalogue entries are not top stories: one line each under "Catalogue additions".
    assert set(briefing.executive) == {s.id for s in news}
    assert set(briefing.catalogue) == {s.id for s in kev}
    # ... ranked after every reported story, so the story cards are numbered 1..n.
    assert [s.id for s in briefing.stories[len(news) :]] == list(briefing.catalogue)
    # Every KEV entry is still in the CVE table, marked exploited.
    assert {row.id for row in briefing.cves if row.exploited} >= {
        f"CVE-2026-4100{n}" for n in range(4)
    }


def test_sections_of_equal_size_follow_their_best_storys_rank() -> None:
    volt = (
        "The Chinese state-sponsored group Volt Typhoon kept access to water utilities in the "
        "United States for months, living off the land on engineering workstations, officials "
        "said in an advisory published on Tuesday."
    )
    config = Config(
        feeds=(
            FeedConfig(name="Wire", url="https://wire.example/feed"),
            FeedConfig(name="Gov", url="https://gov.example/feed", weight=3.0),
        )
    )
    pairs = [
        pair("Wire", 1, "Iranian espionage group raids Gulf telecoms", APT39_A, 3),
        pair("Gov", 2, "Volt Typhoon keeps access to US water utilities", volt, 3),
    ]
    briefing = compose_pairs(config, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    assert "Volt Typhoon" in briefing.stories[0].title  # the weighted feed ranks it first
    # One story each: the order is the stories' rank, not the alphabet (APT39 < Volt Typhoon).
    assert [s.title for s in briefing.by_actor] == ["Volt Typhoon", "APT39"]
    assert subject_line("top: {{ top }}", filter_briefing(briefing, None)) == "top: Volt Typhoon"


def test_actor_names_from_the_config_rename_an_actor_everywhere() -> None:
    """A team that says "Remix Kitten" for APT39: stories and sections use it, APT39 becomes
    an alias, and interests by either name still match."""
    config = CONFIG.model_copy(update={"actor_names": {"remix kitten": "Remix Kitten"}})
    pairs = [pair("Wire", 1, "Iranian espionage group raids Gulf telecoms", APT39_A, 3)]
    briefing = compose_pairs(config, pairs, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    actor = briefing.stories[0].entities.actors[0]
    assert actor.name == "Remix Kitten" and "APT39" in actor.aliases
    assert actor.country == "Iran"
    assert [s.title for s in briefing.by_actor] == ["Remix Kitten"]
    for name in ("APT39", "Remix Kitten"):
        interests = InterestsConfig(actors=(name,))
        assert len(filter_briefing(briefing, interests).briefing.stories) == 1


def test_a_catalogue_entry_joins_the_article_reporting_its_cve() -> None:
    config = Config(
        feeds=(
            FeedConfig(name="KEV", url="https://kev.example/f", tags=("kev",)),
            FeedConfig(name="Advisories", url="https://adv.example/atom"),
            FeedConfig(name="Desk", url="https://desk.example/feed"),
        ),
    )
    pairs = [
        pair("KEV", 1, "CVE-2026-41001 added", "CVE-2026-41001 Corvid gateway injection.", 1),
        pair("KEV", 2, "CVE-2026-41002 added", "CVE-2026-41002 Corvid wiki injection.", 1),
        pair(
            "Desk",
            3,
            "Attackers break into mail gateways through an unpatched flaw",
            "Intruders are exploiting CVE-2026-41001, an injection bug in a widely used mail "
            "gateway, to plant web shells on government servers, responders said on Monday.",
            2,
        ),
    ]
    # An advisory feed with no tag: its entries link to one database record each.
    advisory = pair("Advisories", 4, "pyfoo: path traversal", "A path traversal in pyfoo.", 1)
    advisory = (
        replace(advisory[0], link="https://github.com/advisories/GHSA-5cxw-w2xg-2m8h"),
        advisory[1],
    )
    briefing = compose_pairs(config, [*pairs, advisory], {}, NOW_DT - timedelta(hours=24), NOW_DT)
    by_feed = {frozenset(src.feed for src in s.sources): s for s in briefing.stories}
    joined = by_feed[frozenset({"KEV", "Desk"})]
    assert joined.id not in briefing.catalogue and joined.id in briefing.executive
    assert joined.exploited == ("CVE-2026-41001",)
    alone = by_feed[frozenset({"KEV"})]
    assert alone.id in briefing.catalogue and alone.id not in briefing.executive
    assert by_feed[frozenset({"Advisories"})].id in briefing.catalogue


def test_unnamed_state_activity_is_an_actor_section_without_a_group_name() -> None:
    text = (
        "North Korean hackers stole $40 million from a cryptocurrency exchange in Japan, the "
        "exchange said on Monday. Separately, APT28 phished diplomats in Europe."
    )
    other = "North Korean hackers breached a Seoul shipbuilder's network, police said."
    config = Config(feeds=(FeedConfig(name="Wire", url="https://wire.example/f"),))
    briefing = compose_pairs(
        config,
        [pair("Wire", 1, "Exchange drained", text, 2), pair("Wire", 2, "Shipyard hit", other, 3)],
        {},
        NOW_DT - timedelta(hours=24),
        NOW_DT,
    )
    sections = {s.title: s for s in briefing.by_actor}
    unnamed = sections["Unnamed North Korea-linked actors"]
    assert unnamed.country == "North Korea" and unnamed.aliases == ()
    assert "no group named" in unnamed.detail
    assert len(unnamed.story_ids) == 2
    # a named actor's own state never becomes an unnamed section of its story
    assert "APT28" in sections and "Unnamed Russia-linked actors" not in sections
    # and no story's actors list gains an invented group
    assert all("Unnamed" not in a.name for s in briefing.stories for a in s.entities.actors)


def test_compose_and_render_never_load_the_tagger() -> None:
    """The tag stage is the only place that tags or reads the knowledge base: composing stories
    and rendering the briefing in a fresh process leaves the tagger, the KB loader and every
    HTTP client unloaded (malware families come with their aliases from the tag stage)."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "from benchmarks.samples import synthetic_briefing\n"
        "from briefing.config import Config, FeedConfig\n"
        "from briefing.publish.render import environment, render_html\n"
        "from briefing.stories.compose import compose\n"
        "config = Config(feeds=(FeedConfig(name='Wire', url='https://wire.example/feed'),))\n"
        "sample = synthetic_briefing(20)\n"
        "b = compose(config, sample.stories, {}, sample.window_start, sample.window_end)\n"
        "assert len(b.stories) == 20 and b.by_actor\n"
        "render_html(b, config, environment(config), 'html')\n"
        "loaded = ('briefing.intel.tagger', 'briefing.intel.kb', 'pymispgalaxies', 'httpx')\n"
        "print([name for name in loaded if name in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- parts by kind ----------------------------------------------------------------------------

KINDS_DAY = [
    pair(
        "Wire",
        11,
        "Critical flaw in Fabrikam VPN exploited in attacks",
        "Fabrikam released patches for CVE-2026-41234, a remote code execution vulnerability "
        "that attackers are actively exploiting against its VPN gateways.",
        2,
    ),
    pair(
        "Desk",
        12,
        "Hospital chain Northwind Health discloses data breach after ransomware attack",
        "Northwind Health said hackers stole patient records from clinics in Canada.",
        3,
    ),
    pair(
        "Labs",
        13,
        "APT39 targets telecom operators with new backdoor",
        "The Iranian group APT39 sent phishing e-mails to engineers at telecoms in Saudi Arabia.",
        4,
    ),
    pair(
        "Wire",
        14,
        "Police arrest suspected ransomware operators in Europe-wide operation",
        "Europol said Dutch police detained five suspects in the Netherlands and seized servers.",
        5,
    ),
    pair(
        "Desk",
        15,
        "Webinar: How Turla picks the diplomats it spies on",
        "Join our experts to learn best practices for threat hunting.",
        1,
    ),
    pair(
        "Labs",
        16,
        "Security startup raises $50 million in Series B funding",
        "The company will use the funding to expand its platform.",
        6,
    ),
]


def test_each_kind_has_its_part_and_little_is_left_over() -> None:
    b = compose_pairs(CONFIG, KINDS_DAY, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    ids = {s.title: s.id for s in b.stories}
    kinds = {s.title: s.kind for s in b.stories}
    assert kinds["Critical flaw in Fabrikam VPN exploited in attacks"] == "vulnerability"
    assert kinds["Webinar: How Turla picks the diplomats it spies on"] == "opinion"
    # the flaw under the vendor its title names (one the vendor table lacks)
    vendors = {s.title: s.story_ids for s in b.by_vendor}
    assert vendors == {"Fabrikam": (ids["Critical flaw in Fabrikam VPN exploited in attacks"],)}
    # the incident names its victim, under its sector
    incident = ids["Hospital chain Northwind Health discloses data breach after ransomware attack"]
    assert [s.title for s in b.by_incident if incident in s.story_ids] == ["Healthcare"]
    assert next(s for s in b.stories if s.id == incident).victim == "Northwind Health"
    # the campaign under its actor
    campaign = ids["APT39 targets telecom operators with new backdoor"]
    assert [s.title for s in b.by_campaign if campaign in s.story_ids] == ["APT39"]
    # the arrest under the country that acts
    arrest = ids["Police arrest suspected ransomware operators in Europe-wide operation"]
    assert [s.title for s in b.by_action if arrest in s.story_ids] == ["Netherlands"]
    # the webinar and the funding round: one line each under "Also noted", never on top
    noted = {
        ids["Webinar: How Turla picks the diplomats it spies on"],
        ids["Security startup raises $50 million in Series B funding"],
    }
    assert set(b.also_noted) == noted
    assert not noted & set(b.executive)
    assert b.other_story_ids == ()


def test_an_exploited_flaw_outranks_commentary_naming_an_actor() -> None:
    config = CONFIG.model_copy(update={"top_stories": 3})
    b = compose_pairs(config, KINDS_DAY, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    order = [s.title for s in b.stories]
    assert order.index("Critical flaw in Fabrikam VPN exploited in attacks") < order.index(
        "Webinar: How Turla picks the diplomats it spies on"
    )
    assert len(b.executive) == 3
    assert all(s.kind not in ("opinion", "industry") for s in b.stories if s.id in b.executive)


def test_interests_select_by_kind() -> None:
    b = compose_pairs(CONFIG, KINDS_DAY, {}, NOW_DT - timedelta(hours=24), NOW_DT)
    filtered = filter_briefing(b, InterestsConfig(kinds=("vulnerability", "incident")))
    assert {s.kind for s in filtered.briefing.stories} == {"vulnerability", "incident"}
    assert filtered.briefing.also_noted == () and filtered.briefing.by_campaign == ()
