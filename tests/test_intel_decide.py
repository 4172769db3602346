"""The tagger's decider (intel/decide.py) and the context rules around it: sectors mean
victims, actors introduced or acting as groups, a reporter's home is no place of the story.
Own sentences only; each case is a kind of wording, not one document."""

from __future__ import annotations

import json

import pytest

from benchmarks import train_tagger
from briefing.intel import get_tagger
from briefing.intel.decide import COUNTRY_FEATURES, SECTOR_FEATURES, Model, cues, models
from briefing.intel.sectors import SECTOR_FORMS, organisations
from briefing.models import Entities


def tag(text: str) -> Entities:
    return get_tagger().tag(text)


def sectors(text: str) -> set[str]:
    return {s.name for s in tag(text).sectors}


def test_model_file_matches_the_code() -> None:
    for kind, features in (("sector", SECTOR_FEATURES), ("country", COUNTRY_FEATURES)):
        model = models()[kind]
        assert model.features == features
        assert len(model.weights) == len(features)
        assert 0.0 < model.threshold < 1.0
    assert set(cues()) == {"sector", "country"}


def test_model_is_a_logistic_regression() -> None:
    m = Model(features=("a", "b"), weights=(2.0, -1.0), bias=-0.5, threshold=0.5)
    assert m.probability([0.0, 0.0]) == pytest.approx(0.3775, abs=1e-4)
    assert m.accepts([1.0, 0.0]) and not m.accepts([0.0, 1.0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "A hospital in Ohio was hit by a ransomware attack that disrupted care.",
            {"Healthcare"},
        ),
        (
            "The group targeted government agencies and telecommunications providers in Asia.",
            {"Government", "Telecommunications"},
        ),
        (
            "Food giant Acme Foods discloses a data breach after attackers stole employee data.",
            {"Food"},
        ),
        (
            "Attackers breached a county's computer network and stole residents' data.",
            {"Government"},
        ),
    ],
)
def test_victim_sectors(text: str, expected: set[str]) -> None:
    assert sectors(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # software supply chains are not Logistics
        "A supply chain attack on an open-source package compromised thousands of builds.",
        "The attackers abused the software supply chain of a popular GitHub Action.",
        # a vendor's industries are no victims when nobody was hit
        "Our platform helps organizations in healthcare, finance, manufacturing and education modernise.",
        # malware named after what it steals
        "A new banking trojan and a cryptocurrency miner spread through fake installers.",
        # the sector acts: police arrest, agencies order
        "Police arrest 300 suspects linked to a cybercrime ring after victims lost millions.",
        # a thing, not an industry
        "Phishing texts about unpaid toll payment steal card numbers from drivers.",
    ],
)
def test_no_victim_sector(text: str) -> None:
    assert sectors(text) == set()


def test_sector_candidates_carry_features() -> None:
    found = get_tagger().sector_candidates("Attackers breached hospitals and banks in Spain.")
    assert set(found) == {"Healthcare", "Finance"}
    for mentions in found.values():
        for _surface, x in mentions:
            assert len(x) == len(SECTOR_FEATURES)


def test_training_is_deterministic() -> None:
    pad = [0.0] * (len(SECTOR_FEATURES) - 2)
    data = [([1.0, 0.0, *pad], 1, 1.0)] * 3 + [([0.0, 1.0, *pad], 0, 1.0)] * 3
    w1, b1 = train_tagger.fit(data, 0.1)
    w2, b2 = train_tagger.fit(data, 0.1)
    assert (w1, b1) == (w2, b2)
    assert w1[0] > 0 > w1[1]


def test_block_cross_validation_chooses_on_held_out_items() -> None:
    pad = [0.0] * (len(SECTOR_FEATURES) - 1)
    good: list[tuple[int, list[list[float]]]] = [(1, [[1.0, *pad]]), (0, [[0.0, *pad]])]
    folds = {"a": (good * 4, 4), "b": (good * 4, 4), "c": (good * 4, 4)}
    f, _l2, th, with_extra = train_tagger.choose(folds, [], 1.0)
    assert f == pytest.approx(1.0) and 0.0 < th < 1.0 and not with_extra


def test_solver_solves() -> None:
    x = train_tagger._solve([[4.0, 1.0], [1.0, 3.0]], [1.0, 2.0])
    assert x == pytest.approx([1 / 11, 7 / 11])


def test_organisations_table_parses_to_canonical_sectors() -> None:
    orgs = organisations()
    assert len(orgs) > 300
    assert set(orgs.values()) <= set(SECTOR_FORMS)
    assert orgs["Verizon"] == "Telecommunications" and orgs["Target"] == "Retail"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a well-known organisation's sector, where the text has it hit
        (
            "Verizon confirmed that attackers stole data on millions of its customers.",
            {"Telecommunications"},
        ),
        # the descriptor beside the victim
        ("A Belgian hospital shut down its servers after a cyberattack.", {"Healthcare"}),
        ("Robo-advisor firm says hackers accessed customer records in a breach.", {"Finance"}),
    ],
)
def test_victim_sector_from_name_or_descriptor(text: str, expected: set[str]) -> None:
    assert sectors(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # "Target" the verb in a Title Case headline
        "New Phishing Scams Target Users Across Europe\n\nAttackers stole credentials.",
        # agencies told to patch are no victims of the flaw
        "CISA orders federal agencies to patch an exploited flaw in a VPN appliance.",
    ],
)
def test_no_victim_sector_from_a_verb_or_an_order(text: str) -> None:
    assert sectors(text) == set()


def test_ransomware_gang_that_attacks_is_an_actor() -> None:
    ents = tag("Gunra ransomware targeting government agencies, agencies warn.")
    assert [a.name for a in ents.actors] == ["Gunra"]


def test_country_candidates_carry_features() -> None:
    found = get_tagger().country_candidates("Hackers breached hospitals in Spain.")
    assert [code for code, _x in found] == ["ES"]
    assert all(len(x) == len(COUNTRY_FEATURES) for _c, x in found)


def test_attackers_state_is_no_place() -> None:
    ents = tag("Russian hackers breached companies in Poland.")
    places = {c.code for c in ents.countries if c.role != "attributed"}
    assert places == {"PL"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # a KB name that is no English word counts at a sentence start
        ("Ke3chang targeted foreign ministries in Europe last year.", "APT15"),
        # an unquoted name after an actor noun
        ("The threat actor known as Vane Viper ran a malvertising network.", "Vane Viper"),
        ("A China-linked threat group named Weaver Ant hid in a telecom network.", "Weaver Ant"),
        # a ransomware operation introduced by name is the gang
        ("A ransomware-as-a-service (RaaS) operation called 'Blackmoth' has emerged.", "Blackmoth"),
        # the gang acts
        ("LockBit claimed the attack on the hospital and leaked its data.", "LockBit"),
    ],
)
def test_actor_in_context(text: str, name: str) -> None:
    assert name in [a.name for a in tag(text).actors]


def test_ransomware_used_is_no_actor() -> None:
    ents = tag("The files were encrypted with LockBit ransomware.")
    assert ents.actors == () and [m.name for m in ents.malware] == ["LockBit"]


def test_apposition_makes_an_actor() -> None:
    ents = tag("EncryptHub, a notorious threat actor, breached hundreds of organizations.")
    assert ents.actors and "EncryptHub" in ents.actors[0].mentions


@pytest.mark.parametrize(
    "text",
    [
        "Slovak cybersecurity firm ESET said the group targeted Ukrainian government agencies.",
        "An Israeli LockBit developer was extradited to the U.S. on Thursday.",
    ],
)
def test_home_country_is_no_place(text: str) -> None:
    codes = {c.code for c in tag(text).countries}
    assert "SK" not in codes and "IL" not in codes


def test_victim_demonym_stays_a_target() -> None:
    roles = {c.code: c.role for c in tag("Israeli companies were hit by wipers.").countries}
    assert roles == {"IL": "target"}


@pytest.mark.parametrize(
    "text",
    [
        "Owners of Android phones should update now.",
        "Attackers abused CRM tools and bulk email providers to send spam.",
    ],
)
def test_platform_and_product_words_are_no_malware(text: str) -> None:
    assert tag(text).malware == ()


def test_news_scoring(tmp_path: object) -> None:
    from pathlib import Path

    from benchmarks import tag_eval

    root = Path(str(tmp_path))
    items = [
        {"id": "a", "title": "Hospitals hit by ransomware", "text": "Hospitals in Spain were hit."},
        {"id": "b", "title": "Patch Tuesday", "text": "Updates fix bugs."},
    ]
    gold = [
        {"id": "a", "actors": [], "attributed": [], "countries": ["ES"], "sectors": ["Healthcare"]},
        {"id": "b", "actors": ["APT28"], "attributed": ["RU"], "countries": [], "sectors": []},
    ]
    (root / "items.json").write_text(json.dumps(items))
    (root / "gold.jsonl").write_text("\n".join(json.dumps(g) for g in gold))
    scores = tag_eval.score_news(get_tagger(), tag_eval.load_news(root))
    assert (scores["sectors"].tp, scores["sectors"].pred, scores["sectors"].gold) == (1, 1, 1)
    assert (scores["countries"].tp, scores["countries"].gold) == (1, 1)
    assert (scores["actors"].tp, scores["actors"].gold) == (0, 1)
    assert scores["actors"].fn and "APT28" in scores["actors"].fn[0]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The FBI warned that fake file converters push malware.", "US"),
        ("CERT-UA said the attacks used phishing e-mails.", "UA"),
    ],
)
def test_national_agency_names_its_jurisdiction(text: str, code: str) -> None:
    assert code in {c.code for c in tag(text).countries}


def test_english_word_actor_at_sentence_start_needs_an_attackers_verb() -> None:
    assert "Patchwork" in [a.name for a in tag("Patchwork targeted defense organizations.").actors]
    assert tag("Patchwork quilts were on sale at the fair.").actors == ()


def test_name_after_a_capitalised_word_is_part_of_a_longer_name() -> None:
    assert tag("Download apps only from Google Play, researchers advise.").actors == ()
    assert [a.name for a in tag("In March, Play hit a city's network.").actors] == ["Play"]


def test_ordinary_word_names_need_malware_context() -> None:
    assert tag("A Global campaign hit banks. Global attacks rose.").malware == ()
    assert [m.name for m in tag("Winnti was deployed on the servers.").malware] == ["Winnti"]


def test_ransomware_claims_names_the_gang() -> None:
    ents = tag("Qilin ransomware claims the attack on a newspaper group.")
    assert [a.name for a in ents.actors] == ["Qilin"]


def test_lower_case_kb_names_are_shown_as_names() -> None:
    names = [a.name for a in tag("Interlock ransomware claims the attack on a clinic.").actors]
    assert names == ["Interlock"]


def test_a_participle_after_a_comma_is_not_the_gangs_act() -> None:
    ents = tag("Attackers hit the oil company with DoppelPaymer, demanding $4 million.")
    assert ents.actors == () and [m.name for m in ents.malware] == ["DoppelPaymer"]


def test_a_crypto_exchange_is_a_cryptocurrency_victim() -> None:
    text = "Hackers drained a cryptocurrency exchange in Asia of $40 million."
    assert "Cryptocurrency" in sectors(text)


def test_electronic_records_are_no_high_tech_victim() -> None:
    assert "High-tech" not in sectors(
        "Attackers encrypted electronic health records at the hospital."
    )
