"""Single-instance locks: one writer of an output folder at a time.

In: a lock file's path (under the output folder) and how long to wait. Out: a held lock (a
context manager) or ``LockBusy`` with one line naming who holds it.

``fcntl.flock`` on an open file: the kernel drops the lock when the holder exits, however it
exits, so a crashed run never leaves a stale lock behind. The file holds the holder's pid and
command only so the message can name them; the lock is the ``flock``, not the file's existence.

Two lock files are used (see ``cli.py``): ``.work.lock`` is held by every command that polls,
builds or sends, for as long as it works (``briefing serve`` takes it per job, so a manual
``briefing run`` in between is fine); ``.serve.lock`` is held by ``briefing serve`` for its
whole life, so only one scheduler runs per output folder.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from briefing.errors import BriefingError

WORK_LOCK = ".work.lock"
SERVE_LOCK = ".serve.lock"


class LockBusy(BriefingError):
    """Another process holds the lock; ``str(err)`` says which and how long we waited."""

    exit_code = 1


class Lock:
    """An exclusive ``flock`` on ``path``; ``acquire`` waits at most ``wait`` seconds."""

    def __init__(
        self,
        path: Path,
        label: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval: float = 0.2,
    ) -> None:
        self.path = path
        self.label = label  # what we are, for the other side's message: "run", "serve"...
        self._clock = clock
        self._sleep = sleep
        self._interval = poll_interval
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float = 0.0, should_stop: Callable[[], bool] | None = None) -> None:
        """Take the lock, retrying for up to ``wait`` seconds; raise ``LockBusy`` otherwise.

        ``should_stop`` ends the wait early (a scheduler being told to stop).
        """
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = self._clock() + max(wait, 0.0)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    # Polling rather than a blocking flock keeps the wait bounded and stoppable.
                    if self._clock() >= deadline or (should_stop is not None and should_stop()):
                        raise LockBusy(self._busy_message(wait)) from None
                    self._sleep(min(self._interval, max(deadline - self._clock(), 0.0)))
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {self.label}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        # The file stays: deleting it would race another process that has just opened it.
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing drops the flock

    def _busy_message(self, wait: float) -> str:
        try:
            holder = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            holder = ""
        pid, _, label = holder.partition(" ")
        who = f"'briefing {label}' (pid {pid})" if pid.isdigit() else "another briefing"
        waited = f" after waiting {wait:g}s" if wait > 0 else ""
        return f"{self.path}: {who} is already working on this output folder; gave up{waited}"

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def work_lock(output: Path, label: str) -> Lock:
    return Lock(output / WORK_LOCK, label)


def serve_lock(output: Path) -> Lock:
    return Lock(output / SERVE_LOCK, "serve")
