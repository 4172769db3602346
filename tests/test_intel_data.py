"""Data the tagger ships or installs: ``briefing kb update`` and the TLD list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefing.intel import gen_tlds
from briefing.intel.commands import kb_group
from briefing.intel.kb import load_kb, user_clusters_dir
from briefing.intel.tagger import get_tagger, reset_tagger

GALAXY = {
    "type": "threat-actor",
    "name": "Threat Actor",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "values": [
        {
            "value": "Quiet Heron",
            "description": "A made-up group for this test.",
            "meta": {"synonyms": ["QH-77", "Silent Wader"], "country": "NO"},
        },
        {"value": "APT28", "meta": {"synonyms": ["Fancy Bear"], "country": "RU"}},
    ],
}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BRIEFING_DATA_DIR", str(tmp_path / "data"))
    reset_tagger()
    yield tmp_path / "data"
    reset_tagger()


def test_kb_update_installs_a_galaxy_file_into_the_user_data_dir(
    tmp_path: Path, data_dir: Path
) -> None:
    src = tmp_path / "threat-actor.json"
    src.write_text(json.dumps(GALAXY), encoding="utf-8")
    result = CliRunner().invoke(kb_group, ["update", str(src)])
    assert result.exit_code == 0, result.output
    assert "threat-actor (2 entries)" in result.output
    assert (user_clusters_dir() / "threat-actor.json").is_file()
    assert str(user_clusters_dir()).startswith(str(data_dir))
    actor = load_kb().lookup("Silent Wader")
    assert actor is not None and actor.name == "Quiet Heron" and actor.country_code == "NO"
    ents = get_tagger().tag("Researchers linked the intrusion to Quiet Heron.")
    assert [a.name for a in ents.actors] == ["Quiet Heron"]
    listing = CliRunner().invoke(kb_group, ["update"])
    assert "threat-actor.json" in listing.output


def test_kb_update_rejects_what_is_not_a_cluster(tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "threat-actor.json"
    bad.write_text('{"values": 3}', encoding="utf-8")
    result = CliRunner().invoke(kb_group, ["update", str(bad)])
    assert result.exit_code == 1 and "not a MISP galaxy cluster" in result.output
    assert not (user_clusters_dir() / "threat-actor.json").exists()
    other = tmp_path / "cars.json"
    other.write_text(json.dumps({"type": "cars", "values": []}), encoding="utf-8")
    result = CliRunner().invoke(kb_group, ["update", str(other)])
    assert result.exit_code == 1 and "not one the KB uses" in result.output


def test_tld_generator_keeps_icann_last_labels_only() -> None:
    psl = (
        "// ===BEGIN ICANN DOMAINS===\nco.uk\n*.ck\n!www.ck\nxn--p1ai\nрф\n"
        "// ===END ICANN DOMAINS===\n// ===BEGIN PRIVATE DOMAINS===\nblogspot.com\n"
    )
    assert gen_tlds.tlds_from_psl(psl) == ["ck", "uk", "xn--p1ai", "рф"]


def test_tlds_txt_is_in_step_with_its_generator() -> None:
    # tlds.txt was generated from the Public Suffix List copy that the ``tld`` package
    # bundles; without that package there is no pinned offline copy to compare with (the
    # system's /usr/share/publicsuffix is a different, newer snapshot), so skip.
    tld = pytest.importorskip("tld")
    psl = Path(tld.__file__).parent / "res" / "effective_tld_names.dat.txt"
    if not psl.is_file():
        pytest.skip("the tld package ships no PSL copy")
    expected = gen_tlds.tlds_from_psl(psl.read_text(encoding="utf-8"))
    assert gen_tlds.OUT.read_text(encoding="utf-8").split() == expected
