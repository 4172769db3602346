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
# Dates say when, not what: two stories of one month share them. Years, months, ordinals
# (weekdays stay: "Patch Tuesday" is a name).
_DATE = re.compile(
    r"(?:19|20)\d\d|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|\d{1,2}(?:st|nd|rd|th)"
)
_STEMMER = snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    """Stemmed parts of the text's words; stop words, dates and parts of one or two characters
    dropped (a "2" or "0" says nothing; "126 flaws", "23,000 repositories" are facts of the
    event and stay)."""
    out: list[str] = []
    for part in _PART.findall(text.lower()):
        if part in _STOP or len(part) < 3 or _DATE.fullmatch(part):
            continue
        out.append(stem(part))
    return out
