"""``creditwatch serve``: a Prometheus exporter (needs the ``exporter`` extra).

Checks run in the background, every ``--interval`` seconds, with at most
``--concurrency`` in flight; ``/metrics`` only reads what the last checks left, so
however often it is scraped, each account is checked once per interval. A check that
fails sets ``creditwatch_check_success`` to 0 and keeps the last good values (and
``creditwatch_last_success_timestamp_seconds`` says how old they are); ``/metrics``
does not depend on any provider answering. ``/healthz`` answers ``ok`` while the
process runs. SIGTERM and Ctrl-C stop it with exit status 0.

The checks run in a child process (`Checker`), so that parsing 500 accounts' answers
never holds up a scrape (one interpreter would share its lock between them); it sends
each result, and the forecasts after each cycle, to this process (`Exporter`), which
only keeps the latest values and serves them. The burn rate and forecast come from a
history database in the child: the ``--db`` file with ``--record`` (every check is
appended, and the exporter starts from what is there), else one in memory that keeps
at most one check per series per hour, and the rises.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import multiprocessing
import os
import signal
import socket
import socketserver
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeAlias
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import attrs
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer, choose_encoder, gzip_accepted

from . import _checks
from ._accounts import Account, load_accounts, target_of
from ._balance import Balance, configured_providers
from ._base import DEFAULT_MAX_RESPONSE_BYTES
from ._checks import Result
from ._cli import DEFAULT_SINCE, EXIT_FAILED, EXIT_OK, parse_duration, redact
from ._forecast import Forecast
from ._history import Check, History, default_path
from .errors import APIError

__all__ = ["Checker", "Exporter", "Failure", "Target", "main"]

WINDOW = parse_duration(DEFAULT_SINCE)
"""The burn rate's window, as `creditwatch history`'s default."""
MEMORY_SPACING = 3600.0
"""Without --record: at most one check per series per hour is kept (and every rise)."""

SWITCH_INTERVAL = 0.0005
"""Seconds between hand-overs of the interpreter lock among this process's threads
(default 0.005): a scrape waits less behind a rendering."""
STOP_GRACE = 1.0
"""Seconds the checker gets to stop by itself before it is terminated."""
REQUEST_TIMEOUT = 10.0
"""Seconds a connection may take to send its request (and stay idle between
requests); a half-sent request is closed after this."""
MAX_HANDLERS = 64
"""Requests handled at once, each by a thread; more connections wait in the listen
backlog (`LISTEN_BACKLOG`), then in the kernel's SYN queue."""
LISTEN_BACKLOG = 1024
"""Connections the kernel holds until a handler takes them (Linux caps it at
net.core.somaxconn, 4096 by default)."""
MIN_DEADLINE = 30.0
"""Without --deadline, each check may take the --interval, and at least this long."""
CREDIT_LABELS = ("provider", "account", "unit")
CHECK_LABELS = ("provider", "account")


@attrs.frozen
class Target:
    """What one series of checks is about: a provider's own key (``account`` is
    ``""``, the key from the environment) or an ``--accounts`` entry."""

    provider: str
    account: str = ""
    entry: Account | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Failure:
    """A failed check as it crosses from the checker process: the error class and its
    message on one line (exceptions do not always survive pickling)."""

    error: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        return cls(type(exc).__name__, " ".join(str(exc).split()) or "(no message)")


Outcome: TypeAlias = Balance[object] | Failure
Message: TypeAlias = tuple[str, Any]
"""``("checked", (index, outcome, seconds))``, ``("forecasts", {index: Forecast})`` or
``("log", text)``."""


@attrs.define
class State:
    """What is known about a target."""

    balance: Balance[object] | None = None
    """The last good balance."""
    success: bool = False
    duration: float = 0.0
    last_success: float | None = None
    last_check: float | None = None
    error: str | None = None
    forecast: Forecast | None = None


class Checker:
    """The checking side, in its own process: checks every target once per cycle,
    ``concurrency`` at a time, then records and forecasts; ``send`` reports each
    result as it comes, and the forecasts after the cycle."""

    def __init__(
        self,
        targets: list[Target],
        *,
        history: History,
        record: bool,
        send: Callable[[Message], None],
        concurrency: int = 10,
        timeout: float | None = None,
        deadline: float | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.targets = targets
        self.deadline = deadline
        """Seconds each check may take in all (retries included): a stalled provider
        is then a failed check, and the next cycle starts on time for the others."""
        self.max_response_bytes = max_response_bytes
        self.history = history
        self.record = record
        self.send = send
        self.concurrency = concurrency
        self.timeout = timeout
        self._last: dict[int, Balance[object]] = {}
        self._kept: dict[int, tuple[float, float]] = {}  # memory mode: (slot, value)

    def _check_target(self, target: Target) -> _checks.Target | APIError:
        """What to check for a target this cycle (its key variables read now)."""
        timeout, deadline, max_bytes = self.timeout, self.deadline, self.max_response_bytes
        if target.entry is not None:
            return target_of(
                target.entry, timeout=timeout, deadline=deadline, max_response_bytes=max_bytes
            )
        return _checks.Target(
            provider=target.provider,
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_bytes,
        )

    async def check_all(self) -> None:
        """One cycle: every target, ``concurrency`` at a time, over one shared pool
        (aiohttp's with the ``aiohttp`` extra); each result is sent as it comes."""
        results: list[tuple[int, Result]] = []

        def checked(index: int, result: Result, seconds: float) -> None:
            if isinstance(result, Balance):  # the provider's model stays here
                outcome: Outcome = attrs.evolve(result, account=None)
                self._last[index] = result
            else:
                outcome = Failure.of(result)
            self.send(("checked", (index, outcome, seconds)))
            results.append((index, result))

        await _checks.acheck_many(
            [self._check_target(t) for t in self.targets],
            concurrency=self.concurrency,
            on_result=checked,
        )
        await asyncio.to_thread(self._after_cycle, sorted(results, key=lambda r: r[0]))

    def _after_cycle(self, results: list[tuple[int, Result]]) -> None:
        """Record the cycle (``--record``: every check; in memory: thinned), then
        forecast every target from the history. Runs in a worker thread."""
        checks = []
        for index, result in results:
            if self.record or self._keep(index, result):
                target = self.targets[index]
                checks.append(
                    Check(provider=target.provider, account=target.account, outcome=result)
                )
        if checks:
            self.history.add(checks)
        if not self.record:
            self.history.prune(time.time() - WINDOW - MEMORY_SPACING)
        found = {
            (s.provider, s.account): s
            for s in self.history.series(since=time.time() - WINDOW, width=0)
        }
        forecasts = {}
        for index, balance in self._last.items():
            target = self.targets[index]
            series = found.get((target.provider, target.account))
            if series is not None:
                forecasts[index] = series.forecast(attrs.evolve(balance, account=None))
        self.send(("forecasts", forecasts))

    def _keep(self, index: int, result: Result) -> bool:
        """In memory: the first good check of each hour, and every rise."""
        if not isinstance(result, Balance) or result.remaining is None:
            return False
        slot = result.checked_at.timestamp() // MEMORY_SPACING
        kept = self._kept.get(index)
        if kept is not None and kept[0] == slot and result.remaining <= kept[1]:
            return False
        self._kept[index] = (slot, result.remaining)
        return True


class Exporter:
    """The serving side: the latest state of each target, from the checker's
    messages, and the metric families built from them (a prometheus-client
    collector)."""

    def __init__(self, targets: list[Target], *, log: Callable[[str], None]) -> None:
        self.targets = targets
        self.log = log
        self.on_change: Callable[[], None] = lambda: None
        self.states: dict[Target, State] = {}
        self._lock = threading.Lock()
        self._version = 0
        self._built: tuple[int, list[Metric]] = (-1, [])

    def apply(self, message: Message) -> None:
        """A message from the checker."""
        kind, body = message
        if kind == "checked":
            index, outcome, duration = body
            self._checked(self.targets[index], outcome, duration)
        elif kind == "log":
            self.log(body)
        elif kind == "forecasts":
            with self._lock:
                for index, forecast in body.items():
                    state = self.states.get(self.targets[index])
                    if state is not None:
                        state.forecast = forecast
                self._version += 1
            self.on_change()

    def _checked(self, target: Target, outcome: Outcome, duration: float) -> None:
        with self._lock:
            first = target not in self.states
            state = self.states.setdefault(target, State())
            before = state.error
            state.duration = duration
            state.last_check = time.time()
            if isinstance(outcome, Balance):
                state.balance = outcome
                state.success = True
                state.last_success = outcome.checked_at.timestamp()
                state.error = None
            else:
                state.success = False
                state.error = outcome.error
            self._version += 1
        self.on_change()
        if state.error != before or (first and state.error is not None):
            who = target.provider + (f" ({target.account})" if target.account else "")
            if isinstance(outcome, Failure):
                self.log(f"{who}: check failed: {outcome.error}: {outcome.message}")
            else:
                self.log(f"{who}: check succeeded")

    # -- metrics ------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Changes whenever a state does."""
        return self._version

    def collect(self) -> Iterator[Metric]:
        """The metric families of the latest states (rebuilt only after a change)."""
        with self._lock:
            if self._built[0] != self._version:
                self._built = (self._version, self._families())
            families = self._built[1]
        return iter(families)

    def describe(self) -> Iterable[Metric]:
        return []

    def _families(self) -> list[Metric]:
        remaining = GaugeMetricFamily(
            "creditwatch_credits_remaining",
            "Credits left, from the latest successful check.",
            labels=CREDIT_LABELS,
        )
        limit = GaugeMetricFamily(
            "creditwatch_credits_limit",
            "Credits of the plan, when the provider says (not for unlimited plans).",
            labels=CREDIT_LABELS,
        )
        per_day = GaugeMetricFamily(
            "creditwatch_credits_used_per_day",
            f"Credits used per day over the last {DEFAULT_SINCE} (resets and top-ups "
            "start a new segment of the fit).",
            labels=CREDIT_LABELS,
        )
        runs_out = GaugeMetricFamily(
            "creditwatch_credits_runs_out_timestamp_seconds",
            "When the credits run out at that rate; absent when the next reset comes "
            "first, without use, or without enough data.",
            labels=CREDIT_LABELS,
        )
        success = GaugeMetricFamily(
            "creditwatch_check_success",
            "1 if the latest check succeeded, 0 if it failed (the credit metrics then "
            "keep their last good values).",
            labels=CHECK_LABELS,
        )
        duration = GaugeMetricFamily(
            "creditwatch_check_duration_seconds",
            "How long the latest check took, retries included.",
            labels=CHECK_LABELS,
        )
        last = GaugeMetricFamily(
            "creditwatch_last_success_timestamp_seconds",
            "When the latest successful check was made.",
            labels=CHECK_LABELS,
        )
        checked = GaugeMetricFamily(
            "creditwatch_last_check_timestamp_seconds",
            "When the latest check ended, successful or not: time() minus this is the "
            "age of what /metrics shows.",
            labels=CHECK_LABELS,
        )
        for target, state in self.states.items():
            who = [target.provider, target.account]
            success.add_metric(who, 1.0 if state.success else 0.0)
            duration.add_metric(who, state.duration)
            if state.last_success is not None:
                last.add_metric(who, state.last_success)
            if state.last_check is not None:
                checked.add_metric(who, state.last_check)
            balance = state.balance
            if balance is None:
                continue
            labels = [*who, balance.unit]
            if _number(balance.remaining) is not None:
                remaining.add_metric(labels, float(balance.remaining or 0))
            if _number(balance.limit) is not None and not balance.unlimited:
                limit.add_metric(labels, float(balance.limit or 0))
            forecast = state.forecast
            if forecast is not None and forecast.used_per_day is not None:
                per_day.add_metric(labels, forecast.used_per_day)
            if forecast is not None and forecast.kind == "runs_out" and forecast.runs_out_at:
                runs_out.add_metric(labels, forecast.runs_out_at.timestamp())
        return [remaining, limit, per_day, runs_out, success, duration, last, checked]


def _number(value: float | None) -> float | None:
    """A value a gauge can show, else None (one absurd value never fails /metrics)."""
    try:
        return None if value is None else float(value)
    except (OverflowError, TypeError, ValueError):
        return None


# -- HTTP -----------------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    """No access log; a connection that does not send its request (or stays idle)
    within `REQUEST_TIMEOUT` is closed."""

    def setup(self) -> None:
        self.request.settimeout(REQUEST_TIMEOUT)  # what StreamRequestHandler.timeout does
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingWSGIServer):
    """A thread per request, at most `MAX_HANDLERS` at once, `LISTEN_BACKLOG`
    connections waiting; binds without a host name lookup (socket.getfqdn can hang
    without a network)."""

    request_queue_size = LISTEN_BACKLOG

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._slots = threading.BoundedSemaphore(MAX_HANDLERS)
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out or go away are expected: no traceback on stderr."""
        if not isinstance(sys.exception(), OSError):
            super().handle_error(request, client_address)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()


class _Server6(_Server):
    address_family = socket.AF_INET6


class MetricsPage:
    """``/metrics``: the exposition of the registry, rendered ahead of the scrapes.

    A scrape is answered with bytes rendered after the last change, never by
    rendering 500 accounts' metrics while Prometheus waits: after a change a background
    thread re-renders every format that has been asked for, and scrapes meanwhile get
    the previous rendering. Changes (a cycle is many) are gathered for ``PAUSE`` times
    the last rendering's duration (at least ``MIN_DELAY``), so rendering takes at most
    a sixth of the time however fast checks come in. prometheus-client chooses the
    format (text or OpenMetrics, from ``Accept``) and the gzip encoding."""

    MIN_DELAY = 0.1
    PAUSE = 5.0

    def __init__(self, registry: CollectorRegistry, exporter: Exporter) -> None:
        self._registry = registry
        self._exporter = exporter
        self._lock = threading.Lock()
        # (content type, gzip) -> (version, encoder, body)
        self._cache: dict[tuple[str, bool], tuple[int, Callable[..., bytes], bytes]] = {}
        self._changed = threading.Event()
        self._took = 0.0  # the last rendering, seconds
        exporter.on_change = self._changed.set
        threading.Thread(target=self._refresh_forever, name="metrics", daemon=True).start()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
        compress = gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING", ""))
        key = (content_type, compress)
        cached = self._cache.get(key)
        body = self._render(key, encoder) if cached is None else cached[2]
        headers = [("Content-Type", content_type)]
        if compress:
            headers.append(("Content-Encoding", "gzip"))
        start_response("200 OK", headers)
        return [body]

    def _render(self, key: tuple[str, bool], encoder: Callable[..., bytes]) -> bytes:
        with self._lock:
            started = time.perf_counter()
            version = self._exporter.version
            body = encoder(self._registry)
            if key[1]:
                body = gzip.compress(body, compresslevel=5)
            self._cache[key] = (version, encoder, body)
            self._took = time.perf_counter() - started
            return body

    def _refresh_forever(self) -> None:
        while True:
            self._changed.wait()
            time.sleep(max(self.MIN_DELAY, self.PAUSE * self._took))
            self._changed.clear()
            for key, (version, encoder, _) in list(self._cache.items()):
                if version != self._exporter.version:
                    self._render(key, encoder)


def make_app(registry: CollectorRegistry, exporter: Exporter) -> Callable[..., Iterable[bytes]]:
    """``/metrics`` (`MetricsPage`), ``/healthz``, and an index at ``/``."""
    metrics = MetricsPage(registry, exporter)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET":
            status, text = "405 Method Not Allowed", b"use GET\n"
        elif path == "/metrics":
            return metrics(environ, start_response)
        elif path == "/healthz":
            status, text = "200 OK", b"ok\n"
        elif path == "/":
            status, text = "200 OK", b"creditwatch exporter: /metrics, /healthz\n"
        else:
            status, text = "404 Not Found", b"not found: try /metrics\n"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
        return [text]

    return app


def make_server(host: str, port: int, exporter: Exporter) -> WSGIServer:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    server_class = _Server6 if ":" in host else _Server
    server = server_class((host, port), _Quiet)
    server.set_app(make_app(registry, exporter))
    return server


# -- the command ----------------------------------------------------------------------


def targets_of(args: argparse.Namespace) -> list[Target]:
    """The accounts of ``--accounts``, else every provider with a key in the environment."""
    if args.accounts is not None:
        return [Target(a.provider, a.name, a) for a in load_accounts(args.accounts)]
    return [Target(name) for name in configured_providers()]


def main(args: argparse.Namespace, secrets: set[str]) -> int:
    """Run until SIGTERM or Ctrl-C; exit status 0 then, 2 when it cannot start."""

    def log(text: str) -> None:
        print(redact(f"creditwatch serve: {text}", secrets), file=sys.stderr, flush=True)

    sys.setswitchinterval(SWITCH_INTERVAL)
    targets = targets_of(args)
    if args.accounts is not None:
        secrets.update(
            key
            for t in targets
            if t.entry
            for variable in t.entry.variables().values()
            if (key := os.environ.get(variable, "").strip())
        )
    if not targets:
        log("nothing to check: set a provider's key (FLAMEL_API_KEY ...) or pass --accounts")
        return EXIT_FAILED
    path = args.db if args.db is not None else default_path()
    if args.record:  # a file that cannot be used: say so now, not in the child
        try:
            History(path).close()
        except (sqlite3.Error, OSError) as exc:
            log(f"history {path}: {exc}")
            return EXIT_FAILED
    exporter = Exporter(targets, log=log)
    try:
        server = make_server(args.host, args.port, exporter)
    except OSError as exc:
        log(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_FAILED

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    ours, theirs = context.Pipe()
    checker = context.Process(
        target=run_checker,
        args=(theirs, targets, path if args.record else None, args.interval),
        kwargs={
            "concurrency": args.concurrency,
            "timeout": args.timeout,
            "deadline": args.deadline or max(args.interval, MIN_DEADLINE),
            "max_response_bytes": args.max_response_bytes or None,
        },
        name="creditwatch-checker",
        daemon=True,
    )
    checker.start()
    theirs.close()
    threading.Thread(target=_receive, args=(ours, exporter, stop), daemon=True).start()
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    ).start()
    host = f"[{args.host}]" if ":" in args.host else args.host
    log(
        f"listening on http://{host}:{server.server_port}/metrics; checking "
        f"{len(targets)} target(s) every {args.interval:g} s"
        + (f", recording to {path}" if args.record else "")
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        with contextlib.suppress(OSError):
            ours.send(("stop", None))
        checker.join(STOP_GRACE)
        if checker.is_alive():
            checker.terminate()
            checker.join(STOP_GRACE)
        server.shutdown()
        server.server_close()
    if checker.exitcode not in (0, -signal.SIGTERM):
        log(f"the checker process ended with status {checker.exitcode}")
        return EXIT_FAILED
    log("stopped")
    return EXIT_OK


def _receive(connection: Connection, exporter: Exporter, stop: threading.Event) -> None:
    """Apply the checker's messages; stop the server when the checker is gone."""
    try:
        while True:
            exporter.apply(connection.recv())
    except (EOFError, OSError):
        stop.set()


def run_checker(
    connection: Connection,
    targets: list[Target],
    db: Path | None,
    interval: float,
    *,
    concurrency: int,
    timeout: float | None,
    deadline: float | None = None,
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
) -> None:
    """The checker process: check every ``interval`` seconds until told to stop (or
    until the server process is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server process
    lock = threading.Lock()

    def send(message: Message) -> None:
        with lock:
            connection.send(message)

    with History(":memory:" if db is None else db) as history:
        checker = Checker(
            targets,
            history=history,
            record=db is not None,
            send=send,
            concurrency=concurrency,
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        with contextlib.suppress(BrokenPipeError, EOFError, OSError):
            asyncio.run(_loop(checker, connection, interval))


async def _loop(checker: Checker, connection: Connection, interval: float) -> None:
    """Check every ``interval`` seconds until the server process says stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def listen() -> None:
        with contextlib.suppress(EOFError, OSError):
            while connection.recv()[0] != "stop":
                pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=listen, daemon=True).start()
    waiting = asyncio.ensure_future(stop.wait())
    while not stop.is_set():
        started = time.monotonic()
        cycle = asyncio.ensure_future(checker.check_all())
        await asyncio.wait({cycle, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            cycle.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await cycle
            break
        error = cycle.exception()
        if error is not None:  # a bug: say so, keep checking
            checker.send(("log", f"checks failed: {error!r}"))
        delay = max(0.0, interval - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiting), delay)
