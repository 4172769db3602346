"""Delivery gate: may a day's briefing go out now? (``review.required`` in the config)

In: the config's ``review`` section, the store's review actions of the day, the clock. Out: a
``Gate`` (open or not, and one line saying why) that ``deliver.send.deliver`` consults before
sending anything, for ``briefing send``, ``run --send`` and the scheduler alike.

Without ``review`` (or with ``required: false``) the gate is always open. Otherwise a day goes
out once approved (``briefing review approve``; an edit after the approval closes the gate
again), or, unapproved, at ``deadline`` (the briefing's own date, the config's time zone) when
``on_deadline`` is ``send``; with ``hold`` an unapproved day is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, time
from pathlib import Path

from briefing.config import Config, parse_clock
from briefing.review.actions import approval, day_edits
from briefing.store import Store


@dataclass(frozen=True)
class Gate:
    open: bool
    reason: str  # one line: why it is open or closed


def deadline_of(config: Config, day: str) -> datetime | None:
    review = config.review
    if review is None:
        return None
    hour, minute = parse_clock(review.deadline)
    return datetime.combine(Date.fromisoformat(day), time(hour, minute), tzinfo=config.zone)


def delivery_gate(config: Config, output: Path, day: str, now: datetime) -> Gate:
    review = config.review
    if review is None or not review.required:
        return Gate(True, "no review required")
    from briefing.pipeline import store_path

    with Store.open(store_path(config, output)) as store:
        approved = approval(day_edits(store, day))
    if approved is not None:
        return Gate(True, f"{day}: approved by {approved.by} at {approved.at:%Y-%m-%d %H:%M %Z}")
    deadline = deadline_of(config, day)
    assert deadline is not None
    when = deadline.strftime("%Y-%m-%d %H:%M %Z")
    if now < deadline:
        then = "sent as it stands" if review.on_deadline == "send" else "held"
        return Gate(
            False,
            f"{day}: waiting for review (briefing review approve --date {day}); "
            f"unapproved at the deadline {when} it is {then} (review.on_deadline)",
        )
    if review.on_deadline == "send":
        return Gate(True, f"{day}: not approved by the deadline {when}; sent as it stands")
    return Gate(
        False,
        f"{day}: not approved and the review deadline {when} has passed; held "
        f"(review.on_deadline: hold) until 'briefing review approve --date {day}'",
    )
