"""Acting on a built day: a review command -> its action stored, the day built again.

In: the config, the output folder, the day and the action (``review.actions`` checks it and
names its stories by their sources). Out: the stored row and the day as rebuilt (HTML, PDF,
JSON, archive) by ``pipeline.build``, which applies every action in force. Above the pipeline:
``briefing review`` and the review page call it; the pipeline reads actions through
``review.actions`` only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from briefing.config import Config
from briefing.models import Briefing, ReviewAction
from briefing.pipeline import build, store_path
from briefing.review.actions import ReviewError, action_data, load_day
from briefing.store import Store, StoredAction


def rebuild_day(config: Config, output: Path, archived: Briefing) -> Briefing:
    """The day built again as it was built (its window, its clock): HTML, PDF, JSON, archive,
    with every action in force applied."""
    end = archived.window_end
    return build(config, output, end, end - archived.window_start).briefing


@dataclass(frozen=True)
class Acted:
    stored: StoredAction  # the row written (for undo: the row undone)
    briefing: Briefing  # the day as rebuilt

    @property
    def gone(self) -> list[ReviewAction]:
        """Actions in force whose story this build no longer has."""
        return [a for a in self.briefing.review.actions if not a.applied]


def act(
    config: Config,
    output: Path,
    date: str,
    action: str,
    ids: Sequence[str] = (),
    *,
    by: str,
    now: datetime | None = None,
    url: str | None = None,
    title: str | None = None,
    summary: str | None = None,
    text: str | None = None,
) -> Acted:
    """Store ``action`` (or, for ``undo``, undo the day's last action) and build the day again.
    The caller holds the output folder's work lock."""
    now = now or datetime.now(UTC)
    archived = load_day(output, date)
    with Store.open(store_path(config, output)) as store:
        if action == "undo":
            undone = store.undo_review_action(date, by=by, now=now)
            if undone is None:
                raise ReviewError(f"{date}: no review action to undo")
            stored = undone
        else:
            data = action_data(
                archived, action, ids, url=url, title=title, summary=summary, text=text
            )
            payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
            stored = store.add_review_action(date, action, payload, by=by, now=now)
    return Acted(stored, rebuild_day(config, output, archived))
