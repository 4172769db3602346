"""Retries: one policy for every call that may be tried again (a feed or page fetch, an
e-mail, a webhook POST).

An attempt that failed in a way worth retrying raises ``TryAgain`` with the error and the wait
the other side asked for (``Retry-After``, read by ``retry_after`` in both its forms: seconds
or an HTTP date). ``Backoff`` decides the wait before retry ``n`` (counted from 0):
``first * 2**n``, or what the other side asked if that is longer. A wait longer than
``longest`` is not waited: ``call`` raises ``WaitTooLong`` and the caller reports the failure
(a poll must not hang an hour on one feed, nor a delivery on one webhook). When the retries
are used up the last attempt's own error is raised. ``call`` runs a blocking attempt,
``acall`` an async one; ``sleep`` is injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
OnRetry = Callable[[BaseException, int, float], None]  # (error, retry number from 1, wait)


class TryAgain(Exception):
    """Raised by an attempt: ``error`` may pass if tried again, after at least ``asked`` s."""

    def __init__(self, error: BaseException, asked: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.asked = asked


class WaitTooLong(Exception):
    """The other side asked for a wait longer than the policy allows."""

    def __init__(self, error: BaseException, wait: float) -> None:
        super().__init__(f"{error} (asked to retry after {wait:.0f} s)")
        self.error = error
        self.wait = wait


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delay-seconds ("120") or an HTTP date ("Wed, 21
    Oct 2026 07:28:00 GMT", counted from ``now``, epoch seconds, default the clock); None when
    absent or unreadable. A date in the past is 0."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True)
class Backoff:
    retries: int  # attempts after the first
    first: float  # seconds before the first retry, doubled before each next one
    longest: float = math.inf  # a longer wait is not waited (``WaitTooLong``)

    def wait(self, retry: int, asked: float | None) -> float:
        return max(self.first * 2.0**retry, asked or 0.0)


def _next_wait(backoff: Backoff, retry: int, again: TryAgain) -> float:
    if retry >= backoff.retries:
        raise again.error from None
    wait = backoff.wait(retry, again.asked)
    if wait > backoff.longest:
        raise WaitTooLong(again.error, wait) from again.error
    return wait


def call(
    attempt: Callable[[], T],
    backoff: Backoff,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: OnRetry | None = None,
) -> T:
    retry = 0
    while True:
        try:
            return attempt()
        except TryAgain as again:
            wait = _next_wait(backoff, retry, again)
            retry += 1
            if on_retry is not None:
                on_retry(again.error, retry, wait)
            sleep(wait)


async def acall(
    attempt: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: OnRetry | None = None,
) -> T:
    retry = 0
    while True:
        try:
            return await attempt()
        except TryAgain as again:
            wait = _next_wait(backoff, retry, again)
            retry += 1
            if on_retry is not None:
                on_retry(again.error, retry, wait)
            await sleep(wait)
