"""Text that strangers wrote, made safe to store, show and put in a header.

In: feed or page text (attacker-controlled). Out: the same text without the characters that
change how other text is read or parsed:

* ``clean_text`` -- C0 and C1 control characters removed (tab and newline kept, a carriage
  return becomes a newline): they make XML invalid and terminals misbehave.
* ``clean_line`` -- one line for titles, authors and outlet names: controls, bidi embedding,
  override and isolate marks (which reorder the text after them) removed, whitespace collapsed.
* ``header_value`` -- a value for an e-mail header the project builds: encoded-words decoded
  first (so what they hide is cleaned too), every control and line break removed, and no
  ``=?`` left for the e-mail module to decode again. The project must not rely on the
  interpreter's patch level for this (CVE-2024-6923: Python < 3.11.10 / 3.12.5 writes a
  decoded CR/LF out unquoted).

Pure functions, stdlib only: poll's worker processes import this.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header

# C0 except tab and newline, DEL, C1.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi controls: marks, embeddings/overrides (U+202A-E) and isolates (U+2066-9).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACE = re.compile(r"\s+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_HEADER_MAX = 998  # RFC 5322's line limit; values are folded anyway, this bounds them


def clean_text(text: str) -> str:
    """``text`` without control characters; tab and newline stay, CR becomes a newline."""
    if text.isascii() and text.isprintable():
        return text  # the common case, ~20x faster than the substitutions
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(text: str) -> str:
    """One line of display text: no controls, no bidi controls, whitespace collapsed."""
    return _SPACE.sub(" ", _BIDI.sub("", _CONTROLS.sub(" ", text))).strip()


def _decode_word(match: re.Match[str]) -> str:
    try:
        parts = decode_header(match.group(0))
        return "".join(
            part.decode(charset or "ascii", "replace") if isinstance(part, bytes) else part
            for part, charset in parts
        )
    except (HeaderParseError, LookupError, ValueError):
        return " "


def header_value(text: str) -> str:
    """A header value built from ``text`` that cannot start another header or a body."""
    for _ in range(4):  # an encoded-word may decode to another one; a few rounds suffice
        decoded = _ENCODED_WORD.sub(_decode_word, text)
        if decoded == text:
            break
        text = decoded
    # Every whitespace run, CR and LF included, becomes one space; then no "=?" survives for
    # the e-mail module's own parser to read as the start of an encoded-word.
    text = clean_line(text.replace("\r", " ").replace("\n", " "))
    while "=?" in text:
        text = text.replace("=?", "= ?")
    return text[:_HEADER_MAX]
