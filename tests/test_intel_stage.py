"""The tag stage: entities kept in the store, tagged once per tagger version and input."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from briefing.cli import cli
from briefing.intel import _code_digest, get_tagger, tagger_version
from briefing.intel.stage import tag_articles
from briefing.localsite import LocalSite
from briefing.models import Article, Entities, Entry
from briefing.store import Store, default_path
from tests.conftest import NOW, NOW_DT

TEXT = (
    "The Iranian group APT39, also known as Chafer, broke into telecom operators in Saudi Arabia "
    "and exploited CVE-2026-21001; its payload came from hxxp://evil-c2[.]example/drop.bin and "
    "45.77.12[.]9."
)


@dataclass
class CountingTagger:
    """The real tagger, counting the articles it is asked to tag."""

    calls: list[str] = field(default_factory=list)

    def tag(self, text: str, title: str = "", source_host: str | None = None) -> Entities:
        self.calls.append(title)
        return get_tagger().tag(text, title=title, source_host=source_host)


def pair(n: int, text: str = TEXT) -> tuple[Entry, Article]:
    when = NOW_DT - timedelta(hours=n)
    link = f"https://wire.example/{n}"
    entry = Entry(f"id{n}", "Wire", link, f"title {n}", "", "", "", when, when, 1)
    return entry, Article(entry.id, link, f"title {n}", text, "", when, "en", "full")


def stored(store_path: Path, pairs: list[tuple[Entry, Article]]) -> Store:
    store = Store.open(store_path)
    db = sqlite3.connect(store_path)
    for entry, _ in pairs:  # the entries table is what poll fills; entities refer to it
        db.execute(
            "INSERT INTO entries (id, feed, link, title, summary, content, author, published,"
            " first_seen, updated, content_hash) VALUES (?, ?, ?, ?, '', '', '', ?, ?, ?, '')",
            (entry.id, entry.feed, entry.link, entry.title, "x", "x", "x"),
        )
    db.commit()
    db.close()
    return store


def test_entities_round_trip_through_their_dict() -> None:
    entities = get_tagger().tag(TEXT, title="APT39 in the Gulf")
    assert entities.actors and entities.countries and entities.cves and entities.indicators
    again = Entities.from_dict(json.loads(json.dumps(entities.to_dict())))
    assert again == entities


def test_tags_once_then_reads_back(tmp_path: Path) -> None:
    pairs = [pair(1), pair(2), pair(3, "Nothing to see here.")]
    tagger = CountingTagger()
    with stored(tmp_path / "s.sqlite3", pairs) as store:
        first = tag_articles(pairs, store, tagger=tagger)
        assert (first.tagged, first.reused, len(tagger.calls)) == (3, 0, 3)
        second = tag_articles(pairs, store, tagger=tagger)
        assert (second.tagged, second.reused, len(tagger.calls)) == (0, 3, 3)
        assert second.items == first.items
        # The page was extracted since (other text): that article alone is tagged again.
        entry, article = pairs[2]
        changed = [*pairs[:2], (entry, replace(article, text=TEXT))]
        third = tag_articles(changed, store, tagger=tagger)
        assert (third.tagged, tagger.calls[-1]) == (1, "title 3")
        assert third.items[2][2].actors
        # On purpose: everything again.
        assert tag_articles(changed, store, tagger=tagger, retag=True).tagged == 3


def test_a_new_tagger_version_tags_again(tmp_path: Path) -> None:
    pairs = [pair(1), pair(2)]
    tagger = CountingTagger()
    with stored(tmp_path / "s.sqlite3", pairs) as store:
        tag_articles(pairs, store, tagger=tagger, version="old")
        assert tag_articles(pairs, store, tagger=tagger, version="old").tagged == 0
        assert tag_articles(pairs, store, tagger=tagger, version="new").tagged == 2
        assert tag_articles(pairs, store, tagger=tagger).tagged == 2  # the real version
        assert tag_articles(pairs, store, tagger=tagger).tagged == 0


def test_tagger_version_follows_the_package_files() -> None:
    version = tagger_version()
    assert version == tagger_version() and len(version) == 16
    _code_digest.cache_clear()
    assert tagger_version() == version  # content, not the moment it was computed


def _tagged_count(output: Path) -> int:
    db = sqlite3.connect(default_path(output))
    try:
        return int(db.execute("SELECT COUNT(*) FROM entities").fetchone()[0])
    finally:
        db.close()


def test_second_build_tags_nothing_and_is_byte_identical(
    tmp_path: Path, site: LocalSite, config_file: Path
) -> None:
    output = tmp_path / "out"
    common = ["-c", str(config_file), "-o", str(output), "--now", NOW]
    assert CliRunner().invoke(cli, ["run", *common]).exit_code == 0
    day = output / "2026-03-10"
    first = (day / "briefing.json").read_bytes()
    count = _tagged_count(output)
    assert count > 0
    db = sqlite3.connect(default_path(output))
    # A tagger that ran again would overwrite these rows: mark them to see that none is.
    db.execute("UPDATE entities SET input = input || ''")
    db.execute("CREATE TABLE seen AS SELECT entry_id, rowid AS r FROM entities")
    db.commit()
    db.close()
    assert CliRunner().invoke(cli, ["build", *common]).exit_code == 0
    assert (day / "briefing.json").read_bytes() == first
    db = sqlite3.connect(default_path(output))
    moved = db.execute(
        "SELECT COUNT(*) FROM entities e JOIN seen s ON s.entry_id = e.entry_id"
        " WHERE s.r != e.rowid"
    ).fetchone()[0]
    db.close()
    assert moved == 0 and _tagged_count(output) == count


def test_archive_rebuild_retag_tags_again(
    tmp_path: Path, site: LocalSite, config_file: Path
) -> None:
    output = tmp_path / "out"
    common = ["-c", str(config_file), "-o", str(output)]
    assert CliRunner().invoke(cli, ["run", *common, "--now", NOW]).exit_code == 0
    before = (output / "2026-03-10" / "briefing.json").read_bytes()
    db = sqlite3.connect(default_path(output))
    db.execute("UPDATE entities SET tagger = 'older', data = '{}'")
    db.commit()
    db.close()
    # Without --retag the days are rendered from their briefing.json: the store is not tagged.
    result = CliRunner().invoke(cli, ["archive", "rebuild", *common, "--no-pdf"])
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(default_path(output))
    assert db.execute("SELECT COUNT(*) FROM entities WHERE tagger = 'older'").fetchone()[0]
    db.close()
    result = CliRunner().invoke(cli, ["archive", "rebuild", *common, "--retag"])
    assert result.exit_code == 0, result.output
    db = sqlite3.connect(default_path(output))
    versions = {row[0] for row in db.execute("SELECT DISTINCT tagger FROM entities")}
    db.close()
    assert "older" not in versions
    # Re-tagged by the same tagger, the day reads as it did.
    assert (output / "2026-03-10" / "briefing.json").read_bytes() == before
