"""The command line: argv -> the pipeline's functions. Library errors become exit codes here only.

Exit codes: 0 a briefing (or the asked-for part) was produced, even if some feeds failed — that
is reported inside; 2 bad usage or bad config, one line naming the file, line and field;
1 nothing could be produced.
"""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from briefing import __version__
from briefing.config import Config, check_secrets, load_config, parse_duration
from briefing.errors import BriefingError, NothingToBuild
from briefing.intel.commands import kb_group, tag_command
from briefing.lock import work_lock
from briefing.models import is_failing
from briefing.options import config_option, config_options
from briefing.review.commands import review_group

log = logging.getLogger("briefing")
F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns library errors into one line on stderr and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BriefingError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


def _parse_now(value: str | None, config: Config) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time (e.g. 2026-03-10T07:00:00Z)", param_hint="--now"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.zone)
    return moment.astimezone(UTC)


def _window(value: str | None, config: Config) -> timedelta | None:
    if value is None:
        return None  # the configured window, reaching back to a missed briefing
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--window") from None


def clock_options(func: F) -> F:
    func = click.option(
        "--window",
        metavar="DURATION",
        help="How far back the briefing looks, e.g. 24h, 36h, 7d (default: the config's).",
    )(func)
    func = click.option(
        "--now",
        metavar="ISO8601",
        help="Pin the clock (e.g. 2026-03-10T07:00:00Z) so a run is reproducible.",
    )(func)
    return func


def wait_option(func: F) -> F:
    return click.option(
        "--wait",
        "lock_wait",
        type=click.FloatRange(min=0),
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="If another briefing is working on the output folder, wait this long for it.",
    )(func)


@contextmanager
def _locked(output: Path, label: str, wait: float) -> Iterator[None]:
    """Hold the output folder's work lock (shared with ``serve``'s jobs) while working."""
    lock = work_lock(output, label)
    lock.acquire(wait)
    try:
        yield
    finally:
        lock.release()


def _do_send(
    ctx: click.Context,
    config: Config,
    output: Path,
    briefing: Any,
    now: datetime,
    force: bool,
    to: tuple[str, ...] = (),
) -> None:
    from briefing.deliver.send import DeliveryError, deliver

    outcomes = deliver(config, output, briefing, now, force=force, only=to)
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        _say(
            ctx,
            f"{outcome.recipient}: {outcome.status}, {outcome.stories} stories{detail}",
        )
    failed = [o.recipient for o in outcomes if o.status == "failed"]
    if failed:
        raise DeliveryError(f"delivery to {', '.join(failed)} failed; rerun to retry")


@contextmanager
def _progress(label: str, total: int, quiet: bool) -> Iterator[Callable[[Any], None]]:
    """A rich progress bar on an interactive stderr; silence otherwise."""
    if quiet or not sys.stderr.isatty() or total == 0:
        yield lambda _item: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=None,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda _item: progress.advance(task)


def _say(ctx: click.Context, message: str) -> None:
    if not ctx.obj.get("quiet"):
        click.echo(message, err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="briefing")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--verbose", "-v", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Daily threat briefing: poll security feeds, extract and tag the articles, and render a
    briefing grouped by threat actor and region (HTML, PDF, JSON) with an archive."""
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if verbose < 2:
        # WeasyPrint reports every screen-only CSS rule the shared stylesheet carries and every
        # glyph DejaVu lacks: noise for a reader of the morning log, kept for -vv.
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)


def _do_poll(ctx: click.Context, config: Config, output: Path, now: datetime) -> None:
    from briefing.pipeline import poll

    with _progress("polling feeds", len(config.feeds), ctx.obj["quiet"]) as advance:
        outcomes = poll(config, output, now, advance)
    new = sum(o.new for o in outcomes)
    revised = sum(o.revised for o in outcomes)
    failed = [o for o in outcomes if is_failing(o.status)]
    _say(
        ctx,
        f"polled {len(outcomes)} feeds: {new} new items, {revised} revised, {len(failed)} failing",
    )
    for outcome in failed:
        log.warning("feed %s: %s: %s", outcome.feed, outcome.status, outcome.error)


def _do_extract(ctx: click.Context, config: Config, output: Path, now: datetime) -> None:
    from briefing.pipeline import extract, store_path
    from briefing.store import Store

    with Store.open(store_path(config, output)) as store:
        pending = len(store.pending_entries())
    with _progress("extracting articles", pending, ctx.obj["quiet"]) as advance:
        stats = extract(config, output, now, advance)
    _say(
        ctx,
        f"extracted {stats.entries} articles ({stats.pages_fetched} pages fetched): "
        f"{stats.full} full, {stats.feed_only} feed-only, {stats.failed} failed",
    )


def _do_build(
    ctx: click.Context, config: Config, output: Path, now: datetime, window: timedelta | None
) -> Any:
    from briefing.pipeline import build

    try:
        result = build(config, output, now, window)
    except BriefingError:
        raise
    except OSError as exc:
        raise NothingToBuild(f"cannot write the briefing: {exc}") from None
    _say(ctx, f"briefing of {result.briefing.date}: {len(result.briefing.stories)} stories")
    _say(ctx, f"wrote {result.folder}/briefing.html, .pdf, .json and {output}/index.html")
    return result.briefing


@cli.command()
@config_options
@clock_options
@click.option(
    "--send",
    is_flag=True,
    help="Then deliver the briefing to the config's recipients and webhooks.",
)
@click.option(
    "--force", is_flag=True, help="With --send: send again to those already sent today's."
)
@wait_option
@click.pass_context
def run(
    ctx: click.Context,
    config_path: Path,
    output: Path,
    now: str | None,
    window: str | None,
    send: bool,
    force: bool,
    lock_wait: float,
) -> None:
    """Poll every feed, extract new articles, build today's briefing and update the archive."""
    config = load_config(config_path)
    moment, span = _parse_now(now, config), _window(window, config)
    if force and not send:
        raise click.UsageError("--force only makes sense with --send")
    if send and config.email is None and not config.webhooks:
        raise click.UsageError(f"--send: {config_path} has no email: or webhooks: section")
    if send:
        check_secrets(config)
    with _locked(output, "run", lock_wait):
        _do_poll(ctx, config, output, moment)
        _do_extract(ctx, config, output, moment)
        briefing = _do_build(ctx, config, output, moment, span)
        if send:
            from briefing.deliver.send import DeliveryHeld

            try:
                _do_send(ctx, config, output, briefing, moment, force)
            except DeliveryHeld as held:
                # The briefing was produced (exit 0); its delivery waits for review.
                click.echo(f"not sent: {held}", err=True)


@cli.command("poll")
@config_options
@click.option("--now", metavar="ISO8601", help="Pin the clock (dates items without one).")
@click.option(
    "--extract/--no-extract",
    default=False,
    show_default=True,
    help="Also fetch and extract the new articles' pages (`build` does not; `run` does).",
)
@wait_option
@click.pass_context
def poll_command(
    ctx: click.Context,
    config_path: Path,
    output: Path,
    now: str | None,
    extract: bool,
    lock_wait: float,
) -> None:
    """Poll every feed into the store, without extracting pages or building.

    Cheap enough to run every few minutes; `--extract` also fetches and extracts the new
    articles' pages, and `run` does everything."""
    config = load_config(config_path)
    moment = _parse_now(now, config)
    with _locked(output, "poll", lock_wait):
        _do_poll(ctx, config, output, moment)
        if extract:
            _do_extract(ctx, config, output, moment)


@cli.command("build")
@config_options
@clock_options
@click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD",
    help="Build the briefing of this day: the window ends at its last second (config zone).",
)
@wait_option
@click.pass_context
def build_command(
    ctx: click.Context,
    config_path: Path,
    output: Path,
    now: str | None,
    window: str | None,
    day: str | None,
    lock_wait: float,
) -> None:
    """Build the briefing from what is already stored (no network)."""
    config = load_config(config_path)
    if day is not None and now is not None:
        raise click.UsageError("give --date or --now, not both")
    if day is not None:
        try:
            date = datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            raise click.BadParameter(f"{day!r} is not YYYY-MM-DD", param_hint="--date") from None
        end = datetime.combine(date, time(23, 59, 59), tzinfo=config.zone).astimezone(UTC)
    else:
        end = _parse_now(now, config)
    with _locked(output, "build", lock_wait):
        _do_build(ctx, config, output, end, _window(window, config))


def _archived_dates(output: Path) -> list[str]:
    from briefing.publish.archive import day_folders

    return sorted(folder.name for folder in day_folders(output))


@cli.command("send")
@config_options
@click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD",
    help="The archived briefing to send (default: the newest in the archive).",
)
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    help="Only this configured recipient or webhook name (repeatable; default: all of them).",
)
@click.option("--force", is_flag=True, help="Send even to recipients who already have it.")
@wait_option
@click.pass_context
def send_command(
    ctx: click.Context,
    config_path: Path,
    output: Path,
    day: str | None,
    to: tuple[str, ...],
    force: bool,
    lock_wait: float,
) -> None:
    """Deliver an archived briefing to its recipients and webhooks, each once (rebuilt from the
    store)."""
    from briefing.deliver.send import DeliveryError
    from briefing.pipeline import composed
    from briefing.serialize import read as read_briefing

    config = load_config(config_path)
    if config.email is None and not config.webhooks:
        raise click.UsageError(f"{config_path} has no email: or webhooks: section")
    check_secrets(config)
    if day is None:
        dates = _archived_dates(output)
        if not dates:
            raise DeliveryError(f"{output}: no briefing in the archive; run 'briefing build'")
        day = dates[-1]
    with _locked(output, "send", lock_wait):
        archived = read_briefing(output / day / "briefing.json")
        if archived is None:
            raise DeliveryError(
                f"{output}/{day}/briefing.json: no such briefing; run 'briefing build --date {day}'"
            )
        end, begin = archived.window_end, archived.window_start
        briefing = composed(config, output, end, end - begin)
        _do_send(ctx, config, output, briefing, datetime.now(UTC), force, to)


@cli.command("serve")
@config_options
@click.option(
    "--no-send",
    is_flag=True,
    help="Build on schedule but deliver nothing (even with email: or webhooks:).",
)
@click.pass_context
def serve_command(ctx: click.Context, config_path: Path, output: Path, no_send: bool) -> None:
    """Run the schedule: poll every poll_every, build and deliver at each build_at, until
    SIGTERM or Ctrl-C (then exit 0)."""
    from briefing.schedule import Service, serve

    config = load_config(config_path)
    if not no_send:
        check_secrets(config)
    if not ctx.obj.get("quiet"):
        # One line per job is the point of a service log, whatever -v says.
        logging.getLogger("briefing.schedule").setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    service = Service(config, output, send=not no_send)
    ctx.exit(serve(config, output, service=service))


@cli.group()
def archive() -> None:
    """Maintain the static archive (index, day, actor and region pages, Atom feed, search)."""


@archive.command("rebuild")
@config_options
@click.option(
    "--no-pdf", is_flag=True, help="Re-render the days' HTML only; keep their existing PDFs."
)
@click.option(
    "--retag",
    is_flag=True,
    help="Tag every archived day's articles again with the current tagger and compose the days"
    " anew from the store (after a tagger or knowledge-base update).",
)
@click.pass_context
def archive_rebuild(
    ctx: click.Context, config_path: Path, output: Path, no_pdf: bool, retag: bool
) -> None:
    """Regenerate every page of the archive from the stored briefings and the store."""
    from briefing.pipeline import rebuild

    config = load_config(config_path)
    try:
        days = rebuild(config, output, pdf=not no_pdf, retag=retag)
    except OSError as exc:
        raise NothingToBuild(f"cannot write the archive: {exc}") from None
    _say(ctx, f"rebuilt {len(days)} days and the archive in {output}")


@cli.group()
def feeds() -> None:
    """Inspect the configured feeds; import them from OPML, export them as OPML."""


@feeds.command("check")
@config_option
def feeds_check(config_path: Path) -> None:
    """Validate the config and probe every feed once (nothing is stored); exit 1 if any fails."""
    import asyncio

    from briefing.ingest.probe import probe_feeds

    config = load_config(config_path)
    click.echo(f"{config_path}: valid, {len(config.feeds)} feeds")
    results = asyncio.run(probe_feeds(config))
    width = max(len(feed.name) for feed in config.feeds)
    for result in results:
        detail = result.error or f"{result.items} items"
        click.echo(f"{result.feed:<{width}}  {result.status:<16}  {detail}")
    if any(is_failing(result.status) for result in results):
        sys.exit(1)


@feeds.command("import")
@config_option
@click.argument("opml_file", metavar="FILE.opml", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--print",
    "to_stdout",
    is_flag=True,
    help="Write the resulting config to stdout (the report to stderr); change no file.",
)
@click.option(
    "--allow-private",
    is_flag=True,
    help="Also import feeds on IP-address hosts and local names (localhost, intranet names).",
)
def feeds_import(config_path: Path, opml_file: Path, to_stdout: bool, allow_private: bool) -> None:
    """Add the feeds of an OPML file (a feed reader's export) to the config.

    Nested outlines and categories become tags (never the trust tags kev, exploited,
    advisories, catalogue, aggregator: set those in the config); feeds whose URL is already
    configured are skipped, non-http(s) ones refused, ones on an IP address or local name
    skipped with a warning; the config's comments and layout are kept."""
    from briefing.files import write_atomic
    from briefing.opml import import_opml

    text, report = import_opml(opml_file, config_path, allow_private=allow_private)
    if to_stdout:
        click.echo(text, nl=False)
    elif report.added:
        write_atomic(config_path, text)
    for line in report.lines():
        click.echo(line, err=to_stdout)


@feeds.command("export")
@config_option
def feeds_export(config_path: Path) -> None:
    """Print the configured feeds as OPML 2.0 (for a feed reader), grouped by first tag."""
    from briefing.opml import export_opml

    click.echo(export_opml(load_config(config_path)), nl=False)


@cli.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output/demo"),
    show_default=True,
    help="Where the demo briefing goes.",
)
@click.pass_context
def demo(ctx: click.Context, output: Path) -> None:
    """Build a briefing from a bundled sample site served on 127.0.0.1 (no network needed)."""
    from briefing.demo import DEMO_NOW, SITE_DIR, demo_config_text
    from briefing.localsite import LocalSite

    with LocalSite(SITE_DIR) as site, tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "demo.yaml"
        config_file.write_text(demo_config_text(site.base_url), encoding="utf-8")
        config = load_config(config_file)
        moment = _parse_now(DEMO_NOW, config)
        _do_poll(ctx, config, output, moment)
        _do_extract(ctx, config, output, moment)
        _do_build(ctx, config, output, moment, config.window_delta)
    _say(ctx, f"open {output.resolve()}/index.html")


cli.add_command(tag_command)
cli.add_command(kb_group)
cli.add_command(review_group)


def _same_help_names(command: click.Command) -> None:
    """``-h`` everywhere, even for a command invoked on its own (click caches the help option
    per command object, so the first invocation would otherwise decide)."""
    command.context_settings.setdefault("help_option_names", ["-h", "--help"])
    if isinstance(command, click.Group):
        for child in command.commands.values():
            _same_help_names(child)


_same_help_names(cli)


def main() -> None:
    cli(prog_name="briefing")
