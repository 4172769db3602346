"""Threat-intelligence tagging (the pipeline's tag stage): text -> ``briefing.models.Entities``.

``get_tagger()`` loads the offline knowledge base once per process; ``Tagger.tag(text,
title="", source_host=None)`` returns the entities. ``briefing.intel.iocs`` has ``defang`` /
``refang`` for display; ``briefing.intel.commands`` the ``tag`` and ``kb`` CLI commands.
"""

from typing import TYPE_CHECKING, Any

__all__ = ["Tagger", "get_tagger"]

if TYPE_CHECKING:
    from briefing.intel.tagger import Tagger, get_tagger
else:

    def __getattr__(name: str) -> Any:
        # The tagger module (~50 ms to import) only when asked for: every ``briefing``
        # command imports this package for ``iocs`` or the ``tag`` command, few of them tag.
        if name in __all__:
            from briefing.intel import tagger

            return getattr(tagger, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
