"""Continue stage: today's stories + the earlier briefings' stories -> developments, repeats.

``continued_groups`` is the stage (the cluster stage's groups in, the groups with something
new out, each with the earlier story it continues).

In: today's stories, each as the ``Doc``s of its sources and their canonical links; the stories
of the briefings of the last ``DAYS`` days before today, read from the archive's stored
``briefing.json`` files through ``archive.load_day`` (``earlier_stories``). Out, per story of
today: the earlier story it continues (``Continuation``: that briefing's date and story id, and
the day the event was first reported), and whether it has nothing new (every source was already
in an earlier briefing), in which case the briefing does not repeat it.

Why the archive and not the store: what an analyst was told is what the stored briefings say
(their story ids are what links and pages point at); re-clustering old windows from the store
could give other stories than the ones sent, whenever the code or the feeds' text changed.

"The same story" is decided by the cluster stage's own rules (``cluster.strength``, the conflict
veto included) between today's sources and an earlier story (its title, summary and source
titles, its actors, CVEs, malware and products), or by a shared article (the same link under
the same headline: a link alone is not the same event). Among matches the
latest day wins, so a story points at the briefing that told it last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from pathlib import Path

from briefing.config import Config
from briefing.intel.stage import Tagged
from briefing.models import (
    Story,
)
from briefing.store import canonical_url
from briefing.stories.cluster import Doc, conflicting, docs_of, evidence, strength, voice

DAYS = 7  # how far back a story continues unless the config says (``continuity_days``)
# The pair model's probability that links a story to an earlier one: higher than clustering's
# threshold, since an earlier story is a summary of several items and a wrong "development of"
# misleads more than a missed one (news-train: at the clustering threshold 22 of 28 linked and
# 2 of 24 links wrong; at 0.8 22 of 28 linked, none wrong).
CONTINUES = 0.8


@dataclass(frozen=True)
class EarlierStory:
    date: str
    id: str
    first_reported: str  # the day its event was first in a briefing
    articles: frozenset[tuple[str, str]]  # its sources as (canonical link, headline)
    doc: Doc  # the story as the cluster stage compares it


@dataclass(frozen=True)
class Continuation:
    previous: EarlierStory | None  # the earlier story this one continues
    repeat: bool  # nothing new: every source was already in an earlier briefing


def headline(title: str) -> str:
    return " ".join(title.lower().split())


def story_doc(story: Story) -> tuple[Doc, frozenset[tuple[str, str]]]:
    """An archived story as one ``Doc`` (its title; its summary and source titles as the text;
    its entities), and its sources as (canonical link, headline)."""
    voices = {voice(source.feed, source.outlet, source.url) for source in story.sources}
    articles = frozenset(
        (canonical_url(source.url), headline(source.title))
        for source in story.sources
        if source.url
    )
    titles = " ".join(source.title for source in story.sources)
    return (
        Doc(
            # One outlet's story keeps its voice, so that a series (a daily podcast) stays apart
            # from its next episode as it does within a day.
            feed=voices.pop() if len(voices) == 1 else "",
            link=None,
            title=story.title,
            text=f"{story.summary} {titles}",
            entities=story.entities,
        ),
        articles,
    )


def earlier_stories(output: Path, today: str, days: int = DAYS) -> list[EarlierStory]:
    """The stories of the stored briefings of the ``days`` days before ``today``, oldest day
    first. A damaged or missing day is skipped (it must not break today's briefing)."""
    from briefing.publish.archive import load_day

    first = Date.fromisoformat(today) - timedelta(days=days)
    out: list[EarlierStory] = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        briefing = load_day(output / day)
        if briefing is None:
            continue
        for story in briefing.stories:
            doc, articles = story_doc(story)
            out.append(EarlierStory(day, story.id, story.first_reported or day, articles, doc))
    return out


def continuations(
    stories: Sequence[Sequence[Doc]],
    earlier: Sequence[EarlierStory],
    background: Sequence[str] = (),
) -> list[Continuation]:
    """For each of today's stories (the ``Doc``s of its sources, with canonical links), the
    earlier story it continues and whether it is a repeat.

    An article already shown is the same link under the same headline: a link alone proves
    nothing (a reading list or a roundup may have linked today's article before it was news,
    or a predictable address may have been seeded to silence the story). A story is a repeat
    only when every one of its articles was shown before."""
    if not earlier:
        return [Continuation(None, False) for _ in stories]
    seen = frozenset().union(*(e.articles for e in earlier))
    docs = [doc for members in stories for doc in members]
    owner = [index for index, members in enumerate(stories) for _ in members]
    offset = len(docs)
    pairs = evidence([*docs, *(e.doc for e in earlier)], background)
    best: list[tuple[tuple[str, int, float], EarlierStory] | None] = [None] * len(stories)

    clashes: dict[tuple[int, int], bool] = {}  # each story against each earlier one, once

    def consider(story: int, past: int, shared: int, value: float) -> None:
        item = earlier[past]
        clash = clashes.get((story, past))
        if clash is None:
            clash = any(conflicting(doc.entities, item.doc.entities) for doc in stories[story])
            clashes[(story, past)] = clash
        if clash:
            return
        key = (item.date, shared, value)
        current = best[story]
        if current is None or key > current[0]:
            best[story] = (key, item)

    shown_in: dict[tuple[str, str], list[int]] = {}
    for past, item in enumerate(earlier):
        for article in item.articles:
            shown_in.setdefault(article, []).append(past)
    for story, members in enumerate(stories):
        counts: dict[int, int] = {}
        for doc in members:
            if doc.link:
                for past in shown_in.get((doc.link, headline(doc.title)), ()):
                    counts[past] = counts.get(past, 0) + 1
        for past, shared in counts.items():
            consider(story, past, shared, 3.0)
    for (i, j), pair in pairs.items():
        if i < offset <= j:
            value = strength(pair)
            if value >= CONTINUES:
                consider(owner[i], j - offset, 0, value)
    out = []
    for story, members in enumerate(stories):
        chosen = best[story]
        repeat = bool(members) and all(
            doc.link is not None and (doc.link, headline(doc.title)) in seen for doc in members
        )
        out.append(Continuation(chosen[1] if chosen else None, repeat))
    return out


# --- the stage -------------------------------------------------------------------------------


def continued_groups(
    config: Config,
    groups: Sequence[Sequence[Tagged]],
    earlier: Sequence[EarlierStory],
    background: Sequence[str] = (),
) -> tuple[list[Sequence[Tagged]], list[Continuation]]:
    """Today's groups against the earlier briefings' stories (``stories.continuity``): the
    groups with something new, each with the earlier story it continues, if any. A group whose
    every article was in an earlier briefing is left out: it is not repeated."""
    found = continuations([docs_of(config, group) for group in groups], earlier, background)
    kept = [(group, follow) for group, follow in zip(groups, found, strict=True)]
    kept = [(group, follow) for group, follow in kept if not follow.repeat]
    return [group for group, _ in kept], [follow for _, follow in kept]
