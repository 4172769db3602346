"""Cluster stage: the window's articles -> groups that each tell one event.

``story_groups`` is the stage: the tag stage's ``(Entry, Article, Entities)`` triples -> one
group per event, one entry per article (``_one_entry_per_link``), actors under the config's
names (``actor_namer``), a bare catalogue entry joining only the story of its CVE. ``cluster``
below it works on plain ``Doc``s.

``cluster``: in: ``Doc``s (feed, canonical link, title, text, entities) and, optionally, the
texts of the store's recent weeks (``background``: what makes a word common or rare). Out:
lists of indices into the input, one list per story, in input order.

Copies (one headline and one text, however many) fold into one before anything is compared.
Two documents are one story when:

* they share a canonical link (the same article through two feeds or two tracking URLs; within
  one feed only with the same title, since some feeds point every item at a landing page), or
* their titles are the same after stemming (syndication: an outlet's headline carried by an
  aggregator or a partner, a republished item under a new GUID; even when one channel carries
  both), or their texts are near-duplicates (word 4-shingle Jaccard ≥ ``DUPLICATE``), or
* the pair model says they tell one event (``PairModel``: a logistic regression learned from
  labelled news, weights in ``pairs.json``, fitted by ``python -m benchmarks.train_cluster``),
  judged on what teasers give: cosine of stemmed TF-IDF vectors (title twice, then text; IDF
  over the window and the background), cosine of the titles alone, specific shared evidence
  (CVE, product, malware, indicator, actor, vendor), names in the titles, the voices (``voice``:
  the outlet, not the feed), the victims' sectors, and one vendor's patch day (``patch_day``).

Only candidate pairs are compared (``_candidates``: blocking on strong terms and entities, the
work an item can cause bounded), so clustering is near-linear in the day's items.

Over-merging is the worse error (an event vanishes inside another), so a conflict veto holds
for the whole story, not only for the pair being merged: two documents whose specific entities
conflict (both name CVEs and share none, or both name actors and share none) never end up in
one story, however many similar documents sit between them. Pairs are merged strongest first,
and a merge that would put two conflicting documents together is skipped.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from briefing.config import Config
from briefing.intel.normalize import alias_key
from briefing.intel.stage import Tagged
from briefing.models import (
    ActorRef,
    Article,
    Entities,
    Entry,
)
from briefing.store import canonical_url
from briefing.stories.catalogue import (
    catalogue_entry,
)
from briefing.stories.tokens import stem, terms, words

# The hard rules; every other pair is decided by the pair model (``PairModel``, weights in
# pairs.json, fitted on labelled news by ``python -m benchmarks.train_cluster``).
DUPLICATE = 0.5  # 4-shingle Jaccard of the texts: one text, republished
SAME_TITLE = 0.999  # title cosine of one headline
MIN_TITLE_TERMS = 4  # fewer stemmed title terms than this is not a headline to match on
PATCH_VENDORS = 2  # a patch item naming more vendors than this is a roundup, not one vendor's
# The background: the store's items of the weeks before the window (their title and lead: a
# word's document frequency needs no more, and a long article must not cost more).
BACKGROUND = timedelta(days=21)
BACKGROUND_CHARS = 1000
# Bounds on the work an item can cause (see ``_candidates`` and ``_Groups``).
TOP_TERMS = 25
MAX_POSTING = 60
MAX_SPECIFIC = 20
POSTING_BUDGET = 600
MAX_PAIRS = 40
MAX_SIGNATURES = 64


@dataclass(frozen=True)
class Doc:
    feed: str
    link: str | None  # canonical
    title: str
    text: str
    entities: Entities
    catalogue: bool = False  # a bare catalogue entry (a KEV or advisory feed's record)


def _specific(entities: Entities) -> tuple[set[str], set[str], set[str]]:
    actors = {a.name for a in entities.actors}
    cves = set(entities.cves)
    other = (
        {m.name for m in entities.malware}
        | {value for _kind, values in entities.indicators for value in values}
        | {f"{v.name}/{p}" for v in entities.vendors for p in v.products}
    )
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


def _makers(entities: Entities) -> set[str]:
    """Vendors whose products the text names: whose software or devices it is about."""
    return {v.name for v in entities.vendors if v.products}


def _signature(entities: Entities) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """What the conflict veto reads of a text: its actors, CVEs and product vendors."""
    actors, cves, _ = _specific(entities)
    return frozenset(actors), frozenset(cves), frozenset(_makers(entities))


def _clash(
    a: tuple[frozenset[str], frozenset[str], frozenset[str]],
    b: tuple[frozenset[str], frozenset[str], frozenset[str]],
) -> bool:
    return any(x and y and not x & y for x, y in zip(a, b, strict=True))


def conflicting(a: Entities, b: Entities) -> bool:
    """Both name CVEs and share none, both name actors and share none, or both are about
    products and share no vendor (Android's flaws and Windows' are two events): two events."""
    return _clash(_signature(a), _signature(b))


class _Groups:
    """Union-find whose merges respect the conflict veto for every member of both sides.
    A group keeps the distinct signatures of its members (copies share one), so a check costs
    signatures, not members; a group of more than ``MAX_SIGNATURES`` distinct ones takes no
    more members by similarity (a story of that many different claims is a flood)."""

    def __init__(self, entities: Sequence[Entities]) -> None:
        self.parent = list(range(len(entities)))
        self.members = [[i] for i in range(len(entities))]
        self.signatures = [{_signature(e)} for e in entities]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def merge(self, i: int, j: int) -> bool:
        a, b = self.find(i), self.find(j)
        if a == b:
            return True
        mine, theirs = self.signatures[a], self.signatures[b]
        both = mine | theirs
        if len(both) > MAX_SIGNATURES and len(both) > max(len(mine), len(theirs)):
            return False
        if any(_clash(x, y) for x in mine for y in theirs):
            return False
        keep, gone = min(a, b), max(a, b)
        self.parent[gone] = keep
        self.members[keep].extend(self.members[gone])
        self.members[gone] = []
        self.signatures[keep] = mine | theirs
        self.signatures[gone] = set()
        return True


@dataclass(frozen=True)
class PairEvidence:
    duplicate: float
    cosine: float
    title: float  # IDF-weighted cosine of the stemmed titles
    shared: bool
    conflict: bool
    same_feed: bool
    same_actor: bool = False
    profile: float = 0.0  # Jaccard of the two texts' target profiles (see ``_profile``)
    profile_shared: int = 0
    title_terms: int = 0  # stemmed terms in the shorter title
    rare: bool = False  # the titles share a name (see ``names``)
    digest: bool = False  # one of the two is a digest of many events (see ``digest``)
    catalogue: bool = False  # one of the two is a bare catalogue entry
    same_cve: bool = False
    same_victims: bool = False  # a victim sector in common: who was hit
    other_victims: bool = False  # both name victims' sectors, none in common
    same_maker: bool = False  # a vendor whose products both name
    patch_days: int = 0  # how many of the two are a vendor's patch-day item (``patch_day``)
    patch_vendor: bool = False  # both are, of one vendor, and neither is a roundup of many
    title_overlap: float = 0.0  # Jaccard of the two titles' stemmed terms


# A capital inside a word (CentreStack, SourceForge) or a long word in capitals (BRICKSTORM)
# in a headline that is not all capitals itself.
_NAME = re.compile(r"\b(?:[A-Za-z0-9]*[a-z][A-Z][A-Za-z0-9]*|[A-Z]{5,})\b")


# A digest (a weekly recap, a week in review, a roundup) tells many events in one item: its
# words overlap with each of them a little, so it is a story of its own, never part of one.
_DIGEST = re.compile(
    r"\b(?:recap|round-?up|week in review|year in review|weekly|this week|digest|newsletter)\b",
    re.IGNORECASE,
)


def digest(title: str) -> bool:
    return bool(_DIGEST.search(title))


# A vendor's monthly patch release and what belongs to it (one event per vendor and month):
# "Patch Tuesday", a KB release article, "fixes 138 flaws", "patches exploited zero-day", the
# exploited zero-day itself, CISA's catalogue entry for it. A feature rollout that mentions
# "security updates" is not one.
_PATCH = re.compile(
    r"\bpatch(?:es|ed)?\s+tuesday\b|\bkb\d{6,8}\b|\bknown\s+exploited\s+vulnerabilit|\bkev\b"
    r"|\b(?:fix|fixes|fixed|patch|patches|patched|address|addresses)\b[^.;:]{0,40}?"
    r"(?:\b\d[\d,]*\s+(?:\w+\s+)?(?:flaws|vulnerabilities|bugs|cves)\b|\bzero[- ]days?\b)"
    r"|\bexploited\s+(?:\w+\s+){0,2}zero[- ]days?\b|\bzero[- ]days?\s+(?:\w+\s+){0,2}exploited\b",
    re.IGNORECASE,
)


def patch_day(title: str) -> bool:
    return bool(_PATCH.search(title))


def names(title: str) -> set[str]:
    """Words a headline writes with a capital inside (CentreStack, SourceForge, FortiSwitch,
    VanHelsing) or as a long word in capitals (BRICKSTORM): product, malware and company names,
    whatever the headline's capitalisation style. Rarity by document frequency cannot stand in
    for this: on a small store every word is rare, and on a big news day the event's own name
    is common."""
    if title.isupper():
        return set()
    return {stem(match.lower()) for match in _NAME.findall(title)}


def _idf(token_lists: Iterable[Sequence[str]]) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter()
    n = 0
    for tokens in token_lists:
        df.update(set(tokens))
        n += 1
    return df, n


def _weigh(tokens: Sequence[str], df: Counter[str], n: int, log_tf: bool) -> dict[str, float]:
    tf = Counter(tokens)
    vector = {
        term: ((1 + math.log(count)) if log_tf else 1.0) * (math.log((1 + n) / (1 + df[term])) + 1)
        for term, count in tf.items()
    }
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {term: v / norm for term, v in vector.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(term, 0.0) for term, v in a.items())


def _candidates(
    vectors: Sequence[dict[str, float]],
    specifics: Sequence[tuple[set[str], set[str], set[str]]],
    titles: Sequence[dict[str, float]],
) -> set[tuple[int, int]]:
    """Pairs worth comparing: they share two of their strongest terms or a specific entity.

    Comparing every pair is quadratic in the day's articles; two texts about one event always
    share some of their most distinctive words, so blocking on those loses no real pair. The
    work is bounded per item whatever the items contain: an item's keys are its ``TOP_TERMS``
    strongest terms, its title's terms and at most ``MAX_SPECIFIC`` entities (a list of 100
    CVEs is a catalogue, not an event); it reads its keys' postings rarest first and stops
    after ``POSTING_BUDGET`` entries; it keeps its ``MAX_PAIRS`` best partners.
    """
    keys_of: list[list[str]] = []
    postings: dict[str, list[int]] = {}
    for index, vector in enumerate(vectors):
        top = sorted(vector, key=lambda term: (-vector[term], term))[:TOP_TERMS]
        title = sorted(titles[index], key=lambda term: (-titles[index][term], term))[:TOP_TERMS]
        specific = sorted(set().union(*specifics[index]))[:MAX_SPECIFIC]
        keys = sorted(set(top) | set(title)) + ["\x00" + key for key in specific]
        keys_of.append(keys)
        for key in keys:
            postings.setdefault(key, []).append(index)
    out: set[tuple[int, int]] = set()
    for index, keys in enumerate(keys_of):
        hits: Counter[int] = Counter()
        budget = POSTING_BUDGET
        for key in sorted(keys, key=lambda k: (len(postings[k]), k)):
            members = postings[key]
            if len(members) > MAX_POSTING or len(members) > budget:
                break  # a word half the day's news uses says nothing about sameness
            budget -= len(members)
            weight = 2 if key.startswith("\x00") else 1
            for other in members:
                if other != index:
                    hits[other] += weight
        best = sorted(
            (other for other, count in hits.items() if count >= 2),
            key=lambda other: (-hits[other], other),
        )[:MAX_PAIRS]
        out.update((min(index, other), max(index, other)) for other in best)
    return out


def evidence(
    docs: Sequence[Doc], background: Sequence[str] = ()
) -> dict[tuple[int, int], PairEvidence]:
    """Similarity evidence for the candidate pairs ``(i, j)``, ``i < j`` (exposed for tuning).
    ``background``: texts of the store's recent weeks, for the document frequencies."""
    token_lists = [terms(f"{doc.title} {doc.title} {doc.text}") for doc in docs]
    title_lists = [terms(doc.title) for doc in docs]
    df, n = _idf([*token_lists, *(terms(text) for text in background)])
    vectors = [_weigh(tokens, df, n, log_tf=True) for tokens in token_lists]
    titles = [_weigh(tokens, df, n, log_tf=False) for tokens in title_lists]
    shingles = [_shingles(words(doc.text)) for doc in docs]
    specifics = [_specific(doc.entities) for doc in docs]
    signatures = [_signature(doc.entities) for doc in docs]
    title_names = [names(doc.title) for doc in docs]
    title_sets = [set(tokens) for tokens in title_lists]
    profiles = [_profile(doc.entities) for doc in docs]
    sectors = [{s.name for s in doc.entities.sectors} for doc in docs]
    makers = [_makers(doc.entities) for doc in docs]
    vendors = [{v.name for v in doc.entities.vendors} for doc in docs]
    patches = [patch_day(doc.title) for doc in docs]
    out: dict[tuple[int, int], PairEvidence] = {}
    for i, j in sorted(_candidates(vectors, specifics, titles)):
        actors_i, cves_i, other_i = specifics[i]
        actors_j, cves_j, other_j = specifics[j]
        shared = bool(cves_i & cves_j or other_i & other_j)
        out[(i, j)] = PairEvidence(
            duplicate=_jaccard(shingles[i], shingles[j]),
            cosine=_cosine(vectors[i], vectors[j]),
            title=_cosine(titles[i], titles[j]),
            shared=shared,
            conflict=_clash(signatures[i], signatures[j]),
            same_feed=docs[i].feed == docs[j].feed,
            same_actor=bool(actors_i & actors_j),
            profile=_jaccard(profiles[i], profiles[j]),
            profile_shared=len(profiles[i] & profiles[j]),
            title_terms=min(len(set(title_lists[i])), len(set(title_lists[j]))),
            # A name in one headline that the other headline writes too, in any case.
            rare=bool(title_names[i] & title_sets[j] or title_names[j] & title_sets[i]),
            digest=digest(docs[i].title) or digest(docs[j].title),
            catalogue=docs[i].catalogue or docs[j].catalogue,
            same_cve=bool(cves_i & cves_j),
            same_victims=bool(sectors[i] & sectors[j]),
            other_victims=bool(sectors[i] and sectors[j] and not sectors[i] & sectors[j]),
            same_maker=bool(makers[i] & makers[j]),
            patch_days=patches[i] + patches[j],
            patch_vendor=bool(
                patches[i]
                and patches[j]
                and vendors[i] & vendors[j]
                and max(len(vendors[i]), len(vendors[j])) <= PATCH_VENDORS
            ),
            title_overlap=_jaccard(title_sets[i], title_sets[j]),
        )
    return out


# --- the pair model --------------------------------------------------------------------------

FEATURES = (
    "cosine",
    "title",
    "duplicate",
    "same_cve",
    "shared",
    "same_actor",
    "same_maker",
    "rare",
    "same_feed",
    "same_feed_cosine",
    "same_feed_title",
    "profile",
    "same_victims",
    "other_victims",
    "short_title",
    "patch_same_vendor",
    "patch_one",
    "title_overlap",
    "cosine_title",
)


def features(pair: PairEvidence) -> list[float]:
    """The pair model's inputs, in ``FEATURES`` order."""
    return [
        pair.cosine,
        pair.title,
        pair.duplicate,
        float(pair.same_cve),
        float(pair.shared),
        float(pair.same_actor),
        float(pair.same_maker),
        float(pair.rare),
        float(pair.same_feed),
        pair.cosine * pair.same_feed,
        pair.title * pair.same_feed,
        pair.profile,
        float(pair.same_victims),
        float(pair.other_victims),
        float(pair.title_terms < MIN_TITLE_TERMS),
        float(pair.patch_vendor),
        float(pair.patch_days == 1),
        pair.title_overlap,
        pair.cosine * pair.title,
    ]


@dataclass(frozen=True)
class PairModel:
    """Logistic regression over ``features``: P(same event) = sigmoid(bias + w . x); a pair
    at or above ``threshold`` is one story. Fitted by ``python -m benchmarks.train_cluster``."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, pair: PairEvidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features(pair), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


MODEL_PATH = Path(__file__).with_name("pairs.json")


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> PairModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{path}: features {data['features']} are not this code's {FEATURES}")
    return PairModel(tuple(data["weights"]), data["bias"], data["threshold"])


def rule(pair: PairEvidence) -> float | None:
    """What the hard rules say of a pair (0: never one story; above 1: surely one, by how
    much), or None when the pair model decides."""
    if pair.conflict:
        # Texts that name different CVEs or different actors are different events, however
        # alike their wording: templated advisories share almost every word.
        return 0.0
    if pair.catalogue:
        # A catalogue entry joins the story of its CVE, and nothing else: entries are
        # templated, so their wording says nothing.
        return 2.5 if pair.same_cve else 0.0
    if pair.title >= SAME_TITLE and pair.title_terms >= MIN_TITLE_TERMS:
        return 3.0  # one headline from two links: syndication, even inside one channel
    if pair.digest:
        return 0.0
    if pair.duplicate >= DUPLICATE:
        return 2.0 + pair.duplicate
    if pair.same_feed and not (pair.shared or pair.rare or pair.same_actor or pair.patch_vendor):
        # One voice's items about one topic (a daily podcast, a series, a template) are
        # separate stories unless they name the same thing: wording alone cannot tell them.
        return 0.0
    if pair.same_actor and pair.other_victims and not (pair.shared or pair.rare):
        # One actor runs many campaigns, and full articles about it share the paragraph that
        # introduces it: the actor against other victims, with nothing else named in common,
        # is another campaign.
        return 0.0
    return None


def strength(pair: PairEvidence, model: PairModel | None = None) -> float:
    """How sure a merge is: 0 means not the same story. Merges happen strongest first, so
    that where the veto must choose, the better-supported story wins."""
    ruled = rule(pair)
    if ruled is not None:
        return ruled
    model = model or load_model()
    p = model.probability(pair)
    return p if p >= model.threshold else 0.0


def same_story(pair: PairEvidence) -> bool:
    return strength(pair) > 0.0


def _headline(title: str) -> str:
    return " ".join(title.lower().split())


def _fold_key(doc: Doc) -> tuple[object, ...]:
    """Items with one key are copies of one item (the same headline and text, whatever the
    case and spacing): folded before blocking, so that any number of copies is one story and
    cannot crowd an event's words out of the candidate postings."""
    return (_headline(doc.title), " ".join(doc.text.lower().split()), doc.catalogue)


def cluster(
    docs: Sequence[Doc], background: Sequence[str] = (), model: PairModel | None = None
) -> list[list[int]]:
    groups = _Groups([doc.entities for doc in docs])
    first: dict[tuple[object, ...], int] = {}
    for index, doc in enumerate(docs):
        kept = first.setdefault(_fold_key(doc), index)
        if kept != index:
            groups.merge(kept, index)
    by_link: dict[str, list[int]] = {}
    for index, doc in enumerate(docs):
        if doc.link:
            by_link.setdefault(doc.link, []).append(index)
    for linked in by_link.values():
        titles = {(docs[i].feed, _headline(docs[i].title)) for i in linked}
        # One feed pointing items with different titles at one link: a landing page, which
        # says nothing about sameness; only the same title through it is one article.
        landing = len({feed for feed, _ in titles}) < len(titles)
        first_of: dict[str, int] = {}
        for i in linked:
            groups.merge(first_of.setdefault(_headline(docs[i].title) if landing else "", i), i)
    kept_docs = sorted(set(first.values()))
    found = evidence([docs[i] for i in kept_docs], background)
    scored = [(strength(pair, model), kept_docs[i], kept_docs[j]) for (i, j), pair in found.items()]
    for value, i, j in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if value > 0.0:
            groups.merge(i, j)
    return sorted((sorted(group) for group in groups.members if group), key=lambda group: group[0])


# --- the stage -------------------------------------------------------------------------------


def actor_namer(names: Mapping[str, str]) -> Callable[[Entities], Entities]:
    """``actor_names`` from the config as a function: an actor any of whose names (canonical
    or alias, compared like the knowledge base compares them) the config lists goes by the name
    it gives, its former name becoming an alias. Should several listed names be the same
    actor's, its canonical name's entry wins, then its aliases' in their order."""
    wanted = {alias_key(name): shown for name, shown in names.items() if alias_key(name)}

    def rename(actor: ActorRef) -> ActorRef:
        for name in (actor.name, *actor.aliases):
            shown = wanted.get(alias_key(name))
            if shown is not None and shown != actor.name:
                key = alias_key(shown)
                aliases = (actor.name, *(a for a in actor.aliases if alias_key(a) != key))
                return replace(actor, name=shown, aliases=aliases)
        return actor

    def apply(entities: Entities) -> Entities:
        if not wanted or not entities.actors:
            return entities
        return replace(entities, actors=tuple(rename(actor) for actor in entities.actors))

    return apply


def _one_entry_per_link(
    pairs: Sequence[tuple[Entry, Article]],
) -> list[tuple[Entry, Article]]:
    """A feed that mints a new GUID on every fetch lists one article as many entries: the
    newest of them speaks for the article, so a story never lists one source twice. Same feed,
    link and title make "the same article"; a feed that points every item at one landing page
    still has one entry per title."""
    newest: dict[tuple[str, str, str], tuple[Entry, Article]] = {}
    for entry, article in pairs:
        link = canonical_url(entry.link) if entry.link else "id:" + entry.id
        key = (entry.feed, link, " ".join(entry.title.lower().split()))
        kept = newest.get(key)
        if kept is None or (entry.first_seen, entry.id) > (kept[0].first_seen, kept[0].id):
            newest[key] = (entry, article)
    chosen = {entry.id for entry, _ in newest.values()}
    return [(entry, article) for entry, article in pairs if entry.id in chosen]


def _outlets_of_aggregators(
    config: Config, pairs: Sequence[tuple[Entry, Article]]
) -> list[tuple[Entry, Article]]:
    """The outlets an item's <source> names are shown (and ranked as voices) only for feeds
    the config marks ``aggregator``: any other feed is one voice for ranking, however many
    outlets it claims to carry. Clustering does not need the flag (``voice``)."""
    bundles = {feed.name for feed in config.feeds if feed.aggregator}
    return [
        (entry if entry.outlet is None or entry.feed in bundles else replace(entry, outlet=None), a)
        for entry, a in pairs
    ]


def voice(feed: str, outlet: str | None, link: str | None) -> str:
    """Who wrote an item, as the cluster stage compares voices: the outlet its <source>
    names, else its feed and its link's host together. Readers subscribe to aggregator
    bundles (Feedly, Inoreader, newsboat channels) as often as to one feed per outlet, and
    never set a flag for it: the link's host tells the outlets of a bundle apart, the feed
    tells apart outlets whose links share a host (a mirror, a local site)."""
    if outlet and outlet.strip():
        return "source:" + " ".join(outlet.lower().split())
    host = (urlsplit(link).hostname or "") if link else ""
    return f"{feed}|{host.removeprefix('www.')}"


def docs_of(config: Config, items: Sequence[Tagged]) -> list[Doc]:
    tags = {feed.name: feed.tags for feed in config.feeds}
    return [
        Doc(
            feed=voice(entry.feed, entry.outlet, entry.link),
            link=canonical_url(entry.link) if entry.link else None,
            title=article.title,
            text=article.text,
            entities=entities,
            catalogue=catalogue_entry(entry.link, tags.get(entry.feed, ())),
        )
        for entry, article, entities in items
    ]


def story_groups(
    config: Config, tagged: Sequence[Tagged], background: Sequence[str] = ()
) -> list[list[Tagged]]:
    """Cluster stage: the window's tagged articles -> one group per event (``stories.cluster``),
    one entry per article (``_one_entry_per_link``), actors under the config's names.
    ``background``: texts of the store's weeks before the window (the words' weights)."""
    shown = actor_namer(config.actor_names)
    entities_of = {entry.id: entities for entry, _, entities in tagged}
    pairs = _one_entry_per_link([(entry, article) for entry, article, _ in tagged])
    items = [(entry, article, shown(entities_of[entry.id])) for entry, article in pairs]
    docs = docs_of(config, items)
    kept = _outlets_of_aggregators(config, [(entry, article) for entry, article, _ in items])
    out = [(entry, article, e) for (entry, article), (_, _, e) in zip(kept, items, strict=True)]
    return [[out[i] for i in group] for group in cluster(docs, background)]
