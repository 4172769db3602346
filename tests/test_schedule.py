"""Scheduler logic on an injected clock: trigger times across DST, catch-up, coalescing, stop.

Nothing here waits for a schedule: trigger arithmetic is pure, jobs are called directly with a
pinned clock, and ``serve`` is run with its stop event already set.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from briefing.config import Config, ScheduleConfig, load_config
from briefing.lock import Lock, LockBusy
from briefing.schedule import (
    Service,
    build_triggers,
    catch_up_slot,
    fire_times,
    last_slot,
    make_scheduler,
    serve,
)
from briefing.store import Store, default_path

AMS = ZoneInfo("Europe/Amsterdam")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_seven_oclock_stays_seven_across_both_dst_changes() -> None:
    triggers = build_triggers(ScheduleConfig(build_at=("07:00",)), AMS)
    spring = fire_times(triggers, utc(2026, 3, 28, 0), utc(2026, 3, 30, 23))
    assert spring == [utc(2026, 3, 28, 6), utc(2026, 3, 29, 5), utc(2026, 3, 30, 5)]
    autumn = fire_times(triggers, utc(2026, 10, 24, 0), utc(2026, 10, 26, 23))
    assert autumn == [utc(2026, 10, 24, 5), utc(2026, 10, 25, 6), utc(2026, 10, 26, 6)]
    assert all(t.astimezone(AMS).hour == 7 for t in spring + autumn)


def test_a_time_missing_on_the_spring_night_fires_once() -> None:
    triggers = build_triggers(ScheduleConfig(build_at=("02:30",)), AMS)
    fires = fire_times(triggers, utc(2026, 3, 28, 12), utc(2026, 3, 29, 23))
    assert fires == [utc(2026, 3, 29, 1, 30)]  # 03:30 CEST: the first moment after 02:30


def test_an_hour_repeated_on_the_autumn_night_fires_once() -> None:
    # APScheduler 3.11 alone fires 02:30 twice that night and then never moves on again.
    triggers = build_triggers(ScheduleConfig(build_at=("02:30",)), AMS)
    fires = fire_times(triggers, utc(2026, 10, 24, 12), utc(2026, 10, 27, 12))
    assert fires == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30), utc(2026, 10, 27, 1, 30)]


def test_crontab_weekdays_mean_what_crontab_means() -> None:
    # APScheduler 3 alone would read 1-5 as Tuesday to Saturday.
    triggers = build_triggers(ScheduleConfig(build_at="0 7 * * 1-5"), AMS)
    fires = fire_times(triggers, utc(2026, 3, 1, 0), utc(2026, 3, 8, 23))
    assert [t.astimezone(AMS).strftime("%a %H:%M") for t in fires] == [
        "Mon 07:00",
        "Tue 07:00",
        "Wed 07:00",
        "Thu 07:00",
        "Fri 07:00",
    ]
    sundays = build_triggers(ScheduleConfig(build_at="30 6 * * 0,7"), AMS)
    assert {
        t.astimezone(AMS).strftime("%a")
        for t in fire_times(sundays, utc(2026, 3, 1, 0), utc(2026, 3, 31, 0))
    } == {"Sun"}


def test_missed_slots_coalesce_into_the_latest_within_grace() -> None:
    triggers = build_triggers(ScheduleConfig(build_at=("07:00", "07:30")), AMS)
    now = utc(2026, 3, 10, 9)  # 10:00 in Amsterdam: both slots were missed
    assert last_slot(triggers, now, timedelta(hours=12)) == utc(2026, 3, 10, 6, 30)
    assert last_slot(triggers, now, timedelta(hours=3)) == utc(2026, 3, 10, 6, 30)
    assert last_slot(triggers, now, timedelta(hours=2)) is None  # too long ago
    assert last_slot(triggers, utc(2026, 3, 10, 6, 30), timedelta(0)) == utc(2026, 3, 10, 6, 30)


def _config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "timezone: Europe/Amsterdam\n"
        'schedule:\n  poll_every: 30m\n  build_at: ["07:00"]\n  catch_up: 6h\n'
        f"{extra}"
        "feeds:\n  - name: Alpha\n    url: http://127.0.0.1:9/feed.xml\n",
        encoding="utf-8",
    )
    return load_config(path)


def _archive(out: Path, date: str, end: datetime) -> None:
    """A briefing of ``date`` whose window ended at ``end`` in the archive."""
    from dataclasses import replace

    from benchmarks.samples import synthetic_briefing
    from briefing.serialize import dumps

    briefing = replace(
        synthetic_briefing(1), date=date, window_start=end - timedelta(days=1), window_end=end
    )
    (out / date).mkdir(parents=True, exist_ok=True)
    (out / date / "briefing.json").write_text(dumps(briefing), encoding="utf-8")


EMAIL = (
    "email:\n  smtp_host: 127.0.0.1\n  security: none\n  from: b@example.org\n"
    "  recipients:\n    - address: soc@example.org\n"
)


def test_catch_up_when_the_build_was_missed(tmp_path: Path) -> None:
    config, out = _config(tmp_path), tmp_path / "out"
    slot = utc(2026, 3, 10, 6)  # 07:00 CET
    assert catch_up_slot(config, out, utc(2026, 3, 10, 9)) == slot
    assert catch_up_slot(config, out, utc(2026, 3, 10, 13)) is None  # beyond catch_up: 6h
    assert catch_up_slot(config, out, utc(2026, 3, 10, 5, 59)) is None  # yesterday's is >6h ago
    _archive(out, "2026-03-10", utc(2026, 3, 10, 5))  # an earlier manual build that day
    assert catch_up_slot(config, out, utc(2026, 3, 10, 9)) == slot
    _archive(out, "2026-03-10", utc(2026, 3, 10, 6, 0, 2))  # the scheduled build happened
    assert catch_up_slot(config, out, utc(2026, 3, 10, 9)) is None


def test_catch_up_when_built_but_not_sent(tmp_path: Path) -> None:
    config, out = _config(tmp_path, EMAIL), tmp_path / "out"
    _archive(out, "2026-03-10", utc(2026, 3, 10, 6, 0, 2))
    assert catch_up_slot(config, out, utc(2026, 3, 10, 9)) == utc(2026, 3, 10, 6)
    with Store.open(default_path(out)) as store:
        store.record_delivery(
            "2026-03-10",
            "SOC@example.org",
            "email",
            status="sent",
            now=utc(2026, 3, 10, 6),
            stories=1,
        )
    assert catch_up_slot(config, out, utc(2026, 3, 10, 9)) is None


def test_scheduler_jobs_coalesce_and_catch_up_is_added(tmp_path: Path) -> None:
    config, out = _config(tmp_path), tmp_path / "out"
    now = utc(2026, 3, 10, 9)
    scheduler = make_scheduler(Service(config, out, clock=lambda: now), now)
    scheduler.start(paused=True)  # job defaults are applied on start; paused: nothing runs
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert set(jobs) == {"poll", "build-0", "catch-up"}
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    assert jobs["poll"].misfire_grace_time == 15 * 60
    assert jobs["catch-up"].args == (utc(2026, 3, 10, 6),)


class RecordingService(Service):
    """A service whose work is recorded instead of done (the pipeline has its own tests)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.calls: list[tuple[str, datetime, datetime | None]] = []

    def _poll(self, now: datetime) -> str:
        self.calls.append(("poll", now, None))
        return "ok: polled"

    def _build(self, at: datetime | None) -> str:
        self.calls.append(("build", self.clock(), at))
        return "ok: built"


def test_jobs_use_the_injected_clock_and_the_lock(tmp_path: Path) -> None:
    config, out = _config(tmp_path), tmp_path / "out"
    now = utc(2026, 3, 10, 6)
    service = RecordingService(config, out, clock=lambda: now, lock_wait=0)
    assert service.poll_job() == "ok: polled"
    assert service.build_job(utc(2026, 3, 10, 5)) == "ok: built"
    assert service.calls == [("poll", now, None), ("build", now, utc(2026, 3, 10, 5))]
    with Lock(out / ".work.lock", "run"):
        outcome = service.poll_job()
    assert outcome.startswith("failed: ") and "'briefing run'" in outcome
    service.stop.set()
    assert service.build_job() == "skipped: stopping"


def test_serve_stops_on_the_stop_event_and_returns_zero(tmp_path: Path) -> None:
    config, out = _config(tmp_path), tmp_path / "out"
    now = utc(2026, 3, 10, 4)  # before the day's build: no catch-up job
    service = RecordingService(config, out, clock=lambda: now, lock_wait=0)
    (out / "2026-03-10").mkdir(parents=True)
    leftover = out / "2026-03-10" / ".briefing.pdf.abc123.tmp"
    leftover.write_bytes(b"half")
    service.stop.set()
    assert serve(config, out, service=service, install_signals=False) == 0
    assert not leftover.exists()  # an interrupted write's temporary is cleaned up


def test_a_second_serve_is_refused(tmp_path: Path) -> None:
    config, out = _config(tmp_path), tmp_path / "out"
    with Lock(out / ".serve.lock", "serve"), pytest.raises(LockBusy, match="already working"):
        serve(config, out, service=Service(config, out), install_signals=False)


def test_serve_exits_even_if_a_job_hangs(tmp_path: Path) -> None:
    config, out = _config(tmp_path), tmp_path / "out"
    now = utc(2026, 3, 10, 4)
    service = RecordingService(config, out, clock=lambda: now, lock_wait=0)

    class NeverIdle(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            return False  # as if a job were stuck in a slow fetch

    service.idle = NeverIdle()
    service.stop.set()
    exits: list[int] = []
    assert serve(config, out, service=service, install_signals=False, hard_exit=exits.append) == 0
    assert exits == [0]
