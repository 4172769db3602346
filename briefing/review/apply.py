"""Apply stage: the analyst's actions in force on a day -> the day's stories as reviewed.

Two steps, because two kinds of action act on two things (``pipeline.brief`` calls both):

* ``regroup``, between continue and summarize: drop, merge and split change which articles
  make a story, so they act on the cluster stage's groups. A merged or split group is then
  summarized, scored and ranked like any other: its summary, entities, sections and rank are
  those of its new members, never patched by hand. A merge keeps the first story's title.
* ``present``, between compose and render: pin (the executive summary opens with the pinned
  stories, in the order pinned), edit (title, summary) and note act on the composed stories;
  every story an action touched is marked ``edited``; the briefing gets its ``Review`` (the
  approval in force and each action, with whether its story was found).

Actions apply in the order they were taken; each finds its story by sources
(``actions.keys_of``): the group or story sharing the most sources with the one the analyst
acted on, the earlier one on a tie. So the same store, clock and actions give the same
briefing, and a rebuild that renumbers stories keeps every edit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from briefing.config import Config
from briefing.intel.stage import Tagged
from briefing.models import Briefing, Review
from briefing.review.actions import MEMBERSHIP, PRESENTATION, Edit, approval, keys_of, source_key
from briefing.stories.continuity import Continuation
from briefing.stories.summarize import lead_order


def member_key(member: Tagged) -> str:
    entry = member[0]
    return source_key(entry.feed, entry.link, entry.title)


def best_match(
    keys: frozenset[str], candidates: Sequence[frozenset[str]], taken: Collection[int] = ()
) -> int | None:
    """The candidate sharing the most keys with ``keys`` (the first on a tie), or None."""
    best, most = None, 0
    for index, candidate in enumerate(candidates):
        if index in taken:
            continue
        shared = len(keys & candidate)
        if shared > most:
            best, most = index, shared
    return best


@dataclass(frozen=True)
class Regrouped:
    groups: tuple[tuple[Tagged, ...], ...]
    follows: tuple[Continuation, ...]  # parallel to ``groups`` (empty if none were given)
    edited: frozenset[frozenset[str]]  # the source keys of the groups a merge or split made
    titles: tuple[tuple[frozenset[str], str], ...]  # merged group -> the first story's title
    gone: frozenset[int]  # seqs of membership actions whose stories this build lacks


def regroup(
    config: Config,
    groups: Sequence[Sequence[Tagged]],
    follows: Sequence[Continuation],
    edits: Sequence[Edit],
) -> Regrouped:
    """Drop, merge and split, in order, on the groups (and their continuations)."""
    items = [list(group) for group in groups]
    conts: list[Continuation] = list(follows) or [Continuation(None, False)] * len(items)
    changed = [False] * len(items)
    titles: list[str | None] = [None] * len(items)
    gone: set[int] = set()
    lead = lead_order(config)

    def remove(index: int) -> None:
        for column in (items, conts, changed, titles):
            del column[index]

    for edit in edits:
        if edit.action not in MEMBERSHIP or not edit.targets:
            continue
        keysets = [frozenset(member_key(m) for m in group) for group in items]
        if edit.action == "drop":
            found = best_match(edit.targets[0].keys, keysets)
            if found is None:
                gone.add(edit.seq)
            else:
                remove(found)
        elif edit.action == "merge":
            picked: list[int] = []
            for target in edit.targets:
                index = best_match(target.keys, keysets, picked)
                if index is not None:
                    picked.append(index)
            if len(picked) < 2:
                gone.add(edit.seq)
                continue
            first = picked[0]
            titles[first] = titles[first] or sorted(items[first], key=lead)[0][0].title
            items[first] = items[first] + [m for index in picked[1:] for m in items[index]]
            changed[first] = True
            for index in sorted(picked[1:], reverse=True):
                remove(index)
        else:  # split
            found = best_match(edit.targets[0].keys, keysets)
            if found is None:
                gone.add(edit.seq)
                continue
            out = [m for m in items[found] if member_key(m) == edit.source]
            if not out or len(out) == len(items[found]):
                gone.add(edit.seq)
                continue
            items[found] = [m for m in items[found] if member_key(m) != edit.source]
            changed[found] = True
            titles[found] = None  # a merge's title may have left with the split-off source
            items.insert(found + 1, out)
            conts.insert(found + 1, Continuation(None, False))
            changed.insert(found + 1, True)
            titles.insert(found + 1, None)
    keysets = [frozenset(member_key(m) for m in group) for group in items]
    return Regrouped(
        groups=tuple(tuple(group) for group in items),
        follows=tuple(conts) if follows else (),
        edited=frozenset(keys for keys, mark in zip(keysets, changed, strict=True) if mark),
        titles=tuple(
            (keys, title) for keys, title in zip(keysets, titles, strict=True) if title is not None
        ),
        gone=frozenset(gone),
    )


def present(briefing: Briefing, edits: Sequence[Edit], regrouped: Regrouped | None) -> Briefing:
    """Pin, edit and note on the composed briefing; mark edited stories; attach the review."""
    stories = list(briefing.stories)
    keysets = [keys_of(story.sources) for story in stories]
    changes: dict[int, dict[str, Any]] = {}
    titles = dict(regrouped.titles) if regrouped else {}
    for index, keys in enumerate(keysets):
        if regrouped is not None and keys in regrouped.edited:
            changes.setdefault(index, {})["edited"] = True
        if keys in titles:
            changes.setdefault(index, {})["title"] = titles[keys]
    pins: list[int] = []
    records = []
    for edit in edits:
        applied = True
        if edit.action in MEMBERSHIP:
            applied = regrouped is not None and edit.seq not in regrouped.gone
        elif edit.action in PRESENTATION:
            found = best_match(edit.targets[0].keys, keysets) if edit.targets else None
            applied = found is not None
            if found is not None:
                change = changes.setdefault(found, {})
                change["edited"] = True
                if edit.action == "pin" and found not in pins:
                    pins.append(found)
                elif edit.action == "edit":
                    if edit.title:
                        change["title"] = edit.title
                    if edit.summary:
                        # The analyst's words have no source sentence to point at.
                        change["summary"], change["sentences"] = edit.summary, ()
                elif edit.action == "note":
                    change["note"] = edit.text or None
        records.append(edit.record(applied))
    pinned = [stories[index].id for index in pins]
    limit = max(len(briefing.executive), len(pinned))
    rest = [sid for sid in briefing.executive if sid not in pinned]
    approved = approval(edits)
    return replace(
        briefing,
        stories=tuple(
            replace(story, **changes[index]) if index in changes else story
            for index, story in enumerate(stories)
        ),
        executive=tuple(pinned + rest[: limit - len(pinned)]),
        review=Review(
            approved_at=approved.at if approved else None,
            approved_by=approved.by if approved else None,
            actions=tuple(records),
        ),
    )
