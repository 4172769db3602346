"""Scheduler stage: the clock -> poll jobs all day, build + archive + deliver at ``build_at``.

In: a ``Config`` (``schedule:``, ``timezone``, ``email:``, ``webhooks:``), the output folder and
a clock. Out: the same work as ``briefing run --send``, done on time by ``briefing serve``, one
log line per job (its outcome and the next run time).

* Triggers: ``build_at`` local times (or one crontab line) become APScheduler 3 ``CronTrigger``s
  in the configured zone, so 07:00 stays 07:00 across daylight-saving changes (a local time
  that does not exist that night, such as 02:30 in spring, fires once, an hour later in wall
  time). The poll job is an ``IntervalTrigger`` of ``poll_every``.
* Late and missed runs: every job has ``coalesce`` (a backlog of missed runs runs once) and a
  ``misfire_grace_time``. A build the process never saw because the machine was off is caught
  up on start: the latest ``build_at`` slot within ``schedule.catch_up`` is built with the
  window ending at that slot (the briefing it would have been), unless the archive already holds
  a briefing of that date reaching the slot and every recipient and webhook has it. The decision
  reads the archive and the store, not APScheduler state, so it survives anything.
* One job at a time (a one-thread executor), each holding the output folder's work lock, so a
  manual ``briefing run`` and a scheduled job never write at once.
* Stopping: SIGTERM or SIGINT sets an event; the scheduler stops taking jobs; a running job
  stops at its next checkpoint (between stages, between recipients). If it has not finished
  within ``STOP_GRACE`` seconds the process exits anyway: every file is written to a temporary
  name and renamed, and the store is transactional, so nothing is left half-written.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from briefing.config import Config, ScheduleConfig, cron_fields, parse_clock
from briefing.errors import BriefingError
from briefing.lock import Lock, serve_lock, work_lock
from briefing.models import is_failing
from briefing.publish.archive import window_end

log = logging.getLogger(__name__)

STOP_GRACE = 4.0  # seconds a running job gets to reach a checkpoint after SIGTERM
JOB_LOCK_WAIT = 15 * 60.0  # a scheduled job waits this long for a manual run to finish

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- triggers and the catch-up decision (pure: a clock goes in, times come out) -----------------


class LocalCronTrigger(CronTrigger):  # type: ignore[misc]
    """``CronTrigger`` that fires a wall-clock time once even on the night it happens twice.

    APScheduler 3.11 with ``zoneinfo``, asked for the next 02:30 on the autumn night, answers
    02:30 summer time, then 02:30 winter time, then 02:30 winter time forever — a time already
    past, which would make the scheduler spin. Here a repeated wall-clock time and any answer
    before ``now`` are skipped by probing an hour later.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        probe, previous = now, previous_fire_time
        for _ in range(72):  # at most three days of hourly probes: a DST night needs one or two
            fire: datetime | None = super().get_next_fire_time(previous, probe)
            if fire is None:
                return None
            repeated = previous_fire_time is not None and _wall(fire, self.timezone) == _wall(
                previous_fire_time, self.timezone
            )
            if fire >= now and not repeated:
                return fire
            # The stuck answer comes from the previous fire time: probe from the clock alone.
            probe, previous = max(probe, fire) + timedelta(hours=1), None
        return None


def _wall(moment: datetime, zone: Any) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def build_triggers(schedule: ScheduleConfig, zone: ZoneInfo) -> list[CronTrigger]:
    if isinstance(schedule.build_at, str):
        return [LocalCronTrigger(**cron_fields(schedule.build_at), timezone=zone)]
    triggers = []
    for text in schedule.build_at:
        hour, minute = parse_clock(text)
        triggers.append(LocalCronTrigger(hour=hour, minute=minute, timezone=zone))
    return triggers


def poll_trigger(schedule: ScheduleConfig, zone: ZoneInfo) -> IntervalTrigger:
    return IntervalTrigger(seconds=int(schedule.poll_delta.total_seconds()), timezone=zone)


def fire_times(triggers: Iterable[CronTrigger], start: datetime, end: datetime) -> list[datetime]:
    """Every fire time of the triggers in ``[start, end]``, in order, in UTC."""
    out: set[datetime] = set()
    for trigger in triggers:
        previous = None
        moment = start
        while True:
            fire = trigger.get_next_fire_time(previous, moment)
            if fire is None or fire > end:
                break
            out.add(fire.astimezone(UTC))
            if previous is not None and fire <= previous:
                break  # never loop on a trigger that does not move forward
            previous, moment = fire, fire + timedelta(microseconds=1)
    return sorted(out)


def next_build(triggers: Iterable[CronTrigger], now: datetime) -> datetime | None:
    fires = [t.get_next_fire_time(None, now) for t in triggers]
    return min((f.astimezone(UTC) for f in fires if f is not None), default=None)


def last_slot(triggers: Iterable[CronTrigger], now: datetime, grace: timedelta) -> datetime | None:
    """The latest build time in ``[now - grace, now]``: several missed ones coalesce into it."""
    fires = fire_times(triggers, now - grace, now)
    return fires[-1] if fires else None


def briefing_date(moment: datetime, zone: ZoneInfo) -> str:
    """The date a briefing whose window ends at ``moment`` carries (as ``compose`` names it)."""
    return moment.astimezone(zone).date().isoformat()


def archived_until(output: Path, date: str) -> datetime | None:
    """Where the archived briefing of ``date`` ends its window, or None if there is none."""
    return window_end(output / date)


def catch_up_slot(config: Config, output: Path, now: datetime) -> datetime | None:
    """The missed build to make on start, if any (see the module docstring)."""
    schedule = config.schedule
    slot = last_slot(build_triggers(schedule, config.zone), now, schedule.catch_up_delta)
    if slot is None:
        return None
    date = briefing_date(slot, config.zone)
    built = archived_until(output, date)
    if built is None or built < slot:
        return slot
    from briefing.deliver.send import all_delivered

    return None if all_delivered(config, output, date) else slot


# --- the jobs -------------------------------------------------------------------------------


class Service:
    """What ``briefing serve`` runs: the poll job, the build job and the stop signal.

    ``clock`` is injected so tests can run a job "at" any time without waiting for it.
    """

    def __init__(
        self,
        config: Config,
        output: Path,
        *,
        clock: Clock = utc_now,
        send: bool = True,
        channel: Any = None,
        sender: Any = None,
        lock_wait: float = JOB_LOCK_WAIT,
    ) -> None:
        self.config = config
        self.output = output
        self.clock = clock
        self.send = send and (config.email is not None or bool(config.webhooks))
        self.channel = channel  # None: SMTP from the config
        self.sender = sender  # None: webhooks POSTed with the default retry waits
        self.lock_wait = lock_wait
        self.stop = threading.Event()
        self.idle = threading.Event()
        self.idle.set()

    def _stopping(self) -> bool:
        return self.stop.is_set()

    def _guarded(self, name: str, work: Callable[[Lock], str]) -> str:
        """Run ``work`` under the work lock; turn every failure into an outcome line."""
        self.idle.clear()
        try:
            if self._stopping():
                return "skipped: stopping"
            lock = work_lock(self.output, f"serve {name} job")
            lock.acquire(self.lock_wait, should_stop=self._stopping)
            try:
                return work(lock)
            finally:
                lock.release()
        except BriefingError as exc:
            return f"failed: {exc}"
        except OSError as exc:
            return f"failed: {type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug: keep the service alive, keep the traceback
            log.exception("%s job crashed", name)
            return f"crashed: {type(exc).__name__}: {exc}"
        finally:
            self.idle.set()

    def poll_job(self) -> str:
        return self._guarded("poll", lambda _lock: self._poll(self.clock()))

    def _poll(self, now: datetime) -> str:
        from briefing.pipeline import extract, poll

        outcomes = poll(self.config, self.output, now)
        failing = sum(is_failing(o.status) for o in outcomes)
        line = (
            f"polled {len(outcomes)} feeds: {sum(o.new for o in outcomes)} new, "
            f"{sum(o.revised for o in outcomes)} revised, {failing} failing"
        )
        if self._stopping():
            return f"ok: {line} (stopped before extraction)"
        stats = extract(self.config, self.output, now)
        return f"ok: {line}; extracted {stats.entries}"

    def build_job(self, at: datetime | None = None) -> str:
        """Poll, build and archive, then deliver; ``at`` ends the window (catch-up), else now."""
        return self._guarded("build", lambda _lock: self._build(at))

    def _build(self, at: datetime | None) -> str:
        from briefing.pipeline import build

        now = self.clock()
        end = at or now
        polled = self._poll(now)
        if self._stopping():
            return f"stopped after polling ({polled})"
        result = build(self.config, self.output, end)
        line = f"ok: briefing {result.briefing.date}, {len(result.briefing.stories)} stories"
        if not self.send or self._stopping():
            return line
        return self._deliver(result.briefing, now, line[4:])

    def _deliver(self, briefing: Any, now: datetime, done: str) -> str:
        """Deliver ``briefing``; the job's line: ``done``, then what was sent or why it was
        held."""
        from briefing.deliver.send import DeliveryHeld, deliver

        try:
            outcomes = deliver(
                self.config,
                self.output,
                briefing,
                now,
                channel=self.channel,
                sender=self.sender,
                should_stop=self._stopping,
            )
        except DeliveryHeld as held:
            return f"ok: {done}; delivery held: {held}"  # the review job sends it later
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        failed = counts.get("failed", 0)
        return f"{'failed' if failed else 'ok'}: {done}; delivery: {summary or 'nobody'}"

    def review_job(self) -> str:
        """With ``review.required``: deliver the latest day once its gate opens (approved, or
        its deadline passed with ``on_deadline: send``). "" when there is nothing to do, which
        is most minutes: the check reads the store without taking the work lock."""
        from briefing.deliver.send import all_delivered
        from briefing.review.actions import built_days
        from briefing.review.gate import delivery_gate

        days = built_days(self.output)
        if not self.send or not days or self._stopping():
            return ""
        day, now = days[-1], self.clock()
        if all_delivered(self.config, self.output, day):
            return ""
        if not delivery_gate(self.config, self.output, day, now).open:
            return ""
        return self._guarded("review", lambda _lock: self._deliver_day(day, now))

    def _deliver_day(self, day: str, now: datetime) -> str:
        from briefing.pipeline import composed
        from briefing.review.actions import load_day

        archived = load_day(self.output, day)
        end = archived.window_end
        briefing = composed(self.config, self.output, end, end - archived.window_start)
        return self._deliver(briefing, now, f"briefing {day}")


# --- the scheduler --------------------------------------------------------------------------


def make_scheduler(service: Service, now: datetime) -> BackgroundScheduler:
    """A scheduler with the poll job, one build job per trigger and, if due, a catch-up build."""
    config = service.config
    zone = config.zone
    scheduler = BackgroundScheduler(
        timezone=zone,
        # One worker: jobs never overlap, so a build never races a poll on the store.
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(config.schedule.misfire_delta.total_seconds()),
        },
    )
    scheduler.add_job(
        service.poll_job,
        poll_trigger(config.schedule, zone),
        id="poll",
        name="poll",
        next_run_time=now,  # poll right away: whatever came in while we were down
    )
    for number, trigger in enumerate(build_triggers(config.schedule, zone)):
        scheduler.add_job(service.build_job, trigger, id=f"build-{number}", name="build")
    if config.review is not None and config.review.required and service.send:
        # A held day goes out within a minute of its approval or deadline.
        every_minute = IntervalTrigger(seconds=60, timezone=zone)
        scheduler.add_job(service.review_job, every_minute, id="review", name="review")
    slot = catch_up_slot(config, service.output, now)
    if slot is not None:
        log.info(
            "catch-up: the build of %s was missed; building it now",
            slot.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        )
        scheduler.add_job(
            service.build_job,
            "date",
            run_date=now,
            args=[slot],
            id="catch-up",
            name="catch-up build",
            misfire_grace_time=None,  # it is already late by design
        )

    def report(event: JobExecutionEvent) -> None:
        # get_jobs, not get_job: a finished one-off job (the catch-up) is gone by now.
        job = next((j for j in scheduler.get_jobs() if j.id == event.job_id), None)
        following = job.next_run_time if job is not None else None
        upcoming = [j.next_run_time for j in scheduler.get_jobs() if j.next_run_time]
        if following is None and upcoming:
            following = min(upcoming)
        when = following.strftime("%Y-%m-%d %H:%M:%S %Z") if following else "none"
        name = job.name if job is not None else event.job_id
        if event.code != EVENT_JOB_MISSED and event.retval == "":
            return  # a review check that found nothing to do: not worth a line a minute
        if event.code == EVENT_JOB_MISSED:
            late = event.scheduled_run_time.strftime("%H:%M:%S %Z")
            log.warning("%s: missed (due %s, past misfire_grace); next %s", name, late, when)
        else:
            log.info("%s: %s; next %s", name, event.retval, when)

    scheduler.add_listener(report, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    return scheduler


def _clean_temporaries(output: Path) -> None:
    """Remove what an interrupted ``write_atomic`` left: ``.NAME.RANDOM.tmp`` files."""
    for pattern in (".*.tmp", "*/.*.tmp"):
        for path in output.glob(pattern):
            path.unlink(missing_ok=True)


def serve(
    config: Config,
    output: Path,
    *,
    service: Service | None = None,
    install_signals: bool = True,
    hard_exit: Callable[[int], None] = os._exit,
) -> int:
    """Run until SIGTERM/SIGINT (or ``service.stop``); return the exit code (0)."""
    service = service or Service(config, output)
    lock = serve_lock(output)
    lock.acquire(0)  # a second ``serve`` on this folder stops here with LockBusy
    try:
        start = work_lock(output, "serve")
        try:
            start.acquire(0)
        except BriefingError:
            pass  # a manual run is writing: its temporaries are not leftovers
        else:
            _clean_temporaries(output)
            start.release()
        previous: dict[int, Any] = {}
        if install_signals:

            def on_signal(signum: int, _frame: FrameType | None) -> None:
                log.info("%s: stopping", signal.Signals(signum).name)
                service.stop.set()

            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, on_signal)
        scheduler = make_scheduler(service, service.clock())
        scheduler.start()
        first = next_build(build_triggers(config.schedule, config.zone), service.clock())
        log.info(
            "serving %s: polling every %s, next build %s",
            output,
            config.schedule.poll_every,
            first.astimezone(config.zone).strftime("%Y-%m-%d %H:%M %Z") if first else "never",
        )
        try:
            # A timed wait: signal handlers run in this thread between waits.
            while not service.stop.wait(0.5):
                pass
        finally:
            scheduler.shutdown(wait=False)
            for number, handler in previous.items():
                signal.signal(number, handler)
        if not service.idle.wait(STOP_GRACE):
            log.warning(
                "a job is still running after %gs; exiting anyway (files are replaced "
                "atomically and the store is transactional: nothing is half-written)",
                STOP_GRACE,
            )
            logging.shutdown()
            hard_exit(0)
        log.info("stopped")
        return 0
    finally:
        lock.release()
