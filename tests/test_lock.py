"""The single-instance lock: contention, a bounded wait on an injected clock, release on exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing.lock import Lock, LockBusy


class FakeClock:
    """Time that moves only when the lock "sleeps": no test waits for real."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_second_holder_gives_up_at_once_with_who_holds_it(tmp_path: Path) -> None:
    first = Lock(tmp_path / ".work.lock", "serve poll job")
    first.acquire()
    second = Lock(tmp_path / ".work.lock", "run")
    with pytest.raises(LockBusy) as caught:
        second.acquire(0)
    message = str(caught.value)
    assert "'briefing serve poll job'" in message and "already working" in message
    assert "\n" not in message
    first.release()
    second.acquire(0)  # free again
    assert second.held
    second.release()


def test_wait_is_bounded_by_the_clock(tmp_path: Path) -> None:
    holder = Lock(tmp_path / "x.lock", "serve")
    holder.acquire()
    clock = FakeClock()
    waiter = Lock(tmp_path / "x.lock", "run", clock=clock, sleep=clock.sleep, poll_interval=1.0)
    with pytest.raises(LockBusy, match="after waiting 5s"):
        waiter.acquire(5)
    assert sum(clock.slept) == 5.0
    holder.release()


def test_wait_succeeds_when_the_holder_lets_go(tmp_path: Path) -> None:
    holder = Lock(tmp_path / "x.lock", "serve")
    holder.acquire()
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 3:
            holder.release()

    waiter = Lock(tmp_path / "x.lock", "run", clock=clock, sleep=sleep, poll_interval=1.0)
    waiter.acquire(60)
    assert waiter.held and clock.now == 3
    waiter.release()


def test_should_stop_ends_the_wait(tmp_path: Path) -> None:
    with Lock(tmp_path / "x.lock", "serve"):
        clock = FakeClock()
        waiter = Lock(tmp_path / "x.lock", "job", clock=clock, sleep=clock.sleep)
        with pytest.raises(LockBusy):
            waiter.acquire(3600, should_stop=lambda: True)
        assert clock.slept == []


def test_cli_commands_refuse_while_the_folder_is_locked(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from briefing.cli import cli
    from tests.conftest import write_config

    config = write_config(tmp_path, "http://127.0.0.1:9")
    out = tmp_path / "out"
    with Lock(out / ".work.lock", "serve build job"):
        for command in ("run", "poll", "build"):
            args = [command, "-c", str(config), "-o", str(out), "--wait", "0"]
            result = CliRunner().invoke(cli, args)
            assert result.exit_code == 1, result.output
            assert "'briefing serve build job'" in result.output
