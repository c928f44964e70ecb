"""``creditwatch serve``: a Prometheus exporter (needs the ``exporter`` extra).

Checks run in the background, every ``--interval`` seconds, with at most
``--concurrency`` in flight; ``/metrics`` only reads what the last checks left, so
however often it is scraped, each account is checked once per interval. A check that
fails sets ``creditwatch_check_success`` to 0 and keeps the last good values (and
``creditwatch_last_success_timestamp_seconds`` says how old they are); ``/metrics``
does not depend on any provider answering. ``/healthz`` answers ``ok`` while the
process runs. SIGTERM and Ctrl-C stop it with exit status 0.

The burn rate and forecast come from a history database: the ``--db`` file with
``--record`` (every check is appended, and the exporter starts from what is there),
else one in memory that keeps at most one check per series per hour, and the rises.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import signal
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import attrs
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer, choose_encoder, gzip_accepted

from ._accounts import Account, Result, account_pool, check_account, load_accounts
from ._balance import Balance, abalances, configured_providers
from ._cli import DEFAULT_SINCE, EXIT_FAILED, EXIT_OK, parse_duration, redact
from ._forecast import Forecast
from ._history import Check, History, default_path

__all__ = ["Exporter", "Target", "main"]

WINDOW = parse_duration(DEFAULT_SINCE)
"""The burn rate's window, as `creditwatch history`'s default."""
MEMORY_SPACING = 3600.0
"""Without --record: at most one check per series per hour is kept (and every rise)."""

SWITCH_INTERVAL = 0.0005
CREDIT_LABELS = ("provider", "account", "unit")
CHECK_LABELS = ("provider", "account")


@attrs.frozen
class Target:
    """What one series of checks is about: a provider's own key (``account`` is
    ``""``, the key from the environment) or an ``--accounts`` entry."""

    provider: str
    account: str = ""
    entry: Account | None = attrs.field(default=None, eq=False)


@attrs.define
class State:
    """What is known about a target; replaced (never mutated) after each check."""

    balance: Balance[object] | None = None
    """The last good balance."""
    success: bool = False
    duration: float = 0.0
    last_success: float | None = None
    error: str | None = None
    forecast: Forecast | None = None


class Exporter:
    """The targets, their latest state, and the metric families built from it."""

    def __init__(
        self,
        targets: list[Target],
        *,
        history: History,
        record: bool,
        concurrency: int = 10,
        timeout: float | None = None,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.targets = targets
        self.history = history
        self.record = record
        self.concurrency = concurrency
        self.timeout = timeout
        self.log = log
        self.on_change: Callable[[], None] = lambda: None
        self.states: dict[Target, State] = {}
        self.cycles = 0
        self._lock = threading.Lock()
        self._version = 0
        self._built: tuple[int, list[Metric]] = (-1, [])
        self._kept: dict[Target, tuple[float, float]] = {}  # memory mode: (slot, value)

    # -- checking -----------------------------------------------------------------------

    async def check_all(self) -> None:
        """Check every target once, ``concurrency`` at a time; then record and forecast."""
        semaphore = asyncio.Semaphore(self.concurrency)
        async with account_pool(self.concurrency) as http:

            async def one(target: Target) -> tuple[Target, Result]:
                started = time.perf_counter()
                if target.entry is not None:
                    result = await check_account(
                        target.entry, http=http, semaphore=semaphore, timeout=self.timeout
                    )
                else:
                    async with semaphore:
                        try:
                            result = (await abalances([target.provider], timeout=self.timeout))[
                                target.provider
                            ]
                        except Exception as exc:
                            result = exc
                self._update(target, result, time.perf_counter() - started)
                return target, result

            results = await asyncio.gather(*(one(t) for t in self.targets))
        await asyncio.to_thread(self._after_cycle, results)
        self.cycles += 1

    def _update(self, target: Target, result: Result, duration: float) -> None:
        with self._lock:
            first = target not in self.states
            old = self.states.get(target, State())
            if isinstance(result, Balance):
                new = attrs.evolve(
                    old,
                    balance=result,
                    success=True,
                    duration=duration,
                    last_success=result.checked_at.timestamp(),
                    error=None,
                )
            else:
                new = attrs.evolve(
                    old, success=False, duration=duration, error=type(result).__name__
                )
            self.states[target] = new
            self._version += 1
        self.on_change()
        if new.error != old.error or (first and new.error is not None):
            who = target.provider + (f" ({target.account})" if target.account else "")
            if new.error is None:
                self.log(f"{who}: check succeeded")
            else:
                message = " ".join(str(result).split()) or "(no message)"
                self.log(f"{who}: check failed: {new.error}: {message}")

    def _after_cycle(self, results: list[tuple[Target, Result]]) -> None:
        """Record the cycle (``--record``: every check; in memory: thinned), then
        recompute every forecast from the history. Runs in a worker thread."""
        checks = [
            Check(provider=target.provider, account=target.account, outcome=result)
            for target, result in results
            if self.record or self._keep(target, result)
        ]
        if checks:
            self.history.add(checks)
        if not self.record:
            with contextlib.suppress(Exception):
                self.history.prune(time.time() - WINDOW - MEMORY_SPACING)
        found = {
            (s.provider, s.account): s
            for s in self.history.series(since=time.time() - WINDOW, width=0)
        }
        with self._lock:
            for target, state in self.states.items():
                series = found.get((target.provider, target.account))
                if state.balance is not None and series is not None:
                    state.forecast = series.forecast(state.balance)
            self._version += 1
        self.on_change()

    def _keep(self, target: Target, result: Result) -> bool:
        """In memory: the first good check of each hour, and every rise."""
        if not isinstance(result, Balance) or result.remaining is None:
            return False
        slot = result.checked_at.timestamp() // MEMORY_SPACING
        kept = self._kept.get(target)
        if kept is not None and kept[0] == slot and result.remaining <= kept[1]:
            return False
        self._kept[target] = (slot, result.remaining)
        return True

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
        for target, state in self.states.items():
            who = [target.provider, target.account]
            success.add_metric(who, 1.0 if state.success else 0.0)
            duration.add_metric(who, state.duration)
            if state.last_success is not None:
                last.add_metric(who, state.last_success)
            balance = state.balance
            if balance is None:
                continue
            labels = [*who, balance.unit]
            if balance.remaining is not None:
                remaining.add_metric(labels, balance.remaining)
            if balance.limit is not None and not balance.unlimited:
                limit.add_metric(labels, balance.limit)
            forecast = state.forecast
            if forecast is not None and forecast.used_per_day is not None:
                per_day.add_metric(labels, forecast.used_per_day)
            if forecast is not None and forecast.kind == "runs_out" and forecast.runs_out_at:
                runs_out.add_metric(labels, forecast.runs_out_at.timestamp())
        return [remaining, limit, per_day, runs_out, success, duration, last]


# -- HTTP -----------------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingWSGIServer):
    """A thread per request; binds without a host name lookup (socket.getfqdn can
    hang without a network)."""

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
    thread re-renders every format that has been asked for (within ``DELAY``), and
    scrapes meanwhile get the previous rendering. prometheus-client chooses the format
    (text or OpenMetrics, from ``Accept``) and the gzip encoding."""

    DELAY = 0.2
    """Seconds changes are gathered before one rendering (a cycle is many changes)."""

    def __init__(self, registry: CollectorRegistry, exporter: Exporter) -> None:
        self._registry = registry
        self._exporter = exporter
        self._lock = threading.Lock()
        # (content type, gzip) -> (version, encoder, body)
        self._cache: dict[tuple[str, bool], tuple[int, Callable[..., bytes], bytes]] = {}
        self._changed = threading.Event()
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
            version = self._exporter.version
            body = encoder(self._registry)
            if key[1]:
                body = gzip.compress(body, compresslevel=5)
            self._cache[key] = (version, encoder, body)
            return body

    def _refresh_forever(self) -> None:
        while True:
            self._changed.wait()
            time.sleep(self.DELAY)
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
    import os  # noqa: PLC0415

    def log(text: str) -> None:
        print(redact(f"creditwatch serve: {text}", secrets), file=sys.stderr, flush=True)

    # The checks and the scrapes share one interpreter: hand the GIL over every 0.5 ms
    # instead of 5 ms, so a scrape waits less behind a check cycle's parsing.
    sys.setswitchinterval(SWITCH_INTERVAL)
    targets = targets_of(args)
    if args.accounts is not None:
        secrets.update(
            key for t in targets if t.entry and (key := os.environ.get(t.entry.key_env, "").strip())
        )
    if not targets:
        log("nothing to check: set a provider's key (FLAMEL_API_KEY ...) or pass --accounts")
        return EXIT_FAILED
    path = args.db if args.db is not None else default_path()
    history = History(path if args.record else ":memory:")
    exporter = Exporter(
        targets,
        history=history,
        record=args.record,
        concurrency=args.concurrency,
        timeout=args.timeout,
        log=log,
    )
    try:
        server = make_server(args.host, args.port, exporter)
    except OSError as exc:
        history.close()
        log(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return EXIT_FAILED
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    host = f"[{args.host}]" if ":" in args.host else args.host
    log(
        f"listening on http://{host}:{server.server_port}/metrics; checking "
        f"{len(targets)} target(s) every {args.interval:g} s"
        + (f", recording to {path}" if args.record else "")
    )
    try:
        asyncio.run(_loop(exporter, args.interval))
    finally:
        server.shutdown()
        server.server_close()
        history.close()
    log("stopped")
    return EXIT_OK


async def _loop(exporter: Exporter, interval: float) -> None:
    """Check every ``interval`` seconds until SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    waiting = asyncio.ensure_future(stop.wait())
    while not stop.is_set():
        started = time.monotonic()
        cycle = asyncio.ensure_future(exporter.check_all())
        await asyncio.wait({cycle, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            cycle.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await cycle
            break
        if cycle.exception() is not None:  # a bug: say so, keep serving
            exporter.log(f"checks failed: {cycle.exception()!r}")
        delay = max(0.0, interval - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiting), delay)
