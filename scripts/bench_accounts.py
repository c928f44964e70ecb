"""Benchmark of ``creditwatch balances --accounts``: many accounts, bounded concurrency.

A local server answers every request after 100 ms; 200 accounts checked with at most
10 requests in flight ideally take 200 x 0.1 / 10 = 2.0 s. The script prints the time
taken, its ratio to that ideal, and the most requests the server saw in flight; then
the same at concurrency 1 on fewer accounts, for contrast. It is a measurement, not a
test: it fails (exit 1) only if an account fails or the bound is exceeded.

    python scripts/bench_accounts.py            # 200 accounts at 10; 20 at 1
    python scripts/bench_accounts.py --smoke    # a few accounts, for CI

The accounts rotate over the four providers whose balance is one request (an
LLMGenerator balance is two, which would change the ideal).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.resources
import json
import multiprocessing
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import creditwatch
from creditwatch._accounts import Account, check_accounts

ONE_REQUEST_PROVIDERS = ("flamel", "exorde", "generect", "easyslip")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    routes: dict[str, bytes]
    delay: float
    lock: threading.Lock
    in_flight: int
    max_in_flight: int
    served: int

    def server_bind(self) -> None:  # no reverse DNS lookup of 127.0.0.1
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall
    server: _Server

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.in_flight += 1
            server.served += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            time.sleep(server.delay)
            body = server.routes.get(self.path.split("?", 1)[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")
        finally:
            with server.lock:
                server.in_flight -= 1

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _routes() -> dict[str, bytes]:
    """The first documented 200 example of each operation, at /<provider><path>."""
    resource = importlib.resources.files("creditwatch._generated") / "examples.json"
    examples: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    routes = {}
    for provider in ONE_REQUEST_PROVIDERS:
        for operation in examples[provider].values():
            body = next(iter(operation["responses"]["200"].values()))
            routes[f"/{provider}{operation['path']}"] = json.dumps(body).encode()
    return routes


def _serve(conn: Connection, delay: float) -> None:
    """The server process: send the port, serve until told to stop, send the stats."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes, server.delay, server.lock = _routes(), delay, threading.Lock()
    server.in_flight = server.max_in_flight = server.served = 0
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    conn.send(server.server_port)
    conn.recv()
    server.shutdown()
    server.server_close()
    conn.send((server.served, server.max_in_flight))


@contextmanager
def slow_server(delay: float) -> Iterator[tuple[int, dict[str, int]]]:
    """A server in its own process (its threads do not compete with the client for
    the GIL): yields its port and, once stopped, its stats."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, delay), daemon=True)
    process.start()
    stats: dict[str, int] = {}
    try:
        port: int = parent.recv()
        yield port, stats
    finally:
        parent.send("stop")
        stats["served"], stats["max_in_flight"] = parent.recv()
        process.join(5)


def run(count: int, concurrency: int, delay: float, *, quiet: bool = False) -> bool:
    """Check `count` accounts; print the timing; True if all answered within the bound."""
    with slow_server(delay) as (port, stats):
        base = f"http://127.0.0.1:{port}"
        accounts = [
            Account(
                name=f"account-{i}",
                provider=(provider := ONE_REQUEST_PROVIDERS[i % len(ONE_REQUEST_PROVIDERS)]),
                key_env=f"BENCH_KEY_{i}",
                base_url=f"{base}/{provider}",
            )
            for i in range(count)
        ]
        environ = {a.key_env: f"bench-key-not-a-real-secret-{i}" for i, a in enumerate(accounts)}
        start = time.perf_counter()
        results = asyncio.run(check_accounts(accounts, concurrency=concurrency, environ=environ))
        elapsed = time.perf_counter() - start
    peak = stats["max_in_flight"]
    ideal = count * delay / concurrency
    failed = [r for r in results if not isinstance(r, creditwatch.Balance)]
    if quiet:
        return not failed
    print(
        f"{count:4d} accounts, {delay * 1000:.0f} ms each, concurrency {concurrency:3d}: "
        f"{elapsed:6.2f} s  (ideal {ideal:.2f} s, ratio {elapsed / ideal:.2f})  "
        f"max in flight at the server: {peak}"
    )
    for error in failed[:3]:
        print(f"  failed: {type(error).__name__}: {error}")
    ok = not failed and peak <= concurrency
    if peak > concurrency:
        print(f"  BOUND EXCEEDED: {peak} > {concurrency}")
    return ok


def _warm_up(delay: float) -> None:
    """One untimed round first: imports (provider modules, httpx's transport stack)
    happen on first use, and the benchmark measures the checks, not those."""
    run(len(ONE_REQUEST_PROVIDERS), len(ONE_REQUEST_PROVIDERS), delay, quiet=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="a few accounts (for CI)")
    parser.add_argument("--accounts", type=int, default=200, help="default 200")
    parser.add_argument("--concurrency", type=int, default=10, help="default 10")
    parser.add_argument("--delay", type=float, default=0.1, help="server delay, default 0.1 s")
    args = parser.parse_args(argv)
    count, serial = (args.accounts, max(args.accounts // 10, 1))
    if args.smoke:
        count, serial = 3 * args.concurrency, 3
    _warm_up(args.delay)
    ok = run(count, args.concurrency, args.delay)
    ok = run(serial, 1, args.delay) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
