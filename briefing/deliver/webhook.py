"""Webhook payloads and sending: a ``Briefing`` -> one JSON POST per configured webhook.

In: the day's ``Briefing``, a ``WebhookConfig`` and ``email.archive_url`` (if any). Out:
``payload()``, a pure function giving the same bytes for the same briefing, and
``WebhookSender.send``, which POSTs them. ``deliver.deliver`` decides who gets what, once.

The payload is the day's executive summary: date, title, TLP, how many stories matched, and per
top story its title, rank in the day's briefing, kind, number of sources, actors (canonical names),
regions, exploited CVEs and one link — to the story in the published archive when there is an
``archive_url``, else its first http(s) source. Indicators are never included. Formats:

* ``slack``: an incoming-webhook message, ``text`` (the notification fallback, ``mrkdwn``
  off) plus ``blocks`` of mrkdwn marked ``verbatim`` (no auto-linked URLs or names). Every
  feed-derived string has ``&``, ``<``, ``>`` escaped as Slack asks, and a zero-width joiner
  before ``* _ ~ ` ``, so a title cannot form a mention (``<!channel>``), a link of its own
  or formatting.
* ``teams``: a Workflows (Power Automate) message carrying an Adaptive Card 1.4. Text blocks
  are markdown there: its control characters are backslash-escaped and ``&``/``<`` become
  entities, so a title cannot form a link, an ``<at>`` mention or styling.
* ``json``: a plain object for SOAR/SIEM tooling, ``{"version": 1, ...}`` (see README).

Sending: httpx, no redirects followed (a webhook that moved is a configuration problem, and a
redirect could carry the token elsewhere), ``timeout`` per attempt. Connection errors,
timeouts, 429 and 5xx are retried ``retries`` times with doubling waits (``briefing.retry``: a
``Retry-After``, in seconds or as a date, is honoured; one longer than ``MAX_WAIT`` fails the
delivery for now instead); any other answer outside 2xx is permanent. The
URL holds a token, so it never appears in a log line or an error.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from briefing.config import WebhookConfig
from briefing.deliver.interests import filter_briefing, labelled
from briefing.errors import PermanentFailure
from briefing.ingest.fetch import USER_AGENT
from briefing.models import Briefing, Story
from briefing.retry import Backoff, TryAgain, WaitTooLong, call, retry_after
from briefing.serialize import safe_url

log = logging.getLogger(__name__)

VERSION = 1  # of the ``json`` format; raised only when a field changes meaning or goes away
RETRY_WAIT = 5.0  # seconds before the first retry, doubled after each
MAX_WAIT = 60.0  # the longest wait; a Retry-After asking more fails the delivery for now
MAX_TOP = 20  # stories listed at most (as ``WebhookConfig.top`` allows): Slack takes 50 blocks
_TITLE_MAX = 200
_LIST_MAX = 10


@dataclass(frozen=True)
class TopStory:
    id: str
    rank: int  # in the day's whole briefing, as the archive numbers it
    title: str
    sources: int
    actors: tuple[str, ...]
    regions: tuple[str, ...]
    exploited: tuple[str, ...]
    link: str | None
    kind: str | None = None  # briefing.intel.kind: what the story is


@dataclass(frozen=True)
class Digest:
    """What every format says: the day in one line and its top stories."""

    title: str
    date: str
    tlp: str
    stories: int  # stories that matched the webhook's interests (all of them without)
    total: int  # stories of the day
    link: str | None  # the day's page in the archive
    top: tuple[TopStory, ...]


def digest(
    briefing: Briefing, webhook: WebhookConfig, top_stories: int, archive_url: str | None
) -> Digest:
    filtered = filter_briefing(briefing, webhook.interests)
    stories = {story.id: story for story in filtered.briefing.stories}
    # The executive summary first (it holds one catalogue entry at most), then the rank order:
    # a reader with interests may match none of the day's top stories.
    order = [
        sid for sid in dict.fromkeys([*filtered.briefing.executive, *stories]) if sid in stories
    ]
    count = webhook.top if webhook.top is not None else min(top_stories, MAX_TOP)
    rank = {story.id: number for number, story in enumerate(briefing.stories, 1)}
    day = f"{archive_url}{briefing.date}/briefing.html" if archive_url else None
    top = tuple(_top_story(stories[sid], rank[sid], day) for sid in order[:count])
    return Digest(
        title=briefing.title,
        date=briefing.date,
        tlp=briefing.tlp,
        stories=len(stories),
        total=filtered.total,
        link=safe_url(day),
        top=top,
    )


def _top_story(story: Story, rank: int, day: str | None) -> TopStory:
    if day is not None:
        link = safe_url(f"{day}#story-{quote(story.id, safe='')}")
    else:
        link = next((url for s in story.sources if (url := safe_url(s.url))), None)
    entities = story.entities
    return TopStory(
        id=story.id,
        rank=rank,
        title=_one_line(story.title)[:_TITLE_MAX],
        sources=len(story.sources),
        actors=tuple(actor.name for actor in entities.actors[:_LIST_MAX]),
        regions=tuple(region.name for region in entities.regions[:_LIST_MAX]),
        exploited=story.exploited[:_LIST_MAX],
        link=link,
        kind=story.kind,
    )


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- the three formats ----------------------------------------------------------------------


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _facts(story: TopStory, escape: Callable[[str], str]) -> str:
    # Labels, counts and separators hold no character either chat escapes: escaping the whole
    # line escapes exactly the names.
    entities = labelled(
        (("Actors", story.actors), ("Regions", story.regions), ("Exploited", story.exploited)),
        " · ",
    )
    count = _count(story.sources, "source", "sources")
    return escape(f"{count} · {entities}" if entities else count)


def _headline(day: Digest, escape: Callable[[str], str]) -> str:
    matched = _count(day.stories, "story", "stories")
    if day.stories != day.total:
        matched += f" of {day.total} matched"
    return f"{escape(day.title)} — {day.date} · {day.tlp} · {matched}"


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities: what makes ``<!channel>`` plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_STYLE = re.compile(r"([*_~`])")


def slack_text(text: str) -> str:
    """Feed text for mrkdwn: ``slack_escape``, and a zero-width joiner before each of
    ``* _ ~ ` `` so that ``*bold*`` stays two asterisks (URLs are kept from linking by
    ``verbatim``)."""
    return _SLACK_STYLE.sub("\u200d\\1", slack_escape(text))


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: no auto-linking of bare URLs, channel names or user names in feed text.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _slack(day: Digest) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(f"*{_headline(day, slack_text)}*")}
    ]
    for story in day.top:
        title = slack_text(story.title)
        if story.link:
            # "|" ends the URL part of <url|label>; %7C is the same URL to any server.
            title = f"<{slack_escape(story.link).replace('|', '%7C')}|{title}>"
        text = f"*{story.rank}.* {title}\n{_facts(story, slack_text)}"
        blocks.append({"type": "section", "text": _mrkdwn(text)})
    if day.link:
        blocks.append(
            {
                "type": "context",
                "elements": [_mrkdwn(f"<{slack_escape(day.link)}|Full briefing>")],
            }
        )
    # The notification text is shown as it is: no mrkdwn, no links formed from it.
    return {"text": _headline(day, slack_escape), "mrkdwn": False, "blocks": blocks}


_MARKDOWN = re.compile(r"([\\`*_~\[\]()#|!])")


def teams_escape(text: str) -> str:
    """Plain text for Adaptive Card markdown: no styling, links, entities or ``<at>`` tags."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def _teams_url(url: str) -> str:
    # Inside [label](url) a space or parenthesis would end the URL early.
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _teams(day: Digest) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": teams_escape(day.title),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": _headline(day, teams_escape).split(" — ", 1)[1],
            "isSubtle": True,
            "spacing": "None",
            "wrap": True,
        },
    ]
    for story in day.top:
        title = teams_escape(story.title)
        if story.link:
            title = f"[{title}]({_teams_url(story.link)})"
        body.append({"type": "TextBlock", "text": f"**{story.rank}.** {title}", "wrap": True})
        body.append(
            {
                "type": "TextBlock",
                "text": _facts(story, teams_escape),
                "isSubtle": True,
                "spacing": "None",
                "wrap": True,
            }
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if day.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Full briefing", "url": day.link}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _json(day: Digest) -> dict[str, Any]:
    return {
        "version": VERSION,
        "title": day.title,
        "date": day.date,
        "tlp": day.tlp,
        "story_count": day.stories,
        "total_stories": day.total,
        "link": day.link,
        "stories": [
            {
                "id": story.id,
                "rank": story.rank,
                "title": story.title,
                "source_count": story.sources,
                "actors": list(story.actors),
                "regions": list(story.regions),
                "exploited_cves": list(story.exploited),
                "kind": story.kind,
                "link": story.link,
            }
            for story in day.top
        ],
    }


_FORMATS: Mapping[str, Callable[[Digest], dict[str, Any]]] = {
    "slack": _slack,
    "teams": _teams,
    "json": _json,
}


def render(day: Digest, form: str) -> dict[str, Any]:
    """``day`` as a ``slack``, ``teams`` or ``json`` payload."""
    return _FORMATS[form](day)


def payload(
    briefing: Briefing, webhook: WebhookConfig, top_stories: int, archive_url: str | None
) -> dict[str, Any]:
    """The JSON object ``webhook`` is sent for ``briefing`` (pure: same briefing, same object)."""
    return render(digest(briefing, webhook, top_stories, archive_url), webhook.format)


def encode(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- sending --------------------------------------------------------------------------------


class WebhookSender:
    """POSTs one payload to one URL with retries; ``sleep`` is injected so tests never wait."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._sleep = sleep
        self._transport = transport

    def send(self, webhook: WebhookConfig, url: str, body: bytes) -> int:
        """The HTTP status of the accepted POST; ``PermanentFailure`` or ``httpx``'s
        ``TransportError`` when it was not accepted."""
        headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json"}
        with httpx.Client(
            timeout=webhook.timeout,
            follow_redirects=False,
            transport=self._transport,
            trust_env=False,  # as every client here: no proxy or .netrc picked up unasked
        ) as client:

            def attempt() -> int:
                try:
                    response = client.post(url, content=body, headers=headers)
                except httpx.TransportError as exc:
                    raise TryAgain(exc) from None
                status = response.status_code
                if 200 <= status < 300:
                    return status
                problem = PermanentFailure(f"HTTP {status} {_snippet(response)}".rstrip())
                if status != 429 and status < 500:
                    raise problem
                raise TryAgain(problem, retry_after(response.headers.get("Retry-After")))

            def tell(error: BaseException, retry: int, wait: float) -> None:
                log.warning(
                    "webhook %s: %s; retry %d of %d in %gs",
                    webhook.name,
                    type(error).__name__ if isinstance(error, httpx.TransportError) else error,
                    retry,
                    webhook.retries,
                    wait,
                )

            backoff = Backoff(webhook.retries, RETRY_WAIT, MAX_WAIT)
            try:
                return call(attempt, backoff, sleep=self._sleep, on_retry=tell)
            except WaitTooLong as exc:
                raise PermanentFailure(str(exc)) from None


def _snippet(response: httpx.Response) -> str:
    """The start of an error body (Slack says e.g. ``invalid_payload``), on one line."""
    return _one_line(response.text[:200])
