"""The one retry policy: waits, Retry-After in both forms, giving up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from briefing.retry import Backoff, TryAgain, WaitTooLong, acall, call, retry_after

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = NOW.timestamp()
    assert retry_after("120", now) == 120.0
    assert retry_after(" 7 ", now) == 7.0
    assert retry_after("Tue, 10 Mar 2026 08:01:30 GMT", now) == 90.0
    assert retry_after(format_datetime(NOW, usegmt=True), now) == 0.0
    assert retry_after("Tue, 10 Mar 2026 07:00:00 GMT", now) == 0.0  # already past
    for unreadable in (None, "", "soon", "-5", "1.5", "Tue, 99 Foo 2026"):
        assert retry_after(unreadable, now) is None, unreadable


def flaky(answers: list[BaseException | str]) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        answer = answers[len(calls) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return calls, attempt


def test_doubling_waits_at_least_what_was_asked() -> None:
    calls, attempt = flaky(
        [TryAgain(OSError("a")), TryAgain(OSError("b"), asked=9.0), TryAgain(OSError("c")), "ok"]
    )
    waits: list[float] = []
    told: list[tuple[str, int, float]] = []
    result = call(
        attempt,
        Backoff(retries=3, first=1.0),
        sleep=waits.append,
        on_retry=lambda error, n, wait: told.append((str(error), n, wait)),
    )
    assert result == "ok" and len(calls) == 4
    assert waits == [1.0, 9.0, 4.0]
    assert told == [("a", 1, 1.0), ("b", 2, 9.0), ("c", 3, 4.0)]


def test_the_last_error_is_raised_when_the_retries_are_used_up() -> None:
    calls, attempt = flaky([TryAgain(OSError("first")), TryAgain(OSError("last"))])
    with pytest.raises(OSError, match="last"):
        call(attempt, Backoff(retries=1, first=0.0), sleep=lambda _s: None)
    assert len(calls) == 2


def test_other_errors_are_not_retried() -> None:
    calls, attempt = flaky([ValueError("no"), "never"])
    with pytest.raises(ValueError):
        call(attempt, Backoff(retries=5, first=0.0), sleep=lambda _s: None)
    assert len(calls) == 1


def test_a_wait_longer_than_allowed_is_not_waited() -> None:
    calls, attempt = flaky([TryAgain(OSError("busy"), asked=3600.0), "never"])
    waits: list[float] = []
    with pytest.raises(WaitTooLong, match=r"busy \(asked to retry after 3600 s\)"):
        call(attempt, Backoff(retries=3, first=1.0, longest=60.0), sleep=waits.append)
    assert waits == [] and len(calls) == 1


def test_async_attempts_follow_the_same_policy() -> None:
    answers: list[BaseException | str] = [TryAgain(OSError("x"), asked=2.0), "ok"]
    waits: list[float] = []

    async def attempt() -> str:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert asyncio.run(acall(attempt, Backoff(retries=1, first=0.5), sleep=sleep)) == "ok"
    assert waits == [2.0]
