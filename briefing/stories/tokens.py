"""The shared tokeniser: text -> the words that stories are compared and summarised by.

In: any text (titles, teasers, article bodies; attacker-controlled, so nothing here grows with
anything but the input's length). Out: lists of lowercase tokens.

``words`` keeps surface forms (what a summary's centrality counts). ``terms`` is what the cluster
stage compares: hyphenated and slashed compounds split into their parts ("Linux/Windows" ->
"linux", "window"), every part reduced to its Porter2 stem ("attacks", "attacked" -> "attack";
"zero-days" -> "zero", "day"), so two outlets' wordings of one headline meet.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[a-z0-9][a-z0-9\-]+")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "that",
        "with",
        "this",
        "from",
        "have",
        "has",
        "had",
        "are",
        "was",
        "were",
        "been",
        "its",
        "their",
        "they",
        "them",
        "his",
        "her",
        "not",
        "but",
        "all",
        "any",
        "can",
        "will",
        "would",
        "could",
        "should",
        "may",
        "might",
        "also",
        "into",
        "than",
        "then",
        "there",
        "which",
        "who",
        "what",
        "when",
        "where",
        "while",
        "about",
        "after",
        "before",
        "over",
        "under",
        "more",
        "most",
        "such",
        "other",
        "some",
        "these",
        "those",
        "our",
        "your",
        "you",
        "we",
        "said",
        "says",
        "say",
        "one",
        "two",
        "new",
        "first",
        "last",
        "year",
        "years",
        "including",
        "used",
        "use",
        "using",
        "been",
        "being",
        "did",
        "does",
        "doing",
        "just",
        "only",
        "very",
        "much",
        "many",
        "each",
        "both",
        "how",
        "out",
        "off",
        "own",
        "same",
        "so",
        "too",
    ]
)


_PART = re.compile(r"[a-z0-9]+")
_STEMMER = snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    """Stemmed parts of the text's words, stop words and one- and two-letter parts dropped
    (digits kept: "2025", "126" name a month's patches or a count of flaws)."""
    out: list[str] = []
    for part in _PART.findall(text.lower()):
        if part in _STOP or (len(part) < 3 and not part.isdigit()):
            continue
        out.append(stem(part))
    return out
