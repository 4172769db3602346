"""Threat-intelligence tagging (the pipeline's tag stage): text -> ``briefing.models.Entities``.

``get_tagger()`` loads the offline knowledge base once per process; ``Tagger.tag(text,
title="", source_host=None)`` returns the entities. ``briefing.intel.iocs`` has ``defang`` /
``refang`` for display; ``briefing.intel.commands`` the ``tag`` and ``kb`` CLI commands.
"""

from briefing.intel.tagger import Tagger, get_tagger

__all__ = ["Tagger", "get_tagger"]
