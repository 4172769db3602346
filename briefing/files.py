"""Atomic file writes: a reader (or a crash) never sees half a file.

In: a path and its bytes or text. Out: the file, replaced in one ``rename``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

# A temporary file this much older than now is a killed writer's (a write takes well under a
# second; runs on one folder are serialised by the work lock).
_STALE_SECONDS = 3600.0


def write_atomic(path: Path, data: bytes | str, *, sync: bool = True) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename it over ``path``.

    A ``kill -9`` between the two leaves the temporary file behind (hidden, ``.NAME.*.tmp``;
    the file itself is whole, old or new): the next write of ``path`` removes such leftovers.
    ``sync`` False skips the fsync, for files rebuilt from others (the archive's pages): a
    reader still never sees half a file, but after a power cut the file may be empty until
    the next build rewrites it (an fsync costs ~7 ms on a busy disk; a day touches ~150 pages)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - _STALE_SECONDS
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
