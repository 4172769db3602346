"""Knowledge base: alias normalisation, merging, collision rule, cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefing.intel.kb import load_kb
from briefing.intel.normalize import alias_key, scan_text
from briefing.localsite import LocalSite
from tests.conftest import NOW

ALIASES = [
    # Iranian
    ("APT39", "APT39"),
    ("Chafer", "APT39"),
    ("Remix Kitten", "APT39"),
    ("ITG07", "APT39"),
    ("APT 39", "APT39"),
    ("Charming Kitten", "APT35"),
    ("APT35", "APT35"),
    ("Mint Sandstorm", "APT35"),
    ("Phosphorus", "APT35"),
    ("TA453", "APT35"),
    ("Magic Hound", "APT35"),
    # Russian
    ("APT29", "APT29"),
    ("Cozy Bear", "APT29"),
    ("Midnight Blizzard", "APT29"),
    ("NOBELIUM", "APT29"),
    ("The Dukes", "APT29"),
    ("APT28", "APT28"),
    ("Fancy Bear", "APT28"),
    ("Forest Blizzard", "APT28"),
    ("Sofacy", "APT28"),
    ("STRONTIUM", "APT28"),
    ("Sandworm Team", "Sandworm"),
    ("Seashell Blizzard", "Sandworm"),
    ("Voodoo Bear", "Sandworm"),
    ("Wizard Spider", "Wizard Spider"),
    # Chinese
    ("APT41", "APT41"),
    ("Wicked Panda", "APT41"),
    ("Brass Typhoon", "APT41"),
    ("BARIUM", "APT41"),
    ("Volt Typhoon", "Volt Typhoon"),
    ("Threat Group-3390", "APT27"),
    ("TG-3390", "APT27"),
    ("Emissary Panda", "APT27"),
    ("menuPass", "APT10"),
    # North Korean
    ("Lazarus", "Lazarus Group"),
    ("the Lazarus group", "Lazarus Group"),
    ("Hidden Cobra", "Lazarus Group"),
    ("Diamond Sleet", "Lazarus Group"),
    ("Kimsuky", "Kimsuky"),
    ("Emerald Sleet", "Kimsuky"),
    ("Velvet Chollima", "Kimsuky"),
    # criminal
    ("FIN7", "FIN7"),
    ("Carbanak", "FIN7"),
    ("Scattered Spider", "Scattered Spider"),
    ("Octo Tempest", "Scattered Spider"),
    ("LockBit", "LockBit"),
    ("Conti", "Conti"),
]


@pytest.mark.parametrize(("alias", "canonical"), ALIASES)
def test_alias_resolves_to_canonical(alias: str, canonical: str) -> None:
    actor = load_kb().lookup(alias)
    assert actor is not None, alias
    assert actor.name == canonical


def test_countries_of_well_known_actors() -> None:
    kb = load_kb()
    expected = {"APT39": "IR", "APT29": "RU", "APT41": "CN", "Lazarus": "KP", "Kimsuky": "KP"}
    for name, code in expected.items():
        actor = kb.lookup(name)
        assert actor is not None and actor.country_code == code


def test_collisions_are_recorded_not_merged() -> None:
    kb = load_kb()
    assert kb.collisions, "the MISP data has contested aliases"
    for key, ids in kb.collisions.items():
        assert kb.actor_index[key] in ids
        assert len(set(ids)) >= 2


def test_placeholder_names_are_not_aliases() -> None:
    assert load_kb().lookup("Unknown") is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("APT 29", "APT29"),
        ("apt-29", "APT29"),
        ("Threat Group-3390", "TG-3390"),
        ("the Lazarus Group", "Lazarus"),
        ("Sandworm Team", "sandworm"),
        ("FIN 7", "fin7"),
    ],
)
def test_alias_key_variants(a: str, b: str) -> None:
    assert alias_key(a) == alias_key(b)


def test_alias_key_keeps_short_optional_forms() -> None:
    assert alias_key("Group 77") == "group77"


@given(st.text(max_size=60))
def test_alias_key_is_idempotent_and_clean(s: str) -> None:
    k = alias_key(s)
    assert k == k.casefold()
    assert all(ch.isalnum() for ch in k)


@given(st.text(max_size=200))
def test_scan_text_keeps_length(s: str) -> None:
    assert len(scan_text(s)) == len(s)


def test_the_kb_is_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Two processes with different hash seeds and empty caches build the same KB and tag the
    same way: the briefing's determinism rests on it."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, json\n"
        "from briefing.intel import get_tagger\n"
        "t = get_tagger()\n"
        "h = hashlib.sha256()\n"
        "for a in t.kb.actors:\n"
        "    h.update(json.dumps([a.name, list(a.aliases), a.country]).encode())\n"
        "h.update(json.dumps(t.tag('Chafer and APT 29 hit Gulf telecoms.').to_dict()).encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, BRIEFING_DATA_DIR=str(tmp_path / seed))
        out = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_actors_go_by_their_attack_name_except_apt_numbers() -> None:
    """MISP names Salt Typhoon GhostEmperor and Transparent Tribe Operation C-Major; ATT&CK's
    names are shown, the MISP ones stay aliases. APT<n> names stay (not ATT&CK's Magic Hound),
    and an actor whose MISP name is an ATT&CK name too keeps it (Lazarus Group, not APT38)."""
    kb = load_kb()
    for alias, name in (
        ("GhostEmperor", "Salt Typhoon"),
        ("Operation C-Major", "Transparent Tribe"),
        ("Quilted Tiger", "Patchwork"),
        ("Energetic Bear", "Dragonfly"),
        ("Charming Kitten", "APT35"),
        ("APT38", "Lazarus Group"),
        ("Remix Kitten", "APT39"),
    ):
        actor = kb.lookup(alias)
        assert actor is not None and actor.name == name, alias
        assert alias_key(alias) in {alias_key(a) for a in actor.aliases} | {alias_key(name)}


def test_a_broken_knowledge_base_is_one_line_not_a_traceback(
    tmp_path: Path, site: LocalSite, config_file: Path
) -> None:
    """A build that must tag with a damaged cluster file says so in one line, exit 1."""
    import os
    import subprocess
    import sys

    from click.testing import CliRunner

    from briefing.cli import cli

    output = tmp_path / "out"
    common = ["-c", str(config_file), "-o", str(output), "--now", NOW]
    assert CliRunner().invoke(cli, ["poll", *common]).exit_code == 0
    data = tmp_path / "data"
    clusters = data / "galaxy" / "clusters"
    clusters.mkdir(parents=True)
    (clusters / "threat-actor.json").write_text("{not json", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "briefing", "build", *common],
        env=dict(os.environ, BRIEFING_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "threat-actor.json" in lines[0], done.stderr
