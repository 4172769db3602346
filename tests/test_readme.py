"""The README's CLI reference is the ``--help`` of every command; this test keeps them equal."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
from click.testing import CliRunner

from briefing.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
START = (
    "<!-- cli-reference:start (generated from --help; tests/test_readme.py keeps it in step) -->"
)
END = "<!-- cli-reference:end -->"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            out.extend(_commands(command, (*prefix, name)))
        else:
            out.append((*prefix, name))
    return out


def reference() -> str:
    runner = CliRunner()
    parts = []
    for path in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"], prog_name="briefing", terminal_width=100)
        assert result.exit_code == 0, result.output
        title = " ".join(("briefing", *path))
        parts.append(f"### `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def test_every_command_has_help_text() -> None:
    def walk(command: click.Command, name: str) -> None:
        assert command.help or command.short_help, f"{name} has no help text"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"{name} {param.opts} has no help text"
        if isinstance(command, click.Group):
            for sub, child in command.commands.items():
                walk(child, f"{name} {sub}")

    walk(cli, "briefing")


def test_readme_cli_reference_matches_help() -> None:
    text = README.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.S)
    assert pattern.search(text), "README lost its cli-reference markers"
    wanted = f"{START}\n{reference()}{END}"
    if os.environ.get("UPDATE_README"):
        README.write_text(pattern.sub(lambda _m: wanted, text), encoding="utf-8")
    assert pattern.search(text).group(0) == wanted, (  # type: ignore[union-attr]
        "README's CLI reference is stale: run UPDATE_README=1 pytest tests/test_readme.py"
    )
