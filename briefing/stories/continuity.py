"""Story continuation: today's stories + the earlier briefings' stories -> developments, repeats.

In: today's stories, each as the ``Doc``s of its sources and their canonical links; the stories
of the briefings of the last ``DAYS`` days before today, read from the archive's stored
``briefing.json`` files (``earlier_stories``). Out, per story of today: the earlier story it
continues (``Continuation``: that briefing's date and story id, and the day the event was first
reported), and whether it has nothing new (every source was already in an earlier briefing), in
which case the briefing does not repeat it.

Why the archive and not the store: what an analyst was told is what the stored briefings say
(their story ids are what links and pages point at); re-clustering old windows from the store
could give other stories than the ones sent, whenever the code or the feeds' text changed.

"The same story" is decided by the cluster stage's own rules (``cluster.strength``, the conflict
veto included) between today's sources and an earlier story (its title, summary and source
titles, its actors, CVEs, malware and products), or by a shared source link. Among matches the
latest day wins, so a story points at the briefing that told it last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Any

from briefing.models import ActorRef, Entities, NamedRef, VendorRef
from briefing.store import canonical_url
from briefing.stories.cluster import Doc, conflicting, evidence, strength

DAYS = 7  # how far back a story continues (the "the store's last 7 days")


@dataclass(frozen=True)
class EarlierStory:
    date: str
    id: str
    first_reported: str  # the day its event was first in a briefing
    links: frozenset[str]  # its sources' canonical links
    doc: Doc  # the story as the cluster stage compares it


@dataclass(frozen=True)
class Continuation:
    previous: EarlierStory | None  # the earlier story this one continues
    repeat: bool  # nothing new: every source was already in an earlier briefing


def _names(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(item["name"]) for item in items if isinstance(item, dict) and "name" in item]


def _entities(story: dict[str, Any]) -> Entities:
    """What the veto and the shared-evidence test read: actors, CVEs, malware, products."""
    vendors = story.get("vendors")
    return Entities(
        actors=tuple(ActorRef(name, (), None, None, True, ()) for name in _names(story["actors"]))
        if "actors" in story
        else (),
        malware=tuple(NamedRef(name, ()) for name in _names(story.get("malware"))),
        cves=tuple(str(cve) for cve in story.get("cves", []) if isinstance(cve, str)),
        vendors=tuple(
            VendorRef(
                str(v["name"]),
                tuple(str(p) for p in v.get("products", []) if isinstance(p, str)),
                (),
            )
            for v in (vendors if isinstance(vendors, list) else [])
            if isinstance(v, dict) and "name" in v
        ),
    )


def story_doc(story: dict[str, Any]) -> tuple[Doc, frozenset[str]]:
    """An archived story (a ``briefing.json`` story object) as one ``Doc``, and its links."""
    sources = [s for s in story.get("sources", []) if isinstance(s, dict)]
    voices = {str(s.get("outlet") or s.get("feed") or "") for s in sources}
    links = frozenset(
        canonical_url(str(s["url"])) for s in sources if isinstance(s.get("url"), str)
    )
    titles = " ".join(str(s.get("title", "")) for s in sources)
    return (
        Doc(
            # One outlet's story keeps its voice, so that a series (a daily podcast) stays apart
            # from its next episode as it does within a day.
            feed=voices.pop() if len(voices) == 1 else "",
            link=None,
            title=str(story.get("title", "")),
            text=f"{story.get('summary', '')} {titles}",
            entities=_entities(story),
        ),
        links,
    )


def earlier_stories(output: Path, today: str, days: int = DAYS) -> list[EarlierStory]:
    """The stories of the stored briefings of the ``days`` days before ``today``, oldest day
    first. A damaged or missing day is skipped (it must not break today's briefing)."""
    from briefing.publish.archive import load_day

    first = Date.fromisoformat(today) - timedelta(days=days)
    out: list[EarlierStory] = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        data = load_day(output / day)
        if not data:
            continue
        for story in data.get("stories", []):
            if not isinstance(story, dict) or "id" not in story:
                continue
            doc, links = story_doc(story)
            first_reported = story.get("first_reported")
            out.append(
                EarlierStory(
                    date=day,
                    id=str(story["id"]),
                    first_reported=str(first_reported) if first_reported else day,
                    links=links,
                    doc=doc,
                )
            )
    return out


def continuations(
    stories: Sequence[Sequence[Doc]],
    earlier: Sequence[EarlierStory],
    background: Sequence[str] = (),
) -> list[Continuation]:
    """For each of today's stories (the ``Doc``s of its sources, with canonical links), the
    earlier story it continues and whether it is a repeat."""
    if not earlier:
        return [Continuation(None, False) for _ in stories]
    seen = frozenset().union(*(e.links for e in earlier))
    docs = [doc for members in stories for doc in members]
    owner = [index for index, members in enumerate(stories) for _ in members]
    offset = len(docs)
    pairs = evidence([*docs, *(e.doc for e in earlier)], background)
    best: list[tuple[tuple[str, int, float], EarlierStory] | None] = [None] * len(stories)

    def consider(story: int, past: int, shared_link: int, value: float) -> None:
        item = earlier[past]
        if any(conflicting(doc.entities, item.doc.entities) for doc in stories[story]):
            return
        key = (item.date, shared_link, value)
        current = best[story]
        if current is None or key > current[0]:
            best[story] = (key, item)

    for past, item in enumerate(earlier):
        for story, members in enumerate(stories):
            shared = sum(1 for doc in members if doc.link and doc.link in item.links)
            if shared:
                consider(story, past, shared, 3.0)
    for (i, j), pair in pairs.items():
        if i < offset <= j:
            value = strength(pair)
            if value > 0.0:
                consider(owner[i], j - offset, 0, value)
    out = []
    for story, members in enumerate(stories):
        chosen = best[story]
        links = [doc.link for doc in members]
        repeat = bool(links) and all(link is not None and link in seen for link in links)
        out.append(Continuation(chosen[1] if chosen else None, repeat))
    return out
