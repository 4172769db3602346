"""briefing.json: one writer, one reader, and nothing but http(s) links in it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from benchmarks.samples import synthetic_briefing
from briefing.serialize import dumps, from_json, read, safe_url, to_json


def test_json_round_trips_through_from_json() -> None:
    briefing = synthetic_briefing(10)
    data = json.loads(dumps(briefing))
    assert to_json(from_json(data)) == data
    assert from_json(data) == briefing


def test_read_gives_none_for_a_missing_or_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "briefing.json"
    assert read(path) is None
    path.write_text("{", encoding="utf-8")
    assert read(path) is None
    path.write_text('{"stories": []}', encoding="utf-8")  # no date, no window
    assert read(path) is None
    path.write_text(dumps(synthetic_briefing(2)), encoding="utf-8")
    again = read(path)
    assert again is not None and len(again.stories) == 2


def test_source_links_are_http_or_absent() -> None:
    briefing = synthetic_briefing(3)
    hostile = ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x", "ftp://x.example/")
    stories = tuple(
        replace(story, sources=tuple(replace(s, url=url) for s in story.sources))
        for story, url in zip(briefing.stories, hostile, strict=False)
    )
    data = to_json(replace(briefing, stories=stories))
    urls = [source["url"] for story in data["stories"] for source in story["sources"]]
    assert urls and all(url is None for url in urls)
    assert safe_url(" https://ok.example/a ") == "https://ok.example/a"
    assert safe_url("https://ok.example/a b") is None
