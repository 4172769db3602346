"""Threat-intelligence tagging (the pipeline's tag stage): text -> ``briefing.models.Entities``.

``get_tagger()`` loads the offline knowledge base once per process; ``Tagger.tag(text,
title="", source_host=None)`` returns the entities. ``tagger_version()`` names what produced
them (stored beside each article's entities, so a build re-tags only what an older tagger
tagged); ``briefing.intel.stage`` is the stage itself. ``briefing.intel.iocs`` has ``defang`` /
``refang`` for display; ``briefing.intel.commands`` the ``tag`` and ``kb`` CLI commands.
"""

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

__all__ = ["Tagger", "get_tagger", "tagger_version"]

if TYPE_CHECKING:
    from briefing.intel.tagger import Tagger, get_tagger
else:

    def __getattr__(name: str) -> Any:
        # The tagger module (~50 ms to import) only when asked for: every ``briefing``
        # command imports this package for ``iocs`` or the ``tag`` command, few of them tag.
        if name in ("Tagger", "get_tagger"):
            from briefing.intel import tagger

            return getattr(tagger, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    # The bounds the tag stage puts on each article's entities decide them too.
    files = [*sorted(here.rglob("*")), here.parent / "bounds.py"]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(here.parent).as_posix()}\n".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.digest()


def tagger_version() -> str:
    """Changes whenever anything that decides the entities changes: a code or data file of this
    package or ``briefing/bounds.py`` (by content, so a fresh checkout of the same code tags
    nothing again) or the knowledge base's source clusters (by ``kb``'s own cache signature,
    read every time: a ``kb update`` under ``serve`` counts at the next build)."""
    from briefing.intel.kb import _signature, cluster_files

    digest = hashlib.sha256(_code_digest())
    digest.update(_signature(cluster_files()).encode())
    return digest.hexdigest()[:16]
