"""Twenty-odd malformed configs, each through the real CLI: exit 2, one line on stderr that
names the file, the line and the field, and no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefing.cli import cli

FEED = "feeds:\n  - name: A\n    url: https://a.example/feed\n"
EMAIL = (
    "email:\n  smtp_host: smtp.example.org\n  from: b@example.org\n"
    "  recipients:\n    - address: soc@example.org\n"
)

# (config text, expected line, expected field, a word the problem must contain)
CASES: list[tuple[str, int, str, str]] = [
    ("feeds: [\n", 1, "", "YAML"),
    ("feeds:\n  - name: A\n    url: 'unclosed\n", 3, "", "YAML"),
    ("- just\n- a list\n", 1, "(top level)", "mapping"),
    ("title: T\n", 1, "feeds", "required"),
    ("feeds: []\n", 1, "feeds", "at least 1"),
    ("feeds: nope\n", 1, "feeds", "tuple"),
    ("feeds:\n  - url: https://a.example/f\n", 2, "feeds[0].name", "required"),
    ("feeds:\n  - name: A\n", 2, "feeds[0].url", "required"),
    ("feeds:\n  - name: A\n    url: ftp://a.example/f\n", 3, "feeds[0].url", "http"),
    ("feeds:\n  - name: A\n    url: not a url\n", 3, "feeds[0].url", "http"),
    (
        "feeds:\n  - name: A\n    url: https://a.example/f\n    colour: red\n",
        4,
        "feeds[0].colour",
        "unknown field",
    ),
    (
        "feeds:\n  - name: A\n    url: https://a.example/f\n    weight: heavy\n",
        4,
        "feeds[0].weight",
        "number",
    ),
    (
        "feeds:\n  - name: A\n    url: https://a.example/f\n    weight: 99\n",
        4,
        "feeds[0].weight",
        "less than",
    ),
    (FEED + "smtp: x\n", 4, "smtp", "unknown field"),
    ("timezone: Mars/Olympus\n" + FEED, 1, "timezone", "time zone"),
    ("window: forever\n" + FEED, 1, "window", "duration"),
    ("tlp: TLP:PURPLE\n" + FEED, 1, "tlp", "TLP:CLEAR"),
    ("page_size: A3\n" + FEED, 1, "page_size", "A4"),
    ("poll:\n  concurrency: zero\n" + FEED, 2, "poll.concurrency", "integer"),
    ("poll:\n  timeout: 3\n" + FEED, 2, "poll.timeout", "unknown field"),
    ("poll:\n  allow_networks: [10.0.0.0/33]\n" + FEED, 2, "poll.allow_networks", "10.0.0.0/33"),
    ("schedule:\n  build_at: ['25:00']\n" + FEED, 2, "schedule.build_at", "25:00"),
    ("schedule:\n  build_at: '61 7 * * *'\n" + FEED, 2, "schedule.build_at", "61"),
    ("schedule:\n  poll_every: often\n" + FEED, 2, "schedule.poll_every", "duration"),
    (
        FEED
        + "email:\n  smtp_host: s\n  from: b@example.org\n  security: ssl3\n  recipients: []\n",
        7,
        "email.security",
        "starttls",
    ),
    (FEED + EMAIL + "  password: hunter2\n", 9, "email.password", "unknown field"),
    (
        FEED + EMAIL.replace("soc@example.org", "not-an-address"),
        8,
        "email.recipients[0].address",
        "address",
    ),
    (
        "feeds:\n  - name: A\n    url: https://a.example/f\n  - name: A\n    url: https://b.example/f\n",
        1,
        "",
        "used twice",
    ),
    ("summarizer:\n  backend: chat\n" + FEED, 2, "summarizer", "needs url and model"),
    ("summarizer:\n  backend: gpt\n" + FEED, 2, "summarizer.backend", "extractive"),
    (FEED + "actor_names:\n  CURIUM: ''\n", 5, "actor_names", "non-empty"),
    (FEED + "actor_names: [CURIUM, Tortoiseshell]\n", 4, "actor_names", "dict"),
    (
        FEED + "webhooks:\n  - name: soc\n    url_env: https://hooks.slack.com/services/T/B/x\n",
        6,
        "webhooks[0].url_env",
        "environment variable name",
    ),
    (
        FEED + "webhooks:\n  - name: soc\n    url_env: H\n    url: https://hooks.example/x\n",
        7,
        "webhooks[0].url",
        "unknown field",
    ),
    (
        FEED + "webhooks:\n  - name: soc\n    url_env: H\n    format: discord\n",
        7,
        "webhooks[0].format",
        "slack",
    ),
    (
        FEED + "webhooks:\n  - name: soc@example.org\n    url_env: H\n",
        5,
        "webhooks[0].name",
        "pattern",
    ),
    (
        FEED + "webhooks:\n  - name: soc\n    url_env: H\n    retries: 99\n",
        7,
        "webhooks[0].retries",
        "less than",
    ),
    (
        FEED + "webhooks:\n  - name: soc\n    url_env: A\n  - name: SOC\n    url_env: B\n",
        5,
        "webhooks",
        "used twice",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "word"), CASES)
def test_bad_config_is_one_clear_line(
    tmp_path: Path, text: str, line: int, field: str, word: str
) -> None:
    assert len(CASES) >= 20
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "-c", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    out = result.output.strip()
    assert "\n" not in out and "Traceback" not in out, out
    match = re.match(rf"^{re.escape(str(path))}:(\d+): (.*)$", out)
    assert match, out
    assert int(match.group(1)) == line, out
    if field:
        assert match.group(2).startswith(f"{field}: "), out
    assert word.lower() in match.group(2).lower(), out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            EMAIL + "  username: briefing\n  password_env: BRIEFING_TEST_SMTP_PASSWORD\n",
            "10: email.password_env: environment variable BRIEFING_TEST_SMTP_PASSWORD is not set"
            " (it holds the SMTP password)",
        ),
        (
            "webhooks:\n  - name: soc\n    url_env: BRIEFING_TEST_HOOK_URL\n",
            "6: webhooks[0].url_env: environment variable BRIEFING_TEST_HOOK_URL is not set"
            " (it holds the webhook URL)",
        ),
    ],
)
def test_missing_secret_is_a_config_error_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, message: str
) -> None:
    monkeypatch.delenv("BRIEFING_TEST_SMTP_PASSWORD", raising=False)
    monkeypatch.delenv("BRIEFING_TEST_HOOK_URL", raising=False)
    path = tmp_path / "feeds.yaml"
    path.write_text(FEED + extra, encoding="utf-8")
    for command in (["run", "--send"], ["serve"]):
        args = [command[0], "-c", str(path), "-o", str(tmp_path / "o"), *command[1:]]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert result.output.strip() == f"{path.resolve()}:{message}"
    assert not (tmp_path / "o").exists()  # failed before any work
