"""The tagger's decider: is a candidate what it seems, in its context? (tag stage, part 2 of 3)

In: a candidate the matcher found (today: a sector named in the text, with every place it is
named) and the text around it. Out: a probability that it is what the briefing means by it
(for a sector: the sector of the victims or targets), and the yes/no at the learned threshold.

The tagger reads in three parts: candidates (``tagger.Tagger.tag``: the Aho-Corasick pass over
the KB and gazetteers, naming-scheme patterns, "known as / dubbed / tracked as"
introductions) -> this decider -> assembly into ``Entities`` (``Tagger._assemble``).

The model is a logistic regression over a handful of features of the candidate and its
window (position, title, counts, the kinds of words around it: ``data/cues.toml``). Its
weights (``data/decider.json``) are learned from labelled reports by
``python -m benchmarks.train_tagger`` (AnnoCTR train; the threshold chosen on dev) and are
deterministic from that command. Inference is a dot product: offline and fast.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from briefing.intel.sectors import organisations

# The order of the features is the order of the weights in decider.json. A sector candidate
# is decided mention by mention (AnnoCTR labels mentions): it counts when one mention does.
SECTOR_FEATURES = (
    "title",
    "early",
    "harm_near",
    "agent_after",
    "org_after",
    "plural",
    "abstract",
    "list",
    "capital",
    "organisation",
    "software_near",
    "instructed",
    "advisory",
)
# A country candidate is decided once per text, on all its mentions: is it a place of the
# story (the victims' or the acting jurisdiction's), not the attacker's state, a vendor's home
# or a country named in passing?
COUNTRY_FEATURES = (
    "role_target",
    "role_mentioned",
    "title",
    "early",
    "repeated",
    "attacker_after",
    "source_before",
    "place_before",
    "place_after",
    "many",
    "adjective",
)
# How far around a mention its context reaches, in words, inside its sentence.
WINDOW = 8
_WORD_RE = re.compile(r"[a-z][a-z'’-]*")
_SENTENCE_RE = re.compile(r"[.!?\n]\s")


@dataclass(frozen=True)
class Cues:
    """One kind of candidate's cue lists: exact words or phrases, and prefixes ("target*")."""

    words: dict[str, frozenset[str]]
    prefixes: dict[str, tuple[str, ...]]

    def has(self, kind: str, word: str) -> bool:
        return word in self.words[kind] or word.startswith(self.prefixes[kind])


def sigmoid(z: float) -> float:
    """The logistic function, clamped so that ``exp`` cannot overflow."""
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Model:
    """A logistic regression: ``sigmoid(bias + weights . features) >= threshold``."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, x: Sequence[float]) -> float:
        return sigmoid(self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True)))

    def accepts(self, x: Sequence[float]) -> bool:
        return self.probability(x) >= self.threshold


@lru_cache(maxsize=1)
def cues() -> dict[str, Cues]:
    raw = tomllib.loads(
        resources.files("briefing.intel").joinpath("data/cues.toml").read_text("utf-8")
    )
    out: dict[str, Cues] = {}
    for kind, lists in raw.items():
        words = {n: frozenset(e for e in es if not e.endswith("*")) for n, es in lists.items()}
        prefixes = {n: tuple(e[:-1] for e in es if e.endswith("*")) for n, es in lists.items()}
        out[kind] = Cues(words, prefixes)
    return out


@lru_cache(maxsize=1)
def models() -> dict[str, Model]:
    raw = json.loads(
        resources.files("briefing.intel").joinpath("data/decider.json").read_text("utf-8")
    )
    return {
        kind: Model(
            features=tuple(m["features"]),
            weights=tuple(float(w) for w in m["weights"]),
            bias=float(m["bias"]),
            threshold=float(m["threshold"]),
        )
        for kind, m in raw["models"].items()
    }


def title_end(text: str) -> int:
    """Where the title ends: the first line, when the text opens with a short one (a feed
    item's title above its text), else 0 (no title)."""
    i = text.find("\n")
    return i if 0 < i <= 250 else 0


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - 300)
    s = lo
    for m in _SENTENCE_RE.finditer(text, lo, start):
        s = m.end()
    m2 = _SENTENCE_RE.search(text, end, end + 300)
    return s, (m2.start() + 1 if m2 else min(len(text), end + 300))


def sector_features(
    text: str, pos: int, surface: str, other_starts: Sequence[int]
) -> list[float] | None:
    """The features (``SECTOR_FEATURES``) of the sector named ``surface`` at ``pos`` in
    ``text`` (other sectors are named at ``other_starts``), or None when the words right
    after it rule out a victim whatever the weights say: the sector word names a kind of
    malware ("banking trojan", "cryptocurrency miner") or is the subject of what its
    organisations do ("police arrest", "Treasury lifts sanctions")."""
    c = cues()["sector"]
    end = pos + len(surface)
    s0, s1 = _sentence(text, pos, end)
    # Each word's cue lists, looked up once per distinct word (cached): a window is 16 words
    # and a feature asks about several lists.
    before = [_kinds(w) for w in _WORD_RE.findall(text[s0:pos].lower())[-WINDOW:]]
    after = [_kinds(w) for w in _WORD_RE.findall(text[end:s1].lower())[:WINDOW]]
    low = surface.lower()
    words = low.split() or [low]
    abstract = c.has("abstract", low)
    if after[:1] and ("malware" in after[0] or any("agent" in k for k in after[:3])):
        return None
    window = (*before, *after)
    return [
        float(pos < title_end(text)),
        float(pos < 600 or pos < 0.15 * len(text)),
        float(any("harm" in k for k in window)),
        float(any("agent" in k for k in after[:5])),
        float(
            bool(after[:1] and "org" in after[0]) or (len(words) > 1 and c.has("org", words[-1]))
        ),
        float(not abstract and words[-1].endswith("s") and not words[-1].endswith("ss")),
        float(abstract),
        float(any(o != pos and abs(o - pos) < 40 for o in other_starts)),
        float(surface[:1].isupper() and pos > s0),
        float(surface in organisations()),
        float(any("software" in k for k in window)),
        float(any("instruct" in k for k in before)),
        float(advisory_in(text)),
    ]


@lru_cache(maxsize=16384)
def _kinds(word: str) -> frozenset[str]:
    """The sector cue lists (``data/cues.toml``) that hold ``word``."""
    c = cues()["sector"]
    return frozenset(name for name in c.words if c.has(name, word))


def country_features(
    text: str,
    hits: Sequence[tuple[int, str]],
    rank: int,
    n_countries: int,
    name: str,
) -> list[float]:
    """The features (``COUNTRY_FEATURES``) of a country named at ``hits`` in ``text``, whose
    rule-based role rank (``geo.ROLE_RANK``) is ``rank`` (an actor's state is ranked
    attributed before this is asked); ``n_countries``: how many countries the text names;
    ``name``: its English name (a mention that is not it is a demonym or
    an adjective, "Chinese", "U.S.")."""
    c = cues()["country"]
    end_title = title_end(text)
    attacker = source = place = place_after = adjective = False
    for pos, surface in hits:
        before = _WORD_RE.findall(text[max(0, pos - 40) : pos].lower())[-2:]
        after = _WORD_RE.findall(text[pos + len(surface) : pos + len(surface) + 40].lower())[:3]
        attacker = attacker or any(c.has("attacker", w) for w in after)
        source = source or any(c.has("source", w) for w in before)
        place = place or bool(before and c.has("place", before[-1]))
        place_after = place_after or bool(after and c.has("place_after", after[0]))
        adjective = adjective or surface.lower() != name.lower()
    return [
        float(rank == 1),
        float(rank == 2),
        float(any(p < end_title for p, _ in hits)),
        float(min(p for p, _ in hits) < 300),
        float(len(hits) >= 2),
        float(attacker),
        float(source),
        float(place),
        float(place_after),
        float(n_countries >= 5),
        float(adjective),
    ]


@cache
def _cue_re(kind: str, name: str) -> re.Pattern[str]:
    c = cues()[kind]
    alts = sorted(c.words[name]) + [re.escape(p) + r"[a-z]*" for p in c.prefixes[name]]
    return re.compile(r"\b(?:" + "|".join(alts) + r")\b")


@lru_cache(maxsize=8)
def advisory_in(text: str) -> bool:
    """Whether the text's opening (a feed item's title and teaser, a report's first
    paragraphs) reads as a vulnerability advisory. Cached: every sector mention of a text
    asks, and a str keeps its hash."""
    return _cue_re("sector", "advisory").search(text[:3000].lower()) is not None


def harm_in(low: str) -> bool:
    """Whether the (lower-cased) text says anywhere that something was done to someone: a
    text that does not (an essay, a policy change, a how-to) has no victims, so no victim
    sectors."""
    return _cue_re("sector", "harm").search(low) is not None
