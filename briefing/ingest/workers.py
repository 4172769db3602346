"""A process pool that starts in the background, for the CPU work of poll (feedparser) and
extract (trafilatura).

In: how many workers and an initializer that warms a worker. Out: a ``WarmPool`` whose
``ready`` says whether its workers answered; until then the caller does the work inline.

Why in the background: starting the forkserver (a fresh interpreter importing feedparser and
trafilatura) and forking the workers takes a few hundred milliseconds, and
``ProcessPoolExecutor.submit`` blocks the caller until the first worker exists. Started in a
thread before the first fetch, that time overlaps the network wait instead of adding to it.

Why forkserver: forking a process that runs an event loop and server threads can deadlock, and
the forkserver's preloaded modules make each worker cheap to start. The forkserver starts once
a process, so the first pool's ``preload`` wins; a later pool's workers import what they need
themselves (in parallel, during the first fetches).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import wait as wait_all
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")


def _nothing() -> None:
    """A first task per worker: makes the executor spawn it now, not at the first real task."""


def _worker_init(owner: int, initializer: Callable[[], None] | None) -> None:
    """Each worker, once: watch the process that owns the pool, then warm up.

    A worker whose owner is killed (``kill -9``, the OOM killer, a cron timeout) would wait on
    its task queue forever -- it holds that queue's write end itself, so it never reads EOF --
    and keep the forkserver alive with it: ~60 MB left behind per killed run. The watcher ends
    the worker within a second of its owner; the forkserver then sees no client left and ends
    too.
    """

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(owner, 0)  # our own process: allowed while it lives
            except OSError:  # gone (or its pid now another user's process)
                os._exit(0)  # no owner to report to, nothing of ours to flush

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()
    if initializer is not None:
        initializer()


class WarmPool:
    """``workers`` processes started in a background thread; ``run`` awaits one call in them."""

    def __init__(
        self,
        workers: int,
        preload: list[str],
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self.workers = workers
        self._preload = preload
        self._initializer = initializer
        self._executor: ProcessPoolExecutor | None = None
        self._ready = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self.error: BaseException | None = None
        self.broken = False
        self._thread = threading.Thread(target=self._start, name="warm-pool", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            context = multiprocessing.get_context("forkserver")
            # "__main__" too: a worker otherwise re-imports the main script itself (for the
            # ``briefing`` console script, the whole CLI: ~0.3 s a worker, on the cores the poll
            # needs); preloaded, the forkserver imports it once and each worker is a bare fork.
            context.set_forkserver_preload(["__main__", *self._preload])
            with self._lock:
                if self._closed:
                    return
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_worker_init,
                    initargs=(os.getpid(), self._initializer),
                )
                # One task each, submitted at once: each submit spawns a worker (no idle one yet).
                started = [self._executor.submit(_nothing) for _ in range(self.workers)]
            wait_all(started)
            for future in started:
                future.result()
            self._ready.set()
        except BaseException as exc:  # no pool: the caller keeps working inline
            self.error = exc

    @property
    def ready(self) -> bool:
        """Workers up and none has died: a caller works inline while this is false."""
        return self._ready.is_set() and not self.broken

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """``func(*args)`` in a worker; only once ``ready``.

        A worker that dies (out of memory, a crash in C code on hostile input) breaks the
        pool: the calls it held raise ``BrokenProcessPool`` and ``ready`` turns false, so one
        bad feed or page costs its own result, not every later one's."""
        assert self._executor is not None and self.ready
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)
        except BrokenProcessPool:
            self.broken = True
            raise

    def close(self) -> None:
        """Stop the workers (waiting for any running call); safe before the pool is ready."""
        with self._lock:
            self._closed = True
        self._thread.join()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
