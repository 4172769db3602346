"""A small, real loopback HTTP server: the "internet" for ``briefing demo`` and for the tests.

Not a pipeline stage. It serves a folder of feeds and article pages on ``127.0.0.1`` so that the
real poll and extract code (httpx, feedparser, trafilatura) can run end to end with no network:

    with LocalSite(SITE_DIR) as site:
        feed_url = f"{site.base_url}/news/feed.xml"

What it does, and why:

- Static files under ``root``. In text files (``.xml .rss .atom .html .htm .txt .json``) the
  marker ``{{BASE}}`` is replaced by :attr:`LocalSite.base_url`, so a feed can carry absolute
  links to pages on the same server whatever port it was given.
- ``Content-Type`` from the extension; for ``.xml`` the root element is sniffed to tell RSS
  (``application/rss+xml``) from Atom (``application/atom+xml``).
- A strong ``ETag`` (a hash of the bytes served) and a fixed ``Last-Modified``
  (:data:`LAST_MODIFIED`); ``304 Not Modified`` with no body when ``If-None-Match`` matches, or,
  without ``If-None-Match``, when ``If-Modified-Since`` is at or after ``Last-Modified`` —
  enough to exercise conditional GET.
- ``404`` for a missing file, ``403`` for any path that would leave ``root`` (``..``, encoded
  slashes, symlinks pointing out), ``405`` for methods other than GET and HEAD on files.
- :meth:`LocalSite.route` adds or overrides a path with a handler returning a :class:`Response`
  (status, body, headers, and a ``delay`` to imitate a slow server). Custom routes win over files
  and receive every method; a handler that raises produces a ``500``.
- Every request is recorded (method, path with query, lower-cased headers) in
  :attr:`LocalSite.requests`, so tests can assert what the client sent.
- Quiet: nothing is logged to stderr, not even a client hanging up mid-answer.

Each response closes its connection (``Connection: close``), so :meth:`LocalSite.stop` leaves
no idle keep-alive connection being served behind the caller's back.

Run ``python -m briefing.localsite [ROOT] [--port N]`` to browse a site by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["LAST_MODIFIED", "Handler", "LocalSite", "RecordedRequest", "Response"]

#: ``Last-Modified`` of every static file: fixed, so that runs are reproducible.
LAST_MODIFIED = "Mon, 09 Mar 2026 06:00:00 GMT"
_LAST_MODIFIED_DT = parsedate_to_datetime(LAST_MODIFIED)

#: The marker replaced by the server's base URL in text files.
BASE_MARKER = b"{{BASE}}"

_SUBSTITUTED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".html", ".htm", ".txt", ".json"})
_CONTENT_TYPES: dict[str, str] = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str  # including the query string, as sent
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "


@dataclass(frozen=True)
class Response:
    """What a custom route answers."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow server)


Handler = Callable[[RecordedRequest], Response]


def _content_type(path: Path, body: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return _sniff_xml(body)
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")


def _sniff_xml(body: bytes) -> str:
    """Tell RSS from Atom by the root element, skipping the prolog, comments and PIs."""
    text = body[:4096].decode("utf-8", errors="replace")
    pos = 0
    while True:
        start = text.find("<", pos)
        if start < 0 or start + 1 >= len(text):
            break
        nxt = text[start + 1]
        if nxt == "?":
            pos = text.find("?>", start) + 2
        elif text.startswith("<!--", start):
            pos = text.find("-->", start) + 3
        elif nxt == "!":  # <!DOCTYPE ...>
            pos = text.find(">", start) + 1
        else:
            name = text[start + 1 :].split(None, 1)[0].split(">", 1)[0].split("/", 1)[0]
            local = name.rsplit(":", 1)[-1].lower()
            if local == "rss" or local == "rdf":
                return "application/rss+xml; charset=utf-8"
            if local == "feed":
                return "application/atom+xml; charset=utf-8"
            break
        if pos <= start:  # unterminated construct
            break
    return "application/xml; charset=utf-8"


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for ``If-None-Match``."""
    if if_none_match.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


def _not_modified_since(if_modified_since: str) -> bool:
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since is None or since.tzinfo is None:
        return False
    return bool(since >= _LAST_MODIFIED_DT)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: LocalSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (timeouts in tests) is not worth a traceback on stderr.
        pass


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "briefing-localsite/1"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:  # drain a request body so the client sees our answer, not a reset
            self.rfile.read(length)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        recorded = RecordedRequest(method=self.command, path=self.path, headers=headers)
        site = self.server.site
        site._record(recorded)

        handler = site._find_route(self.path)
        if handler is not None:
            try:
                response = handler(recorded)
            except Exception:
                response = Response(
                    500, b"handler error\n", {"Content-Type": "text/plain; charset=utf-8"}
                )
        else:
            response = site._static(recorded)
        if response.delay > 0 and site._stopping.wait(response.delay):
            self.close_connection = True  # the site is stopping: hang up instead of answering
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        names = {name.lower() for name in response.headers}
        for name, value in response.headers.items():
            self.send_header(name, value)
        bodyless = response.status == 304 or response.status < 200 or response.status == 204
        if not bodyless and "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and not bodyless:
            self.wfile.write(response.body)
        self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch


class LocalSite:
    """A loopback HTTP server over a folder, with custom routes and a request log.

    ``root=None`` serves no files: only custom routes answer, everything else is ``404``.
    """

    def __init__(self, root: Path | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root: Path | None = root.resolve() if root is not None else None
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._routes: dict[str, Handler] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._base_url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` with no trailing slash; valid once :meth:`start` has run."""
        if self._base_url is None:
            raise RuntimeError("LocalSite.base_url is only known after start()")
        return self._base_url

    def start(self) -> LocalSite:
        """Bind, start serving in a daemon thread and return ``self``. Idempotent."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _RequestHandler)
        server.site = self
        port = server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._base_url = f"http://{host}:{port}"
        self.port = port
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LocalSite:{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; delayed answers still pending are dropped."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- routes and the request log ----------------------------------------------------------

    def route(self, path: str, handler: Handler) -> None:
        """Answer ``path`` with ``handler`` (for every method), in place of any file there.

        ``path`` is matched against the request path without its query string; a ``path``
        that itself contains ``?`` must match the request path and query exactly, and wins.
        """
        with self._lock:
            self._routes[path] = handler

    def requests_for(self, path_prefix: str) -> list[RecordedRequest]:
        """The recorded requests whose path starts with ``path_prefix``, in order."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _find_route(self, raw_path: str) -> Handler | None:
        path = raw_path.split("?", 1)[0]
        with self._lock:
            return self._routes.get(raw_path) or self._routes.get(path)

    # -- static files ------------------------------------------------------------------------

    def _resolve(self, raw_path: str) -> Path | None:
        """The file for a request path, or ``None``; :class:`PermissionError` if outside root."""
        assert self.root is not None
        path = urllib.parse.unquote(urllib.parse.urlsplit(raw_path).path)
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if any(p == ".." or "\\" in p or "\x00" in p for p in parts):
            raise PermissionError(raw_path)
        try:
            target = self.root.joinpath(*parts).resolve()
        except (OSError, ValueError):
            return None
        if not target.is_relative_to(self.root):
            raise PermissionError(raw_path)  # e.g. a symlink pointing out of the root
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _static(self, request: RecordedRequest) -> Response:
        plain = {"Content-Type": "text/plain; charset=utf-8"}
        if self.root is None:
            return Response(404, b"not found\n", plain)
        try:
            target = self._resolve(request.path)
        except PermissionError:
            return Response(403, b"forbidden\n", plain)
        if target is None:
            return Response(404, b"not found\n", plain)
        if request.method not in ("GET", "HEAD"):
            return Response(405, b"method not allowed\n", {**plain, "Allow": "GET, HEAD"})
        try:
            body = target.read_bytes()
        except OSError:
            return Response(404, b"not found\n", plain)
        if target.suffix.lower() in _SUBSTITUTED_SUFFIXES:
            body = body.replace(BASE_MARKER, self.base_url.encode("ascii"))
        etag = _etag(body)
        headers = {
            "Content-Type": _content_type(target, body),
            "ETag": etag,
            "Last-Modified": LAST_MODIFIED,
        }
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            fresh = _etag_matches(if_none_match, etag)
        else:
            fresh = _not_modified_since(request.headers.get("if-modified-since", ""))
        if fresh:
            return Response(304, b"", {"ETag": etag, "Last-Modified": LAST_MODIFIED})
        return Response(200, body, headers)


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - manual use
    """Serve a folder (default: the bundled demo site) until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m briefing.localsite", description=main.__doc__)
    parser.add_argument("root", nargs="?", type=Path, help="folder to serve")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    root: Path = args.root
    if root is None:
        from briefing.demo import SITE_DIR

        root = SITE_DIR
    with LocalSite(root, port=args.port) as site:
        print(f"serving {root} at {site.base_url}/ (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
