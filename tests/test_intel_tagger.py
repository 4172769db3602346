"""The tagger end to end (own sentences only: tests never read /work/shared)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from briefing.intel import Tagger, get_tagger
from briefing.intel.commands import kb_group, tag_command

APT39_PARAGRAPH = (
    "A security vendor said on Tuesday that an Iranian-linked espionage group it calls APT39, "
    "also tracked as Chafer, has been going after telecommunications providers and the travel "
    "industry, as well as high-tech companies, mostly in the Middle East. The group's interest "
    "in personal data fits Tehran's intelligence priorities, researchers said. Officials in the "
    "U.S. warned that Iran could also target American infrastructure. Observers noted that "
    "Tehran had been copying Russia's playbook on influence operations."
)


FILLER = "The intruders moved laterally through the victim's network over several weeks. " * 90


def tagger() -> Tagger:
    return get_tagger()


def actor_names(text: str) -> list[str]:
    return [a.name for a in tagger().tag(text).actors]


def test_acceptance_apt39() -> None:
    ents = tagger().tag(APT39_PARAGRAPH)
    assert [a.name for a in ents.actors] == ["APT39"]
    apt39 = ents.actors[0]
    assert "Chafer" in apt39.aliases and apt39.country == "Iran" and apt39.in_kb
    assert {"APT39", "Chafer"} <= set(apt39.mentions)
    assert "Middle East" in [r.name for r in ents.regions]
    sectors = {s.name for s in ents.sectors}
    assert {"Telecommunications", "Travel", "High-tech"} <= sectors
    roles = {c.code: c.role for c in ents.countries}
    assert roles["IR"] == "attributed" and roles["RU"] == "mentioned"
    assert not any(a.country_code == "RU" for a in ents.actors)


def test_cobalt_strike_alone_is_no_actor() -> None:
    ents = tagger().tag("The intruders deployed Cobalt Strike beacons on two servers.")
    assert ents.actors == ()
    assert "Cobalt Strike" in [m.name for m in ents.malware]


def test_cobalt_group_in_context_is_an_actor() -> None:
    assert actor_names("Researchers blamed the Cobalt group for the bank heists.") == ["Cobalt"]


def test_ordinary_words_need_context() -> None:
    assert actor_names("The Equation Editor flaw is old.") == []
    assert actor_names("Lotus Notes servers were patched.") == []
    assert actor_names("Attackers used Winnti malware on game servers.") == []
    assert actor_names("The Winnti group used new malware.") == ["APT41"]


def test_unknown_vendor_scheme_names() -> None:
    ents = tagger().tag(
        "Mandiant tracks the cluster as UNC9876, Microsoft as Storm-9123, and others "
        "call it Plush Typhoon; an older report named Brisk Kitten."
    )
    by_name = {a.name: a for a in ents.actors}
    assert {"UNC9876", "Storm-9123", "Plush Typhoon", "Brisk Kitten"} <= set(by_name)
    assert not by_name["UNC9876"].in_kb
    assert by_name["Plush Typhoon"].country_code == "CN"
    assert by_name["Brisk Kitten"].country_code == "IR"


def test_known_weather_name_is_resolved() -> None:
    ents = tagger().tag("Midnight Blizzard phished diplomats in Europe.")
    assert [a.name for a in ents.actors] == ["APT29"]
    assert ents.actors[0].in_kb


def test_a_vendor_scheme_name_spelled_apart_is_the_actor_not_the_malware() -> None:
    """Malpedia lists "CozyBear" as a name of the CozyDuke malware; "Cozy Bear" in two words,
    with no malware word after it, is CrowdStrike's name for APT29."""
    assert actor_names("Researchers said Cozy Bear was behind the intrusions.") == ["APT29"]
    assert actor_names("Cozy Bear and Fancy Bear both phished the party.") == ["APT29", "APT28"]
    assert actor_names("The Cozy Bear implant beaconed home every hour.") == []
    ents = tagger().tag("The CozyBear implant beaconed home every hour.")
    assert ents.actors == () and [m.name for m in ents.malware] == ["COZYDUKE"]


def test_attack_names_ending_in_team_are_mentions() -> None:
    """ "Sandworm Team" is ATT&CK's name for Sandworm: "Team" does not start a longer name the
    way "Alibaba Cloud" does; a lower-case "red team" is still no group."""
    assert actor_names("Researchers said Sandworm Team was behind the intrusions.") == ["Sandworm"]
    assert actor_names("The red team used Sliver against the test network.") == []


def test_ransomware_gang_needs_group_context() -> None:
    assert actor_names("The files were encrypted by LockBit ransomware.") == []
    assert actor_names("Affiliates of LockBit claimed the attack on the hospital.") == ["LockBit"]


def test_sectors_news_forms() -> None:
    ents = tagger().tag(
        "The campaign hit telcos, airlines, hospitals, banks, energy firms and defense "
        "contractors, but not IT firms."
    )
    names = {s.name for s in ents.sectors}
    assert {"Telecommunications", "Transportation", "Healthcare", "Finance", "Defense", "IT"} <= (
        names
    )


def test_defense_evasion_is_not_a_sector() -> None:
    ents = tagger().tag("The loader relies on defense evasion tricks.")
    assert "Defense" not in {s.name for s in ents.sectors}


def test_output_is_deterministic_and_ordered() -> None:
    text = "Kimsuky and APT28 were both named; Kimsuky again."
    a = tagger().tag(text)
    b = tagger().tag(text)
    assert a == b
    assert [x.name for x in a.actors] == ["Kimsuky", "APT28"]


def test_cli_tag_defangs_indicators() -> None:
    result = CliRunner().invoke(tag_command, [], input="C2 at hxxp://bad-c2[.]ru/x and 8.8.8.8")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == "<stdin>"
    assert data["indicators"]["url"] == ["hxxp[://]bad-c2[.]ru/x"]
    assert data["indicators"]["ipv4"] == ["8[.]8[.]8[.]8"]


def test_cli_tag_jsonl() -> None:
    lines = '{"id": "1", "text": "APT28 again"}\n{"id": "2", "text": "nothing"}\n'
    result = CliRunner().invoke(tag_command, ["--jsonl"], input=lines)
    assert result.exit_code == 0
    out = [json.loads(x) for x in result.output.splitlines()]
    assert [o["id"] for o in out] == ["1", "2"]
    assert out[0]["actors"][0]["name"] == "APT28"


def test_cli_tag_jsonl_bad_line_is_one_line_error() -> None:
    result = CliRunner().invoke(tag_command, ["--jsonl"], input="not json\n")
    assert result.exit_code == 1
    assert "expected a JSON object" in result.output


def test_cli_kb_show() -> None:
    result = CliRunner().invoke(kb_group, ["show", "Remix Kitten"])
    assert result.exit_code == 0
    assert result.output.startswith("APT39") and "Chafer" in result.output
    missing = CliRunner().invoke(kb_group, ["show", "No Such Actor"])
    assert missing.exit_code == 1 and "no actor" in missing.output


def test_every_command_has_help() -> None:
    assert tag_command.help
    assert kb_group.help
    for cmd in kb_group.commands.values():
        assert cmd.help, cmd.name
        for param in cmd.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), (cmd.name, param.name)


def test_a_single_mention_deep_in_a_long_report_is_not_what_it_is_about() -> None:
    assert len(FILLER) > 6000
    late = FILLER + "The technique resembles one APT28 used years ago."
    early = "APT28 is behind this campaign. " + FILLER
    assert actor_names(late) == []
    assert actor_names(early) == ["APT28"]


def test_names_inside_urls_and_file_names_are_no_mentions() -> None:
    assert actor_names("Details at https://example.org/reports/apt28-returns today.") == []
    assert actor_names("See [the write-up](https://example.org/kimsuky/new) for more.") == []
    assert actor_names("The lure was saved as invoice_Kimsuky_2024.doc on disk.") == []
    assert actor_names("A loader named Kimsuky.dll was dropped.") == []
    assert set(actor_names("The operators, APT33/Elfin in most reports, moved on.")) == {"APT33"}


def test_introduced_name_is_an_actor_and_beats_the_kb_name_inside_it() -> None:
    ents = tagger().tag(
        'An extortion crew known as "Gentle Lazarus" sent new demands. '
        "Later letters were again signed by Gentle Lazarus."
    )
    assert [a.name for a in ents.actors] == ["Gentle Lazarus"]
    assert not ents.actors[0].in_kb
    assert actor_names("Researchers track a new APT group named GlassHeron in the region.") == [
        "GlassHeron"
    ]
    # A campaign or a technique given a name is no actor.
    assert actor_names('Analysts dubbed the technique "PaperBridge" last year.') == []


def test_unknown_scheme_name_next_to_a_kb_alias_joins_that_actor() -> None:
    for text in (
        "The payload points to TA9876, also known as FIN7, as before.",
        "The payload points to FIN7 (aka TA9876) as before.",
    ):
        ents = tagger().tag(text)
        assert [a.name for a in ents.actors] == ["FIN7"]
        assert "TA9876" in ents.actors[0].mentions


def test_a_name_that_starts_a_longer_name_is_no_mention() -> None:
    # "Kimsuky" stands in for any one-word Title-case actor name.
    assert actor_names("The servers were rented from Kimsuky Hosting Ltd last year.") == []
    assert actor_names("The servers were rented from Kimsuky-Cloud last year.") == []
    assert actor_names("We tie the activity to Kimsuky with high confidence.") == ["Kimsuky"]
    assert actor_names("The Kimsuky Group phished think tanks.") == ["Kimsuky"]


def test_list_of_groups_is_actor_context_but_a_country_stays_a_country() -> None:
    late = FILLER + "The tool was later adopted by APT actors such as APT33 and Kimsuky."
    assert set(actor_names(late)) == {"APT33", "Kimsuky"}
    assert actor_names("Sanctions cover adversaries including Cuba and Venezuela.") == []


def test_passing_mention_in_a_reference_title_stays_passing() -> None:
    late = FILLER + "\n[How the APT28 group phished ministries in 2016](https://example.org/x)\n"
    assert actor_names(late) == []


def test_financial_as_an_adjective_is_no_sector() -> None:
    def sectors(text: str) -> set[str]:
        return {s.name for s in tagger().tag(text).sectors}

    assert "Finance" not in sectors("The deal eased financial pressure on the country.")
    assert "Finance" in sectors("The actor targets financial institutions in Europe.")
    assert "Finance" in sectors("Victims were in the energy, financial, and retail sectors.")


def test_the_text_names_the_state_of_an_actor_the_kb_has_none_for() -> None:
    from briefing.intel import get_tagger

    tag = get_tagger().tag
    one = tag("Researchers tie UNC9999, a Russian-linked group, to the intrusions.")
    assert [(a.name, a.country) for a in one.actors] == [("UNC9999", "Russia")]
    # Two actors without a state and one attributed country: whose is it? Nobody's.
    two = tag("UNC9998 and UNC9997 were active. A Russian-linked crew ran the campaign.")
    assert {a.country for a in two.actors} == {None}


def test_a_dotted_framework_or_extension_is_not_malware() -> None:
    from briefing.intel import get_tagger

    names = {
        m.name
        for m in get_tagger().tag("They deployed a small .NET backdoor via .lnk files.").malware
    }
    assert names == set()


# --- actors: one actor per name the text makes one; names that do not act are no actor -----


def test_two_kb_entries_the_text_calls_one_actor_are_one() -> None:
    ents = tagger().tag(
        "Handala, also tracked as Void Manticore, wiped servers at a port operator."
    )
    assert len(ents.actors) == 1
    assert {"Handala", "Void Manticore"} <= set(ents.actors[0].mentions)


def test_a_name_given_as_another_name_of_a_kb_actor_joins_it() -> None:
    ents = tagger().tag(
        "Gray Heron (also known as Jade Sleet and TraderTraitor) stole wallet keys from an exchange."
    )
    assert [a.name for a in ents.actors] == ["TraderTraitor"]
    assert {"Gray Heron", "Jade Sleet"} <= set(ents.actors[0].mentions)


def test_a_gang_listed_twice_in_the_kb_is_one_actor_with_both_names() -> None:
    ents = tagger().tag(
        "The DragonForce Ransomware Group said it hit a retailer. DragonForce posted the files."
    )
    assert len(ents.actors) == 1
    names = {ents.actors[0].name, *ents.actors[0].aliases}
    assert {"DragonForce", "DragonForce Ransomware Group"} <= names


def test_a_group_named_only_as_history_is_not_acting() -> None:
    text = "Former members of the Conti gang now run a new crew that hit a school district."
    assert "Conti" not in actor_names(text)
    assert "Conti" in actor_names("The Conti gang hit a school district.")


def test_a_family_named_after_an_actor_is_malware_not_the_actor() -> None:
    assert actor_names("The ToxicPanda banking trojan spread to phones in Spain.") == []


def test_an_actor_alias_that_is_a_company_named_as_one_is_no_actor() -> None:
    # Alibaba is an alias of an Iranian group in the KB, and a company in organisations.txt.
    assert actor_names("Alibaba said attackers abused its cloud to host phishing kits.") == []
    assert actor_names("Attackers abused Alibaba's servers to host the kit.") == []


def test_gangs_the_text_has_act_are_actors_even_unknown_to_the_kb() -> None:
    ents = tagger().tag("Acme Widgets confirms breach after ByteReaper claims data theft")
    assert [(a.name, a.in_kb) for a in ents.actors] == [("ByteReaper", False)]
    assert actor_names("INC Ransomware Group Holds Clinics Hostage\n\nClinics were hit.") == ["Inc"]
    assert actor_names("Police Take Down 'Night Parcel' Phishing Service") == ["Night Parcel"]
    # A start-up's news is no gang's act.
    assert actor_names("PayBridge Emerges From Stealth With $20 Million") == []


# --- countries: the attacker's state and a vendor's name are no place ----------------------


def roles(text: str) -> dict[str, str]:
    return {c.code: c.role for c in tagger().tag(text).countries}


def test_a_demonym_before_an_attack_noun_is_the_attackers_state() -> None:
    assert roles("A North Korean cyberattack hit a bank in South Korea.") == {
        "KP": "attributed",
        "KR": "target",
    }


def test_every_country_attacks_come_from_is_attributed() -> None:
    got = roles("Most attacks against the UK grid now come from Russia, Iran and China.")
    assert got == {"GB": "target", "RU": "attributed", "IR": "attributed", "CN": "attributed"}
    assert roles("The $80 million heist was blamed on North Korea.") == {"KP": "attributed"}


def test_a_vendors_name_is_no_country() -> None:
    text = "HPE fixed a flaw in Aruba Networking switches; Aruba customers should update."
    assert roles(text) == {}


def test_agencies_co_signing_an_advisory_are_no_place_of_the_story() -> None:
    text = (
        "The advisory was co-signed by agencies from Australia, Canada and the United Kingdom. "
        "It warns of attacks on US water utilities."
    )
    assert roles(text) == {"US": "target"}


def test_an_ordinary_word_joined_to_another_capitalised_one_is_a_compound_name() -> None:
    assert actor_names("Windows Plug and Play can fetch drivers for a fake USB device.") == []
    assert actor_names("Akira and Play hit two hospitals in Ohio.") == ["Akira", "Play"]


def test_a_language_is_neither_a_place_nor_a_state() -> None:
    assert set(roles("Russian-speaking hackers emptied accounts at a bank in Spain.")) == {"ES"}
