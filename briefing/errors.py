"""The exception tree of the library; only ``cli.py`` turns these into exit codes.

BriefingError                 anything the library reports to a user
├── ConfigError               feeds.yaml is missing, unreadable or invalid   (exit 2)
├── StoreError                the SQLite store cannot be opened or migrated   (exit 1)
├── KnowledgeBaseError        a cluster file of the KB is missing or damaged  (exit 1;
│                             defined in ``intel/kb.py``, beside what raises it)
└── NothingToBuild            no briefing could be produced                   (exit 1)

PermanentFailure is internal to delivery: a server refused for good, so no retry.
"""

from __future__ import annotations


class BriefingError(Exception):
    """Base class: the message is one line meant for the user."""

    exit_code = 1


class ConfigError(BriefingError):
    """``str(err)`` is ``FILE:LINE: FIELD: PROBLEM``."""

    exit_code = 2


class StoreError(BriefingError):
    pass


class NothingToBuild(BriefingError):
    pass


class PermanentFailure(Exception):
    """A delivery the server refused for good (SMTP 5xx, a refused login, a webhook's 4xx):
    retrying will not help. Caught in ``deliver`` and reported as a failed outcome."""
