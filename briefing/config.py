"""Config stage: ``feeds.yaml`` -> a frozen, validated ``Config``.

Pydantic sits only at this boundary (``extra="forbid"`` everywhere, so a typo is an error, not a
silently ignored key). Every error becomes one ``ConfigError`` line ``FILE:LINE: FIELD: PROBLEM``;
the line comes from the YAML node the failing field was read from. Secrets are never read from
the file: settings such as ``password_env`` name an environment variable instead.
"""

from __future__ import annotations

import os
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


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedConfig(_Model):
    """One feed: ``name`` is its key in the store and the briefing."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    url: str
    tags: tuple[str, ...] = ()
    weight: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    # The operator vouches that this feed bundles other outlets: the outlet an item's
    # <source> names counts as its own voice. Any other feed is one voice, whatever it claims.
    aggregator: bool = False
    # The operator vouches that this feed's indicators are fit for detection rules: MISP
    # attributes of stories told only by such feeds get to_ids (publish/trust.py).
    ids: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not _is_http_url(value):
            raise ValueError("must be an http:// or https:// URL")
        return value


class PollConfig(_Model):
    """Limits for every HTTP fetch, feeds and article pages alike."""

    # Each host has its own limit below; 48 in flight across hosts keeps one event loop busy
    # without queueing responses behind each other (measured: 500 feeds 2.4 s at 32, 1.9 s at 48).
    concurrency: Annotated[int, Field(ge=1, le=512)] = 48
    # Article pages (links chosen by feed authors) in flight to one host.
    per_host: Annotated[int, Field(ge=1, le=64)] = 4
    # Feeds (URLs the operator chose) in flight to one host: one outlet often serves many
    # category feeds (or one self-hosted bridge serves them all), and a poll every half hour of
    # a few dozen small GETs, mostly answered 304, is not a flood. 60 feeds on one host behind
    # 200 ms: 3 rounds at 24 against 4 at 16 (the whole `briefing poll` 1.4 -> 1.2 s).
    feed_per_host: Annotated[int, Field(ge=1, le=64)] = 24
    connect_timeout: Annotated[float, Field(gt=0, le=120)] = 10.0
    read_timeout: Annotated[float, Field(gt=0, le=300)] = 20.0
    total_timeout: Annotated[float, Field(gt=0, le=600)] = 45.0
    max_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    max_retry_wait: Annotated[float, Field(ge=0, le=300)] = 30.0
    # Networks (CIDR) that links from feeds may reach although they are private, loopback or
    # link-local; by default a page link reaches such an address only on its feed's own host.
    allow_networks: tuple[str, ...] = ()

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"not a network: {network!r} (use CIDR, e.g. 10.1.0.0/16)"
                ) from None
        return value


class SummarizerConfig(_Model):
    """Who writes the summaries: ``extractive`` (offline, deterministic; the default) or
    ``chat``: an OpenAI-compatible endpoint for the top stories, the extractive one as
    fallback. The API key, if any, is read from the variable ``api_key_env`` names."""

    backend: Literal["extractive", "chat"] = "extractive"
    url: str | None = None  # e.g. http://127.0.0.1:8080/v1 (llama.cpp) or :11434/v1 (Ollama)
    model: str = ""
    api_key_env: str | None = None
    timeout: Annotated[float, Field(gt=0, le=600)] = 60.0
    max_stories: Annotated[int, Field(ge=0, le=500)] = 10

    @field_validator("url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _complete(self) -> SummarizerConfig:
        if self.backend == "chat" and not (self.url and self.model):
            raise ValueError("backend chat needs url and model")
        return self


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


_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Deliberately plain: one @, no spaces, no header-breaking characters. Not RFC 5322, but every
# address a team mails a briefing to passes, and nothing that could inject a header does.
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\\\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def parse_clock(text: str) -> tuple[int, int]:
    """``"07:00"`` -> ``(7, 0)``; anything else is a ``ValueError``."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"not a time of day: {text!r} (use HH:MM, e.g. 07:00)")
    return int(match.group(1)), int(match.group(2))


def _crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as APScheduler 3 day names.

    APScheduler 3's own ``from_crontab`` reads the numbers as 0 = Monday, so "1-5" would mean
    Tuesday to Saturday; names are unambiguous in both.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in day-of-week {field!r}")
        if body == "*":
            low, high = 0, 6
        else:
            low_text, _, high_text = body.partition("-")
            low = _weekday_number(low_text)
            high = _weekday_number(high_text) if high_text else low
            if high == 0 and high_text:
                high = 7  # "5-0" / "5-7": Friday to Sunday
            if high < low:
                raise ValueError(f"bad range in day-of-week {field!r}")
            if not step_text and not high_text:
                high = low
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday_number(text: str) -> int:
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    raise ValueError(f"not a day of the week: {text!r}")


def cron_fields(expression: str) -> dict[str, str]:
    """A five-field crontab line -> APScheduler ``CronTrigger`` keyword arguments."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f"not a cron expression: {expression!r} (five fields: minute hour day month weekday)"
        )
    minute, hour, day, month, weekday = parts
    return {
        "minute": minute,
        "hour": hour,
        "day": day,
        "month": month,
        "day_of_week": _crontab_weekdays(weekday),
    }


class ScheduleConfig(_Model):
    """``briefing serve``: poll every ``poll_every``; build and deliver at each ``build_at``."""

    poll_every: str = "30m"
    # Local times ("07:00") in the config's time zone, or one five-field cron expression.
    build_at: tuple[str, ...] | str = ("07:00",)
    # A build the machine slept through is made on start if its time is at most this long ago.
    catch_up: str = "12h"
    # A job that starts this late (a busy or suspended process) still runs; later, it is skipped.
    misfire_grace: str = "15m"

    @field_validator("poll_every", "catch_up", "misfire_grace")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("build_at")
    @classmethod
    def _build_at(cls, value: tuple[str, ...] | str) -> tuple[str, ...] | str:
        if isinstance(value, str):
            if _CLOCK.match(value.strip()):
                return (value.strip(),)
            if ":" in value:
                parse_clock(value)  # a mistyped time, not a cron line: say so
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger(**cron_fields(value), timezone="UTC")
            except ValueError as exc:
                raise ValueError(str(exc).split("\n")[0]) from None
            return value
        if not value:
            raise ValueError('give at least one time, e.g. ["07:00"]')
        for item in value:
            parse_clock(item)
        return tuple(sorted({item.strip() for item in value}))

    @property
    def poll_delta(self) -> timedelta:
        return parse_duration(self.poll_every)

    @property
    def catch_up_delta(self) -> timedelta:
        return parse_duration(self.catch_up)

    @property
    def misfire_delta(self) -> timedelta:
        return parse_duration(self.misfire_grace)


class ReviewConfig(_Model):
    """``review:``: whether a day waits for ``briefing review approve`` before delivery, and
    what happens at ``deadline`` (local time, the briefing's day) if nobody approved it:
    ``send`` it as it stands, or ``hold`` it (nothing is sent until someone approves)."""

    required: bool = False
    deadline: str = "07:45"
    on_deadline: Literal["send", "hold"] = "send"

    @field_validator("deadline")
    @classmethod
    def _deadline(cls, value: str) -> str:
        parse_clock(value)
        return value.strip()


class InterestsConfig(_Model):
    """What a reader wants; a story matches if it matches any listed value (case-insensitive)."""

    actors: tuple[str, ...] = ()  # canonical names or any alias
    regions: tuple[str, ...] = ()  # region or targeted-country names
    sectors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # substrings of a story's title, summary or sources' titles
    vendors: tuple[str, ...] = ()  # a vendor or product, any name the vendor table knows
    # Story kinds (briefing.intel.kind.KINDS): only stories of these kinds, and among them
    # those matching the other values when any are given.
    kinds: tuple[str, ...] = ()

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from briefing.intel.kind import KINDS

        unknown = [item for item in value if item.strip().lower() not in KINDS]
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r}; one of {', '.join(KINDS)}")
        return tuple(item.strip().lower() for item in value)

    @field_validator("actors", "regions", "sectors", "keywords", "vendors")
    @classmethod
    def _non_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("an empty value would match nothing; remove it")
        return tuple(item.strip() for item in value)

    @property
    def empty(self) -> bool:
        return not (
            self.actors
            or self.regions
            or self.sectors
            or self.keywords
            or self.vendors
            or self.kinds
        )


def _env_name(value: str, holds: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name (the {holds} itself goes in "
            "that variable, never in this file)"
        )
    return value


def _address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.match(value):
        raise ValueError(f"not an e-mail address: {value!r} (use name@example.org)")
    return value


class RecipientConfig(_Model):
    address: str
    interests: InterestsConfig | None = None  # none: the whole briefing
    skip_empty: bool | None = None  # none: the ``email.skip_empty`` setting

    _check_address = field_validator("address")(_address)


class EmailConfig(_Model):
    """SMTP delivery. The password is read from the variable ``password_env`` names, never here."""

    smtp_host: Annotated[str, Field(min_length=1)]
    smtp_port: Annotated[int, Field(ge=1, le=65535)] | None = None  # 587 / 465 / 25 by security
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    sender: str = Field(alias="from")
    recipients: Annotated[tuple[RecipientConfig, ...], Field(min_length=1)]
    # Jinja (no HTML escaping; one line): date, count, top (top actor or first story), title.
    subject: str = (
        "Threat briefing {{ date }} — {{ count }} {{ 'story' if count == 1 else 'stories' }}"
        "{% if top %} — top: {{ top }}{% endif %}"
    )
    # A PDF bigger than this is replaced by a link to the archive when ``archive_url`` is set.
    max_attachment: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    archive_url: str | None = None  # where OUTPUT/ is published, e.g. https://intel.example.org/
    skip_empty: bool = False  # true: send nothing to a reader whose interests matched nothing
    timeout: Annotated[float, Field(gt=0, le=300)] = 30.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    retry_wait: Annotated[float, Field(ge=0, le=600)] = 5.0  # doubled after each failure

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        return None if value is None else _env_name(value, "password")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        from email.utils import parseaddr

        if any(ch in value for ch in "\r\n"):
            raise ValueError("must be one line")
        _name, address = parseaddr(value)
        _address(address)
        return value.strip()

    @field_validator("archive_url")
    @classmethod
    def _archive_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _is_http_url(value):
            raise ValueError("must be an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        import jinja2

        try:
            jinja2.Environment().parse(value)
        except jinja2.TemplateSyntaxError as exc:
            raise ValueError(f"bad subject template: {exc.message}") from None
        return value

    @model_validator(mode="after")
    def _login(self) -> EmailConfig:
        if (self.username is None) != (self.password_env is None):
            raise ValueError("give both username and password_env for a login, or neither")
        if self.username is not None and self.security == "none":
            raise ValueError(
                "a login over security: none would send the password in clear; use starttls or tls"
            )
        seen: set[str] = set()
        for recipient in self.recipients:
            if recipient.address.lower() in seen:
                raise ValueError(f"recipient {recipient.address!r} is listed twice")
            seen.add(recipient.address.lower())
        return self

    @property
    def port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return {"starttls": 587, "tls": 465, "none": 25}[self.security]


class WebhookConfig(_Model):
    """A chat channel or SOAR endpoint that gets the day's executive summary as one JSON POST.

    Slack and Teams webhook URLs embed their token, so the URL is read from the variable
    ``url_env`` names, never from this file.
    """

    # The delivery's recipient key in the store and a ``send --to`` value: no "@", so it can
    # never be mistaken for (or collide with) an e-mail address.
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
    url_env: str
    format: Literal["slack", "teams", "json"] = "json"
    interests: InterestsConfig | None = None  # none: the whole briefing
    # Stories listed; none: ``top_stories``. Capped because Slack takes at most 50 blocks.
    top: Annotated[int, Field(ge=0, le=20)] | None = None
    timeout: Annotated[float, Field(gt=0, le=120)] = 15.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        return _env_name(value, "URL")


class Config(_Model):
    """The whole configuration; only ``feeds`` is required."""

    feeds: Annotated[tuple[FeedConfig, ...], Field(min_length=1)]
    title: str = "Daily Threat Briefing"
    timezone: str = "UTC"
    tlp: Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"] = "TLP:CLEAR"
    window: str = "24h"
    # After a missed briefing, reach back to the last one (at most ``max_window``).
    window_since_last: bool = True
    max_window: str = "7d"
    page_size: Literal["A4", "Letter"] = "A4"
    top_stories: Annotated[int, Field(ge=0, le=50)] = 5  # the executive summary's length
    # The PDF gives the top N stories a full card and the rest one line each: a 1,000-story
    # day as cards is 200+ pages nobody reads at 07:00 (and WeasyPrint's memory grows with it).
    pdf_story_cards: Annotated[int, Field(ge=0, le=10_000)] = 30
    # ... and shows the top N stories at all (cards included): the PDF is the morning read,
    # the HTML page and briefing.json hold every story, group, CVE and indicator.
    pdf_stories: Annotated[int, Field(ge=1, le=10_000)] = 120
    # Path of the SQLite file; default: the output folder's own store in the user's state
    # directory, never inside the output folder, which is published (``store.default_path``).
    store: str | None = None
    templates: str | None = None  # a folder whose templates override the defaults by name
    poll: PollConfig = PollConfig()
    extract: ExtractConfig = ExtractConfig()
    summarizer: SummarizerConfig = SummarizerConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    email: EmailConfig | None = None  # none: no e-mail delivery
    webhooks: tuple[WebhookConfig, ...] = ()
    review: ReviewConfig | None = None  # none: every day is delivered as built
    # Any name or alias of an actor -> the name the briefing shows it under (a team's own
    # convention: "CURIUM: Tortoiseshell"); the shown name otherwise is ATT&CK's, else MISP's.
    actor_names: dict[str, str] = {}
    # How many days back a story continues an earlier briefing's story (``first_reported``,
    # ``previous``) and an article already shown is not repeated.
    continuity_days: Annotated[int, Field(ge=1, le=90)] = 7

    # Set by ``load_config``: where the file was, to resolve relative paths against it.
    source: str = Field(default="", exclude=True)

    @field_validator("actor_names")
    @classmethod
    def _actor_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, shown in value.items():
            if not name.strip() or not shown.strip() or len(shown) > 100:
                raise ValueError(
                    f"{name!r}: {shown!r}: both names must be non-empty (the shown one at most "
                    "100 characters)"
                )
        return {name.strip(): shown.strip() for name, shown in value.items()}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("window", "max_window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("webhooks")
    @classmethod
    def _unique_webhooks(cls, value: tuple[WebhookConfig, ...]) -> tuple[WebhookConfig, ...]:
        seen: set[str] = set()
        for webhook in value:
            # The store keys deliveries case-insensitively.
            if webhook.name.lower() in seen:
                raise ValueError(f"webhook name {webhook.name!r} is used twice")
            seen.add(webhook.name.lower())
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
                found: yaml.Node = key
                return found
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


def config_problem(config: Config, loc: tuple[int | str, ...], message: str) -> ConfigError:
    """A ``ConfigError`` for a setting found wrong after loading (a secret missing from the
    environment), with the line of that setting in the file."""
    line = 1
    try:
        root = yaml.compose(Path(config.source).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        node = _node_at(root, loc)
        if node is not None:
            line = node.start_mark.line + 1
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        pass
    return ConfigError(f"{config.source or 'config'}:{line}: {_field_path(loc)}: {message}")


def check_secrets(config: Config) -> None:
    """Fail early, before any work, when a secret the config names is not in the environment
    (or a webhook's variable holds no http(s) URL: the URL itself is never printed)."""
    email = config.email
    if email is not None and email.password_env and not os.environ.get(email.password_env):
        raise config_problem(
            config,
            ("email", "password_env"),
            f"environment variable {email.password_env} is not set (it holds the SMTP password)",
        )
    for number, webhook in enumerate(config.webhooks):
        url = os.environ.get(webhook.url_env, "").strip()
        if not url:
            problem = "is not set (it holds the webhook URL)"
        elif not _is_http_url(url):
            problem = "does not hold an http:// or https:// URL"
        else:
            continue
        raise config_problem(
            config,
            ("webhooks", number, "url_env"),
            f"environment variable {webhook.url_env} {problem}",
        )


# libyaml when PyYAML has it: the pure-Python loader took ~0.4 ms a feed entry, twice, and
# ``briefing poll`` runs every half hour.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NOT_PARSED = object()


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
        data = yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        data = _NOT_PARSED
    try:
        if data is _NOT_PARSED:
            # libyaml refused it: the Python loader gives the message and line users see.
            data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and (mark is None or mark.line >= len(text.splitlines())):
            # "unexpected end of stream": where the unclosed thing began is the useful line.
            mark = exc.context_mark
        # Never a line past the end of the file.
        line = min(mark.line + 1 if mark else 1, max(1, len(text.splitlines())))
        raise ConfigError(f"{name}:{line}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}:1: (top level): must be a mapping with a 'feeds:' list")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # node lines, only when needed
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
