"""The command-line options every command that reads a config takes (``--config``,
``--output``): one definition for ``briefing`` (``cli``) and ``briefing review``
(``review.commands``), which ``cli`` imports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("feeds.yaml"),
    show_default=True,
    help="The feeds and settings file.",
)


def config_options(func: F) -> F:
    func = click.option(
        "--output",
        "-o",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("output"),
        show_default=True,
        help="Output folder, safe to publish: briefings and archive (the store lives outside it).",
    )(func)
    return config_option(func)
