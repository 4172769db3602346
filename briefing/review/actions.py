"""Review actions as data: a command on a day's briefing -> a stored row -> an ``Edit``.

In: the day's built ``briefing.json`` (what the analyst saw), the action and its stories (by
id), who and when. Out: one ``review_actions`` row in the store, and the day built again with
every action in force (``act``); ``day_edits`` reads a day's rows back for the build.

An action names its stories by their sources, not by id: a story's id is a digest of its
members, so a new article joining it, a merge, or ``archive rebuild --retag`` re-clustering the
day gives it another id, while its sources stay. A source's key is its canonical link (or, with
no http(s) link, its feed and title), the same whether read from a stored entry or from
``briefing.json``. At build time an action applies to the story sharing the most sources with
the one the analyst acted on; one whose story is gone is kept and reported, never dropped.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from briefing.errors import BriefingError
from briefing.models import Briefing, ReviewAction, Source, Story
from briefing.sanitize import clean_line, clean_text
from briefing.serialize import safe_url
from briefing.store import Store, StoredAction, canonical_url

# Actions that change which articles make which story: applied to the groups before summarize.
MEMBERSHIP = ("drop", "merge", "split")
# Actions on a composed story: applied to the briefing after compose.
PRESENTATION = ("pin", "edit", "note")
ACTIONS = (*MEMBERSHIP, *PRESENTATION, "approve")
TITLE_MAX = 300
SUMMARY_MAX = 5000
NOTE_MAX = 2000


class ReviewError(BriefingError):
    """A review command that cannot be done as asked (an unknown story id, say): exit 2."""

    exit_code = 2


def source_key(feed: str, url: str | None, title: str) -> str:
    """What a source is known by across builds: its canonical http(s) link, else feed + title."""
    link = safe_url(url)
    return f"url:{canonical_url(link)}" if link else f"title:{feed}\x1f{title}"


def keys_of(sources: Iterable[Source]) -> frozenset[str]:
    return frozenset(source_key(s.feed, s.url, s.title) for s in sources)


@dataclass(frozen=True)
class Target:
    """A story as the analyst saw it when acting: its id, title and its sources' keys."""

    id: str
    title: str
    keys: frozenset[str]


@dataclass(frozen=True)
class Edit:
    """One action in force on a day, as the build applies it."""

    seq: int
    action: str
    by: str
    at: datetime
    targets: tuple[Target, ...] = ()
    source: str | None = None  # split: the key of the source taken out
    url: str | None = None  # split: the link as given
    title: str | None = None  # edit
    summary: str | None = None  # edit
    text: str | None = None  # note

    def record(self, applied: bool = True) -> ReviewAction:
        detail = tuple(
            (name, value)
            for name, value in (
                ("url", self.url),
                ("title", self.title),
                ("summary", self.summary),
                ("text", self.text),
            )
            if value is not None
        )
        return ReviewAction(
            seq=self.seq,
            action=self.action,
            by=self.by,
            at=self.at,
            stories=tuple((t.id, t.title) for t in self.targets),
            detail=detail,
            applied=applied,
        )


def edit_of(row: StoredAction) -> Edit:
    data: dict[str, Any] = json.loads(row.data)
    return Edit(
        seq=row.seq,
        action=row.action,
        by=row.by,
        at=row.at,
        targets=tuple(
            Target(str(t["id"]), str(t["title"]), frozenset(t["keys"]))
            for t in data.get("targets", ())
        ),
        source=data.get("source"),
        url=data.get("url"),
        title=data.get("title"),
        summary=data.get("summary"),
        text=data.get("text"),
    )


def day_edits(store: Store, date: str) -> list[Edit]:
    """The day's actions in force (not undone), in the order they were taken."""
    return [edit_of(row) for row in store.review_actions(date)]


def approval(edits: Sequence[Edit]) -> Edit | None:
    """The approval in force: the last ``approve`` with no edit after it (an approved day that
    is edited again needs approving again)."""
    return edits[-1] if edits and edits[-1].action == "approve" else None


def default_by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME (a bare container)
        return "unknown"


# --- the days ---------------------------------------------------------------------------------


def built_days(output: Path) -> list[str]:
    from briefing.publish.archive import day_folders

    return sorted(folder.name for folder in day_folders(output))


def latest_day(output: Path) -> str:
    days = built_days(output)
    if not days:
        raise ReviewError(f"{output}: no briefing built yet; run 'briefing build' first")
    return days[-1]


def load_day(output: Path, date: str) -> Briefing:
    from datetime import date as Date

    from briefing.serialize import read

    try:
        Date.fromisoformat(date)
    except ValueError:
        raise ReviewError(f"{date!r} is not a date (YYYY-MM-DD)") from None
    briefing = read(output / date / "briefing.json")
    if briefing is None:
        raise ReviewError(
            f"{output}/{date}/briefing.json: no such briefing; run 'briefing build --date {date}'"
        )
    return briefing


# --- acting -----------------------------------------------------------------------------------


def _story(briefing: Briefing, story_id: str) -> Story:
    for story in briefing.stories:
        if story.id == story_id:
            return story
    raise ReviewError(
        f"{briefing.date}: no story {story_id!r} in that briefing "
        f"(see 'briefing review list --date {briefing.date}')"
    )


def _target(story: Story) -> dict[str, Any]:
    return {"id": story.id, "title": story.title, "keys": sorted(keys_of(story.sources))}


def _text(value: str | None, limit: int, what: str, *, line: bool) -> str | None:
    if value is None:
        return None
    cleaned = clean_line(value) if line else clean_text(value).strip()
    if len(cleaned) > limit:
        raise ReviewError(f"the {what} is longer than {limit} characters")
    return cleaned


def action_data(
    briefing: Briefing,
    action: str,
    ids: Sequence[str],
    *,
    url: str | None = None,
    title: str | None = None,
    summary: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """The stored form of ``action`` on ``briefing``'s stories ``ids``: checked here, so a
    wrong id or argument is one line and exit 2, and nothing is stored."""
    if action not in ACTIONS:
        raise ReviewError(f"not a review action: {action!r}")
    stories = [_story(briefing, story_id) for story_id in ids]
    wanted = {"merge": None, "approve": 0}.get(action, 1)
    if wanted is not None and len(stories) != wanted:
        raise ReviewError(f"review {action} takes {wanted} story id, not {len(stories)}")
    data: dict[str, Any] = {"targets": [_target(story) for story in stories]}
    if action == "merge":
        if len({s.id for s in stories}) < 2:
            raise ReviewError("review merge takes two or more different story ids")
    elif action == "split":
        story = stories[0]
        wanted_link = safe_url(url)
        key = f"url:{canonical_url(wanted_link)}" if wanted_link else None
        picked = [s for s in story.sources if source_key(s.feed, s.url, s.title) == key]
        if not picked:
            raise ReviewError(f"story {story.id} has no source {url!r}")
        if len(story.sources) < 2:
            raise ReviewError(f"story {story.id} has one source: nothing to split off")
        data["source"] = source_key(picked[0].feed, picked[0].url, picked[0].title)
        data["url"] = url
    elif action == "edit":
        new_title = _text(title, TITLE_MAX, "title", line=True)
        new_summary = _text(summary, SUMMARY_MAX, "summary", line=False)
        if not new_title and not new_summary:
            raise ReviewError("review edit needs --title or --summary (not empty)")
        if new_title:
            data["title"] = new_title
        if new_summary:
            data["summary"] = new_summary
    elif action == "note":
        # An empty note removes the one before.
        data["text"] = _text(text or "", NOTE_MAX, "note", line=False)
    return data


def describe(action: ReviewAction) -> str:
    """One line for the CLI and the page: "#3 merge 1a2b3c4d5e6f, 9f8e7d6c5b4a by ana"."""
    stories = ", ".join(f"{sid} ({title[:60]})" for sid, title in action.stories)
    detail = "; ".join(f"{name}: {value[:80]}" for name, value in action.detail)
    bits = [f"#{action.seq} {action.action}"]
    if stories:
        bits.append(stories)
    if detail:
        bits.append(f"[{detail}]")
    bits.append(f"by {action.by} at {action.at.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    return " ".join(bits)
