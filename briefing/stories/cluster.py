"""Cluster stage: the window's articles -> groups that each tell one event.

In: ``Doc``s (feed, canonical link, title, text, entities). Out: lists of indices into the
input, one list per story, in input order.

Two documents are one story when:

* they share a canonical link (the same article through two feeds or two tracking URLs; within
  one feed only with the same title, since some feeds point every item at a landing page), or
* their texts are near-duplicates (word 4-shingle Jaccard ≥ ``DUPLICATE``: syndication,
  a republished item under a new GUID), or
* they are about the same event told by different feeds: TF-IDF cosine over the day's
  vocabulary ≥ ``SAME_EVENT``, or ≥ ``SAME_EVENT_WITH_EVIDENCE`` when they also share a specific
  entity (actor, malware, CVE, indicator) or most of their title words, or ≥
  ``SAME_EVENT_REWRITTEN`` when they name the same actor and share most of their target profile
  (targeted countries, sectors, malware, CVEs, techniques: ``SAME_PROFILE``, two items at least)
  — a rewrite in other words keeps who was hit and how.

Over-merging is the worse error (an event vanishes inside another), so the evidence rule never
merges two documents whose specific entities conflict: both name CVEs and share none, or both
name actors and share none. Thresholds were set on hand-labelled pairs from real days of
security news (see tests/test_cluster.py and tests/data/cluster_pairs.tsv).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from briefing.models import Entities
from briefing.stories.summarize import words

DUPLICATE = 0.5
SAME_EVENT = 0.55
SAME_EVENT_WITH_EVIDENCE = 0.30
TITLE_OVERLAP = 0.4
SAME_PROFILE = 0.5
SAME_EVENT_REWRITTEN = 0.12
TOP_TERMS = 25
MAX_POSTING = 60


@dataclass(frozen=True)
class Doc:
    feed: str
    link: str | None  # canonical
    title: str
    text: str
    entities: Entities


def _specific(entities: Entities) -> tuple[set[str], set[str], set[str]]:
    actors = {a.name for a in entities.actors}
    cves = set(entities.cves)
    other = {m.name for m in entities.malware} | {
        value for _kind, values in entities.indicators for value in values
    }
    return actors, cves, other


def _profile(entities: Entities) -> set[str]:
    """Who was hit and how: targeted countries, sectors, malware, CVEs, techniques. Two reports
    of one event share most of it even when their wording shares little."""
    return (
        {f"c:{c.code}" for c in entities.countries if c.role != "attributed"}
        | {f"s:{s.name}" for s in entities.sectors}
        | {f"m:{m.name}" for m in entities.malware}
        | {f"v:{cve}" for cve in entities.cves}
        | {f"t:{t}" for t in entities.techniques}
    )


def _shingles(tokens: Sequence[str], size: int = 4) -> set[str]:
    return {" ".join(tokens[i : i + size]) for i in range(max(0, len(tokens) - size + 1))}


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


@dataclass(frozen=True)
class PairEvidence:
    duplicate: float
    cosine: float
    title: float
    shared: bool
    conflict: bool
    same_feed: bool
    same_actor: bool = False
    profile: float = 0.0  # Jaccard of the two texts' target profiles (see ``_profile``)
    profile_shared: int = 0


def _vectors(docs: Sequence[Doc]) -> list[dict[str, float]]:
    token_lists = [words(f"{doc.title} {doc.title} {doc.text}") for doc in docs]
    df: Counter[str] = Counter()
    for tokens in token_lists:
        df.update(set(tokens))
    n = len(docs)
    vectors = []
    for tokens in token_lists:
        tf = Counter(tokens)
        vector = {
            term: (1 + math.log(count)) * (math.log((1 + n) / (1 + df[term])) + 1)
            for term, count in tf.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({term: v / norm for term, v in vector.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(term, 0.0) for term, v in a.items())


def _candidates(
    vectors: Sequence[dict[str, float]], specifics: Sequence[tuple[set[str], set[str], set[str]]]
) -> set[tuple[int, int]]:
    """Pairs worth comparing: they share two of their strongest terms or a specific entity.

    Comparing every pair is quadratic in the day's articles; two texts about one event always
    share some of their most distinctive words, so blocking on those loses no real pair.
    """
    postings: dict[str, list[int]] = {}
    for index, vector in enumerate(vectors):
        top = sorted(vector, key=lambda term: (-vector[term], term))[:TOP_TERMS]
        for term in top:
            postings.setdefault(term, []).append(index)
        for key in set().union(*specifics[index]):
            postings.setdefault("\x00" + key, []).append(index)
    hits: Counter[tuple[int, int]] = Counter()
    for term, members in postings.items():
        if len(members) > MAX_POSTING:
            continue  # a word half the day's news uses says nothing about sameness
        weight = 2 if term.startswith("\x00") else 1
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                hits[(members[a], members[b])] += weight
    return {pair for pair, count in hits.items() if count >= 2}


def evidence(docs: Sequence[Doc]) -> dict[tuple[int, int], PairEvidence]:
    """Similarity evidence for the candidate pairs ``(i, j)``, ``i < j`` (exposed for tuning)."""
    vectors = _vectors(docs)
    shingles = [_shingles(words(doc.text)) for doc in docs]
    titles = [set(words(doc.title)) for doc in docs]
    specifics = [_specific(doc.entities) for doc in docs]
    profiles = [_profile(doc.entities) for doc in docs]
    out: dict[tuple[int, int], PairEvidence] = {}
    for i, j in sorted(_candidates(vectors, specifics)):
        actors_i, cves_i, other_i = specifics[i]
        actors_j, cves_j, other_j = specifics[j]
        conflict = bool(
            (cves_i and cves_j and not cves_i & cves_j)
            or (actors_i and actors_j and not actors_i & actors_j)
        )
        shared = bool(actors_i & actors_j or cves_i & cves_j or other_i & other_j)
        title_overlap = len(titles[i] & titles[j]) / max(1, min(len(titles[i]), len(titles[j])))
        out[(i, j)] = PairEvidence(
            duplicate=_jaccard(shingles[i], shingles[j]),
            cosine=_cosine(vectors[i], vectors[j]),
            title=title_overlap,
            shared=shared,
            conflict=conflict,
            same_feed=docs[i].feed == docs[j].feed,
            same_actor=bool(actors_i & actors_j),
            profile=_jaccard(profiles[i], profiles[j]),
            profile_shared=len(profiles[i] & profiles[j]),
        )
    return out


def same_story(pair: PairEvidence) -> bool:
    if pair.conflict:
        # Texts that name different CVEs or different actors are different events, however
        # alike their wording: templated advisories share almost every word.
        return False
    if pair.duplicate >= DUPLICATE:
        return True
    if pair.same_feed:
        # One outlet's items about one topic (a daily podcast, a series) are separate stories
        # unless their text is the same.
        return False
    if pair.cosine >= SAME_EVENT:
        return True
    if pair.cosine >= SAME_EVENT_WITH_EVIDENCE and (pair.shared or pair.title >= TITLE_OVERLAP):
        return True
    # A rewrite in other words: one actor, the same victims and means, little common wording.
    return (
        pair.same_actor
        and pair.profile >= SAME_PROFILE
        and pair.profile_shared >= 2
        and pair.cosine >= SAME_EVENT_REWRITTEN
    )


def cluster(docs: Sequence[Doc]) -> list[list[int]]:
    groups = _UnionFind(len(docs))
    by_link: dict[str, list[int]] = {}
    for index, doc in enumerate(docs):
        if not doc.link:
            continue
        title = " ".join(doc.title.lower().split())
        for other in by_link.setdefault(doc.link, []):
            # One feed pointing several items at one landing page is not one article.
            if docs[other].feed != doc.feed or " ".join(docs[other].title.lower().split()) == title:
                groups.union(other, index)
        by_link[doc.link].append(index)
    for (i, j), pair in evidence(docs).items():
        if same_story(pair):
            groups.union(i, j)
    members: dict[int, list[int]] = {}
    for index in range(len(docs)):
        members.setdefault(groups.find(index), []).append(index)
    return sorted(members.values(), key=lambda group: group[0])
