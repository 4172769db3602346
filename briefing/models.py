"""Frozen value objects passed between the pipeline's stages.

poll -> ``FeedItem`` (what a feed says) -> store -> ``Entry`` (a stored item with its stable id)
-> extract -> ``Article`` -> tag -> ``Entities`` -> compose -> ``Story`` / ``Briefing``.

Nothing here does I/O; each stage module takes and returns these types.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from briefing.sanitize import clean_line

Quality = Literal["full", "feed-only", "failed"]
FeedStatus = Literal[
    "ok",
    "not-modified",
    "degraded",
    "http-error",
    "timeout",
    "connection-error",
    "not-a-feed",
    "too-large",
    "never-polled",
    "internal-error",  # a bug of ours while polling the feed, not the feed's fault
]
# The one definition of a failing feed: its last poll gave nothing. A "degraded" feed was
# parsed in part and gave items; a "never-polled" one has not failed yet.
FAILING: frozenset[str] = frozenset(
    {"http-error", "timeout", "connection-error", "not-a-feed", "too-large", "internal-error"}
)


def is_failing(status: str) -> bool:
    return status in FAILING


CountryRole = Literal["attributed", "target", "mentioned"]


@dataclass(frozen=True)
class FeedItem:
    """One item as a feed gave it, before it is stored."""

    feed: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    author: str
    published: datetime | None
    outlet: str | None = None  # the original outlet an aggregator feed names (<source>)


@dataclass(frozen=True)
class Entry:
    """A stored feed item: ``id`` is stable across polls and revisions."""

    id: str
    feed: str
    link: str | None
    title: str
    summary: str
    content: str
    author: str
    published: datetime
    first_seen: datetime
    revision: int
    outlet: str | None = None  # the original outlet an aggregator feed names (<source>)


@dataclass(frozen=True)
class Article:
    """The clean text of an entry: from its page when that worked, else from the feed."""

    entry_id: str
    url: str | None
    title: str
    text: str
    author: str
    published: datetime
    language: str | None
    quality: Quality


# --- entities (the tagger's output) -------------------------------------------------------


@dataclass(frozen=True)
class ActorRef:
    """A threat actor found in text, resolved to its canonical name."""

    name: str
    aliases: tuple[str, ...]
    country: str | None  # attributed state, country name ("Iran"), None when unknown
    country_code: str | None  # ISO 3166-1 alpha-2 of ``country``
    in_kb: bool
    mentions: tuple[str, ...]  # exact surface forms that matched


@dataclass(frozen=True)
class CountryRef:
    code: str  # ISO 3166-1 alpha-2
    name: str
    role: CountryRole
    mentions: tuple[str, ...]


@dataclass(frozen=True)
class NamedRef:
    """A region, sector or malware family with the surface forms that matched it, and (for a
    malware family the knowledge base knows) the family's other names."""

    name: str
    mentions: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class VendorRef:
    """A vendor a text is about (``briefing.intel.vendors``), with the products it names."""

    name: str
    products: tuple[str, ...]
    mentions: tuple[str, ...]  # exact surface forms that matched


@dataclass(frozen=True)
class Entities:
    actors: tuple[ActorRef, ...] = ()
    countries: tuple[CountryRef, ...] = ()
    regions: tuple[NamedRef, ...] = ()
    sectors: tuple[NamedRef, ...] = ()
    malware: tuple[NamedRef, ...] = ()
    cves: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    # kind ("ipv4", "ipv6", "domain", "url", "md5", "sha1", "sha256", "email") -> values,
    # refanged (the canonical form); outputs defang them.
    indicators: tuple[tuple[str, tuple[str, ...]], ...] = ()
    vendors: tuple[VendorRef, ...] = ()
    # What the text is (``briefing.intel.kind``: vulnerability, incident, campaign...) and the
    # organisation it says was hit (``briefing.intel.victim``); None from an older tagger.
    kind: str | None = None
    victim: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "actors": [
                {
                    "name": a.name,
                    "aliases": list(a.aliases),
                    "country": a.country,
                    "country_code": a.country_code,
                    "in_kb": a.in_kb,
                    "mentions": list(a.mentions),
                }
                for a in self.actors
            ],
            "countries": [
                {"code": c.code, "name": c.name, "role": c.role, "mentions": list(c.mentions)}
                for c in self.countries
            ],
            "regions": [{"name": r.name, "mentions": list(r.mentions)} for r in self.regions],
            "sectors": [{"name": s.name, "mentions": list(s.mentions)} for s in self.sectors],
            "malware": [
                {"name": m.name, "aliases": list(m.aliases), "mentions": list(m.mentions)}
                for m in self.malware
            ],
            "cves": list(self.cves),
            "techniques": list(self.techniques),
            "indicators": {kind: list(values) for kind, values in self.indicators},
            "vendors": [
                {"name": v.name, "products": list(v.products), "mentions": list(v.mentions)}
                for v in self.vendors
            ],
            "kind": self.kind,
            "victim": self.victim,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entities:
        """The inverse of ``to_dict`` (the store's entities column, a ``briefing.json`` story);
        keys it lacks are empty, as an older file may lack them."""

        def named(key: str) -> tuple[NamedRef, ...]:
            return tuple(
                NamedRef(
                    str(item["name"]),
                    tuple(item.get("mentions", ())),
                    tuple(item.get("aliases", ())),
                )
                for item in data.get(key) or ()
            )

        return cls(
            actors=tuple(
                ActorRef(
                    name=str(a["name"]),
                    aliases=tuple(a.get("aliases", ())),
                    country=a.get("country"),
                    country_code=a.get("country_code"),
                    in_kb=bool(a.get("in_kb", True)),
                    mentions=tuple(a.get("mentions", ())),
                )
                for a in data.get("actors") or ()
            ),
            countries=tuple(
                CountryRef(
                    str(c["code"]),
                    str(c["name"]),
                    c.get("role", "mentioned"),
                    tuple(c.get("mentions", ())),
                )
                for c in data.get("countries") or ()
            ),
            regions=named("regions"),
            sectors=named("sectors"),
            malware=named("malware"),
            cves=tuple(data.get("cves") or ()),
            techniques=tuple(data.get("techniques") or ()),
            indicators=tuple(
                (str(kind), tuple(values))
                for kind, values in (data.get("indicators") or {}).items()
            ),
            vendors=tuple(
                VendorRef(
                    str(v["name"]), tuple(v.get("products", ())), tuple(v.get("mentions", ()))
                )
                for v in data.get("vendors") or ()
            ),
            kind=data.get("kind"),
            victim=data.get("victim"),
        )


# --- build side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedHealth:
    name: str
    url: str
    status: FeedStatus
    items: int  # items of this feed inside the briefing's window
    error: str | None
    last_ok: datetime | None
    failures: int  # consecutive failed polls
    failing_since: datetime | None = None  # when the current run of failures began
    # extraction quality of this feed's items in the window
    full: int = 0
    feed_only: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Source:
    feed: str
    title: str
    url: str | None
    published: datetime
    quality: Quality
    outlet: str | None = None  # the original outlet when the feed is an aggregator

    @property
    def publisher(self) -> str:
        """Who published it: the outlet an aggregator named, else the feed."""
        return self.outlet or self.feed


@dataclass(frozen=True)
class SummarySentence:
    """One sentence of a story's summary and its source (an index into ``Story.sources``)."""

    text: str
    source: int


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    summary: str
    sources: tuple[Source, ...]
    entities: Entities
    published: datetime  # the earliest source's date
    sentences: tuple[SummarySentence, ...] = ()  # the summary, sentence by sentence
    score: float = 0.0  # ranking: higher first
    exploited: tuple[str, ...] = ()  # CVE ids the text says are exploited in the wild
    # A development of a story in an earlier briefing (``stories.continuity``): the day it was
    # first reported, and the earlier briefing's date and story id it continues.
    first_reported: str | None = None
    previous: tuple[str, str] | None = None
    kev: tuple[str, ...] = ()  # CVE ids a KEV feed lists or the text says are in KEV
    cvss: float | None = None  # the highest CVSS score the text gives
    victim: str | None = None  # the organisation hit (``briefing.intel.victim``)
    kind: str | None = None  # its members' kind (``briefing.intel.kind.story_kind``)
    # An analyst's review (``briefing.review``): the story was pinned, merged, split or edited,
    # and the comment they added to its card.
    edited: bool = False
    note: str | None = None


# Names Windows refuses as file names, whatever the extension.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{n}" for p in ("com", "lpt") for n in range(10)}
)
# Separators a name may have and still be its plain slug: "Remix Kitten", "TEMP.Veles".
_PLAIN = re.compile(r"[A-Za-z0-9]+(?:[ \-._&'()/,@$]+[A-Za-z0-9]+)*[()$]?")
_SLUG_MAX = 60


def slug(text: str) -> str:
    """A file-name-safe, lower-case key: "Remix Kitten" -> "remix-kitten" (a ``Section.key``,
    an actor's or region's page name).

    The name is cleaned first (NFKC, no invisible or control characters), so a lookalike with
    a hidden character is the name it imitates. A name that is not plain ASCII letters and
    digits with separators (a Cyrillic lookalike, an emoji, a Windows-reserved name like
    "NUL", or a long one) keeps a readable prefix plus a digest of the whole name, so two
    different names never share a page and a slug stays short."""
    name = clean_line(text)
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if _PLAIN.fullmatch(name) and len(base) <= _SLUG_MAX and base not in _RESERVED:
        return base
    digest = hashlib.sha256(name.casefold().encode("utf-8")).hexdigest()[:8]
    return f"{base[:40].strip('-') or 'x'}-{digest}"


@dataclass(frozen=True)
class Section:
    """A heading (an actor or a region) and the ids of the stories under it."""

    key: str
    title: str
    detail: str  # e.g. aliases and attributed country, or member countries
    story_ids: tuple[str, ...]
    aliases: tuple[str, ...] = ()  # actor sections
    country: str | None = None  # actor sections: the attributed state
    countries: tuple[str, ...] = ()  # region sections: the countries of its stories
    products: tuple[str, ...] = ()  # vendor sections: the products its stories name
    exploited: tuple[str, ...] = ()  # vendor sections: ids of its stories said exploited


@dataclass(frozen=True)
class CveRow:
    id: str
    story_ids: tuple[str, ...]
    exploited: bool


@dataclass(frozen=True)
class IndicatorRow:
    kind: str  # "ipv4", "domain", "sha256"...
    value: str  # refanged; renderers defang it
    story_id: str


@dataclass(frozen=True)
class ReviewAction:
    """One analyst action on a day's briefing (``briefing.review``), as the build applied it."""

    seq: int  # its number in the store: actions apply in this order
    action: str  # pin, drop, merge, split, edit, note, approve
    by: str
    at: datetime
    stories: tuple[tuple[str, str], ...]  # (id, title) of the stories acted on, as then shown
    detail: tuple[tuple[str, str], ...] = ()  # ("title", ...), ("summary", ...), ("text", ...)
    applied: bool = True  # False: its story is gone from this build (reported, never dropped)


@dataclass(frozen=True)
class Review:
    """The analyst's review of a day: who approved it and when (None: not, or not since the
    last edit), and every action in force."""

    approved_at: datetime | None = None
    approved_by: str | None = None
    actions: tuple[ReviewAction, ...] = ()


@dataclass(frozen=True)
class Briefing:
    title: str
    date: str  # YYYY-MM-DD of the window's end, in the configured time zone
    window_start: datetime
    window_end: datetime
    tlp: str
    stories: tuple[Story, ...]  # ranked, best first; each story once
    by_actor: tuple[Section, ...]
    by_region: tuple[Section, ...]
    feeds: tuple[FeedHealth, ...]
    generated_with: str = field(default="")
    executive: tuple[str, ...] = ()  # ids of the top stories, one line each up front
    other_story_ids: tuple[str, ...] = ()  # stories in no part (actor, region, vendor...)
    by_sector: tuple[Section, ...] = ()
    cves: tuple[CveRow, ...] = ()
    indicators: tuple[IndicatorRow, ...] = ()
    # ids of the stories that are bare catalogue entries (a KEV or advisory feed's entries with
    # no article reporting the same CVE): one line each under "Catalogue additions".
    catalogue: tuple[str, ...] = ()
    by_vendor: tuple[Section, ...] = ()  # vulnerabilities and patches, by vendor
    by_incident: tuple[Section, ...] = ()  # organisations hit, by victim sector
    by_malware: tuple[Section, ...] = ()  # malware and tools without a named actor, by family
    review: Review = Review()  # the analyst's edits and approval (``briefing.review``)
    by_campaign: tuple[Section, ...] = ()  # campaigns, by actor, else by malware family
    by_action: tuple[Section, ...] = ()  # law enforcement and policy, by country
    # ids of the industry, research and opinion stories in no other part: one line each
    # under "Also noted", no card.
    also_noted: tuple[str, ...] = ()
