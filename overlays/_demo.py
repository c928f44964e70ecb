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
import math
import re
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeAlias

import attrs

from . import PROVIDERS
from ._balance import Balance
from ._base import load_profile
from ._checks import Result, Target, acheck_many, credential_names
from ._forecast import DAY

if TYPE_CHECKING:
    from ._history import Check

__all__ = [
    "DEMO_KEY",
    "MockServer",
    "Route",
    "check",
    "current_checks",
    "honest_routes",
    "honest_shifts",
    "load_examples",
    "routes",
    "synthetic_history",
]

DEMO_KEY = "demo-key-not-a-real-secret"
NOTE = (
    "creditwatch demo: example data from the providers' API documentation (dates moved "
    "to lie around today), served by a local mock; no keys were read and nothing left "
    "this machine."
)
NEXT_STEP = (
    "Next: set a key (e.g. export FLAMEL_API_KEY=...; `creditwatch balances --help` "
    "lists them all), then run `creditwatch balances`. To try the Python examples of "
    "the README against this mock: `creditwatch demo --serve`."
)
AHEAD = timedelta(days=25)
"""Where a shifted reset or expiry lands: this far from now."""
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


Route: TypeAlias = tuple[bytes, tuple[tuple[str, str], ...]]
"""A mock answer: the JSON body and the headers the spec documents for it."""


def routes(
    examples: Mapping[str, Any], shifts: Mapping[str, timedelta] | None = None
) -> dict[str, Route]:
    """``/<provider><path>`` -> the first documented 200 example of each GET operation,
    with the response headers the spec documents (LLMGenerator's ``X-RateLimit-*``).

    ``shifts`` moves every date in a provider's bodies by that much (see
    `honest_shifts`). An operation without an example gets no route: the mock answers
    404 and the demo shows that provider's error, rather than inventing data."""
    table: dict[str, Route] = {}
    now = time.time()
    for provider, operations in examples.items():
        shift = (shifts or {}).get(provider)
        for operation in operations.values():
            if str(operation.get("method", "")).lower() != "get":
                continue
            samples = operation.get("responses", {}).get("200") or {}
            if samples:
                body = next(iter(samples.values()))
                if shift:
                    body = _shift_dates(body, shift)
                documented = operation.get("headers", {}).get("200", {})
                headers = tuple(
                    (name, str(_header_value(value, now))) for name, value in documented.items()
                )
                table[f"/{provider}{operation['path']}"] = (json.dumps(body).encode(), headers)
    return table


def find_route(table: Mapping[str, Route], path: str) -> Route | None:
    """The route of ``path``: exact, else a route whose spec path has parameters
    (Twilio's ``{AccountSid}``, filled by the client from a credential) matching it
    segment by segment."""
    route = table.get(path)
    if route is not None:
        return route
    for template, candidate in table.items():
        if "{" in template and re.fullmatch(_template_pattern(template), path):
            return candidate
    return None


def _template_pattern(template: str) -> str:
    parts = re.split(r"(\{[^}/]*\})", template)
    return "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)


def demo_credentials(provider: str) -> dict[str, str]:
    """The demo key as the provider's credential: its first one, or every one when its
    credentials are used together (Twilio's account SID and auth token)."""
    names = credential_names(provider)
    joint = load_profile(provider).joint
    return {name: DEMO_KEY for name in (names if joint else names[:1])}


def _header_value(value: object, now: float) -> object:
    """A documented header example; one that is a Unix time (a rate-limit reset) is
    served a minute from now, so that it is not years in the past."""
    if isinstance(value, int) and 10**9 <= value < 10**10:
        return int(now) + 60
    return value


_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:\d{2})?\Z"
)


def _shift_dates(value: Any, shift: timedelta) -> Any:
    """``value`` (decoded JSON) with every ISO 8601 date or date-time moved by ``shift``,
    in its own spelling (a ``Z`` stays a ``Z``, a date stays a date), and every Unix
    time (an integer of 10 digits in a field named for a time, ElevenLabs'
    ``next_character_count_reset_unix``) moved by as many seconds."""
    if isinstance(value, dict):
        return {
            k: _shift_unix(v, shift) if _UNIX_FIELD.search(k) else _shift_dates(v, shift)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_shift_dates(v, shift) for v in value]
    if not isinstance(value, str) or not _DATE.match(value):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    moved = parsed + shift
    if len(value) == 10:  # a date
        return moved.date().isoformat()
    text = moved.isoformat(timespec="milliseconds" if "." in value else "seconds")
    if value.endswith("Z"):
        text = text.replace("+00:00", "Z")
    return text


_UNIX_FIELD = re.compile(r"unix|timestamp|_at$|reset", re.I)


def _shift_unix(value: Any, shift: timedelta) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 10**9 <= value < 10**10:
        return value + int(shift.total_seconds())
    return _shift_dates(value, shift)


def honest_shifts(
    results: Mapping[str, Result], now: datetime | None = None
) -> dict[str, timedelta]:
    """Per provider, how far to move its example dates (whole days) so that the reset
    or expiry of its balance lies ahead, ``AHEAD`` from now: the documentation's
    examples were written years ago. Providers whose balance has no such date in the
    past keep their dates."""
    now = datetime.now(UTC) if now is None else now
    shifts = {}
    for provider, result in results.items():
        if not isinstance(result, Balance):
            continue
        when = result.resets_at or result.expires_at
        if when is not None and when < now + timedelta(days=1):
            days = math.ceil((now + AHEAD - when) / timedelta(days=1))
            shifts[provider] = timedelta(days=days)
    return shifts


def honest_routes(examples: Mapping[str, Any]) -> dict[str, Route]:
    """`routes`, with the dates moved by `honest_shifts` (found with one pass of the
    real clients against the unshifted mock)."""
    raw = routes(examples)
    with MockServer(raw) as server:
        results = asyncio.run(check(server))
    return routes(examples, honest_shifts(results))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # Every provider connects at once; socketserver's backlog of 5 dropped the rest of
    # the connections, which the kernel then retried a second later.
    request_queue_size = 64
    routes: Mapping[str, Route]

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
        route = find_route(self.server.routes, path)
        if route is None:
            self._send(
                404, f"creditwatch demo: no documented example for GET {path}".encode(), "text"
            )
        else:
            self._send(200, route[0], "application/json", route[1])

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if content_type == "text" else content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class MockServer:
    """The mock on 127.0.0.1 and a free port, in a daemon thread; a context manager."""

    def __init__(self, routes: Mapping[str, Route], port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
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

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``creditwatch demo --serve``)."""
        self._server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        """Release the port (after `serve_forever`)."""
        self._server.server_close()

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
    """Every provider's balance from the mock, concurrently, each with the demo key as
    its first credential."""
    targets = [
        Target(
            provider=provider,
            credentials=demo_credentials(provider),
            base_url=server.base_url(provider),
            timeout=timeout,
        )
        for provider in PROVIDERS
    ]
    # trust_env=False: no proxy from the environment; the mock is on loopback.
    results = await acheck_many(
        targets,
        trust_env=False,
        on_result=None if on_done is None else (lambda *_: on_done()),
    )
    return dict(zip(PROVIDERS, results, strict=True))
