"""A scriptable HTTP/1.1 server on 127.0.0.1 for the faults Prism cannot produce.

Standard library only. Every connection gets its own thread, so delayed replies do
not hold up other requests; responses carry an exact ``Content-Length`` and
connections are kept alive, so one ``httpx.Client`` reuses a single connection.

Usage::

    with FaultServer() as server:
        server.script(
            retry_after_reply(1),               # first request
            html_reply(502),                    # second
            json_reply({"credits": 5}),         # third and every later one
        )
        server.script_path("/me", json_reply({"id": 1}))  # takes precedence for /me
        ...
        assert len(server.requests) == 3
        assert server.requests[0].headers["authorization"] == "Bearer t"

A script entry is a :class:`Reply` or a callable that receives the
:class:`RecordedRequest` and returns a :class:`Reply` (for echoing, pagination...).
Replies are served in order and the last one repeats. A request that no script
covers gets ``501`` with a body naming the method and path.

If a callable raises, the client gets ``500`` and ``__exit__`` raises
:class:`FaultServerError`, so such bugs cannot pass silently.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email.utils
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "FaultServer",
    "FaultServerError",
    "Headers",
    "RecordedRequest",
    "Reply",
    "Responder",
    "drop_reply",
    "html_reply",
    "json_reply",
    "malformed_json_reply",
    "redirect_reply",
    "reset_reply",
    "retry_after_reply",
    "slow_reply",
    "truncated_json_reply",
]


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    ``delay``: seconds to wait before sending anything (a slow server; for client
    timeouts). ``close_early``: announce the full ``Content-Length``, send only the
    first half of ``body`` and close the connection (the client sees a truncated
    body). ``drop``: close the connection without any response. ``reset``: abort the
    connection with a TCP RST instead of a response. ``close_connection``: send the
    whole reply with ``Connection: close`` and close the connection afterwards.
    A ``Content-Length`` in ``headers`` replaces the computed one (to lie about it).
    ``chunks``: the body made as it is sent (``body`` is then ignored; without a
    ``Content-Length`` in ``headers`` the end of the body is the connection's close),
    with ``interval`` seconds before each chunk (a drip).
    """

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    close_early: bool = False
    drop: bool = False
    reset: bool = False
    close_connection: bool = False
    chunks: Callable[[], Iterable[bytes]] | None = None
    interval: float = 0.0

    def with_delay(self, seconds: float) -> Reply:
        return dataclasses.replace(self, delay=seconds)

    def with_headers(self, **headers: str) -> Reply:
        """Add headers; ``retry_after="3"`` becomes ``Retry-After: 3``."""
        extra = {name.replace("_", "-").title(): v for name, v in headers.items()}
        return dataclasses.replace(self, headers={**self.headers, **extra})


class Headers(Mapping[str, str]):
    """Request headers with case-insensitive lookup; repeated ones joined by ", "."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items_raw = list(items)
        self._joined: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            self._joined[key] = f"{self._joined[key]}, {value}" if key in self._joined else value

    def __getitem__(self, name: str) -> str:
        return self._joined[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._joined

    def __iter__(self) -> Iterator[str]:
        return iter(self._joined)

    def __len__(self) -> int:
        return len(self._joined)

    def get_all(self, name: str) -> list[str]:
        return [v for n, v in self.items_raw if n.lower() == name.lower()]

    def __repr__(self) -> str:
        return f"Headers({self.items_raw!r})"


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server received it.

    ``path`` excludes the query string; ``target`` is the raw request target;
    ``received_at`` is ``time.monotonic()`` when the request was complete (compare
    two of them to measure a client's back-off); ``client_port`` is the client's
    source port (equal ports mean a reused keep-alive connection).
    """

    method: str
    target: str
    headers: Headers
    body: bytes
    received_at: float
    client_port: int

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Reply | Callable[[RecordedRequest], Reply]
"""A script entry: a fixed reply, or a function of the request."""


class FaultServerError(AssertionError):
    """A scripted responder raised while the server was running."""


class _Script:
    def __init__(self, replies: tuple[Responder, ...]) -> None:
        if not replies:
            raise ValueError("script at least one reply")
        self.replies = replies
        self.served = 0

    def next(self) -> Responder:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connect at once
    owner: FaultServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up (timeouts, cancelled tasks) are expected; anything
        # else is a bug in this module and fails the test in FaultServer.__exit__.
        exc = sys.exception()
        if exc is not None and not isinstance(exc, (ConnectionError, TimeoutError)):
            self.owner._record_error(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "creditwatch-faults"
    sys_version = ""
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls on keep-alive
    timeout = 60  # idle keep-alive connections end eventually
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.owner._track(self.connection, add=False)

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        owner = self.server.owner
        request = RecordedRequest(
            method=self.command,
            target=self.path,
            headers=Headers([(k, str(v)) for k, v in self.headers.items()]),
            body=self._read_body(),
            received_at=time.monotonic(),
            client_port=int(self.client_address[1]),
        )
        try:
            reply = owner._reply_for(request)
        except Exception as exc:  # a responder callable failed
            owner._record_error(exc)
            reply = Reply(500, f"FaultServer: responder raised {exc!r}".encode())
        if reply.delay and owner._stopping.wait(reply.delay):
            self.close_connection = True
            return
        if reply.drop or reply.reset:
            if reply.reset:  # SO_LINGER 0: close() sends RST (and no FIN first)
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            self.close_connection = True
            return
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        headers = {k.lower(): (k, v) for k, v in reply.headers.items()}
        if reply.chunks is not None:
            self._stream(reply, headers)
            return
        headers.setdefault("content-length", ("Content-Length", str(len(reply.body))))
        headers.setdefault("date", ("Date", email.utils.formatdate(usegmt=True)))
        headers.setdefault("server", ("Server", self.server_version))
        if reply.close_connection or reply.close_early:
            headers["connection"] = ("Connection", "close")
        if self.close_connection and "connection" not in headers:
            headers["connection"] = ("Connection", "close")  # the client asked
        head = f"HTTP/1.1 {reply.status} {phrase}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.values()
        )
        body = b"" if self.command == "HEAD" else reply.body
        if reply.close_early:
            body = body[: len(body) // 2]
        try:
            self.wfile.write(head.encode("latin-1") + b"\r\n" + body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        if reply.close_connection or reply.close_early:
            self.close_connection = True

    def _stream(self, reply: Reply, headers: dict[str, tuple[str, str]]) -> None:
        """A reply whose body is sent chunk by chunk as ``reply.chunks`` makes it."""
        assert reply.chunks is not None
        if "content-length" not in headers:
            headers["connection"] = ("Connection", "close")
        head = f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.values()
        )
        self.close_connection = True
        stopping = self.server.owner._stopping
        try:
            self.wfile.write(head.encode("latin-1") + b"\r\n")
            self.wfile.flush()
            for chunk in reply.chunks():
                if reply.interval and stopping.wait(reply.interval):
                    return
                if stopping.is_set():
                    return
                self.wfile.write(chunk)
                self.wfile.flush()
        except (ConnectionError, TimeoutError):
            return


for _method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
    setattr(_Handler, f"do_{_method}", _Handler._handle)


class FaultServer:
    """Scripted HTTP server on 127.0.0.1 and a free port; a context manager."""

    DEFAULT_PATH: ClassVar[str] = "*"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[tuple[str, str], _Script] = {}
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ------------------------------------------------------------------

    def script(self, *replies: Responder) -> None:
        """Replace the default script: replies in order, the last one repeating."""
        with self._lock:
            self._scripts[("*", "*")] = _Script(replies)

    def script_path(self, path: str, *replies: Responder, method: str = "*") -> None:
        """Script one path (exact match, query ignored), optionally one method.

        Lookup order: (method, path), then (any method, path), then :meth:`script`.
        """
        with self._lock:
            self._scripts[(method.upper(), path)] = _Script(replies)

    def reset(self) -> None:
        """Forget all scripts and recorded requests."""
        with self._lock:
            self._scripts.clear()
            self._requests.clear()
            self._errors.clear()

    # -- inspection -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FaultServer is not running; use it as a context manager")
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("FaultServer already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"fault-server-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes delayed replies
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc is None and self._errors:
            raise FaultServerError(
                f"{len(self._errors)} scripted responder(s) raised; first: {self._errors[0]!r}"
            ) from self._errors[0]

    # -- used by the handler --------------------------------------------------------

    def _reply_for(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            path = request.path
            for key in ((request.method, path), ("*", path), ("*", "*")):
                script = self._scripts.get(key)
                if script is not None:
                    responder = script.next()
                    break
            else:
                responder = Reply(
                    501,
                    f"FaultServer: no reply scripted for {request.method} {path}".encode(),
                    {"Content-Type": "text/plain"},
                )
        return responder if isinstance(responder, Reply) else responder(request)

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


# -- reply builders -------------------------------------------------------------------

JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}


def _json_bytes(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_reply(obj: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
    """``obj`` as ``application/json``."""
    return Reply(status, _json_bytes(obj), {**JSON_HEADERS, **(headers or {})})


def html_reply(status: int = 502, body: str | None = None) -> Reply:
    """An HTML error page, as a proxy or CDN returns instead of the API's JSON."""
    if body is None:
        phrase = HTTPStatus(status).phrase
        body = (
            f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
    return Reply(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


_TRUNCATED_DEFAULT = {"id": 1, "name": "alice", "credits": 1234.5, "plan": "pro"}


def truncated_json_reply(obj: object = None, status: int = 200) -> Reply:
    """JSON whose connection closes after half the announced ``Content-Length``.

    httpx raises ``httpx.RemoteProtocolError`` ("peer closed connection without
    sending complete message body") when it reads the body.
    """
    body = _json_bytes(_TRUNCATED_DEFAULT if obj is None else obj)
    return Reply(status, body, dict(JSON_HEADERS), close_early=True)


def malformed_json_reply(status: int = 200) -> Reply:
    """A complete HTTP response whose ``application/json`` body is cut-off JSON."""
    body = _json_bytes(_TRUNCATED_DEFAULT)
    return Reply(status, body[: len(body) // 2], dict(JSON_HEADERS))


def redirect_reply(location: str, status: int = 302) -> Reply:
    return Reply(status, b"", {"Location": location})


def retry_after_reply(
    retry_after: float | str | dt.datetime,
    status: int = 429,
    body: object = None,
) -> Reply:
    """A rate-limit (or 503) reply with ``Retry-After``.

    An ``int`` gives delta-seconds, a timezone-aware ``datetime`` an HTTP-date, a
    ``str`` is sent verbatim (e.g. an invalid value); a ``float`` is sent as is
    (``"0.2"``; not valid HTTP, but handy for fast tests of lenient clients).
    """
    if isinstance(retry_after, dt.datetime):
        if retry_after.tzinfo is None:
            raise ValueError("use a timezone-aware datetime for Retry-After")
        value = email.utils.format_datetime(retry_after.astimezone(dt.UTC), usegmt=True)
    else:
        value = str(retry_after)
    payload = {"error": "rate_limited"} if body is None else body
    return json_reply(payload, status, {"Retry-After": value})


def slow_reply(
    delay: float, body: object = b"", status: int = 200, headers: Mapping[str, str] | None = None
) -> Reply:
    """A reply sent after ``delay`` seconds; non-bytes bodies are sent as JSON."""
    if isinstance(body, bytes):
        return Reply(status, body, dict(headers or {}), delay=delay)
    return json_reply(body, status, headers).with_delay(delay)


def drop_reply(delay: float = 0.0) -> Reply:
    """Close the connection without a response (httpx: ``RemoteProtocolError``)."""
    return Reply(drop=True, delay=delay)


def reset_reply(delay: float = 0.0) -> Reply:
    """Abort the connection with a TCP RST (httpx: ``ReadError``)."""
    return Reply(reset=True, delay=delay)
