"""Synthetic briefings for the render benchmark and the template, archive and serializer tests.

In: a story count and a seed. Out: a fully populated ``Briefing`` (every optional field set:
executive summary, sectors, CVEs with exploitation, indicators including long hashes,
multi-source stories with per-sentence sources, failing feeds), deterministic for a seed.
All names are fictional or public actor names; all indicators are documentation ranges.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from briefing.models import (
    ActorRef,
    Briefing,
    CountryRef,
    CveRow,
    Entities,
    FeedHealth,
    IndicatorRow,
    NamedRef,
    Section,
    Source,
    Story,
    SummarySentence,
    slug,
)

END = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
_ACTORS = (
    ("APT39", ("Chafer", "Remix Kitten", "ITG07"), "Iran", "IR"),
    ("APT28", ("Fancy Bear", "Sofacy", "Sednit"), "Russia", "RU"),
    ("Lazarus Group", ("Hidden Cobra", "ZINC"), "North Korea", "KP"),
    ("APT41", ("Wicked Panda", "Barium"), "China", "CN"),
    ("FIN7", ("Carbanak",), None, None),
    ("Sandworm", ("Voodoo Bear", "IRIDIUM"), "Russia", "RU"),
)
_REGIONS = (
    ("Middle East", (("SA", "Saudi Arabia"), ("AE", "United Arab Emirates"), ("IL", "Israel"))),
    ("Europe", (("DE", "Germany"), ("FR", "France"), ("PL", "Poland"))),
    ("North America", (("US", "United States"), ("CA", "Canada"))),
    ("East Asia", (("JP", "Japan"), ("KR", "South Korea"))),
)
_SECTORS = ("Telecommunications", "Government", "Finance", "Energy", "Healthcare", "Aviation")
_FEEDS = ("The Patch Wire", "Northgate Labs", "National Cyber Response Centre", "Daily Exploit")
_VERBS = ("targets", "breaches", "phishes", "exploits edge devices at", "spies on", "hits")


def synthetic_briefing(stories: int = 200, seed: int = 4, end: datetime = END) -> Briefing:
    """A briefing of ``stories`` stories whose window ends at ``end``."""
    rng = random.Random(seed)
    made: list[Story] = []
    for number in range(stories):
        actor = _ACTORS[number % len(_ACTORS)] if number % 4 != 3 else None
        region, members = _REGIONS[rng.randrange(len(_REGIONS))]
        code, country = members[rng.randrange(len(members))]
        sector = _SECTORS[rng.randrange(len(_SECTORS))]
        cve = f"CVE-2026-{1000 + number * 7}" if number % 3 == 0 else None
        published = end - timedelta(minutes=7 * number + 5)
        n_sources = 1 + (number % 3 == 0) + (number % 5 == 0)
        sources = tuple(
            Source(
                feed=_FEEDS[(number + k) % len(_FEEDS)],
                title=f"Story {number} as told by outlet {k}",
                url=f"https://news{k}.example.com/2026/03/story-{number}",
                published=published + timedelta(minutes=k * 13),
                quality=("full", "feed-only", "full")[k % 3],
            )
            for k in range(n_sources)
        )
        sentences = tuple(
            SummarySentence(
                text=(
                    f"Investigators said the campaign against {sector.lower()} organisations in "
                    f"{country} used spear-phishing lures and a new loader (sentence {s + 1})."
                ),
                source=s % n_sources,
            )
            for s in range(1 + number % 3)
        )
        digest = hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()
        indicators: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if number % 4 == 0:
            indicators = (
                ("ipv4", (f"203.0.113.{number % 250}",)),
                ("domain", (f"update-{number}.example.net",)),
                ("sha256", (digest,)),
            )
        title_actor = actor[0] if actor else "Unattributed operators"
        made.append(
            Story(
                id=digest[:12],
                title=f"{title_actor} {_VERBS[number % len(_VERBS)]} {sector.lower()} "
                f"organisations in {country}",
                summary=" ".join(s.text for s in sentences),
                sources=sources,
                entities=Entities(
                    actors=(
                        (ActorRef(actor[0], actor[1], actor[2], actor[3], True, (actor[0],)),)
                        if actor
                        else ()
                    ),
                    countries=(CountryRef(code, country, "target", (country,)),),
                    regions=(NamedRef(region, (country,)),),
                    sectors=(NamedRef(sector, (sector.lower(),)),),
                    malware=(NamedRef("ShadowLoader", ("ShadowLoader",)),)
                    if number % 6 == 1
                    else (),
                    cves=(cve,) if cve else (),
                    techniques=("T1566.001",),
                    indicators=indicators,
                ),
                published=published,
                sentences=sentences,
                score=round(100.0 - number * 0.4, 2),
                exploited=(cve,) if cve and number % 2 == 0 else (),
            )
        )

    def sections(key_of: dict[str, list[str]], detail: dict[str, str]) -> tuple[Section, ...]:
        order = sorted(key_of, key=lambda name: (-len(key_of[name]), name))
        return tuple(
            Section(slug(name), name, detail.get(name, ""), tuple(key_of[name])) for name in order
        )

    actors: dict[str, list[str]] = {}
    actor_detail: dict[str, str] = {}
    regions: dict[str, list[str]] = {}
    region_detail: dict[str, set[str]] = {}
    sectors: dict[str, list[str]] = {}
    cves: dict[str, list[str]] = {}
    exploited: set[str] = set()
    rows: list[IndicatorRow] = []
    for story in made:
        for a in story.entities.actors:
            actors.setdefault(a.name, []).append(story.id)
            actor_detail[a.name] = ", ".join(a.aliases) + (
                f"; attributed to {a.country}" if a.country else "; attribution unknown"
            )
        for r in story.entities.regions:
            regions.setdefault(r.name, []).append(story.id)
            region_detail.setdefault(r.name, set()).update(c.name for c in story.entities.countries)
        for s in story.entities.sectors:
            sectors.setdefault(s.name, []).append(story.id)
        for c in story.entities.cves:
            cves.setdefault(c, []).append(story.id)
        exploited.update(story.exploited)
        rows.extend(
            IndicatorRow(kind, value, story.id)
            for kind, values in story.entities.indicators
            for value in values
        )
    feeds = tuple(
        FeedHealth(
            name=name,
            url=f"https://feeds{n}.example.org/rss.xml",
            status="ok" if n != 3 else "timeout",
            items=sum(1 for s in made for src in s.sources if src.feed == name),
            error=None if n != 3 else "read timed out after 20 s",
            last_ok=end - timedelta(hours=1 if n != 3 else 50),
            failures=0 if n != 3 else 4,
        )
        for n, name in enumerate(_FEEDS)
    )
    grouped = {sid for ids in (*actors.values(), *regions.values()) for sid in ids}
    return Briefing(
        title="Daily Threat Briefing",
        date=end.date().isoformat(),
        window_start=end - timedelta(hours=24),
        window_end=end,
        tlp="TLP:AMBER",
        stories=tuple(made),
        by_actor=sections(actors, actor_detail),
        by_region=sections(
            regions, {name: ", ".join(sorted(c)) for name, c in region_detail.items()}
        ),
        feeds=feeds,
        generated_with="briefing (synthetic sample)",
        executive=tuple(story.id for story in made[:5]),
        other_story_ids=tuple(story.id for story in made if story.id not in grouped),
        by_sector=sections(sectors, {}),
        cves=tuple(
            CveRow(cve, tuple(ids), cve in exploited)
            for cve, ids in sorted(
                cves.items(), key=lambda item: (item[0] not in exploited, item[0])
            )
        ),
        indicators=tuple(rows),
    )
