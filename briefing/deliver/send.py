"""Deliver stage: a built ``Briefing`` -> one e-mail per recipient and one POST per webhook,
each sent exactly once.

In: the config (``email:``, ``webhooks:``), the output folder (store and archive), the day's
``Briefing`` and the clock. Out: messages handed to the SMTP server, JSON POSTed to each webhook
(``deliver.webhook`` builds and sends those), and one ``deliveries`` row per (briefing date,
recipient, channel) in the store, the channel being ``email`` (keyed by address) or ``webhook``
(keyed by the webhook's ``name``); a list of ``Outcome``s for the caller to report.

Each message is ``multipart/mixed``: a ``multipart/alternative`` (plain text, then HTML with
inline CSS and table layout, autoescaped, http(s) links only, no scripts) and the PDF. A reader
with ``interests`` gets a briefing filtered for them (``interests.filter_briefing``), PDF and
body alike. A PDF over ``email.max_attachment`` is replaced by a link into the archive when
``email.archive_url`` is set. A webhook gets the executive summary in its ``format``, filtered by
its ``interests`` the same way, its links pointing into ``email.archive_url`` when there is one.

With ``review.required`` in the config nothing is sent until the day is approved or its review
deadline passes (``review.gate``); ``DeliveryHeld`` says why.

Exactly once: a delivery is recorded the moment the server accepts it, and a recorded
(date, recipient, channel) is not sent again unless ``force``. Transient failures are retried
with doubling waits (SMTP: connection, timeout, 4xx, ``email.retries`` times; webhooks:
connection, timeout, 429, 5xx); permanent ones (SMTP 5xx, a refused login, a webhook's other
4xx or a redirect) are not. One recipient or webhook failing does not stop the others.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Literal, Protocol

import httpx
import jinja2.sandbox

from briefing.config import Config, EmailConfig, InterestsConfig, RecipientConfig, WebhookConfig
from briefing.deliver.interests import Filtered, filter_briefing, labelled
from briefing.deliver.webhook import WebhookSender, digest, encode, render
from briefing.errors import BriefingError
from briefing.errors import PermanentFailure as PermanentFailure  # re-exported for callers
from briefing.models import Briefing
from briefing.publish.render import environment, render_html, render_pdf
from briefing.retry import Backoff, TryAgain, call
from briefing.sanitize import header_value, refuse_encoded_words
from briefing.store import Store

log = logging.getLogger(__name__)

CHANNEL = "email"
WEBHOOK = "webhook"
_SUBJECT_MAX = 200


class DeliveryError(BriefingError):
    """Delivery could not be attempted or did not succeed for every recipient (exit 1)."""


class DeliveryHeld(DeliveryError):
    """``review.required`` and the day is not approved (``review.gate``): nothing was sent;
    the message says why and until when."""


class Channel(Protocol):
    """Where messages go; ``SmtpChannel`` in production, anything with ``send`` in tests."""

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class Outcome:
    recipient: str
    status: Literal["sent", "skipped", "already-sent", "failed"]
    stories: int
    detail: str = ""
    channel: str = CHANNEL  # "email" or "webhook"


# --- composing one message ----------------------------------------------------------------


def describe_interests(interests: InterestsConfig) -> str:
    """``actors: APT39; keywords: ransomware`` — what the note in a filtered briefing names."""
    return labelled(
        (
            ("actors", interests.actors),
            ("regions", interests.regions),
            ("sectors", interests.sectors),
            ("keywords", interests.keywords),
            ("vendors", interests.vendors),
            ("kinds", interests.kinds),
        ),
        "; ",
    )


def subject_line(template: str, filtered: Filtered) -> str:
    """The subject from the config's template: one line, at most 200 characters."""
    briefing = filtered.briefing
    if briefing.by_actor:
        top = briefing.by_actor[0].title
    elif briefing.stories:
        top = briefing.stories[0].title
    else:
        top = ""
    # Sandboxed and unescaped: the template is the operator's, the values are feed text.
    env = jinja2.sandbox.SandboxedEnvironment(autoescape=False)
    text = env.from_string(template).render(
        date=briefing.date,
        count=len(briefing.stories),
        total=filtered.total,
        top=refuse_encoded_words(top[:80]),
        title=briefing.title,
    )
    # A newline or an encoded-word from a feed title must never reach a header.
    text = header_value(text)
    return text[:_SUBJECT_MAX] or header_value(f"{briefing.title} {briefing.date}")


def _size(count: int) -> str:
    return f"{count / 1_048_576:.1f} MB" if count >= 1_048_576 else f"{count / 1024:.0f} kB"


def archive_links(email: EmailConfig, date: str) -> tuple[str | None, str | None]:
    """(the archive's index, the day's full PDF) under ``archive_url``, or Nones."""
    if not email.archive_url:
        return None, None
    return email.archive_url, f"{email.archive_url}{date}/briefing.pdf"


def recipient_pdf(
    config: Config,
    output: Path,
    filtered: Filtered,
    interests: str,
    env: jinja2.Environment,
) -> bytes:
    """The recipient's PDF: the archived one when they get everything, else rendered for them."""
    briefing = filtered.briefing
    if filtered.others == 0 and len(briefing.stories) == filtered.total:
        archived = output / briefing.date / "briefing.pdf"
        if archived.is_file():
            return archived.read_bytes()
        return render_pdf(render_html(briefing, config, env, "pdf"))
    from briefing.publish.render import context

    html = env.get_template("briefing-recipient.html").render(
        {
            **context(briefing, config, medium="pdf"),
            "others": filtered.others,
            "total": filtered.total,
            "interests": interests,
        }
    )
    return render_pdf(html)


def build_message(
    config: Config,
    email: EmailConfig,
    recipient: RecipientConfig,
    filtered: Filtered,
    pdf: bytes,
    env: jinja2.Environment,
    now: datetime,
) -> EmailMessage:
    briefing = filtered.briefing
    interests = describe_interests(recipient.interests) if recipient.interests else ""
    archive, day_pdf = archive_links(email, briefing.date)
    too_big = len(pdf) > email.max_attachment and day_pdf is not None
    if len(pdf) > email.max_attachment and day_pdf is None:
        log.warning(
            "%s: the PDF (%s) is over email.max_attachment but there is no email.archive_url"
            " to link to instead; attaching it anyway",
            recipient.address,
            _size(len(pdf)),
        )
    variables = {
        "briefing": briefing,
        "filtered": bool(recipient.interests and not recipient.interests.empty),
        "interests": interests,
        "others": filtered.others,
        "total": filtered.total,
        "actors": briefing.by_actor[:8],
        "vendors": briefing.by_vendor[:8],
        "attached": not too_big,
        "pdf_link": day_pdf if too_big else None,
        "pdf_size": _size(len(pdf)),
        "archive_link": archive,
        "recipient": recipient.address,
    }
    text_env = env.overlay(autoescape=False)
    message = EmailMessage()
    domain = parseaddr(email.sender)[1].rpartition("@")[2] or None
    headers = {
        "Subject": subject_line(email.subject, filtered),
        "From": email.sender,
        "To": recipient.address,
        "Date": format_datetime(now),
        "Message-ID": make_msgid("briefing", domain=domain),
        # Tell out-of-office responders and mail rules that no human sent this.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Briefing-Date": briefing.date,
    }
    for name, value in headers.items():
        # Every value goes through the one sanitiser, whatever its origin.
        message[name] = header_value(value)
    message.set_content(text_env.get_template("email.txt").render(variables))
    message.add_alternative(env.get_template("email.html").render(variables), subtype="html")
    if not too_big:
        message.add_attachment(
            pdf,
            maintype="application",
            subtype="pdf",
            filename=f"briefing-{briefing.date}.pdf",
        )
    return message


# --- sending ------------------------------------------------------------------------------


def _permanent(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    # No STARTTLS on the server, a certificate that does not verify: a retry will not fix it.
    return isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError)


class SmtpChannel:
    """SMTP over STARTTLS, implicit TLS or plain, one connection per message, with retries."""

    def __init__(
        self,
        email: EmailConfig,
        password: str | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.email = email
        self._password = password
        self._sleep = sleep
        self._context = tls_context

    @classmethod
    def from_config(cls, email: EmailConfig) -> SmtpChannel:
        password = None
        if email.password_env:
            password = os.environ.get(email.password_env)
            if not password:
                raise DeliveryError(
                    f"email.password_env: the environment variable {email.password_env} "
                    "is not set (it holds the SMTP password)"
                )
        return cls(email, password)

    def send(self, message: EmailMessage) -> None:
        def attempt() -> None:
            try:
                self._send_once(message)
            except (OSError, smtplib.SMTPException) as exc:
                if _permanent(exc):
                    raise PermanentFailure(_explain(exc)) from None
                raise TryAgain(exc) from None

        def tell(error: BaseException, retry: int, wait: float) -> None:
            log.warning(
                "sending to %s failed (%s); retry %d of %d in %gs",
                message["To"],
                _explain(error),
                retry,
                self.email.retries,
                wait,
            )

        backoff = Backoff(self.email.retries, self.email.retry_wait)
        call(attempt, backoff, sleep=self._sleep, on_retry=tell)

    def _send_once(self, message: EmailMessage) -> None:
        email = self.email
        context = self._context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if email.security == "tls":
            smtp = smtplib.SMTP_SSL(
                email.smtp_host, email.port, timeout=email.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(email.smtp_host, email.port, timeout=email.timeout)
        with smtp:
            if email.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
            if email.username and self._password is not None:
                smtp.login(email.username, self._password)
            smtp.send_message(message)


def _explain(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
        )
        return f"{exc.smtp_code} {text}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {msg!r}" for code, msg in exc.recipients.values())
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


# --- delivering a day's briefing ----------------------------------------------------------


def deliver(
    config: Config,
    output: Path,
    briefing: Briefing,
    now: datetime,
    *,
    force: bool = False,
    only: Sequence[str] = (),
    channel: Channel | None = None,
    sender: WebhookSender | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """Send ``briefing`` to every configured recipient and webhook (or those ``only`` names:
    addresses or webhook names) not yet sent it; e-mail first, then webhooks."""
    email = config.email
    if email is None and not config.webhooks:
        raise DeliveryError(
            f"{config.source or 'config'}: no email: or webhooks: section, nobody to send to"
        )
    addresses = {r.address.lower(): r for r in (email.recipients if email else ())}
    hooks = {w.name.lower(): w for w in config.webhooks}
    wanted = {name.lower() for name in only}
    if unknown := sorted(wanted - addresses.keys() - hooks.keys()):
        raise DeliveryError(f"not a configured recipient or webhook: {', '.join(unknown)}")
    if wanted:
        addresses = {key: r for key, r in addresses.items() if key in wanted}
        hooks = {key: w for key, w in hooks.items() if key in wanted}
    if config.review is not None and config.review.required:
        from briefing.review.gate import delivery_gate

        gate = delivery_gate(config, output, briefing.date, now)
        if not gate.open:
            raise DeliveryHeld(gate.reason)
    from briefing.pipeline import store_path

    outcomes: list[Outcome] = []
    with Store.open(store_path(config, output)) as store:

        def pending(names: dict[str, str], kind: str) -> list[str]:
            """The keys still to send to; the rest get an "already-sent" outcome."""
            out = []
            for key, name in names.items():
                done = store.delivery(briefing.date, key, kind)
                if done is not None and not force:
                    outcomes.append(Outcome(name, "already-sent", done.stories, done.status, kind))
                else:
                    out.append(key)
            return out

        mail = pending({key: r.address for key, r in addresses.items()}, CHANNEL)
        posts = pending({key: w.name for key, w in hooks.items()}, WEBHOOK)
        if mail and channel is None:
            assert email is not None
            channel = SmtpChannel.from_config(email)
        env = environment(config)
        for key in mail:
            if should_stop is not None and should_stop():
                return outcomes
            outcomes.append(
                _deliver_one(config, output, briefing, addresses[key], channel, env, store, now)
            )
        for key in posts:
            if should_stop is not None and should_stop():
                break
            outcomes.append(_post_one(config, briefing, hooks[key], sender, store, now))
    return outcomes


def _deliver_one(
    config: Config,
    output: Path,
    briefing: Briefing,
    recipient: RecipientConfig,
    channel: Channel | None,
    env: jinja2.Environment,
    store: Store,
    now: datetime,
) -> Outcome:
    assert config.email is not None and channel is not None
    filtered = filter_briefing(briefing, recipient.interests)
    count = len(filtered.briefing.stories)
    skip_empty = config.email.skip_empty if recipient.skip_empty is None else recipient.skip_empty
    if count == 0 and filtered.total > 0 and recipient.interests and skip_empty:
        # Recorded, so a rerun and a catch-up agree that this reader is done for the day.
        store.record_delivery(
            briefing.date, recipient.address, CHANNEL, status="skipped", now=now, stories=0
        )
        return Outcome(recipient.address, "skipped", 0, "nothing matched")
    interests = describe_interests(recipient.interests) if recipient.interests else ""
    try:
        pdf = recipient_pdf(config, output, filtered, interests, env)
        message = build_message(config, config.email, recipient, filtered, pdf, env, now)
        channel.send(message)
    except (OSError, smtplib.SMTPException, PermanentFailure) as exc:
        detail = str(exc) if isinstance(exc, PermanentFailure) else _explain(exc)
        log.error("e-mail to %s failed: %s", recipient.address, detail)
        return Outcome(recipient.address, "failed", count, detail)
    store.record_delivery(
        briefing.date,
        recipient.address,
        CHANNEL,
        status="sent",
        now=now,
        stories=count,
        detail=str(message["Message-ID"]),
    )
    return Outcome(recipient.address, "sent", count, f"{len(pdf)} byte PDF")


def _post_one(
    config: Config,
    briefing: Briefing,
    webhook: WebhookConfig,
    sender: WebhookSender | None,
    store: Store,
    now: datetime,
) -> Outcome:
    archive_url = config.email.archive_url if config.email else None
    day = digest(briefing, webhook, config.top_stories, archive_url)
    count = day.stories
    # check_secrets vouched for the variable before any work; it is read again here, as late as
    # possible, so the token lives in this process no longer than one POST.
    url = os.environ.get(webhook.url_env, "").strip()
    try:
        if not url:
            raise PermanentFailure(f"environment variable {webhook.url_env} is not set")
        status = (sender or WebhookSender()).send(webhook, url, encode(render(day, webhook.format)))
    except (httpx.TransportError, PermanentFailure) as exc:
        detail = str(exc) if isinstance(exc, PermanentFailure) else type(exc).__name__
        log.error("webhook %s failed: %s", webhook.name, detail)
        return Outcome(webhook.name, "failed", count, detail, WEBHOOK)
    detail = f"{webhook.format}, HTTP {status}"
    store.record_delivery(
        briefing.date, webhook.name, WEBHOOK, status="sent", now=now, stories=count, detail=detail
    )
    return Outcome(webhook.name, "sent", count, detail, WEBHOOK)


def all_delivered(config: Config, output: Path, date: str) -> bool:
    """Whether every configured recipient and webhook has ``date``'s briefing (true when there
    are none)."""
    wanted = {
        (CHANNEL, r.address.lower()) for r in (config.email.recipients if config.email else ())
    }
    wanted |= {(WEBHOOK, w.name.lower()) for w in config.webhooks}
    if not wanted:
        return True
    from briefing.pipeline import store_path

    with Store.open(store_path(config, output)) as store:
        done = {(d.channel, d.recipient) for d in store.deliveries(date)}
    return wanted <= done
