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
    before = _WORD_RE.findall(text[s0:pos].lower())[-WINDOW:]
    after = _WORD_RE.findall(text[end:s1].lower())[:WINDOW]
    low = surface.lower()
    words = low.split() or [low]
    abstract = c.has("abstract", low)
    window = (*before, *after)
    if after[:1] and (c.has("malware", after[0]) or any(c.has("agent", w) for w in after[:3])):
        return None
    return [
        float(pos < title_end(text)),
        float(pos < 600 or pos < 0.15 * len(text)),
        float(any(c.has("harm", w) for w in (*before, *after))),
        float(any(c.has("agent", w) for w in after[:5])),
        float(
            bool(after[:1] and c.has("org", after[0]))
            or (len(words) > 1 and c.has("org", words[-1]))
        ),
        float(not abstract and words[-1].endswith("s") and not words[-1].endswith("ss")),
        float(abstract),
        float(any(o != pos and abs(o - pos) < 40 for o in other_starts)),
        float(surface[:1].isupper() and pos > s0),
        float(surface in organisations()),
        float(any(c.has("software", w) for w in window)),
        float(any(c.has("instruct", w) for w in before)),
        float(_cue_re("sector", "advisory").search(text[: min(len(text), 3000)].lower()) is not None),
    ]


@cache
def _cue_re(kind: str, name: str) -> re.Pattern[str]:
    c = cues()[kind]
    alts = sorted(c.words[name]) + [re.escape(p) + r"[a-z]*" for p in c.prefixes[name]]
    return re.compile(r"\b(?:" + "|".join(alts) + r")\b")


def harm_in(low: str) -> bool:
    """Whether the (lower-cased) text says anywhere that something was done to someone: a
    text that does not (an essay, a policy change, a how-to) has no victims, so no victim
    sectors."""
    return _cue_re("sector", "harm").search(low) is not None
