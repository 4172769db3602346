"""Cleaning text strangers wrote: controls, invisible and bidi characters, header values."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefing.sanitize import (
    NAME_MAX,
    clean_line,
    clean_name,
    clean_text,
    header_value,
    refuse_encoded_words,
)


def test_controls_go_tab_and_newline_stay() -> None:
    assert clean_text("a\x01\x02\x1bb\tc\r\nd\re\x7f\x85\x9f") == "ab\tc\nd\ne"


def test_invisible_characters_go_and_compatibility_forms_fold() -> None:
    assert clean_text("Sandworm\u3164 Sand\u200bworm \ufeffＡＰＴ２９ soft\u00adhyphen") == (
        "Sandworm Sandworm APT29 softhyphen"
    )
    # Joiners that scripts need stay.
    assert clean_text("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645") == (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    )


def test_a_line_has_no_bidi_controls_and_one_space_between_words() -> None:
    assert (
        clean_line("Invoice \u202eexe.pdf\u202c  \u2066x\u2069\n y\u200f") == "Invoice exe.pdf x y"
    )


def test_names_are_bounded() -> None:
    name = clean_name("Earth A" + "b" * 300)
    assert len(name) == NAME_MAX and name.endswith("…")
    assert clean_name("  Sandworm\u3164 ") == "Sandworm"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "=?utf-8?q?Patch_now=0D=0AReply-To:_it-helpdesk@evil.example?=",
            "Patch now Reply-To: it-helpdesk@evil.example",
        ),
        ("=?utf-8?b?PT91dGYtOD9xP1g9MEQ9MEFZPz0=?=", "X Y"),  # an encoded-word in one
        ("a\r\nBcc: x@example.org", "a Bcc: x@example.org"),
        ("=?x-unknown-charset?q?x?= tail", "tail"),  # what cannot be decoded is dropped
        ("50% off =? no", "50% off = ? no"),
    ],
)
def test_header_values_have_no_line_break_and_no_encoded_word(raw: str, shown: str) -> None:
    assert header_value(raw) == shown


@given(st.text())
def test_no_header_value_can_break_a_line_or_start_an_encoded_word(text: str) -> None:
    value = header_value(text)
    assert not any(c in value for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    assert "=?" not in value
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value)


def test_feed_text_keeps_its_encoded_words_as_inert_text() -> None:
    title = "=?utf-8?q?Patch_now=0D=0AReply-To:_it-helpdesk@evil.example?="
    value = header_value(refuse_encoded_words(title))
    assert value == "= ?utf-8?q?Patch_now=0D=0AReply-To:_it-helpdesk@evil.example?="
    assert " Reply-To" not in value  # no space before it: a fold can never start a line there
