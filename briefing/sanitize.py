"""Text that strangers wrote, made safe to store, show and put in a header.

In: feed or page text (attacker-controlled). Out: the same text without the characters that
change how other text is read or parsed:

* ``clean_text`` -- NFKC, C0 and C1 control characters removed (tab and newline kept, a
  carriage return becomes a newline: controls make XML invalid and terminals misbehave), and
  invisible characters removed (zero-width space, word joiner, soft hyphen, Hangul fillers,
  variation selectors, tag characters): "Sandworm" with an invisible filler is "Sandworm".
* ``clean_line`` -- one line for titles, authors and outlet names: ``clean_text`` plus bidi
  embedding, override and isolate marks (which reorder the text after them) removed and
  whitespace collapsed.
* ``clean_name`` -- an entity's name: ``clean_line`` bounded in length (``NAME_MAX``).
* ``xml_safe`` -- a rendered XML document without the characters XML 1.0 forbids.
* ``header_value`` -- a value for an e-mail header the project builds: encoded-words decoded
  first (so what they hide is cleaned too), every control and line break removed, and no
  ``=?`` left for the e-mail module to decode again. Feed text bound for a header goes through
  ``refuse_encoded_words`` first: its encoded-words are not decoded at all, so what they hide
  (``Reply-To: ...``) never reads as a header line, folded or not. The project must not rely on the
  interpreter's patch level for this (CVE-2024-6923: Python < 3.11.10 / 3.12.5 writes a
  decoded CR/LF out unquoted).

Pure functions, stdlib only: poll's worker processes import this.
"""

from __future__ import annotations

import re
import unicodedata
from email.errors import HeaderParseError
from email.header import decode_header

# C0 except tab and newline, DEL, C1.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi controls: marks, embeddings/overrides (U+202A-E) and isolates (U+2066-9).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that show as nothing: zero-width space, word joiner and invisible operators,
# BOM, soft hyphen, combining grapheme joiner, Mongolian vowel separator, Khmer inherent
# vowels, Hangul fillers (letters to Unicode, blank to the eye; NFKC maps U+3164 to U+1160),
# braille blank, variation selectors, tag characters. ZWJ and ZWNJ stay: scripts need them.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060-\u2064\u2800\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_SPACE = re.compile(r"\s+")
NAME_MAX = 80  # characters in an entity's name (actor, malware): "run by Earth A" + 300 b's
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_HEADER_MAX = 998  # RFC 5322's line limit; values are folded anyway, this bounds them


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(document: str) -> str:
    """A rendered XML document without the characters XML 1.0 forbids: the last guard for
    text stored before intake cleaned it (an archived day's titles)."""
    return _NOT_XML.sub("", document)


def clean_text(text: str) -> str:
    """``text`` in NFKC without control or invisible characters; tab and newline stay, CR
    becomes a newline."""
    if text.isascii() and text.isprintable():
        return text  # the common case, ~20x faster than the substitutions
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return text


def clean_line(text: str) -> str:
    """One line of display text: ``clean_text``, no bidi controls, whitespace collapsed."""
    if not (text.isascii() and text.isprintable()):
        text = _BIDI.sub("", clean_text(text.replace("\r", " ")))
    return _SPACE.sub(" ", text).strip()


def clean_name(text: str) -> str:
    """An entity's name: one clean line, at most ``NAME_MAX`` characters."""
    name = clean_line(text)
    return name if len(name) <= NAME_MAX else name[: NAME_MAX - 1].rstrip() + "…"


def _decode_word(match: re.Match[str]) -> str:
    try:
        parts = decode_header(match.group(0))
        return "".join(
            part.decode(charset or "ascii", "replace") if isinstance(part, bytes) else part
            for part, charset in parts
        )
    except (HeaderParseError, LookupError, ValueError):
        return " "


def refuse_encoded_words(text: str) -> str:
    """Feed text bound for a header: an encoded-word in it (no honest feed title has one) is
    kept as the literal text it is, never decoded: "=?" becomes "= ?"."""
    while "=?" in text:
        text = text.replace("=?", "= ?")
    return text


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
