"""A loopback server that misbehaves on purpose, for the fault-injection and SSRF tests.

``briefing.localsite.LocalSite`` answers whole bodies; the faults here need the raw socket: a
server that never answers, one that trickles a byte at a time, a 300 MB body streamed (never
held in memory, by the server either), a gzip bomb. Each path gets a *behaviour*: a function
that writes the whole answer to the handler's socket. Every request is recorded so a test can
tell "never asked" from "asked and refused", and streamed byte counts show a client hung up.

Bind it to another loopback address (``FaultServer("127.0.0.2")``) to stand in for a second
private host.
"""

from __future__ import annotations

import functools
import socket
import threading
import zlib
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

Behaviour = Callable[["_Handler"], None]

_BLOCK = 64 * 1024


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: with a dozen feeds fetched at once from this
    # one host, dropped SYNs are retried after 1 s and 3 s and read as timeouts.
    request_queue_size = 128
    daemon_threads = True
    block_on_close = False
    owner: FaultServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: hung-up clients are the point of these tests

    def do_GET(self) -> None:
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(self.path)
        behaviour = owner.routes.get(self.path.split("?", 1)[0])
        try:
            if behaviour is None:
                send(self, 404, b"not here")
            else:
                behaviour(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the client gave up, as it should
        self.close_connection = True

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stop_event


class FaultServer:
    """``with FaultServer() as server: server.route("/x", never_answer())``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[str] = []
        self.sent: dict[str, int] = {}  # bytes streamed per path, for the large bodies
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        # A short poll interval: shutdown() waits up to one interval, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, behaviour: Behaviour) -> str:
        self.routes[path] = behaviour
        return self.url(path)

    def requests_for(self, path: str) -> list[str]:
        with self.lock:
            return [p for p in self.requests if p.split("?", 1)[0] == path]

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Release the handlers that wait on purpose before stopping the accept loop.
        self.stop_event.set()
        self._server.shutdown()
        self._server.server_close()


def refused_port(host: str = "127.0.0.1") -> int:
    """A port on which nothing listens (bound, then closed), for "connection refused"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --- behaviours -------------------------------------------------------------------------------


def send(
    handler: _Handler,
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    content_type: str = "text/plain; charset=utf-8",
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def answer(
    body: bytes,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/rss+xml; charset=utf-8",
) -> Behaviour:
    return lambda h: send(h, status, body, headers, content_type)


def status(code: int, headers: Mapping[str, str] | None = None) -> Behaviour:
    return lambda h: send(h, code, f"status {code}".encode(), headers)


def redirect(location: str, code: int = 302) -> Behaviour:
    return lambda h: send(h, code, b"", {"Location": location})


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The first behaviour for the first request, the next for the next; the last repeats."""
    calls = iter(range(1 << 30))

    def run(handler: _Handler) -> None:
        behaviours[min(next(calls), len(behaviours) - 1)](handler)

    return run


def never_answer() -> Behaviour:
    """Accept, read the request, say nothing until the server stops."""

    def run(handler: _Handler) -> None:
        handler.stopping.wait(60)

    return run


def trickle(body: bytes, interval: float = 1.0) -> Behaviour:
    """Headers at once, then one byte every ``interval`` seconds (slower than any deadline)."""

    def run(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        for i in range(len(body)):
            if handler.stopping.wait(interval):
                return
            handler.wfile.write(body[i : i + 1])
            handler.wfile.flush()

    return run


def stream(path: str, total: int, declare_length: bool, chunk: bytes = b"<" * _BLOCK) -> Behaviour:
    """``total`` bytes generated block by block; nothing but one block is ever in memory.

    ``declare_length=False`` sends it chunked, so the client cannot refuse it up front and must
    count. The bytes written are recorded in ``FaultServer.sent[path]``.
    """

    def run(handler: _Handler) -> None:
        owner = handler.server.owner
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Connection", "close")
        if declare_length:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        written = 0
        try:
            while written < total and not handler.stopping.is_set():
                block = chunk[: total - written]
                if declare_length:
                    handler.wfile.write(block)
                else:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                written += len(block)
            if not declare_length:
                handler.wfile.write(b"0\r\n\r\n")
        finally:
            with owner.lock:
                owner.sent[path] = owner.sent.get(path, 0) + written

    return run


@functools.lru_cache(maxsize=4)
def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes gzipped (about 1/1000 of ``size``), built without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(size >> 20)]
    parts.append(compressor.flush())
    return b"".join(parts)


def bomb(size: int) -> Behaviour:
    data = gzip_bomb(size)
    return lambda h: send(h, 200, data, {"Content-Encoding": "gzip"}, "application/rss+xml")


# --- feed bodies ------------------------------------------------------------------------------


def rss(items: list[dict[str, str]], title: str = "Fault feed", encoding: str = "utf-8") -> bytes:
    """An RSS 2.0 document; each item's keys become elements (values are inserted as given)."""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.invalid/</link><description>d</description>"
    ]
    for item in items:
        fields = "".join(f"<{key}>{value}</{key}>" for key, value in item.items())
        parts.append(f"<item>{fields}</item>")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode(encoding, errors="xmlcharrefreplace")
