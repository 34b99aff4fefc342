"""A tiny threaded HTTP server on 127.0.0.1 for tests: routes, scripted replies, a request log.

Use it as a context manager (or ``start``/``stop``); it binds port 0 so tests never collide::

    with LocalServer() as srv:
        srv.route("/a.csv", lambda req: Reply(200, b"id\\n1\\n", {"ETag": '"v1"'}))
        url = srv.url("/a.csv")
        ...
        assert srv.count("/a.csv") == 1

A reply can announce a ``Content-Length`` larger than its body (the connection then closes: a
truncated download), send no ``Content-Length`` at all, be chunked (with or without its last
chunk) or wait ``delay`` seconds before answering (a slow server). ``stop`` wakes every waiting handler, so
a test never waits on a sleeping thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    """What a route answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: int | None = None  # announce this instead of len(body) (larger = truncated body)
    delay: float = 0.0  # seconds to wait before answering
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    chunked: bool = False  # Transfer-Encoding: chunked (two chunks), no Content-Length
    chunked_end: bool = True  # False: the terminating zero-length chunk is never sent (a cut answer)


Route = Callable[[Request], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        """Clients that hang up (timeouts in tests) are expected: stay quiet."""


class LocalServer:
    """A threaded HTTP/1.0 server on 127.0.0.1 with routes and a log of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------------------------- setup
    def route(self, path: str, answer: Route | Reply) -> None:
        """Answer GET ``path`` (query ignored) with a fixed reply or a function of the request."""
        self.routes[path] = answer if callable(answer) else (lambda _req, reply=answer: reply)

    def url(self, path: str, *, userinfo: str = "") -> str:
        """The absolute URL of ``path`` on this server."""
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{userinfo + '@' if userinfo else ''}{host}:{port}{path}"

    def count(self, path: str) -> int:
        """How many requests ``path`` has received."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def last(self, path: str) -> Request:
        """The last request to ``path``."""
        with self._lock:
            return [r for r in self.requests if r.path == path][-1]

    # -------------------------------------------------------------------------------------- running
    def start(self) -> LocalServer:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                req = Request(
                    "GET",
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    {k: v for k, v in self.headers.items()},
                )
                with owner._lock:
                    owner.requests.append(req)
                answer = owner.routes.get(parts.path)
                reply = answer(req) if answer else Reply(404, b"not found\n", {"Content-Type": "text/plain"})
                if reply.delay and owner._stopping.wait(reply.delay):
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    length = reply.content_length if reply.content_length is not None else len(reply.body)
                    if reply.chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                    elif reply.send_length:
                        self.send_header("Content-Length", str(length))
                    self.end_headers()
                    if reply.chunked:
                        half = len(reply.body) // 2
                        for part in (reply.body[:half], reply.body[half:]):
                            if part:
                                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        if reply.chunked_end:
                            self.wfile.write(b"0\r\n\r\n")
                    else:
                        self.wfile.write(reply.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake waiting handlers, stop serving and close the socket."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
