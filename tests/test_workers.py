from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures.process import BrokenProcessPool

import pytest

from briefing.ingest.workers import WarmPool
from tests.conftest import wait_until


def test_a_pool_whose_worker_died_says_so_and_is_not_ready() -> None:
    pool = WarmPool(1, ["os"])
    try:
        wait_until(lambda: pool.ready or pool.error is not None, "a worker up")  # well under 1 s
        assert pool.error is None
        assert asyncio.run(pool.run(os.getpid)) != os.getpid()
        assert pool._executor is not None
        for pid in list(pool._executor._processes):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            asyncio.run(pool.run(os.getpid))
        assert pool.broken and not pool.ready  # callers now work inline
    finally:
        pool.close()
