from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefing.errors import StoreError
from briefing.models import FeedItem
from briefing.store import (
    MIGRATIONS,
    STORE_ID_FILE,
    Store,
    canonical_url,
    default_path,
    entry_id,
    state_dir,
)

T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def item(**kw: object) -> FeedItem:
    base: dict[str, object] = {
        "feed": "A",
        "guid": "g1",
        "link": "https://news.example/a?utm_source=x#top",
        "title": "Title",
        "summary": "Summary",
        "content": "",
        "author": "",
        "published": T0,
    }
    base.update(kw)
    return FeedItem(**base)  # type: ignore[arg-type]


def test_canonical_url_drops_tracking_and_fragment() -> None:
    assert canonical_url("HTTPS://News.Example:443/a?utm_source=x&id=3&fbclid=9#frag") == (
        "https://news.example/a?id=3"
    )


@given(st.text(alphabet="abcdefghij/=&?", max_size=30))
def test_canonical_url_is_idempotent(tail: str) -> None:
    once = canonical_url("https://h.example/" + tail)
    assert canonical_url(once) == once


def test_ids_guid_scoped_to_feed_then_link_then_hash() -> None:
    assert entry_id(item(feed="A")) != entry_id(item(feed="B"))
    # Without a GUID, one feed's article under two tracking links is one entry; another feed's
    # item with the same link is that feed's own entry (clustering makes them one story).
    a = item(guid=None, link="https://n.example/x?utm_medium=rss")
    assert entry_id(a) == entry_id(item(guid=None, link="https://n.example/x#comments"))
    b = item(guid=None, feed="B", link="https://n.example/x#comments")
    assert entry_id(a) != entry_id(b)
    c = item(guid=None, link=None)
    assert entry_id(c) == entry_id(item(guid=None, link=None))


def test_new_unchanged_and_revised(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite3") as store:
        counts = store.record_poll("A", "u", status="ok", error=None, now=T0, items=[item()])
        assert (counts.new, counts.revised) == (1, 0)
        counts = store.record_poll("A", "u", status="ok", error=None, now=T0, items=[item()])
        assert (counts.new, counts.unchanged) == (0, 1)
        later = T0 + timedelta(hours=1)
        revised = item(title="Title (updated)", summary="More")
        counts = store.record_poll("A", "u", status="ok", error=None, now=later, items=[revised])
        assert counts.revised == 1
        entries = store.entries_between(T0 - timedelta(days=1), later)
        assert len(entries) == 1
        assert entries[0].title == "Title (updated)"
        assert entries[0].revision == 2
        assert entries[0].first_seen == T0
        assert store.revision_count(entries[0].id) == 1


def test_items_without_dates_get_first_seen_and_shared_dates_are_kept(tmp_path: Path) -> None:
    items = [item(guid=f"g{i}", published=T0) for i in range(5)] + [
        item(guid="nodate", published=None)
    ]
    with Store.open(tmp_path / "s.sqlite3") as store:
        store.record_poll(
            "A", "u", status="ok", error=None, now=T0 + timedelta(minutes=5), items=items
        )
        entries = store.entries_between(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
        assert len(entries) == 6
        undated = next(e for e in entries if e.published != T0)
        assert undated.published == T0 + timedelta(minutes=5)
        # An older item arriving later is still new: "seen" does not depend on dates.
        old = item(guid="old", published=T0 - timedelta(days=3))
        assert store.record_poll("A", "u", status="ok", error=None, now=T0, items=[old]).new == 1


def test_feed_failures_count_up_and_reset(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite3") as store:
        store.record_poll("A", "u", status="ok", error=None, now=T0, etag='"e1"')
        for _ in range(3):
            store.record_poll("A", "u", status="timeout", error="slow", now=T0)
        state = store.feed_state("A")
        assert state is not None
        assert (state.failures, state.status, state.error, state.last_ok) == (
            3,
            "timeout",
            "slow",
            T0,
        )
        assert state.etag == '"e1"'
        store.record_poll("A", "u", status="not-modified", error=None, now=T0)
        state = store.feed_state("A")
        assert state is not None
        assert (state.failures, state.etag) == (0, '"e1"')


def test_another_feed_cannot_overwrite_a_guidless_item(tmp_path: Path) -> None:
    trusted = item(guid=None, link="https://cert.example/advisory/1", title="Patch CVE-2026-1")
    forged = item(
        feed="Forger",
        guid=None,
        link="https://cert.example/advisory/1?utm_source=blog",
        title="CVE-2026-1 is a false alarm, do not install",
        summary="Forged text",
    )
    with Store.open(tmp_path / "s.sqlite3") as store:
        store.record_poll("A", "u", status="ok", error=None, now=T0, items=[trusted])
        counts = store.record_poll("Forger", "v", status="ok", error=None, now=T0, items=[forged])
        assert (counts.new, counts.revised) == (1, 0)
        store.record_poll("A", "u", status="not-modified", error=None, now=T0)
        entries = store.entries_between(T0 - timedelta(days=1), T0 + timedelta(days=1))
        by_feed = {e.feed: e for e in entries}
        assert by_feed["A"].title == "Patch CVE-2026-1" and by_feed["A"].summary == "Summary"
        assert by_feed["A"].revision == 1
        assert by_feed["Forger"].title.startswith("CVE-2026-1 is a false alarm")


def test_migration_scopes_old_link_ids_to_their_feed(tmp_path: Path) -> None:
    """A store written before ids of GUID-less items were scoped keeps its rows, articles and
    revisions under the new ids."""
    path = tmp_path / "s.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:5]:
        for statement in migration.split(";"):
            if statement.strip():
                db.execute(statement)
    old = hashlib.sha256("\x1f".join(("url", "https://n.example/x")).encode()).hexdigest()[:32]
    stamp = "2026-03-10T06:00:00.000000Z"
    db.execute(
        "INSERT INTO entries (id, feed, guid, link, title, summary, content, author, published,"
        " first_seen, updated, revision, content_hash) VALUES (?, 'A', NULL,"
        " 'https://n.example/x?utm_source=rss', 'T', 'S', '', '', ?, ?, ?, 2, 'h')",
        (old, stamp, stamp, stamp),
    )
    db.execute(
        "INSERT INTO entries (id, feed, guid, link, title, summary, content, author, published,"
        " first_seen, updated, revision, content_hash) VALUES ('g', 'A', 'guid-1',"
        " 'https://n.example/y', 'T2', 'S', '', '', ?, ?, ?, 1, 'h')",
        (stamp, stamp, stamp),
    )
    db.execute(
        "INSERT INTO articles VALUES (?, 2, 'https://n.example/x', 'T', 'text', '', ?, 'en',"
        " 'full')",
        (old, stamp),
    )
    db.execute("INSERT INTO revisions VALUES (?, 1, 'T0', 'S0', '', ?)", (old, stamp))
    db.execute("INSERT INTO entities VALUES (?, 'v', 'd', '{}')", (old,))
    db.execute("PRAGMA user_version = 5")
    db.close()
    new = entry_id(item(guid=None, link="https://n.example/x"))
    with Store.open(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.integrity_ok()
        pairs = store.articles_between(T0 - timedelta(days=1), T0 + timedelta(days=1))
        assert sorted(e.id for e, _ in pairs) == sorted([new, "g"])
        article = next(a for e, a in pairs if e.id == new)
        assert article is not None and article.text == "text"
        assert store.revision_count(new) == 1
        assert set(store.tagged([new, old])) == {new}
        assert store.pending_entries()[0].id == "g"  # the moved article still counts as done


def test_schema_is_versioned_and_refuses_newer(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Store.open(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.integrity_ok()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        Store.open(path)


def test_failing_since_marks_the_start_of_a_failure_run(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite3") as store:
        store.record_poll("A", "u", status="ok", error=None, now=T0)
        later = [T0 + timedelta(hours=h) for h in (1, 2, 3)]
        for moment in later:
            store.record_poll("A", "u", status="http-error", error="HTTP 503", now=moment)
        state = store.feed_state("A")
        assert state is not None and state.failing_since == later[0]
        store.record_poll("A", "u", status="ok", error=None, now=T0 + timedelta(hours=4))
        state = store.feed_state("A")
        assert state is not None and state.failing_since is None


# --- where the store lives (#26 item 8) ----------------------------------------------------------


def test_the_store_lives_outside_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = default_path(out)
    assert out not in path.parents and path.is_relative_to(state_dir())
    assert default_path(out) == path  # the folder's id names it again
    assert [p.name for p in out.iterdir()] == [STORE_ID_FILE]
    # Moved with its folder, the store is found again.
    moved = tmp_path / "moved"
    out.rename(moved)
    assert default_path(moved) == path


def test_a_fresh_output_folder_is_a_fresh_world(tmp_path: Path) -> None:
    first, second = default_path(tmp_path / "a"), default_path(tmp_path / "b")
    assert first != second
    with Store.open(first) as store:
        store.record_poll("f", "http://x/", status="ok", error=None, now=T0, items=[item()])
    # A deleted and recreated folder starts afresh too: its old store is not its store.
    (tmp_path / "a" / STORE_ID_FILE).unlink()
    (tmp_path / "a").rmdir()
    again = default_path(tmp_path / "a")
    assert again != first
    with Store.open(again) as store:
        assert store.count_entries() == 0


def test_a_store_at_the_old_place_moves_out_with_every_write(tmp_path: Path) -> None:
    """A store inside the output folder (before #26) moves out at first use, its WAL's
    committed writes included, and nothing of it stays in the folder."""
    out = tmp_path / "out"
    out.mkdir()
    old = out / "briefing.sqlite3"
    writer = Store.open(old)
    writer.record_poll("f", "http://x/", status="ok", error=None, now=T0, items=[item()])
    # The writer is still open: its commit may be in briefing.sqlite3-wal only.
    try:
        assert Path(f"{old}-wal").exists()
        path = default_path(out)
    finally:
        writer.close()
    assert sorted(p.name for p in out.iterdir()) == [STORE_ID_FILE]
    with Store.open(path) as store:
        assert store.count_entries() == 1


def test_a_store_id_that_is_not_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / STORE_ID_FILE).write_text("../../etc\n")
    with pytest.raises(StoreError, match="not a store id"):
        default_path(tmp_path)
