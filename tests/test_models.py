"""Slugs: file-name keys of actors and regions, safe and never shared by two names."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from briefing.models import slug
from briefing.sanitize import clean_line


def test_plain_names_keep_their_readable_slug() -> None:
    assert slug("Remix Kitten") == "remix-kitten"
    assert slug("TEMP.Veles") == "temp-veles"
    assert slug("Middle East") == "middle-east"


def test_a_hidden_character_is_the_name_it_hides_in() -> None:
    assert (
        slug("Sandworm\u3164") == slug("Sand\u200bworm") == slug("Ｓａｎｄｗｏｒｍ") == "sandworm"
    )


def test_lookalikes_and_reserved_names_get_a_page_of_their_own() -> None:
    keys = {slug(n) for n in ("Sandworm", "S\u0430ndworm", "Sandworm\u2764", "Sandw\u00f6rm")}
    assert len(keys) == 4
    for reserved in ("NUL", "CON", "com1", "Lpt9", "aux", "PRN"):
        assert slug(reserved) != reserved.lower()
        assert slug(reserved).startswith(reserved.lower() + "-")


def test_long_names_have_bounded_distinct_slugs() -> None:
    a, b = slug("Earth A" + "b" * 300), slug("Earth A" + "b" * 301)
    assert a != b and len(a) <= 60 and len(b) <= 60


_SMALL = st.text(alphabet="aA1 .-_\u0430\u3164\u00e9!", min_size=1, max_size=5)


@given(_SMALL, _SMALL)
def test_two_names_share_a_slug_only_when_they_differ_in_case_or_separators(a: str, b: str) -> None:
    key = slug(a)
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in key) and len(key) <= 60
    if key == slug(b):
        plain_a, plain_b = (
            re.sub(r"[\W_]+", " ", clean_line(n).casefold()).strip() for n in (a, b)
        )
        assert plain_a == plain_b
        assert clean_line(a).isascii() == clean_line(b).isascii()
