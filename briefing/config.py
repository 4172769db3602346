"""Config stage: ``feeds.yaml`` -> a frozen, validated ``Config``.

Pydantic sits only at this boundary (``extra="forbid"`` everywhere, so a typo is an error, not a
silently ignored key). Every error becomes one ``ConfigError`` line ``FILE:LINE: FIELD: PROBLEM``;
the line comes from the YAML node the failing field was read from. Secrets are never read from
the file: settings such as ``password_env`` name an environment variable instead.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from briefing.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"24h"``, ``"7d"``, ``"90s"`` -> timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 24h, 7d)")
    value = float(match.group(1)) * _UNITS[match.group(2)]
    if value <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return timedelta(seconds=value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedConfig(_Model):
    """One feed: ``name`` is its key in the store and the briefing."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    url: str
    tags: tuple[str, ...] = ()
    weight: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value


class PollConfig(_Model):
    """Limits for every HTTP fetch, feeds and article pages alike."""

    concurrency: Annotated[int, Field(ge=1, le=512)] = 32
    per_host: Annotated[int, Field(ge=1, le=64)] = 4
    connect_timeout: Annotated[float, Field(gt=0, le=120)] = 10.0
    read_timeout: Annotated[float, Field(gt=0, le=300)] = 20.0
    total_timeout: Annotated[float, Field(gt=0, le=600)] = 45.0
    max_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    max_retry_wait: Annotated[float, Field(ge=0, le=300)] = 30.0


class ExtractConfig(_Model):
    fetch_pages: bool = True
    # Items older than this (a feed's back catalogue on first poll) keep the feed's own text:
    # fetching dozens of old pages per feed would cost more than any briefing needs.
    max_age: str = "7d"

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value
    # 0 means one worker per CPU core.
    workers: Annotated[int, Field(ge=0, le=64)] = 0


class Config(_Model):
    """The whole configuration; only ``feeds`` is required."""

    feeds: Annotated[tuple[FeedConfig, ...], Field(min_length=1)]
    title: str = "Daily Threat Briefing"
    timezone: str = "UTC"
    tlp: Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"] = (
        "TLP:CLEAR"
    )
    window: str = "24h"
    page_size: Literal["A4", "Letter"] = "A4"
    store: str | None = None  # path of the SQLite file; default OUTPUT/briefing.sqlite3
    templates: str | None = None  # a folder whose templates override the defaults by name
    poll: PollConfig = PollConfig()
    extract: ExtractConfig = ExtractConfig()

    # Set by ``load_config``: where the file was, to resolve relative paths against it.
    source: str = Field(default="", exclude=True)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for feed in self.feeds:
            if feed.name in seen:
                raise ValueError(f"feed name {feed.name!r} is used twice")
            seen.add(feed.name)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def window_delta(self) -> timedelta:
        return parse_duration(self.window)

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        base = Path(self.source).parent if self.source else Path.cwd()
        return (base / Path(path).expanduser()).resolve()


# --- loading with line numbers -------------------------------------------------------------


def _node_at(root: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The deepest YAML node along a pydantic error location (key nodes for mapping keys)."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    # An unknown key is reported at the key itself; anything else at its value.
                    node = value
                    break
            else:
                return node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _key_node(root: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    parent = _node_at(root, loc[:-1])
    if isinstance(parent, yaml.MappingNode):
        for key, _value in parent.value:
            if key.value == loc[-1]:
                return key
    return parent


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; raise ``ConfigError`` with one line on any problem."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError(f"{name}:{line}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}:1: (top level): must be a mapping with a 'feeds:' list")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            node = _key_node(root, loc)
        elif error["type"] == "missing":
            node = _node_at(root, loc[:-1])
        else:
            node = _node_at(root, loc)
        line = node.start_mark.line + 1 if node is not None else 1
        raise ConfigError(f"{name}:{line}: {_field_path(loc)}: {_describe(error)}") from None
    return config.model_copy(update={"source": str(path.resolve())})
