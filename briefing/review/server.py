"""The review page: ``briefing review serve`` -> the latest day's draft in a browser, with a
button for every review action and Approve.

In: the config, the output folder, an address (loopback by default). Out: an HTTP server;
a form posted to it runs the same ``actions.act`` the CLI runs (stored, then the day rebuilt).

Why the standard library's ``ThreadingHTTPServer`` and not Starlette or Flask: one page, one
form endpoint, one user on loopback; the security that matters (token, CSRF, Origin, headers)
is a dozen explicit lines either way, and no new dependency has to be kept up to date.

Security, for a page that can change what a team is sent:

* Access: a random token (``secrets``) in the printed URL; every request without it is 401,
  with a wrong one 403. The first page sets it as an ``HttpOnly``, ``SameSite=Strict`` cookie,
  so later requests need not carry it in the URL.
* Changes: only ``POST /action``, with the per-session CSRF token of the page's forms, and no
  foreign ``Origin`` (a page on another site cannot post here). Else 403, nothing changed.
* Output: Jinja autoescape; a Content-Security-Policy allowing only the page's own inline style
  and its one nonce'd script; no external asset; ``Referrer-Policy: same-origin`` so a source
  link clicked never carries the URL (and its token) to the outlet.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from briefing.config import Config
from briefing.errors import BriefingError
from briefing.lock import work_lock
from briefing.review.acting import act
from briefing.review.actions import ACTIONS, describe, edit_of, latest_day, load_day

log = logging.getLogger(__name__)

COOKIE = "briefing_review"
MAX_FORM = 64 * 1024  # bytes of a posted form: a note or a summary, never more
LOCK_WAIT = 60.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine only."""
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


class ReviewServer:
    """The page's server; ``url`` carries the access token; ``serve_forever`` until
    ``shutdown``; ``close`` releases the socket."""

    def __init__(self, config: Config, output: Path, *, host: str, port: int, by: str) -> None:
        self.config = config
        self.output = output
        self.by = by
        self.token = secrets.token_urlsafe(24)
        self.csrf = secrets.token_urlsafe(24)
        self.message = ""  # the outcome of the last action, shown once on the next page
        self._acting = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        self._httpd.daemon_threads = True
        self.host = host
        self.port = int(self._httpd.server_address[1])
        from briefing.publish.render import environment

        self.env = environment(config)

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/?token={self.token}"

    def origins(self) -> set[str]:
        """Origins the page itself may post from: its own, and localhost's on loopback."""
        names = {self.origin}
        if is_loopback(self.host):
            names |= {f"http://{h}:{self.port}" for h in ("127.0.0.1", "localhost", "[::1]")}
        return names

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self._httpd.shutdown()

    def close(self) -> None:
        self._httpd.server_close()

    # --- what the handler asks -----------------------------------------------------------------

    def page(self, nonce: str) -> str:
        date = latest_day(self.output)
        briefing = load_day(self.output, date)
        message, self.message = self.message, ""
        delivery = ""
        if self.config.review is not None and self.config.review.required:
            from briefing.review.gate import delivery_gate

            delivery = delivery_gate(self.config, self.output, date, datetime.now(UTC)).reason
        return self.env.get_template("review.html").render(
            briefing=briefing,
            delivery=delivery,
            rank={story.id: number for number, story in enumerate(briefing.stories, 1)},
            pinned=set(briefing.executive),
            gone=[describe(a) for a in briefing.review.actions if not a.applied],
            log=[describe(a) for a in briefing.review.actions],
            csrf=self.csrf,
            nonce=nonce,
            message=message,
        )

    def perform(self, form: dict[str, list[str]]) -> None:
        def one(name: str) -> str | None:
            values = form.get(name)
            return values[0] if values else None

        action = one("action") or ""
        if action not in (*ACTIONS, "undo"):
            self.message = f"not a review action: {action!r}"
            return
        ids = tuple(form.get("id", ()))
        title, summary = one("title") or None, one("summary") or None
        try:
            date = one("date") or latest_day(self.output)
            if action == "edit" and ids:
                # The edit form sends both fields: only a changed one is an edit.
                stories = {story.id: story for story in load_day(self.output, date).stories}
                shown = stories.get(ids[0])
                if shown is not None:
                    title = None if title == shown.title else title
                    if summary is not None and summary.replace("\r\n", "\n") == shown.summary:
                        summary = None
            with self._acting:
                lock = work_lock(self.output, f"review page {action}")
                lock.acquire(LOCK_WAIT)
                try:
                    acted = act(
                        self.config,
                        self.output,
                        date,
                        action,
                        ids,
                        by=self.by,
                        url=one("url"),
                        title=title,
                        summary=summary,
                        text=one("text"),
                    )
                finally:
                    lock.release()
        except BriefingError as exc:
            self.message = str(exc)
            return
        gone = sum(not a.applied for a in acted.briefing.review.actions)
        done = describe(edit_of(acted.stored).record())
        self.message = f"undid {done}" if action == "undo" else f"done: {done}"
        if gone:
            self.message += f" ({gone} earlier action(s) found no story in this build)"


def _handler(server: ReviewServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "briefing-review"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            log.info("%s %s", self.address_string(), format % args)

        def _send(
            self,
            status: HTTPStatus,
            body: str = "",
            *,
            nonce: str = "",
            headers: dict[str, str] | None = None,
        ) -> None:
            data = (body or f"{status.value} {status.phrase}\n").encode("utf-8")
            self.send_response(status)
            self.send_header(
                "Content-Type", "text/html; charset=utf-8" if body else "text/plain; charset=utf-8"
            )
            self.send_header("Content-Length", str(len(data)))
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; "
                f"script-src 'nonce-{nonce or 'none'}'; form-action 'self'; "
                "base-uri 'none'; frame-ancestors 'none'",
            )
            # same-origin, not no-referrer: under no-referrer a browser posts "Origin: null",
            # which must stay refused (a sandboxed frame sends it too).
            self.send_header("Referrer-Policy", "same-origin")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _token(self) -> tuple[str | None, bool]:
            """The token the request carries and whether it came in the URL."""
            query = parse_qs(urlsplit(self.path).query).get("token")
            if query:
                return query[0], True
            cookie = SimpleCookie()
            try:
                cookie.load(self.headers.get("Cookie", ""))
            except Exception:  # a malformed Cookie header is no token
                return None, False
            morsel = cookie.get(COOKIE)
            return (morsel.value if morsel else None), False

        def _allowed(self) -> tuple[bool, bool]:
            token, in_url = self._token()
            if token is None:
                self._send(HTTPStatus.UNAUTHORIZED)
                return False, False
            if not hmac.compare_digest(token.encode(), server.token.encode()):
                self._send(HTTPStatus.FORBIDDEN)
                return False, False
            return True, in_url

        def do_GET(self) -> None:
            ok, in_url = self._allowed()
            if not ok:
                return
            if urlsplit(self.path).path != "/":
                self._send(HTTPStatus.NOT_FOUND)
                return
            nonce = secrets.token_urlsafe(16)
            try:
                body = server.page(nonce)
            except BriefingError as exc:
                self._send(HTTPStatus.NOT_FOUND, f"<p>{_escape(str(exc))}</p>", nonce=nonce)
                return
            headers = {}
            if in_url:
                headers["Set-Cookie"] = (
                    f"{COOKIE}={server.token}; HttpOnly; SameSite=Strict; Path=/"
                )
            self._send(HTTPStatus.OK, body, nonce=nonce, headers=headers)

        def do_POST(self) -> None:
            ok, _in_url = self._allowed()
            if not ok:
                return
            if urlsplit(self.path).path != "/action":
                self._send(HTTPStatus.NOT_FOUND)
                return
            origin = self.headers.get("Origin")
            if origin is not None and origin not in server.origins():
                self._send(HTTPStatus.FORBIDDEN)
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_FORM:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                return
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            sent = (form.get("csrf") or [""])[0]
            if not hmac.compare_digest(sent.encode(), server.csrf.encode()):
                self._send(HTTPStatus.FORBIDDEN)
                return
            server.perform(form)
            self._send(HTTPStatus.SEE_OTHER, " ", headers={"Location": "/"})

        def do_PUT(self) -> None:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED)

        do_DELETE = do_PATCH = do_PUT

    return Handler


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
