"""A real HTTP server on 127.0.0.1 for tests: serves files and canned answers, fails on purpose.

Tests of downloads, provider SDKs and flows talk to it over a real socket, so the code under
test runs its real network stack. Each path maps to a :class:`Route`; a route can answer with
bytes or a file, any status, be slow before answering or while sending, hide its length
(chunked), or fail its first few requests and then succeed (what a retry should survive).

    with LocalHTTPServer() as server:
        url = server.serve_file(clip_path)            # http://127.0.0.1:PORT/clip.mp4
        server.add("/gone.mp4", Route(status=404))
        server.add("/flaky.mp4", Route(body=clip_path, fail_first=1, fail_status=503))
        ...
        assert server.request_count("/flaky.mp4") == 2
"""

from __future__ import annotations

import mimetypes
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = ["LocalHTTPServer", "RecordedRequest", "Route", "unused_port"]

_CHUNK = 64 * 1024


@dataclass
class Route:
    """How the server answers one path.

    ``body`` is bytes, a file to stream, or None (an empty body, or a short reason phrase for
    error statuses). ``handler`` computes a fresh Route per request when a test needs the
    answer to depend on the request (headers, body, query).
    """

    body: bytes | Path | None = None
    status: int = 200
    content_type: str | None = None  # default: guessed from the file name, else octet-stream
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before sending anything (a server that hangs)
    chunk_delay_s: float = 0.0  # wait between 64 KiB chunks (a slow link)
    chunked: bool = False  # no Content-Length: Transfer-Encoding: chunked
    fail_first: int = 0  # the first N requests get fail_status instead
    fail_status: int = 503
    handler: Callable[[RecordedRequest], Route] | None = None


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes


class LocalHTTPServer:
    """A threaded HTTP/1.1 server on a free loopback port; a context manager starts and stops it."""

    def __init__(self, routes: dict[str, Route] | None = None, host: str = "127.0.0.1") -> None:
        self.host = host  # any loopback address: 127.0.0.2, ::1
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up ---------------------------------------------------------------------------

    def add(self, path: str, route: Route) -> str:
        """Answer ``path`` with ``route``; returns its full URL."""
        with self._lock:
            self.routes[path] = route
        return self.url(path)

    def serve_file(self, file: Path, path: str | None = None, **route: Any) -> str:
        """Serve a file (at ``/<its name>`` unless ``path`` is given); extra Route fields apply."""
        url_path = path or "/" + quote(file.name)
        return self.add(url_path, Route(body=file, **route))

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def request_count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if path is None or r.path == path)

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> LocalHTTPServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server = type("_Server", (_QuietServer,), {"address_family": family})(
            (self.host, 0), _make_handler(self)
        )
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes slow handlers so they end now
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- answering ------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> tuple[Route | None, int]:
        with self._lock:
            self.requests.append(request)
            seen = sum(1 for r in self.requests if r.path == request.path)
            return self.routes.get(request.path), seen

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False means stop now."""
        return not self._stopping.wait(seconds) if seconds > 0 else not self._stopping.is_set()


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (timeouts, size limits) are normal in these tests, not errors."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def unused_port() -> int:
    """A loopback port with nothing listening (bound once by the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _make_handler(owner: LocalHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "adref-test"

        def log_message(self, format: str, *args: object) -> None:
            return  # keep test output clean

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_POST(self) -> None:
            self._answer(send_body=True)

        def do_PUT(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parts.query,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            route, seen = owner._record(request)
            if route is None:
                route = Route(status=404)
            elif route.handler is not None:
                route = route.handler(request)
            elif seen <= route.fail_first:
                route = Route(status=route.fail_status)
            if not owner._sleep(route.delay_s):
                self.close_connection = True
                return
            try:
                self._send(route, request, send_body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test); fine

        def _send(self, route: Route, request: RecordedRequest, send_body: bool) -> None:
            data, size, ctype = _payload(route, request.path)
            status, start, end = route.status, 0, size - 1
            rng = self.headers.get("Range")
            ranged = status == 200 and rng is not None and size > 0
            if ranged:
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", (rng or "").strip())
                if m is None or (not m.group(1) and not m.group(2)):
                    ranged = False
                elif not m.group(1):
                    start = max(0, size - int(m.group(2)))
                else:
                    start = int(m.group(1))
                    end = min(size - 1, int(m.group(2))) if m.group(2) else size - 1
                if ranged and start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if ranged:
                    status = 206
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            for key, value in route.headers.items():
                self.send_header(key, value)
            count = end - start + 1 if size else 0
            if route.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(count))
            self.end_headers()
            if not send_body:
                return
            for block in _blocks(data, start, count):
                if not owner._sleep(route.chunk_delay_s):
                    self.close_connection = True
                    return
                if route.chunked:
                    self.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                else:
                    self.wfile.write(block)
            if route.chunked:
                self.wfile.write(b"0\r\n\r\n")

    return Handler


def _payload(route: Route, path: str) -> tuple[bytes | Path, int, str]:
    body = route.body
    if isinstance(body, Path):
        ctype = route.content_type or mimetypes.guess_type(body.name)[0]
        return body, body.stat().st_size, ctype or "application/octet-stream"
    if body is None:
        body = b"" if route.status < 400 else f"{route.status} for {path}\n".encode()
        default = "text/plain; charset=utf-8"
    else:
        default = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return body, len(body), route.content_type or default


def _blocks(data: bytes | Path, start: int, count: int) -> Iterator[bytes]:
    """Yield the body in chunks; a file is streamed, never read whole into memory."""
    if isinstance(data, bytes):
        for i in range(start, start + count, _CHUNK):
            yield data[i : min(i + _CHUNK, start + count)]
        return
    with data.open("rb") as f:
        f.seek(start)
        left = count
        while left > 0:
            block = f.read(min(_CHUNK, left))
            if not block:
                return
            left -= len(block)
            yield block
