from __future__ import annotations

from briefing.stories.tokens import terms, words


def test_plurals_tenses_and_hyphens_meet() -> None:
    assert terms("Zero-days exploited in attacks") == terms("zero-day exploit attack")
    assert terms("vulnerabilities") == terms("vulnerability")
    assert terms("Linux/Windows") == ["linux", "window"]


def test_stop_words_dates_and_short_parts_are_dropped_numbers_kept() -> None:
    assert terms("The April 2025 update fixes 126 flaws on 8th of May") == terms(
        "update fixes 126 flaws"
    )
    assert "126" in terms("126 flaws")
    assert terms("story 0") == terms("story 1") == ["stori"]
    assert terms("a to of in on at by") == []


def test_words_keep_surface_forms() -> None:
    assert words("Attackers exploited zero-days") == ["attackers", "exploited", "zero-days"]


def test_hostile_input_is_just_text() -> None:
    text = "\u202e" + "A" * 10_000 + "-" * 10_000 + "\x00<script>"
    assert terms(text) == ["a" * 10_000, "script"]
