"""A generated news day for the build benchmark: N articles as feeds give them, in a store.

In: an article count, the clock, a store file. Out: the store filled with one day of feed items
(feed text only: no page is fetched) and their articles, ready for ``pipeline.build``.

The mix is what a morning of security news looks like: most stories are told once
(``SINGLE`` = 70 % of stories have one source), the rest by 2-6 outlets each with their own
title and wording around the same facts (actor, victim, malware, CVE, country, sector). Half
the feeds give only a teaser of 150-400 characters, the others the article's text in the item.
Deterministic for a seed; every name is generated or a public actor/malware name.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks._site import ACTORS, COUNTRIES, FILLER, MALWARE, SECTORS, VERBS, WORDS

SINGLE = 0.70
_ORGS = (
    "Bank",
    "Health System",
    "Telecom",
    "Energy",
    "University",
    "Logistics",
    "Airlines",
    "Water Authority",
    "Ministry",
    "Retail Group",
)
_SYLLABLES = ("nor", "va", "tel", "ar", "ix", "mon", "qua", "dex", "lum", "ber", "sol", "kin")
_FRAMES = (
    "{actor} {verb} {org} with {malware}",
    "{org} breach tied to {actor}",
    "{malware} campaign hits {sector} in {country}",
    "{actor} exploits {cve} against {org}",
    "Attack on {org} in {country} linked to {actor}",
    "{org} confirms {malware} intrusion",
    "{cve} exploited by {actor} in {sector} attacks",
)


@dataclass(frozen=True)
class Event:
    """The facts every outlet telling one story shares."""

    number: int
    actor: str
    malware: str
    country: str
    sector: str
    org: str
    cve: str
    sources: int


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(3)).title()


def events(articles: int, seed: int = 7) -> list[Event]:
    """Stories whose sources add up to ``articles``: ``SINGLE`` of them told once."""
    rng = random.Random(seed)
    made: list[Event] = []
    left = articles
    while left > 0:
        many = rng.random() >= SINGLE
        sources = min(left, rng.randint(2, 6) if many else 1)
        made.append(
            Event(
                len(made),
                rng.choice(ACTORS),
                rng.choice(MALWARE),
                rng.choice(COUNTRIES),
                rng.choice(SECTORS),
                f"{_name(rng)} {rng.choice(_ORGS)}",
                f"CVE-{rng.randint(2021, 2026)}-{rng.randint(1000, 49999)}",
                sources,
            )
        )
        left -= sources
    return made


def telling(event: Event, k: int, full: bool) -> tuple[str, str, str]:
    """Outlet k's title, teaser and (for a full-text feed) content of the event."""
    rng = random.Random(event.number * 1_000 + k)
    facts = {
        "actor": event.actor,
        "verb": rng.choice(VERBS),
        "org": event.org,
        "malware": event.malware,
        "sector": event.sector,
        "country": event.country,
        "cve": event.cve,
    }
    title = rng.choice(_FRAMES).format(**facts)
    lead = (
        f"{event.org}, a {event.sector} organisation in {event.country}, was "
        f"{facts['verb']} by {event.actor}, which deployed {event.malware} after exploiting "
        f"{event.cve}. {rng.choice(FILLER)}"
    )
    teaser = lead[: rng.randint(150, 400)]
    if not full:
        return title, teaser, ""
    paras = [lead]
    for _ in range(rng.randint(2, 5)):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 25)))
        paras.append(" ".join(rng.sample(FILLER, 3)) + f" Notes mention {words}.")
    return title, teaser, "".join(f"<p>{p}</p>" for p in paras)


def items(articles: int, now: datetime, feeds: int = 60) -> Iterator[tuple[str, list[object]]]:
    """(feed name, its FeedItems) for a day of ``articles`` articles over ``feeds`` feeds."""
    from briefing.models import FeedItem

    by_feed: dict[int, list[object]] = {}
    rng = random.Random(11)
    slot = 0
    for event in events(articles):
        first = rng.randrange(feeds)
        for k in range(event.sources):
            feed = (first + k * 7) % feeds  # distinct outlets for one story
            title, teaser, content = telling(event, k, full=feed % 2 == 0)
            published = now - timedelta(seconds=60 + (slot * 79_000) // max(articles, 1))
            slot += 1
            by_feed.setdefault(feed, []).append(
                FeedItem(
                    f"outlet-{feed:03d}",
                    f"story-{event.number}-{k}",
                    f"https://outlet{feed}.example.com/{event.number}-{k}",
                    title,
                    teaser,
                    content,
                    "",
                    published,
                )
            )
    for feed in sorted(by_feed):
        yield f"outlet-{feed:03d}", by_feed[feed]


def fill(store_file: Path, articles: int, now: datetime) -> dict[str, object]:
    """Put the day into the store (poll records and articles, no page fetch); returns the
    config dict that names its feeds."""
    import asyncio

    from briefing.config import Config
    from briefing.ingest.extract import extract_pending
    from briefing.models import FeedItem
    from briefing.store import Store

    names = []
    with Store.open(store_file) as store:
        for name, feed_items in items(articles, now):
            names.append(name)
            typed = [i for i in feed_items if isinstance(i, FeedItem)]
            store.record_poll(
                name,
                f"https://{name}.example.com/feed",
                status="ok",
                error=None,
                now=now,
                items=typed,
            )
        data: dict[str, object] = {
            "feeds": [{"name": n, "url": f"https://{n}.example.com/feed"} for n in names],
            "extract": {"fetch_pages": False},
        }
        asyncio.run(extract_pending(Config.model_validate(data), store, now))
    return data


def fill_news(store_file: Path, files: list[Path], now: datetime) -> dict[str, object]:
    """Put real feed items into the store as one day (for a build of a real day): each file a
    JSON list of {id, title, text, link?, outlet?, channel? or day?} as the corpus keeps them;
    their dates are spread over the 22 hours before ``now`` in file order, so every item falls
    in the window. Nothing of them enters the repository: the files are read at run time."""
    import asyncio
    import json

    from briefing.config import Config
    from briefing.ingest.extract import extract_pending
    from briefing.models import FeedItem
    from briefing.store import Store

    raw = [item for path in files for item in json.loads(path.read_text(encoding="utf-8"))]
    by_feed: dict[str, list[FeedItem]] = {}
    for n, item in enumerate(raw):
        feed = str(item.get("channel") or item.get("outlet") or "news")
        by_feed.setdefault(feed, []).append(
            FeedItem(
                feed,
                str(item["id"]),
                item.get("link"),
                str(item.get("title") or ""),
                str(item.get("text") or ""),
                "",
                "",
                now - timedelta(seconds=60 + n * 79_000 // max(1, len(raw))),
                item.get("outlet"),
            )
        )
    urls = {name: f"https://feed{n}.example.com/rss" for n, name in enumerate(by_feed)}
    with Store.open(store_file) as store:
        for name, feed_items in by_feed.items():
            store.record_poll(name, urls[name], status="ok", error=None, now=now, items=feed_items)
        data: dict[str, object] = {
            "feeds": [{"name": name, "url": url} for name, url in urls.items()],
            "extract": {"fetch_pages": False},
        }
        asyncio.run(extract_pending(Config.model_validate(data), store, now))
    return data
