"""Webhooks: the exact payload per format, then real POSTs to an HTTP server on 127.0.0.1.

The server answers from a script (``Hook.answers``: status and headers, then 200s), records
every request, and never sleeps; the sender's waits go to a list instead of ``time.sleep``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from briefing.cli import cli
from briefing.config import Config, WebhookConfig, load_config
from briefing.deliver.send import all_delivered, deliver
from briefing.deliver.webhook import WebhookSender, encode, payload
from briefing.models import Briefing, Entities
from briefing.schedule import catch_up_slot
from briefing.store import STORE_ID_FILE, Store, default_path
from tests.faults import refused_port
from tests.test_deliver import NOW, STORIES, _story, make_briefing

HOSTILE = "<!channel> <https://evil.example|click> & *bold* [x](https://evil.example) <at>Boss</at>"


# --- a loopback webhook endpoint --------------------------------------------------------------


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Hook:
    posts: list[Post] = field(default_factory=list)
    # (status, headers) for the next requests, in order; then 200.
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Post]:
        return [post for post in self.posts if post.path == path]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.posts.append(Post(self.path, dict(self.headers.items()), body))
                status, headers = state.answers.pop(0) if state.answers else (200, {})
            reply = b"ok" if status == 200 else b"invalid_payload"
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(server.server_address[1])
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def hooks_yaml(*items: str) -> str:
    return "webhooks:\n" + "".join(items)


def item(name: str, env: str, form: str = "json", extra: str = "") -> str:
    return f"  - name: {name}\n    url_env: {env}\n    format: {form}\n    retries: 2\n{extra}"


def make_config(tmp_path: Path, text: str) -> Config:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "title: Test Briefing\n"
        + text
        + "feeds:\n  - name: Alpha\n    url: http://127.0.0.1:9/f\n",
        encoding="utf-8",
    )
    return load_config(path)


def briefing_with(*titles: str) -> Briefing:
    """``STORIES`` with the third one's CVE exploited and any extra hostile stories after it."""
    stories = (
        *STORIES[:2],
        dataclasses.replace(STORIES[2], exploited=("CVE-2026-0001",)),
        *(_story(f"h{n}", title, Entities()) for n, title in enumerate(titles)),
    )
    return make_briefing(stories)


def hook_config(**settings: Any) -> WebhookConfig:
    return WebhookConfig.model_validate({"name": "h", "url_env": "X", **settings})


# --- payloads (pure) --------------------------------------------------------------------------


def test_json_payload_is_the_documented_object() -> None:
    body = payload(briefing_with(), hook_config(), 5, None)
    assert body == {
        "version": 1,
        "title": "Test Briefing",
        "date": "2026-03-10",
        "tlp": "TLP:CLEAR",
        "story_count": 3,
        "total_stories": 3,
        "link": None,
        "stories": [
            {
                "id": "s1",
                "rank": 1,
                "title": "Chafer targets telecom operators",
                "source_count": 1,
                "actors": ["APT39"],
                "regions": ["Middle East"],
                "exploited_cves": [],
                "kind": None,
                "link": "https://a.example/x",
            },
            {
                "id": "s2",
                "rank": 2,
                "title": "Ransomware hits a hospital <script>alert(1)</script>",
                "source_count": 1,
                "actors": [],
                "regions": [],
                "exploited_cves": [],
                "kind": None,
                "link": None,  # its only source is javascript:
            },
            {
                "id": "s3",
                "rank": 3,
                "title": "Patch roundup for March",
                "source_count": 1,
                "actors": [],
                "regions": [],
                "exploited_cves": ["CVE-2026-0001"],
                "kind": None,
                "link": "https://a.example/x",
            },
        ],
    }
    # Deterministic: the same briefing gives the same bytes.
    again = payload(briefing_with(), hook_config(), 5, None)
    assert encode(again) == encode(body)


def test_slack_payload_exactly() -> None:
    body = payload(briefing_with(), hook_config(format="slack", top=2), 5, None)
    assert body == {
        "text": "Test Briefing — 2026-03-10 · TLP:CLEAR · 3 stories",
        "mrkdwn": False,
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Test Briefing — 2026-03-10 · TLP:CLEAR · 3 stories*",
                    "verbatim": True,
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*1.* <https://a.example/x|Chafer targets telecom operators>\n"
                    "1 source · Actors: APT39 · Regions: Middle East",
                    "verbatim": True,
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*2.* Ransomware hits a hospital &lt;script&gt;alert(1)&lt;/script&gt;\n"
                    "1 source",
                    "verbatim": True,
                },
            },
        ],
    }


def test_teams_payload_exactly_with_archive_links() -> None:
    body = payload(
        briefing_with(),
        hook_config(format="teams", top=1),
        5,
        "https://intel.example.org/briefings/",
    )
    day = "https://intel.example.org/briefings/2026-03-10/briefing.html"
    assert body == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Test Briefing",
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                        },
                        {
                            "type": "TextBlock",
                            "text": "2026-03-10 · TLP:CLEAR · 3 stories",
                            "isSubtle": True,
                            "spacing": "None",
                            "wrap": True,
                        },
                        {
                            "type": "TextBlock",
                            "text": f"**1.** [Chafer targets telecom operators]({day}#story-s1)",
                            "wrap": True,
                        },
                        {
                            "type": "TextBlock",
                            "text": "1 source · Actors: APT39 · Regions: Middle East",
                            "isSubtle": True,
                            "spacing": "None",
                            "wrap": True,
                        },
                    ],
                    "actions": [{"type": "Action.OpenUrl", "title": "Full briefing", "url": day}],
                },
            }
        ],
    }


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item_ in value.values():
            yield from _strings(item_)
    elif isinstance(value, list):
        for item_ in value:
            yield from _strings(item_)


def test_slack_formatting_and_bare_urls_in_a_title_stay_text() -> None:
    title = "*b* _x_ ~y~ `c` https://evil.example/bare"
    slack = payload(briefing_with(title), hook_config(format="slack", top=4), 5, None)
    block = slack["blocks"][-1]["text"]
    assert block["verbatim"] is True
    assert "\u200d*b\u200d* \u200d_x\u200d_ \u200d~y\u200d~ \u200d`c\u200d`" in block["text"]
    assert "https://evil.example/bare" in block["text"]  # text: verbatim keeps it unlinked


def test_hostile_titles_are_escaped_for_each_chat() -> None:
    briefing = briefing_with(HOSTILE)
    slack = payload(briefing, hook_config(format="slack", top=4), 5, None)
    line = slack["blocks"][-1]["text"]["text"]
    assert line == (
        "*4.* <https://a.example/x|&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; "
        "\u200d*bold\u200d* [x](https://evil.example) &lt;at&gt;Boss&lt;/at&gt;>\n1 source"
    )
    for text in _strings(slack):
        assert "<!channel>" not in text and "<https://evil" not in text and "<at>" not in text
        # No formatting character of Slack's mrkdwn is left bare next to feed text.
        assert not re.search(r"(?<!\u200d)[_~`]", text), text
    blocks = [b["text"] for b in slack["blocks"] if "text" in b]
    assert all(block["verbatim"] is True for block in blocks)  # bare URLs do not link
    assert slack["mrkdwn"] is False

    teams = payload(briefing, hook_config(format="teams", top=4), 5, None)
    card = teams["attachments"][0]["content"]["body"]
    assert card[-2]["text"] == (
        "**4.** [&lt;\\!channel&gt; &lt;https://evil.example\\|click&gt; &amp; \\*bold\\* "
        "\\[x\\]\\(https://evil.example\\) &lt;at&gt;Boss&lt;/at&gt;](https://a.example/x)"
    )
    for text in _strings(teams):
        assert "](https://evil" not in text and "<at>" not in text and "<!channel>" not in text


def test_links_are_http_only_and_indicators_never_sent() -> None:
    story = _story(
        "ioc",
        "Loader drops a beacon",
        Entities(indicators=(("ipv4", ("203.0.113.9",)), ("domain", ("evil-c2.example",)))),
        url="javascript:alert(1)",
    )
    briefing = make_briefing((story, dataclasses.replace(STORIES[1], id="js")))
    for form in ("slack", "teams", "json"):
        raw = encode(payload(briefing, hook_config(format=form), 5, None)).decode()
        assert "javascript:" not in raw
        assert "203.0.113.9" not in raw and "evil-c2" not in raw and "203[.]0" not in raw


def test_interests_and_top_choose_the_stories() -> None:
    interests = {"actors": ["remix kitten"], "keywords": ["patch"]}
    body = payload(briefing_with(), hook_config(interests=interests, top=5), 5, None)
    assert [(s["id"], s["rank"]) for s in body["stories"]] == [("s1", 1), ("s3", 3)]
    assert (body["story_count"], body["total_stories"]) == (2, 3)
    assert payload(briefing_with(), hook_config(), 1, None)["stories"][0]["id"] == "s1"
    assert len(payload(briefing_with(), hook_config(), 1, None)["stories"]) == 1


def test_kinds_select_the_stories_of_those_kinds() -> None:
    kinds = ("campaign", "incident", "vulnerability")
    briefing = make_briefing(
        tuple(dataclasses.replace(s, kind=k) for s, k in zip(STORIES, kinds, strict=True))
    )
    body = payload(
        briefing, hook_config(interests={"kinds": ["vulnerability", "incident"]}), 5, None
    )
    assert [(s["id"], s["kind"]) for s in body["stories"]] == [
        ("s2", "incident"),
        ("s3", "vulnerability"),
    ]
    # With other interests, kinds narrow them: APT39's story is a campaign, not an incident.
    narrowed = hook_config(interests={"kinds": ["incident"], "actors": ["APT39"]})
    assert payload(briefing, narrowed, 5, None)["stories"] == []
    with pytest.raises(ValueError, match="unknown kind 'gossip'"):
        hook_config(interests={"kinds": ["gossip"]})


# --- POSTs to a real server ---------------------------------------------------------------------


def test_each_webhook_gets_one_post_with_json_headers(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_SLACK", hook.url("/slack"))
    monkeypatch.setenv("TEST_HOOK_SOAR", hook.url("/soar?token=abc"))
    monkeypatch.setenv("TEST_HOOK_TEAMS", hook.url("/teams"))
    config = make_config(
        tmp_path,
        hooks_yaml(
            item("soc-slack", "TEST_HOOK_SLACK", "slack"),
            item("soar", "TEST_HOOK_SOAR"),
            item(
                "ciso-teams", "TEST_HOOK_TEAMS", "teams", "    interests:\n      actors: [APT39]\n"
            ),
        ),
    )
    briefing = briefing_with()
    outcomes = deliver(config, tmp_path / "out", briefing, NOW)
    assert [(o.recipient, o.status, o.stories, o.channel) for o in outcomes] == [
        ("soc-slack", "sent", 3, "webhook"),
        ("soar", "sent", 3, "webhook"),
        ("ciso-teams", "sent", 1, "webhook"),
    ]
    assert [post.path for post in hook.posts] == ["/slack", "/soar?token=abc", "/teams"]
    for post in hook.posts:
        assert post.headers["Content-Type"] == "application/json"
        assert post.headers["User-Agent"].startswith("briefing/")
    hooks = {w.name: w for w in config.webhooks}
    assert hook.to("/slack")[0].body == encode(payload(briefing, hooks["soc-slack"], 5, None))
    assert hook.to("/soar?token=abc")[0].json["version"] == 1
    teams = hook.to("/teams")[0].json["attachments"][0]["content"]["body"]
    assert "Chafer" in teams[2]["text"] and len(teams) == 4  # only the matching story
    assert all_delivered(config, tmp_path / "out", briefing.date)

    again = deliver(config, tmp_path / "out", briefing, NOW + timedelta(hours=1))
    assert [o.status for o in again] == ["already-sent"] * 3
    assert len(hook.posts) == 3
    forced = deliver(config, tmp_path / "out", briefing, NOW, force=True, only=["SOAR"])
    assert [(o.recipient, o.status) for o in forced] == [("soar", "sent")]
    assert len(hook.posts) == 4


def test_503_then_200_is_retried_and_recorded_once(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK", hook.url("/h"))
    config = make_config(tmp_path, hooks_yaml(item("soar", "TEST_HOOK")))
    hook.answers = [(503, {}), (429, {"Retry-After": "7"}), (200, {})]
    waits: list[float] = []
    sender = WebhookSender(sleep=waits.append)
    outcomes = deliver(config, tmp_path / "out", briefing_with(), NOW, sender=sender)
    assert [(o.status, o.detail) for o in outcomes] == [("sent", "json, HTTP 200")]
    assert waits == [5.0, 10.0]  # doubling; Retry-After 7 is shorter than the second wait
    assert len(hook.posts) == 3 and hook.posts[0].body == hook.posts[2].body
    with Store.open(default_path(tmp_path / "out")) as store:
        rows = store.deliveries("2026-03-10")
    assert [(d.recipient, d.channel, d.status) for d in rows] == [("soar", "webhook", "sent")]


def test_retry_after_is_honoured_up_to_a_bound(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK", hook.url("/h"))
    config = make_config(tmp_path, hooks_yaml(item("soar", "TEST_HOOK")))
    hook.answers = [(429, {"Retry-After": "30"}), (429, {"Retry-After": "86400"})]
    waits: list[float] = []
    outcomes = deliver(
        config, tmp_path / "out", briefing_with(), NOW, sender=WebhookSender(sleep=waits.append)
    )
    # 30 s is waited; a day is not, and not cut short either: the delivery fails for now.
    assert waits == [30.0]
    assert len(hook.posts) == 2
    assert [o.status for o in outcomes] == ["failed"]
    assert "asked to retry after 86400 s" in (outcomes[0].detail or "")


def test_retry_after_as_an_http_date_is_honoured(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from email.utils import format_datetime

    monkeypatch.setenv("TEST_HOOK", hook.url("/h"))
    config = make_config(tmp_path, hooks_yaml(item("soar", "TEST_HOOK")))
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=50), usegmt=True)
    hook.answers = [(503, {"Retry-After": later}), (200, {})]
    waits: list[float] = []
    outcomes = deliver(
        config, tmp_path / "out", briefing_with(), NOW, sender=WebhookSender(sleep=waits.append)
    )
    assert [o.status for o in outcomes] == ["sent"]
    # Up to 50 s (whole seconds in the header, and the clock has moved since): far more than
    # the 5 s a retry waits when nothing is asked.
    assert len(waits) == 1 and 30.0 < waits[0] <= 50.0


def test_400_is_not_retried_and_a_failure_stops_nothing_else(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_BAD", hook.url("/bad"))
    monkeypatch.setenv("TEST_HOOK_GOOD", hook.url("/good"))
    config = make_config(
        tmp_path,
        "email:\n  smtp_host: 127.0.0.1\n  from: b@example.org\n"
        "  recipients:\n    - address: soc@example.org\n"
        + hooks_yaml(item("bad", "TEST_HOOK_BAD"), item("good", "TEST_HOOK_GOOD")),
    )

    sent: list[EmailMessage] = []

    class Mailbox:
        def send(self, message: EmailMessage) -> None:
            sent.append(message)

    hook.answers = [(400, {})]
    waits: list[float] = []
    outcomes = deliver(
        config,
        tmp_path / "out",
        briefing_with(),
        NOW,
        channel=Mailbox(),
        sender=WebhookSender(sleep=waits.append),
    )
    assert [(o.recipient, o.status) for o in outcomes] == [
        ("soc@example.org", "sent"),
        ("bad", "failed"),
        ("good", "sent"),
    ]
    assert outcomes[1].detail == "HTTP 400 invalid_payload"
    assert waits == [] and [p.path for p in hook.posts] == ["/bad", "/good"]
    assert len(sent) == 1
    assert not all_delivered(config, tmp_path / "out", "2026-03-10")
    with Store.open(default_path(tmp_path / "out")) as store:
        recorded = {(d.recipient, d.channel) for d in store.deliveries("2026-03-10")}
    assert recorded == {("soc@example.org", "email"), ("good", "webhook")}


def test_redirects_are_not_followed_and_refused_connections_retried(
    tmp_path: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_MOVED", hook.url("/moved"))
    monkeypatch.setenv("TEST_HOOK_DOWN", f"http://127.0.0.1:{refused_port()}/h")
    config = make_config(
        tmp_path, hooks_yaml(item("moved", "TEST_HOOK_MOVED"), item("down", "TEST_HOOK_DOWN"))
    )
    hook.answers = [(302, {"Location": hook.url("/elsewhere")})]
    waits: list[float] = []
    sender = WebhookSender(sleep=waits.append)
    outcomes = deliver(config, tmp_path / "out", briefing_with(), NOW, sender=sender)
    assert [(o.recipient, o.status, o.detail) for o in outcomes] == [
        ("moved", "failed", "HTTP 302 invalid_payload"),
        ("down", "failed", "ConnectError"),
    ]
    assert [p.path for p in hook.posts] == ["/moved"]
    assert waits == [5.0, 10.0]  # the refused one: two retries


# --- the command line ---------------------------------------------------------------------------


def test_missing_or_bad_url_variable_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n  - name: A\n    url: https://a.example/feed\n"
        + hooks_yaml(item("soar", "TEST_HOOK_SOAR"), item("chat", "TEST_HOOK_MISSING", "slack")),
        encoding="utf-8",
    )
    monkeypatch.setenv("TEST_HOOK_SOAR", "https://soar.example/in")
    monkeypatch.delenv("TEST_HOOK_MISSING", raising=False)
    args = ["run", "-c", str(path), "-o", str(tmp_path / "o"), "--send"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"{path.resolve()}:10: webhooks[1].url_env: environment variable TEST_HOOK_MISSING "
        "is not set (it holds the webhook URL)"
    )
    monkeypatch.setenv("TEST_HOOK_MISSING", "hooks.slack.com/services/T0/B0/secret")
    result = CliRunner().invoke(cli, ["send", *args[1:5]])
    assert result.exit_code == 2, result.output
    assert result.output.strip().endswith(
        "webhooks[1].url_env: environment variable TEST_HOOK_MISSING does not hold an http:// "
        "or https:// URL"
    )
    assert "secret" not in result.output
    assert not (tmp_path / "o" / STORE_ID_FILE).exists()  # failed before any work


def test_run_send_posts_once_and_send_force_again(
    tmp_path: Path, hook: Hook, site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import NOW as FIXTURE_NOW
    from tests.conftest import NOW_DT, write_config

    monkeypatch.setenv("TEST_HOOK_SLACK", hook.url("/slack"))
    monkeypatch.setenv("TEST_HOOK_SOAR", hook.url("/soar"))
    extra = hooks_yaml(
        item("soc-slack", "TEST_HOOK_SLACK", "slack"),
        item("soar", "TEST_HOOK_SOAR", extra="    interests:\n      actors: [Sandworm]\n"),
    )
    config_path = write_config(tmp_path, site.base_url, extra=extra)  # no email: section
    out = tmp_path / "out"
    args = ["run", "-c", str(config_path), "-o", str(out), "--now", FIXTURE_NOW, "--send"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert [p.path for p in hook.posts] == ["/slack", "/soar"]
    slack = hook.to("/slack")[0].json
    assert slack["text"].startswith("Test Briefing — 2026-03-10 · TLP:CLEAR · ")
    assert len(slack["blocks"]) == 6  # the headline and the top five
    soar = hook.to("/soar")[0].json
    assert soar["stories"] and all("Sandworm" in s["actors"] for s in soar["stories"])
    assert soar["story_count"] < soar["total_stories"]

    config = load_config(config_path)
    assert all_delivered(config, out, "2026-03-10")
    assert catch_up_slot(config, out, NOW_DT + timedelta(minutes=5)) is None

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert len(hook.posts) == 2 and "soar: already-sent" in again.output
    forced = CliRunner().invoke(
        cli, ["send", "-c", str(config_path), "-o", str(out), "--to", "soar", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert [p.path for p in hook.posts] == ["/slack", "/soar", "/soar"]
    assert hook.posts[2].json["stories"] == soar["stories"]

    hook.answers = [(404, {})]
    failed = CliRunner().invoke(
        cli, ["send", "-c", str(config_path), "-o", str(out), "--to", "soc-slack", "--force"]
    )
    assert failed.exit_code == 1
    assert "delivery to soc-slack failed; rerun to retry" in failed.output


def test_a_briefing_with_nothing_matched_still_posts() -> None:
    body = payload(
        make_briefing(STORIES[1:]), hook_config(interests={"actors": ["APT39"]}), 5, None
    )
    assert (body["story_count"], body["total_stories"], body["stories"]) == (0, 2, [])


def test_serve_build_job_posts_and_catch_up_counts_webhooks(
    tmp_path: Path, hook: Hook, site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing.schedule import Service
    from tests.conftest import NOW_DT, write_config

    monkeypatch.setenv("TEST_HOOK", hook.url("/h"))
    path = write_config(tmp_path, site.base_url, extra=hooks_yaml(item("soar", "TEST_HOOK")))
    config, out = load_config(path), tmp_path / "out"
    hook.answers = [(500, {})]
    waits: list[float] = []
    service = Service(
        config, out, clock=lambda: NOW_DT, sender=WebhookSender(sleep=waits.append), lock_wait=0
    )
    line = service.build_job(NOW_DT - timedelta(hours=1))
    assert line.startswith("ok: briefing 2026-03-10, ") and line.endswith("; delivery: 1 sent")
    assert waits == [5.0] and len(hook.posts) == 2
    assert catch_up_slot(config, out, NOW_DT) is None
    # A webhook added to the config after the build has not had it: catch up.
    more = config.model_copy(
        update={"webhooks": (*config.webhooks, hook_config(name="late", url_env="TEST_HOOK"))}
    )
    assert catch_up_slot(more, out, NOW_DT) == NOW_DT - timedelta(hours=1)
