"""What kind of story a text is (part of the tag stage): title + text -> one of ``KINDS``.

In: an article's title and text. Out: ``classify(title, text)`` -> a kind, as
``corpus/news/GUIDE.md`` defines them: vulnerability, incident, campaign, law-enforcement,
policy, industry, research, opinion.

A multinomial logistic regression over stemmed words and word pairs of the title and of the
text's opening (the first ``LEAD_CHARS`` characters: what a feed's teaser holds, so a full
page reads like the teasers it was learned from), plus a few shape features (a CVE id, an
amount of money). Its weights, ``data/kind.json``, are learned by ``python -m
benchmarks.train_kind --write`` from ``corpus/news-train``; context decides a kind ("breach"
in a fine, a lawsuit, an incident), which a word list cannot weigh and a learned model can.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Literal, cast

import snowballstemmer

Kind = Literal[
    "vulnerability",
    "incident",
    "campaign",
    "law-enforcement",
    "policy",
    "industry",
    "research",
    "opinion",
]
KINDS: tuple[Kind, ...] = (
    "vulnerability",
    "incident",
    "campaign",
    "law-enforcement",
    "policy",
    "industry",
    "research",
    "opinion",
)
# Kinds a reader reads as news of an attack or a flaw; the others are context.
THREAT_KINDS: frozenset[str] = frozenset({"vulnerability", "incident", "campaign"})
# Kinds that never make the executive summary, whatever actors they mention.
BACKGROUND_KINDS: frozenset[str] = frozenset({"industry", "opinion"})

LEAD_CHARS = 600
WEIGHTS = Path(__file__).parent / "data" / "kind.json"

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
_MONEY = re.compile(r"[$€£]\s?\d|\b\d+(?:\.\d+)?\s?(?:million|billion|m|bn)\b", re.IGNORECASE)
_STOP = frozenset(
    "a an the of to in on for and or is are was were be been by with as at from it its this "  # noqa: SIM905
    "that these those".split()
)
_stemmer = snowballstemmer.stemmer("english")
# Word families a kind is told by, as one feature each: with a few hundred items to learn
# from, "sentenced", "extradited" and "pleads guilty" each occur too rarely to weigh on their
# own, and together they say law enforcement. General vocabulary of the genre, not any one
# item's words; the model learns how much each family counts and for which kind.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        (
            "court",
            r"\b(?:arrest|sentenc|charg(?:ed|es)|indict|extradit|plead|guilty|prison|convict"
            r"|jail|prosecut|seiz|takedown|taken down|dismantl|crackdown|bust|detain|suspects?\b"
            r"|law enforcement|police|europol|interpol|fbi|doj|department of justice|reward)",
        ),
        (
            "state",
            r"\b(?:sanction|law|bill|act\b|regulat|legislat|congress|senate|parliament|ministry"
            r"|government|agency|agencies|directive|order(?:s|ed)?\b|strategy|fine[sd]?\b|gdpr"
            r"|lawsuit|sues?\b|settle|court|judge|ruling|compliance|privacy)",
        ),
        (
            "business",
            r"(?:\braises?\b|\bfunding\b|\bseries [a-e]\b|\bacquir|\bacquisition|\bmerger"
            r"|\blaunch|\bunveil|\bintroduc|\bannounc|\bpartner|\bipo\b|\bvaluation|\bappoint"
            r"|\bhires?\b|\bnames? .{0,30}\b(?:ceo|ciso|cto)\b|\bnew feature|\bgenerally available"
            r"|\brolls? out|\bavailable now|\bpricing|\bcustomers)",
        ),
        (
            "talk",
            r"(?:\bwebinar|\bpodcast|\binterview|\bq&a\b|\bsponsored|\bhow to\b|\bwhy\b"
            r"|\btips?\b|\bguide\b|\bbest practices|\blessons|\bopinion|\bcolumn|\bweek in review"
            r"|\brecap\b|\bnewsletter|\bepisode|\bshould\b|\bmust\b|\bwhat .{0,40}\bneeds?\b"
            r"|\binsights\b|\bthe case for|\bstop\b|\bdon'?t\b|\bcisos?\b|\bboards?\b)",
        ),
        (
            "study",
            r"(?:\bstudy|\bsurvey|\breport finds|\bresearchers? (?:found|find|show)|\bpercent"
            r"|\d+%|\bstatistic|\btrends?\b|\banalysis of|\bdataset|\bbenchmark|\bpaper\b"
            r"|\bresearch)",
        ),
        (
            "flaw",
            r"(?:vulnerab|\bflaws?\b|\bbugs?\b|\bpatch|zero[- ]?days?|\bexploit|\bcve-|\badvisor"
            r"|\bsecurity updates?|\bremote code|\brce\b|\bkev\b|privilege escalation|\bbypass)",
        ),
        (
            "hit",
            r"(?:\bbreach|\bhacked|ransomware attack|cyber-?attack|\bdata (?:leak|theft|exposure)"
            r"|\bleaked\b|\bstolen\b|\boutage|\bdisclos|\bcustomers'? data|\bpersonal (?:data|info)"
            r"|\bnotif|\boffline\b|\bdisrupt(?:ed|ion)\b|\bclaims? (?:responsib|the attack))",
        ),
        (
            "actor",
            r"(?:\bcampaign|\bhackers?\b|\bthreat actors?|\bapt\s?\d|\bgroup\b|\bgang\b"
            r"|\bmalware|\bphishing|\bbotnet|\bstealer|\brat\b|\bbackdoor|\bloader|\bdeploy"
            r"|\btarget|\blinked|\bstate-sponsored|\bnation-state|\bespionage|\bwiper|\btrojan)",
        ),
    )
)


def _stems(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return cast(list[str], _stemmer.stemWords(words))


def features(title: str, text: str, host: str | None = None) -> list[str]:
    """The feature names of a title, text and the link's host (sorted, each once)."""
    lead = text[:LEAD_CHARS]
    title_stems = _stems(title)
    lead_stems = _stems(lead)
    out = [f"t:{s}" for s in title_stems]
    out += [f"t2:{a}_{b}" for a, b in pairwise(title_stems)]
    out += [f"b:{s}" for s in lead_stems]
    out += [f"b2:{a}_{b}" for a, b in pairwise(lead_stems)]
    if _CVE.search(title) or _CVE.search(lead):
        out.append("cve")
    if _MONEY.search(title) or _MONEY.search(lead):
        out.append("money")
    for name, pattern in _CUES:
        if pattern.search(title):
            out.append(f"ct:{name}")
        if pattern.search(lead):
            out.append(f"cb:{name}")
    if "?" in title:
        out.append("question")
    if not lead.strip():
        out.append("no-text")
    if host:
        # Outlets publish in their own mix of kinds (an advisory feed, a diary, a vendor's
        # blog): a prior the model weighs against the words, learned, never a rule.
        out.append("h:" + host.lower().removeprefix("www."))
    return sorted(set(out))


class Model:
    """Weights per feature and class, and a bias per class (``KINDS`` order)."""

    def __init__(self, weights: Mapping[str, Sequence[float]], bias: Sequence[float]) -> None:
        self.weights = weights
        self.bias = bias

    def scores(self, feats: Iterable[str]) -> list[float]:
        z = list(self.bias)
        for f in feats:
            row = self.weights.get(f)
            if row is not None:
                for i, w in enumerate(row):
                    z[i] += w
        return z

    def probabilities(self, feats: Iterable[str]) -> list[float]:
        z = self.scores(feats)
        top = max(z)
        e = [math.exp(v - top) for v in z]
        total = sum(e)
        return [v / total for v in e]

    def predict(self, feats: Iterable[str]) -> Kind:
        z = self.scores(feats)
        return KINDS[max(range(len(KINDS)), key=lambda i: (z[i], -i))]

    def to_json(self) -> str:
        return json.dumps(
            {"kinds": list(KINDS), "bias": list(self.bias), "weights": dict(self.weights)},
            sort_keys=True,
            separators=(",", ":"),
        )


@lru_cache(maxsize=1)
def model() -> Model:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    if tuple(data["kinds"]) != KINDS:
        raise ValueError(f"{WEIGHTS}: kinds {data['kinds']} are not {list(KINDS)}")
    return Model(data["weights"], data["bias"])


def classify(title: str, text: str, host: str | None = None) -> Kind:
    """The kind of an item: what its title and opening are mainly about."""
    return model().predict(features(title, text, host))


def story_kind(kinds: Sequence[str]) -> str | None:
    """A story's kind from its members' (the lead's first): the lead's, unless most members
    say another kind."""
    if not kinds:
        return None
    counts: dict[str, int] = {}
    for k in kinds:
        counts[k] = counts.get(k, 0) + 1
    best = max(counts, key=lambda k: (counts[k], k == kinds[0]))
    return best if counts[best] * 2 > len(kinds) else kinds[0]
