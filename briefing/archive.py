"""Archive stage: the briefings under the output folder -> ``DIR/index.html``.

In: the ``DIR/YYYY-MM-DD/briefing.json`` files already written. Out: the archive's front page,
newest first and grouped by month, with relative links only so the folder can be copied
anywhere. Written atomically.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from briefing.config import Config
from briefing.files import write_atomic
from briefing.render import environment, templates_dir

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class DaySummary:
    date: str
    month: str
    stories: int
    actors: tuple[str, ...]


def archived_days(output: Path) -> list[DaySummary]:
    days = []
    for folder in sorted(output.iterdir()) if output.is_dir() else []:
        data_file = folder / "briefing.json"
        if not (_DAY.match(folder.name) and data_file.is_file()):
            continue
        try:
            data = json.loads(data_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a foreign or damaged file must not break the archive
        actors = tuple(section["name"] for section in data.get("sections", {}).get("actors", []))
        days.append(
            DaySummary(
                date=folder.name,
                month=folder.name[:7],
                stories=len(data.get("stories", [])),
                actors=actors[:8],
            )
        )
    return days


def update_index(config: Config, output: Path) -> Path:
    env = environment(config)
    html = env.get_template("index.html").render(
        title=config.title,
        days=archived_days(output),
        css=(templates_dir() / "briefing.css").read_text(encoding="utf-8"),
    )
    path = output / "index.html"
    write_atomic(path, html)
    return path
