from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from briefing.files import write_atomic


def test_write_replaces_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "day" / "briefing.json"
    write_atomic(target, "{}")
    write_atomic(target, b'{"a": 1}')
    assert target.read_bytes() == b'{"a": 1}'
    assert [p.name for p in target.parent.iterdir()] == ["briefing.json"]


def test_an_unsynced_write_is_still_whole_and_atomic(tmp_path: Path, monkeypatch: Any) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    target = tmp_path / "actors" / "apt28.html"
    write_atomic(target, "<p>old</p>", sync=False)
    write_atomic(target, "<p>new</p>", sync=False)
    assert target.read_text() == "<p>new</p>" and synced == []
    assert [p.name for p in target.parent.iterdir()] == ["apt28.html"]
    write_atomic(target, "<p>synced</p>")
    assert len(synced) == 1


def test_a_killed_writers_leftover_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    stale = tmp_path / ".index.html.abc123.tmp"
    fresh = tmp_path / ".index.html.def456.tmp"  # another writer's, mid-write
    other = tmp_path / ".feed.xml.abc123.tmp"  # another file's: not this write's business
    for leftover in (stale, fresh, other):
        leftover.write_text("half a file")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    write_atomic(target, "<html></html>")
    assert not stale.exists()
    assert fresh.exists() and other.exists()
    assert target.read_text() == "<html></html>"
