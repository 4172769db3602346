"""``briefing review``: argv -> review actions on a built day (``review.actions``), the log, the
list, and the local review page (``review.server``).

Every command takes ``--config``, ``--output``, ``--date`` (default: the latest built day) and
``--by`` (default: the OS user). Each action is stored, then the day is built again (HTML, PDF,
JSON, archive), under the output folder's work lock; an action whose story the new build lacks
is reported on stderr. A wrong id or argument is one line and exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from briefing.config import Config, load_config
from briefing.options import config_options

if TYPE_CHECKING:
    from briefing.review.acting import Acted

# The actions, the store and the pipeline are imported by the commands that use them: every
# ``briefing`` invocation (``poll`` every half hour) imports this module.

F = TypeVar("F", bound=Callable[..., Any])


def _date(value: str | None) -> str | None:
    if value is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY-MM-DD", param_hint="--date") from None


def review_options(func: F) -> F:
    func = click.option(
        "--by",
        metavar="NAME",
        default=None,
        help="Who is acting, for the log (default: the OS user).",
    )(func)
    func = click.option(
        "--date",
        "day",
        metavar="YYYY-MM-DD",
        help="The built day to review (default: the latest in the output folder).",
    )(func)
    return config_options(func)


def _setup(config_path: Path, output: Path, day: str | None) -> tuple[Config, str]:
    from briefing.review.actions import latest_day

    config = load_config(config_path)
    return config, _date(day) or latest_day(output)


def _report(acted: Acted, what: str) -> None:
    from briefing.review.actions import describe

    briefing = acted.briefing
    click.echo(f"{what}; rebuilt {briefing.date}: {len(briefing.stories)} stories")
    for action in acted.gone:
        click.echo(f"warning: its story is gone from this build: {describe(action)}", err=True)


def _run(
    config_path: Path,
    output: Path,
    day: str | None,
    by: str | None,
    action: str,
    ids: tuple[str, ...] = (),
    **params: Any,
) -> Acted:
    from briefing.lock import work_lock
    from briefing.review.acting import act
    from briefing.review.actions import default_by

    config, date = _setup(config_path, output, day)
    lock = work_lock(output, f"review {action}")
    lock.acquire(60.0)
    try:
        return act(config, output, date, action, ids, by=by or default_by(), **params)
    finally:
        lock.release()


@click.group("review")
def review_group() -> None:
    """Review a built day before it is sent: pin, drop, merge, split, edit, note, approve.

    Actions are stored with who and when and applied by every build of that day; each one
    rebuilds the day's HTML, PDF and JSON. With review.required in the config, delivery waits
    for `review approve` (or the review deadline)."""


@review_group.command("list")
@review_options
def list_command(config_path: Path, output: Path, day: str | None, by: str | None) -> None:
    """Print the day's stories: rank, id, kind, sources, title (* in the executive summary,
    e edited), and the actions whose story this build lacks."""
    from briefing.review.actions import describe, load_day

    _config, date = _setup(config_path, output, day)
    briefing = load_day(output, date)
    pinned = set(briefing.executive)
    review = briefing.review
    state = (
        f"approved by {review.approved_by} at {review.approved_at:%Y-%m-%d %H:%M %Z}"
        if review.approved_at
        else "not approved"
    )
    click.echo(f"{date}: {len(briefing.stories)} stories, {state}")
    for rank, story in enumerate(briefing.stories, 1):
        kind = getattr(story, "kind", None) or "-"
        marks = ("*" if story.id in pinned else " ") + ("e" if story.edited else " ")
        count = len(story.sources)
        click.echo(f"{rank:>3} {marks} {story.id}  {kind:<15} {count:>2}  {story.title}")
        if story.note:
            click.echo(f"           note: {story.note}")
    for action in briefing.review.actions:
        if not action.applied:
            click.echo(f"warning: its story is gone from this build: {describe(action)}", err=True)


@review_group.command("pin")
@review_options
@click.argument("story_id", metavar="ID")
def pin_command(
    config_path: Path, output: Path, day: str | None, by: str | None, story_id: str
) -> None:
    """Put story ID in the executive summary, after the stories pinned before it."""
    _report(_run(config_path, output, day, by, "pin", (story_id,)), f"pinned {story_id}")


@review_group.command("drop")
@review_options
@click.argument("story_id", metavar="ID")
def drop_command(
    config_path: Path, output: Path, day: str | None, by: str | None, story_id: str
) -> None:
    """Leave story ID out of the briefing."""
    _report(_run(config_path, output, day, by, "drop", (story_id,)), f"dropped {story_id}")


@review_group.command("merge")
@review_options
@click.argument("story_ids", metavar="ID ID...", nargs=-1, required=True)
def merge_command(
    config_path: Path, output: Path, day: str | None, by: str | None, story_ids: tuple[str, ...]
) -> None:
    """Merge the stories into the first: one story with all their sources, the first's title."""
    acted = _run(config_path, output, day, by, "merge", story_ids)
    _report(acted, f"merged {', '.join(story_ids[1:])} into {story_ids[0]}")


@review_group.command("split")
@review_options
@click.argument("story_id", metavar="ID")
@click.argument("url", metavar="URL")
def split_command(
    config_path: Path, output: Path, day: str | None, by: str | None, story_id: str, url: str
) -> None:
    """Take the source URL out of story ID into a story of its own."""
    acted = _run(config_path, output, day, by, "split", (story_id,), url=url)
    _report(acted, f"split {url} out of {story_id}")


@review_group.command("edit")
@review_options
@click.argument("story_id", metavar="ID")
@click.option("--title", metavar="T", help="The story's new title.")
@click.option("--summary", metavar="S", help="The story's new summary.")
def edit_command(
    config_path: Path,
    output: Path,
    day: str | None,
    by: str | None,
    story_id: str,
    title: str | None,
    summary: str | None,
) -> None:
    """Replace the title and/or summary of story ID."""
    acted = _run(config_path, output, day, by, "edit", (story_id,), title=title, summary=summary)
    _report(acted, f"edited {story_id}")


@review_group.command("note")
@review_options
@click.argument("story_id", metavar="ID")
@click.argument("text", metavar="TEXT")
def note_command(
    config_path: Path, output: Path, day: str | None, by: str | None, story_id: str, text: str
) -> None:
    """Add an analyst's note to story ID's card (an empty TEXT removes it)."""
    acted = _run(config_path, output, day, by, "note", (story_id,), text=text)
    _report(acted, f"noted {story_id}")


@review_group.command("undo")
@review_options
def undo_command(config_path: Path, output: Path, day: str | None, by: str | None) -> None:
    """Undo the day's last action in force (an approval too)."""
    acted = _run(config_path, output, day, by, "undo")
    _report(acted, f"undid #{acted.stored.seq} {acted.stored.action}")


@review_group.command("approve")
@review_options
def approve_command(config_path: Path, output: Path, day: str | None, by: str | None) -> None:
    """Approve the day as it stands: with review.required, it may now be delivered."""
    acted = _run(config_path, output, day, by, "approve")
    _report(acted, f"approved {acted.briefing.date} as {acted.stored.by}")


@review_group.command("log")
@review_options
def log_command(config_path: Path, output: Path, day: str | None, by: str | None) -> None:
    """Print every action on the day, undone ones too, with who and when."""
    from briefing.pipeline import store_path
    from briefing.review.actions import describe, edit_of, load_day
    from briefing.store import Store

    config, date = _setup(config_path, output, day)
    with Store.open(store_path(config, output)) as store:
        rows = store.review_actions(date, undone=True)
    applied = {a.seq: a.applied for a in load_day(output, date).review.actions}
    if not rows:
        click.echo(f"{date}: no review actions")
    for row in rows:
        line = describe(edit_of(row).record())
        if row.undone_at is not None:
            line += f" (undone by {row.undone_by} at {row.undone_at:%Y-%m-%d %H:%M:%S %Z})"
        elif not applied.get(row.seq, True):
            line += " (its story is gone from this build)"
        click.echo(line)


@review_group.command("serve")
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("feeds.yaml"),
    show_default=True,
    help="The feeds and settings file.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Output folder: briefings, archive and (unless the config moves it) the store.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8040,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback unless you mean otherwise).",
)
@click.option(
    "--by", metavar="NAME", default=None, help="Who acts from the page (default: the OS user)."
)
def serve_command(config_path: Path, output: Path, port: int, host: str, by: str | None) -> None:
    """Serve the latest day's draft on a local page with a button for every action; the first
    line printed is its URL with a random access token. Ctrl-C stops it."""
    from briefing.review.actions import default_by, latest_day
    from briefing.review.server import ReviewServer

    config = load_config(config_path)
    latest_day(output)  # nothing built: say so now, not on the first request
    server = ReviewServer(config, output, host=host, port=port, by=by or default_by())
    click.echo(server.url)
    sys.stdout.flush()
    from briefing.review.server import is_loopback

    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}, not loopback: whoever reaches it with the token can "
            "edit and approve the briefing (plain HTTP: put TLS in front of it)",
            err=True,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
