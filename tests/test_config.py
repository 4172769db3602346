from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefing.config import load_config, parse_duration
from briefing.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), "feeds.yaml")


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - name: A\n    url: https://example.org/feed\n", encoding="utf-8")
    config = load_config(path)
    assert config.feeds[0].name == "A"
    assert config.feeds[0].weight == 1.0
    assert config.timezone == "UTC"
    assert config.window_delta.total_seconds() == 24 * 3600
    assert config.poll.max_bytes > 0


def test_unknown_feed_key_names_file_line_and_field(tmp_path: Path) -> None:
    text = "title: T\nfeeds:\n  - name: A\n    url: https://example.org/feed\n    colour: red\n"
    assert _error(tmp_path, text) == "feeds.yaml:5: feeds[0].colour: unknown field"


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = "feeds:\n  - name: A\n    url: https://example.org/f\nsmtp: x\n"
    assert _error(tmp_path, text) == "feeds.yaml:4: smtp: unknown field"


def test_missing_feeds(tmp_path: Path) -> None:
    assert _error(tmp_path, "title: x\n") == "feeds.yaml:1: feeds: required field is missing"


def test_bad_url_points_at_its_line(tmp_path: Path) -> None:
    text = "feeds:\n  - name: A\n    url: https://ok.example/f\n  - name: B\n    url: file:///etc/passwd\n"
    assert _error(tmp_path, text) == (
        "feeds.yaml:5: feeds[1].url: must be an http:// or https:// URL"
    )


def test_nested_setting(tmp_path: Path) -> None:
    text = "poll:\n  concurrency: 0\nfeeds:\n  - name: A\n    url: https://ok.example/f\n"
    message = _error(tmp_path, text)
    assert message.startswith("feeds.yaml:2: poll.concurrency: ")


def test_duplicate_feed_names(tmp_path: Path) -> None:
    text = "feeds:\n  - name: A\n    url: https://a.example/f\n  - name: A\n    url: https://b.example/f\n"
    assert "used twice" in _error(tmp_path, text)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    assert _error(tmp_path, "feeds:\n  - name: [unclosed\n").startswith("feeds.yaml:")


def test_unknown_timezone(tmp_path: Path) -> None:
    text = "timezone: Mars/Olympus\nfeeds:\n  - name: A\n    url: https://a.example/f\n"
    assert _error(tmp_path, text).startswith("feeds.yaml:1: timezone: unknown time zone")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_shipped_feed_list_is_valid_and_large() -> None:
    config = load_config(REPO / "feeds.yaml")
    assert len(config.feeds) >= 30
    assert len({feed.url for feed in config.feeds}) == len(config.feeds)


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(["s", "m", "h", "d"]))
def test_durations_round_trip(value: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_duration(f"{value}{unit}").total_seconds() == value * seconds


@pytest.mark.parametrize("text", ["", "0h", "-1h", "5 weeks", "h", "1.5"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
