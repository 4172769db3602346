"""Delivery: real messages to a real SMTP server (aiosmtpd on loopback), read back and checked.

Briefings here are built by hand from the model types, so these tests need neither the feeds
nor the tagger; ``test_send_cli.py``-style end-to-end checks live at the bottom and go through
the whole pipeline against the fixture site.
"""

from __future__ import annotations

import email
import email.policy
import io
import smtplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from briefing.config import Config, EmailConfig, InterestsConfig, load_config
from briefing.deliver.interests import filter_briefing
from briefing.deliver.send import (
    DeliveryError,
    PermanentFailure,
    SmtpChannel,
    all_delivered,
    deliver,
    subject_line,
)
from briefing.models import (
    ActorRef,
    Briefing,
    CountryRef,
    Entities,
    NamedRef,
    Section,
    Source,
    Story,
)
from briefing.store import Store, default_path

NOW = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)


# --- a loopback SMTP server ----------------------------------------------------------------


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes  # the bytes the server received, before any parser reads them


@dataclass
class Inbox:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    fail_next: int = 0  # answer the next N DATA commands with 451 (a transient failure)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_next:
            self.fail_next -= 1
            return "451 4.3.0 try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, envelope.content)
        )
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.messages if address in r.recipients]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox("127.0.0.1", _free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def email_yaml(inbox: Inbox, extra: str = "") -> str:
    return (
        "email:\n"
        f"  smtp_host: {inbox.host}\n"
        f"  smtp_port: {inbox.port}\n"
        "  security: none\n"
        '  from: "Threat Briefing <briefing@example.org>"\n'
        "  retry_wait: 0\n"
        f"{extra}"
        "  recipients:\n"
        "    - address: soc@example.org\n"
        "    - address: ciso@example.org\n"
        "      interests:\n"
        "        actors: [apt39]\n"
    )


def make_config(tmp_path: Path, inbox: Inbox, extra: str = "") -> Config:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "title: Test Briefing\ntimezone: Europe/Amsterdam\n"
        + email_yaml(inbox, extra)
        + "feeds:\n  - name: Alpha\n    url: http://127.0.0.1:9/feed.xml\n",
        encoding="utf-8",
    )
    return load_config(path)


# --- a hand-made briefing -------------------------------------------------------------------


def _story(sid: str, title: str, entities: Entities, url: str = "https://a.example/x") -> Story:
    return Story(
        id=sid,
        title=title,
        summary=f"Summary of {title}. It is long enough to be a sentence of its own.",
        sources=(Source("Alpha", title, url, NOW - timedelta(hours=2), "full"),),
        entities=entities,
        published=NOW - timedelta(hours=2),
    )


APT39 = ActorRef("APT39", ("Chafer", "Remix Kitten"), "Iran", "IR", True, ("Chafer",))
STORIES = (
    _story(
        "s1",
        "Chafer targets telecom operators",
        Entities(
            actors=(APT39,),
            regions=(NamedRef("Middle East", ("Middle East",)),),
            countries=(
                CountryRef("IR", "Iran", "attributed", ("Iran",)),
                CountryRef("JO", "Jordan", "target", ("Jordan",)),
            ),
            sectors=(NamedRef("Telecommunications", ("telecom",)),),
        ),
    ),
    _story(
        "s2",
        "Ransomware hits a hospital <script>alert(1)</script>",
        Entities(sectors=(NamedRef("Healthcare", ("hospital",)),)),
        url="javascript:alert(1)",
    ),
    _story(
        "s3",
        "Patch roundup for March",
        Entities(cves=("CVE-2026-0001",)),
    ),
)


def make_briefing(stories: tuple[Story, ...] = STORIES) -> Briefing:
    return Briefing(
        title="Test Briefing",
        date="2026-03-10",
        window_start=NOW - timedelta(hours=24),
        window_end=NOW,
        tlp="TLP:CLEAR",
        stories=stories,
        by_actor=(Section("apt39", "APT39", "Chafer", ("s1",)),) if stories else (),
        by_region=(Section("middle-east", "Middle East", "Jordan", ("s1",)),) if stories else (),
        feeds=(),
        executive=tuple(story.id for story in stories),
        other_story_ids=("s2", "s3") if stories else (),
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def parts(message: EmailMessage) -> dict[str, Any]:
    """The MIME tree as content types, and the bodies and attachment found in it."""
    alternative: MIMEPart = message
    if message.get_content_type() != "multipart/alternative":  # else: no attachment
        alternative = next(
            p for p in message.iter_parts() if p.get_content_type().startswith("multi")
        )
    attachments = list(message.iter_attachments())
    return {
        "root": message.get_content_type(),
        "alternative": alternative.get_content_type(),
        "bodies": [p.get_content_type() for p in alternative.iter_parts()],
        "text": alternative.get_body(("plain",)).get_content(),  # type: ignore[union-attr]
        "html": alternative.get_body(("html",)).get_content(),  # type: ignore[union-attr]
        "attachments": [(a.get_content_type(), a.get_filename()) for a in attachments],
        "pdf": attachments[0].get_content() if attachments else None,
    }


# --- interests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interests", "expected"),
    [
        ({"actors": ["APT39"]}, ["s1"]),
        ({"actors": ["remix  kitten"]}, ["s1"]),  # an alias, other case, other spacing
        ({"actors": ["APT3"]}, []),  # exact names, not substrings
        ({"regions": ["middle east"]}, ["s1"]),
        ({"regions": ["Jordan"]}, ["s1"]),  # a targeted country
        ({"regions": ["Iran"]}, []),  # the attributed state is not a target
        ({"sectors": ["healthcare"]}, ["s2"]),
        ({"keywords": ["RANSOMWARE"]}, ["s2"]),
        ({"keywords": ["cve-2026-0001"]}, ["s3"]),
        ({"keywords": ["ransomware"], "actors": ["APT39"]}, ["s1", "s2"]),  # any value matches
    ],
)
def test_interests_select_stories(interests: dict[str, list[str]], expected: list[str]) -> None:
    filtered = filter_briefing(make_briefing(), InterestsConfig(**interests))  # type: ignore[arg-type]
    assert [story.id for story in filtered.briefing.stories] == expected
    assert filtered.others == 3 - len(expected)
    kept = set(expected)
    for section in filtered.briefing.by_actor + filtered.briefing.by_region:
        assert section.story_ids and set(section.story_ids) <= kept
    assert set(filtered.briefing.executive) <= kept
    assert set(filtered.briefing.other_story_ids) <= kept


def test_no_interests_is_the_whole_briefing() -> None:
    briefing = make_briefing()
    assert filter_briefing(briefing, None).briefing is briefing
    assert filter_briefing(briefing, InterestsConfig()).others == 0


def test_subject_default_and_injection_safe() -> None:
    briefing = make_briefing()
    template = EmailConfig.model_fields["subject"].default
    assert subject_line(template, filter_briefing(briefing, None)) == (
        "Threat briefing 2026-03-10 — 3 stories — top: APT39"
    )
    evil = make_briefing((_story("s9", "Line one\r\nBcc: victim@example.org", Entities()),))
    evil = Briefing(**{**evil.__dict__, "by_actor": ()})
    subject = subject_line(template, filter_briefing(evil, None))
    assert "\n" not in subject and "\r" not in subject
    assert subject == "Threat briefing 2026-03-10 — 1 story — top: Line one Bcc: victim@example.org"


# Encoded-words in feed titles that decode to CR/LF: an injected header, and a 79-character
# title that ends the headers early and replaces the body (CVE-2024-6923 on Python < 3.11.10).
HEADER_ATTACKS = (
    "=?utf-8?q?Patch_now=0D=0AReply-To:_it-helpdesk@evil.example=0D=0AX-Evil:_1?=",
    "=?utf-8?q?Hi!!=0D=0AContent-Type:text/html=0D=0A=0D=0A<h1>Evil_body_here</h1>?=",
    "Plain\r\nX-Evil: 2 =?utf-8?b?DQpYLUV2aWw6IDM=?= \x85X-Evil: 4\x0bX-Evil: 5",
)


def _raw_headers(raw: bytes) -> list[bytes]:
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return [line for line in head.split(b"\n") if line and line[:1] not in b" \t"]


@pytest.mark.parametrize("title", HEADER_ATTACKS)
def test_encoded_words_in_feed_titles_inject_no_header(
    tmp_path: Path, inbox: Inbox, title: str
) -> None:
    assert len(HEADER_ATTACKS[1]) == 79
    story = _story("s9", title, Entities())
    briefing = Briefing(**{**make_briefing((story,)).__dict__, "by_actor": ()})
    outcomes = deliver(
        make_config(tmp_path, inbox), tmp_path / "out", briefing, NOW, only=["soc@example.org"]
    )
    assert [o.status for o in outcomes] == ["sent"]
    raw = inbox.messages[0].raw
    names = [line.split(b":", 1)[0].lower() for line in _raw_headers(raw)]
    assert b"reply-to" not in names and b"x-evil" not in names
    # Not even a folded continuation of the Subject reads as one of those headers.
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].split(b"\n")
    assert not [line for line in head if line.lstrip().lower().startswith((b"reply-to", b"x-evil"))]
    assert names.count(b"content-type") == 1 and names.count(b"subject") == 1
    assert b"it-helpdesk@evil.example" not in b"".join(
        line for line in _raw_headers(raw) if not line.lower().startswith(b"subject:")
    )
    message = inbox.messages[0].message
    assert message["Reply-To"] is None and message["X-Evil"] is None
    subject = str(message["Subject"])
    assert "\r" not in subject and "\n" not in subject and "=?" not in subject
    tree = parts(message)  # the body is the briefing, not the attacker's HTML
    assert tree["root"] == "multipart/mixed"
    assert tree["bodies"] == ["text/plain", "text/html"]
    assert tree["pdf"].startswith(b"%PDF-") and "<h1>Evil" not in tree["html"]
    assert "<bdi>" in tree["html"]  # feed text isolated: no bidi reordering around it
    assert len(PdfReader(io.BytesIO(tree["pdf"])).pages) >= 1


# --- messages through a real SMTP server ------------------------------------------------------


def test_each_recipient_gets_one_message_with_text_html_and_pdf(
    tmp_path: Path, inbox: Inbox
) -> None:
    config = make_config(tmp_path, inbox)
    outcomes = deliver(config, tmp_path / "out", make_briefing(), NOW)
    assert [(o.recipient, o.status, o.stories) for o in outcomes] == [
        ("soc@example.org", "sent", 3),
        ("ciso@example.org", "sent", 1),
    ]
    assert len(inbox.messages) == 2
    for received in inbox.messages:
        assert received.sender == "briefing@example.org"
        assert len(received.recipients) == 1

    soc = inbox.to("soc@example.org")[0]
    tree = parts(soc)
    assert tree["root"] == "multipart/mixed"
    assert tree["alternative"] == "multipart/alternative"
    assert tree["bodies"] == ["text/plain", "text/html"]
    assert tree["attachments"] == [("application/pdf", "briefing-2026-03-10.pdf")]
    assert tree["pdf"].startswith(b"%PDF-")
    assert soc["Subject"] == "Threat briefing 2026-03-10 — 3 stories — top: APT39"
    assert soc["From"] == "Threat Briefing <briefing@example.org>"
    assert soc["To"] == "soc@example.org"
    assert soc["Auto-Submitted"] == "auto-generated"
    assert soc["Message-ID"].endswith("@example.org>")
    assert soc["Date"]
    text = pdf_text(tree["pdf"])
    for story in STORIES[1:]:
        assert story.title.split(" <")[0] in text
    # Hostile titles are escaped in HTML, javascript: links are dropped, nothing runs.
    html = tree["html"]
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html
    assert "Patch roundup for March" in tree["text"]
    assert "<script>alert(1)</script>" in tree["text"]  # plain text is not HTML: shown as is

    ciso = parts(inbox.to("ciso@example.org")[0])
    assert inbox.to("ciso@example.org")[0]["Subject"] == (
        "Threat briefing 2026-03-10 — 1 story — top: APT39"
    )
    pdf = pdf_text(ciso["pdf"])
    assert "Chafer targets telecom operators" in pdf
    assert "Patch roundup" not in pdf and "hospital" not in pdf
    assert "2 other stories today did not match" in pdf
    assert "Patch roundup" not in ciso["html"] and "Patch roundup" not in ciso["text"]
    assert "2 other stories today did not match" in ciso["html"]
    assert "2 other stories today did not match" in ciso["text"]


def test_a_rerun_sends_nothing_and_force_sends_again(tmp_path: Path, inbox: Inbox) -> None:
    config = make_config(tmp_path, inbox)
    out = tmp_path / "out"
    deliver(config, out, make_briefing(), NOW)
    assert all_delivered(config, out, "2026-03-10")
    again = deliver(config, out, make_briefing(), NOW + timedelta(hours=1))
    assert [o.status for o in again] == ["already-sent", "already-sent"]
    assert len(inbox.messages) == 2
    forced = deliver(config, out, make_briefing(), NOW, force=True, only=["CISO@example.org"])
    assert [(o.recipient, o.status) for o in forced] == [("ciso@example.org", "sent")]
    assert len(inbox.messages) == 3


def test_nothing_matched_is_said_or_skipped(tmp_path: Path, inbox: Inbox) -> None:
    briefing = make_briefing(STORIES[1:])
    config = make_config(tmp_path, inbox)
    deliver(config, tmp_path / "out", briefing, NOW)
    ciso = parts(inbox.to("ciso@example.org")[0])
    assert "Nothing matched today" in ciso["text"]
    assert "nothing matched today" in pdf_text(ciso["pdf"])

    skip = make_config(tmp_path / "skip", inbox, extra="  skip_empty: true\n")
    outcomes = deliver(skip, tmp_path / "out2", briefing, NOW)
    assert [o.status for o in outcomes] == ["sent", "skipped"]
    assert len(inbox.to("ciso@example.org")) == 1  # only the first test's message
    assert all_delivered(skip, tmp_path / "out2", briefing.date)


def test_big_pdf_becomes_a_link_when_there_is_an_archive(tmp_path: Path, inbox: Inbox) -> None:
    extra = "  max_attachment: 1024\n  archive_url: https://intel.example.org/briefings\n"
    config = make_config(tmp_path, inbox, extra=extra)
    deliver(config, tmp_path / "out", make_briefing(), NOW, only=["soc@example.org"])
    tree = parts(inbox.to("soc@example.org")[0])
    assert tree["root"] == "multipart/alternative"
    assert tree["attachments"] == []
    link = "https://intel.example.org/briefings/2026-03-10/briefing.pdf"
    assert link in tree["text"] and f'href="{link}"' in tree["html"]


def test_transient_failures_are_retried_then_recorded_once(tmp_path: Path, inbox: Inbox) -> None:
    config = make_config(tmp_path, inbox, extra="  retries: 2\n")
    assert config.email is not None
    inbox.fail_next = 2
    waits: list[float] = []
    channel = SmtpChannel(config.email, None, sleep=waits.append)
    outcomes = deliver(config, tmp_path / "out", make_briefing(), NOW, channel=channel)
    assert [o.status for o in outcomes] == ["sent", "sent"]
    assert waits == [0.0, 0.0]  # retry_wait 0, doubled: still 0, but two retries were made
    assert len(inbox.messages) == 2


def test_failure_is_reported_and_not_recorded(tmp_path: Path, inbox: Inbox) -> None:
    config = make_config(tmp_path, inbox, extra="  retries: 1\n  retry_wait: 1.5\n")
    assert config.email is not None
    inbox.fail_next = 10
    waits: list[float] = []
    channel = SmtpChannel(config.email, None, sleep=waits.append)
    outcomes = deliver(config, tmp_path / "out", make_briefing(), NOW, channel=channel)
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert "451" in outcomes[0].detail
    assert waits == [1.5, 1.5]  # one retry per recipient, bounded
    with Store.open(default_path(tmp_path / "out")) as store:
        assert store.deliveries("2026-03-10") == []


def test_permanent_failure_is_not_retried(tmp_path: Path, inbox: Inbox) -> None:
    config = make_config(tmp_path, inbox)
    assert config.email is not None

    class Refusing:
        calls = 0

        def send(self, message: EmailMessage) -> None:
            type(self).calls += 1
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})

    outcomes = deliver(config, tmp_path / "out", make_briefing(), NOW, channel=Refusing())
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert Refusing.calls == 2


def test_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = EmailConfig.model_validate(
        {
            "smtp_host": "127.0.0.1",
            "username": "briefing",
            "password_env": "TEST_BRIEFING_SMTP_PW",
            "from": "briefing@example.org",
            "recipients": [{"address": "soc@example.org"}],
        }
    )
    monkeypatch.delenv("TEST_BRIEFING_SMTP_PW", raising=False)
    with pytest.raises(DeliveryError, match="TEST_BRIEFING_SMTP_PW is not set"):
        SmtpChannel.from_config(settings)
    monkeypatch.setenv("TEST_BRIEFING_SMTP_PW", "s3cret")
    assert SmtpChannel.from_config(settings)._password == "s3cret"


# --- end to end: ``briefing run --send`` against the fixture site ---------------------------------


def test_run_send_then_rerun_sends_nothing(tmp_path: Path, inbox: Inbox, site: Any) -> None:
    from click.testing import CliRunner

    from briefing.cli import cli
    from tests.conftest import NOW as FIXTURE_NOW
    from tests.conftest import write_config

    extra = email_yaml(inbox).replace("actors: [apt39]", "actors: [Sandworm]")
    config = write_config(tmp_path, site.base_url, extra=extra)
    out = tmp_path / "out"
    args = ["run", "-c", str(config), "-o", str(out), "--now", FIXTURE_NOW, "--send"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert sorted(r.recipients[0] for r in inbox.messages) == [
        "ciso@example.org",
        "soc@example.org",
    ]
    soc, ciso = (parts(inbox.to(a)[0]) for a in ("soc@example.org", "ciso@example.org"))
    for tree in (soc, ciso):
        assert tree["bodies"] == ["text/plain", "text/html"]
        assert tree["attachments"][0][0] == "application/pdf"
    everything, mine = pdf_text(soc["pdf"]), pdf_text(ciso["pdf"])
    assert "Sandworm" in mine
    for other in ("Akira", "Cl0p", "Turla"):
        assert other in everything
        assert other not in mine
    assert "other stories today did not match" in mine

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert len(inbox.messages) == 2
    assert "already-sent" in again.output
    forced = CliRunner().invoke(
        cli, ["send", "-c", str(config), "-o", str(out), "--to", "soc@example.org", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert len(inbox.messages) == 3


# --- TLS: STARTTLS and implicit TLS against a real TLS server ------------------------------


@dataclass
class TlsServer:
    inbox: Inbox
    client_context: ssl.SSLContext  # trusts the test CA, as a system store trusts a real one
    logins: list[tuple[str, str]]


def _authenticator(logins: list[tuple[str, str]]) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        logins.append((login, password))
        return AuthResult(success=(login, password) == ("briefing", "s3cret"))

    return check


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request: pytest.FixtureRequest) -> Iterator[TlsServer]:
    """aiosmtpd with a certificate from a throwaway CA: STARTTLS required before AUTH and
    DATA on the submission port, or TLS from the first byte (port 465 style)."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    box = Inbox("127.0.0.1", _free_port())
    logins: list[tuple[str, str]] = []
    common: dict[str, Any] = {
        "hostname": box.host,
        "port": box.port,
        "authenticator": _authenticator(logins),
    }
    if request.param == "starttls":
        controller = Controller(
            box, tls_context=server_context, require_starttls=True, auth_require_tls=True, **common
        )
    else:
        # The whole session is TLS; aiosmtpd only counts STARTTLS as TLS for its AUTH rule.
        controller = Controller(box, ssl_context=server_context, auth_require_tls=False, **common)
    controller.start()
    try:
        yield TlsServer(box, client_context, logins)
    finally:
        controller.stop()


def tls_config(server: TlsServer, security: str) -> EmailConfig:
    return EmailConfig.model_validate(
        {
            "smtp_host": server.inbox.host,
            "smtp_port": server.inbox.port,
            "security": security,
            "username": "briefing",
            "password_env": "TEST_BRIEFING_SMTP_PW",
            "from": "Threat Briefing <briefing@example.org>",
            "retry_wait": 0,
            "recipients": [{"address": "soc@example.org"}],
        }
    )


def test_tls_delivery_logs_in_and_sends_over_an_encrypted_connection(
    tls_server: TlsServer, request: pytest.FixtureRequest
) -> None:
    security = request.node.callspec.params["tls_server"]
    channel = SmtpChannel(
        tls_config(tls_server, security), "s3cret", tls_context=tls_server.client_context
    )
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "briefing@example.org",
        "soc@example.org",
        "TLS check",
    )
    message.set_content("Sent over TLS.")
    channel.send(message)
    assert tls_server.logins == [("briefing", "s3cret")]
    assert [m["Subject"] for m in tls_server.inbox.to("soc@example.org")] == ["TLS check"]


def test_an_untrusted_certificate_fails_at_once_and_sends_nothing(
    tls_server: TlsServer, request: pytest.FixtureRequest
) -> None:
    """The system store does not know the test CA: no retry (a retry cannot fix a certificate),
    no login (the password never leaves over an unverified connection), nothing delivered."""
    security = request.node.callspec.params["tls_server"]
    waits: list[float] = []
    config = tls_config(tls_server, security)
    channel = SmtpChannel(config, "s3cret", sleep=waits.append)
    message = EmailMessage()
    message["From"], message["To"] = "briefing@example.org", "soc@example.org"
    message.set_content("Should not arrive.")
    with pytest.raises(PermanentFailure, match="certificate"):
        channel.send(message)
    assert waits == [] and tls_server.logins == [] and tls_server.inbox.messages == []


def test_plain_smtp_to_a_server_that_requires_starttls_is_refused() -> None:
    """``security: none`` against a submission server that insists on STARTTLS: a clear,
    permanent refusal, never the message in clear text."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    box = Inbox("127.0.0.1", _free_port())
    controller = Controller(
        box, hostname=box.host, port=box.port, tls_context=server_context, require_starttls=True
    )
    controller.start()
    try:
        config = EmailConfig.model_validate(
            {
                "smtp_host": box.host,
                "smtp_port": box.port,
                "security": "none",
                "from": "briefing@example.org",
                "retry_wait": 0,
                "recipients": [{"address": "soc@example.org"}],
            }
        )
        message = EmailMessage()
        message["From"], message["To"] = "briefing@example.org", "soc@example.org"
        message.set_content("Clear text.")
        with pytest.raises(PermanentFailure, match="530"):
            SmtpChannel(config, None).send(message)
        assert box.messages == []
    finally:
        controller.stop()
