"""``creditwatch demo``: the real clients against a local mock of all five providers.

The mock serves the first documented 200 example of every operation (shipped as
``creditwatch/_generated/examples.json``) at ``/<provider><path>`` on 127.0.0.1 and
a free port. Each client gets that base URL and an obviously fake key explicitly, so
the demo reads no key from the environment, uses no proxy and needs no network.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import json
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import attrs
import httpx

from . import PROVIDERS
from ._accounts import Result, check_key
from ._balance import Balance
from ._forecast import DAY

if TYPE_CHECKING:
    from ._history import Check

__all__ = [
    "DEMO_KEY",
    "MockServer",
    "check",
    "current_checks",
    "load_examples",
    "routes",
    "synthetic_history",
]

DEMO_KEY = "demo-key-not-a-real-secret"
NOTE = (
    "creditwatch demo: example data from the providers' API documentation, served by a "
    "local mock; no keys were read and nothing left this machine."
)
HISTORY_NOTE = (
    "History and forecast from 30 days of synthetic checks (every 6 hours, kept in "
    "memory), ending at the values above:"
)

STEP = 6 * 3600.0
DAYS = 30


def synthetic_history(results: Mapping[str, Result], now: float | None = None) -> list[Check]:
    """30 days of checks every 6 hours before ``now`` that end at each balance's
    current credits: steady use, a reset, a top-up, no use (each provider's declared
    ``demo:`` usage, `DEMO_USAGE`)."""
    from ._generated._registry import DEMO_USAGE  # noqa: PLC0415
    from ._history import Check  # noqa: PLC0415 - sqlite3 only when needed

    now = time.time() if now is None else now
    checks = []
    for provider, result in results.items():
        if not isinstance(result, Balance) or result.remaining is None:
            continue
        share, jump_days = DEMO_USAGE.get(provider, (0.02, None))
        remaining = result.remaining
        per_day = max(remaining, 1.0) * share
        jump = None if jump_days is None else now - jump_days * DAY
        low = 0.1 * remaining  # what was left just before the jump
        for step in range(int(DAYS * DAY / STEP), 0, -1):
            at = now - step * STEP
            if jump is None or at >= jump:
                value = remaining + per_day * (now - at) / DAY
            else:
                value = low + per_day * (jump - at) / DAY
            balance = attrs.evolve(
                result, remaining=round(value, 1), checked_at=datetime.fromtimestamp(at, UTC)
            )
            checks.append(Check(provider=provider, outcome=balance))
    return checks


def current_checks(results: Mapping[str, Result]) -> list[Check]:
    """The demo's own check, as `creditwatch balances --record` would record it."""
    from ._history import Check  # noqa: PLC0415

    return [Check(provider=provider, outcome=result) for provider, result in results.items()]


def load_examples() -> dict[str, Any]:
    """``{provider: {operationId: {method, path, responses: {status: {name: body}}}}}``."""
    resource = importlib.resources.files("creditwatch._generated") / "examples.json"
    data: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return {provider: data[provider] for provider in PROVIDERS if provider in data}


def routes(examples: Mapping[str, Any]) -> dict[str, bytes]:
    """``/<provider><path>`` -> the first documented 200 example of each GET operation.

    An operation without one gets no route: the mock answers 404 and the demo shows
    that provider's error, rather than inventing data."""
    table: dict[str, bytes] = {}
    for provider, operations in examples.items():
        for operation in operations.values():
            if str(operation.get("method", "")).lower() != "get":
                continue
            samples = operation.get("responses", {}).get("200") or {}
            if samples:
                body = next(iter(samples.values()))
                table[f"/{provider}{operation['path']}"] = json.dumps(body).encode()
    return table


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    routes: Mapping[str, bytes]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up (a stopped exporter) is not worth a traceback

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (socket.getfqdn), which can
        # hang without a network; the name is only used in logs.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection per client
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall
    server_version = "creditwatch-demo"
    sys_version = ""
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self.server.routes.get(path)
        if body is None:
            self._send(
                404, f"creditwatch demo: no documented example for GET {path}".encode(), "text"
            )
        else:
            self._send(200, body, "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if content_type == "text" else content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class MockServer:
    """The mock on 127.0.0.1 and a free port, in a daemon thread; a context manager."""

    def __init__(self, routes: Mapping[str, bytes]) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = dict(routes)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def base_url(self, provider: str) -> str:
        return f"http://127.0.0.1:{self.port}/{provider}"

    def __enter__(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="creditwatch-demo",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()


async def check(
    server: MockServer,
    *,
    timeout: float | None = None,
    on_done: Callable[[], None] | None = None,
) -> dict[str, Result]:
    """Every provider's balance from the mock, concurrently."""
    # trust_env=False: no proxy from the environment; the mock is on loopback.
    async with httpx.AsyncClient(trust_env=False) as http:

        async def one(provider: str) -> Result:
            try:
                return await check_key(
                    provider,
                    DEMO_KEY,
                    http=http,
                    base_url=server.base_url(provider),
                    timeout=timeout,
                )
            finally:
                if on_done is not None:
                    on_done()

        results = await asyncio.gather(*(one(p) for p in PROVIDERS))
    return dict(zip(PROVIDERS, results, strict=True))
