"""Benchmark of ``creditwatch balances --accounts``: many accounts, bounded concurrency,
on both async transports.

A local asyncio server (its own process) answers every request after ``--delay``
(100 ms) or at once. 2,000 accounts checked with at most 100 requests in flight ideally
take 2,000 x 0.1 / 100 = 2.0 s. Each row gives the wall time, its ratio to that ideal,
the client's CPU time per check (user + system) and the most requests the server saw
in flight (never above the concurrency). Rows, all in one run on the same server:

* ``creditwatch balances --accounts FILE --concurrency 100 --json`` as a subprocess,
  with the ``aiohttp`` extra (its default when installed) and without it (the extra's
  modules blocked, as in a default install);
* the same checks in-process (``check_accounts``), on each transport;
* bare ``httpx.AsyncClient`` (httpcore's pool), httpx over httpx-aiohttp's
  ``AiohttpTransport``, and bare ``aiohttp.ClientSession``, each with the same
  semaphore, fetching the same bodies and decoding the JSON.

Target (issue #20): the CLI with the extra, 2,000 accounts at 100 ms, concurrency 100:
wall <= 2.5 s and CPU per check <= 0.6 ms. It is a measurement, not a test: it exits 1
only if an account fails or the bound is exceeded.

    python scripts/bench_accounts.py               # the table (about 2 minutes)
    python scripts/bench_accounts.py --smoke       # a few hundred checks, for CI
    python scripts/bench_accounts.py --accounts 200 --concurrency 10 --delay 0  # one row

The accounts rotate over the four providers whose balance is one request (an
LLMGenerator balance is two, which would change the ideal).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.resources
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import creditwatch
import httpx
from creditwatch import _aiohttp
from creditwatch._accounts import Account, check_accounts
from creditwatch._checks import credential_names


def one_request_providers() -> tuple[str, ...]:
    """The providers whose balance is one request with one key (from the registry and
    the compiled profiles): the accounts of the benchmark cycle through them."""
    names = []
    for provider in creditwatch.PROVIDERS:
        profile = importlib.import_module(f"creditwatch._generated.{provider}._profile")
        one_call = profile.Account.__module__.startswith(f"creditwatch._generated.{provider}.")
        one_call = one_call and ".models." in profile.Account.__module__
        if one_call and credential_names(provider) == ("api_key",):
            names.append(provider)
    return tuple(names)


ONE_REQUEST_PROVIDERS = one_request_providers()

BLOCKED = """\
import runpy, sys
sys.modules["aiohttp"] = None  # a default install: the extra cannot be imported
sys.modules["httpx_aiohttp"] = None
sys.argv = ["creditwatch", *sys.argv[1:]]
runpy.run_module("creditwatch", run_name="__main__", alter_sys=True)
"""


# -- the server -------------------------------------------------------------------------


def _routes() -> dict[str, bytes]:
    """The first documented 200 example of each operation, at /<provider><path>."""
    resource_file = importlib.resources.files("creditwatch._generated") / "examples.json"
    examples: dict[str, Any] = json.loads(resource_file.read_text(encoding="utf-8"))
    routes = {}
    for provider in ONE_REQUEST_PROVIDERS:
        for operation in examples[provider].values():
            body = next(iter(operation["responses"]["200"].values()))
            routes[f"/{provider}{operation['path']}"] = json.dumps(body).encode()
    return routes


class _Stats:
    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0


async def _handle(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    routes: dict[str, bytes],
    delay: float,
    stats: _Stats,
) -> None:
    """HTTP/1.1 keep-alive: GET requests without bodies, one at a time per connection."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode().split("?", 1)[0]
            stats.in_flight += 1
            stats.served += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            try:
                if delay:
                    await asyncio.sleep(delay)
            finally:
                stats.in_flight -= 1
            body = routes.get(path)
            status = b"200 OK" if body is not None else b"404 Not Found"
            body = body or b""
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _serve(conn: Connection, delay: float) -> None:
    """The server process: send the port, serve until told to stop, send the stats."""

    async def main() -> None:
        routes, stats = _routes(), _Stats()
        server = await asyncio.start_server(
            lambda r, w: _handle(r, w, routes, delay, stats), "127.0.0.1", 0, backlog=4096
        )
        conn.send(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            conn.send((stats.served, stats.max_in_flight))  # "stats": then reset
            stats.served = stats.max_in_flight = 0
        server.close()

    asyncio.run(main())


@contextmanager
def slow_server(delay: float) -> Iterator[tuple[int, Callable[[], tuple[int, int]]]]:
    """A server in its own process (it does not compete with the client for the GIL):
    yields its port and a function that returns (served, most in flight) since the
    last call."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve, args=(child, delay), daemon=True)
    process.start()

    def stats() -> tuple[int, int]:
        parent.send("stats")
        served, peak = parent.recv()
        return int(served), int(peak)

    try:
        yield parent.recv(), stats
    finally:
        parent.send("stop")
        process.join(5)


# -- the clients ---------------------------------------------------------------------------


def _accounts(count: int, base: str) -> list[Account]:
    return [
        Account(
            name=f"account-{i}",
            provider=(provider := ONE_REQUEST_PROVIDERS[i % len(ONE_REQUEST_PROVIDERS)]),
            key_env=f"BENCH_KEY_{i}",
            base_url=f"{base}/{provider}",
        )
        for i in range(count)
    ]


def _environ(count: int) -> dict[str, str]:
    return {f"BENCH_KEY_{i}": f"bench-key-not-a-real-secret-{i}" for i in range(count)}


def _urls(count: int, base: str) -> list[str]:
    paths = [p for p in _routes() if p.split("/")[1] in ONE_REQUEST_PROVIDERS]
    by_provider = {p.split("/")[1]: p for p in paths}
    return [
        base + by_provider[ONE_REQUEST_PROVIDERS[i % len(ONE_REQUEST_PROVIDERS)]]
        for i in range(count)
    ]


def _in_process(transport: str) -> Callable[[int, int, str], Awaitable[int]]:
    async def run(count: int, concurrency: int, base: str) -> int:
        original = _aiohttp.aiohttp_available
        _aiohttp.aiohttp_available = lambda: transport == "aiohttp"  # type: ignore[assignment]
        try:
            results = await check_accounts(
                _accounts(count, base), concurrency=concurrency, environ=_environ(count)
            )
        finally:
            _aiohttp.aiohttp_available = original
        return sum(not isinstance(r, creditwatch.Balance) for r in results)

    return run


async def _bare_httpx(count: int, concurrency: int, base: str, *, aio: bool = False) -> int:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    semaphore = asyncio.Semaphore(concurrency)
    transport = _aiohttp.aiohttp_transport(limits=limits) if aio else None
    failed = 0
    async with httpx.AsyncClient(limits=limits, transport=transport) as client:

        async def one(url: str) -> None:
            nonlocal failed
            async with semaphore:
                response = await client.get(url)
                json.loads(response.content)
                failed += response.status_code != 200

        await asyncio.gather(*(one(u) for u in _urls(count, base)))
    return failed


async def _bare_aiohttp(count: int, concurrency: int, base: str) -> int:
    import aiohttp  # noqa: PLC0415

    semaphore = asyncio.Semaphore(concurrency)
    failed = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str) -> None:
            nonlocal failed
            async with semaphore, session.get(url) as response:
                json.loads(await response.read())
                failed += response.status != 200

        await asyncio.gather(*(one(u) for u in _urls(count, base)))
    return failed


def _cli(blocked: bool) -> Callable[[int, int, str], int]:
    """``creditwatch balances --accounts FILE --concurrency N --json``, as a subprocess."""

    def run(count: int, concurrency: int, base: str) -> int:
        with tempfile.TemporaryDirectory(prefix="creditwatch-bench-") as tmp:
            path = Path(tmp) / "accounts.toml"
            path.write_text(
                "".join(
                    f'[[account]]\nname = "{a.name}"\nprovider = "{a.provider}"\n'
                    f'key_env = "{a.key_env}"\nbase_url = "{a.base_url}"\n'
                    for a in _accounts(count, base)
                ),
                encoding="utf-8",
            )
            env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
            env |= _environ(count) | {"XDG_DATA_HOME": tmp}
            start = [sys.executable, "-c", BLOCKED] if blocked else [sys.executable, "-m"]
            command = [*start, "creditwatch", "balances", "--accounts", str(path)]
            if blocked:
                command.remove("creditwatch")
            command += ["--concurrency", str(concurrency), "--json"]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        # 1: a balance is below, expired (an example's expiry date may be past) or runs
        # out: every check answered
        if done.returncode not in (0, 1):
            print(f"  the CLI failed ({done.returncode}): {done.stderr.strip()[:300]}")
            return count
        return sum(o.get("status") in ("error", "not configured") for o in json.loads(done.stdout))

    return run


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _awaited(awaitable: Awaitable[int]) -> int:
    return await awaitable


# -- the table -------------------------------------------------------------------------------

Runner = Callable[[int, int, str], Awaitable[int] | int]


def measure(
    label: str, runner: Runner, *, count: int, concurrency: int, delay: float, port: int, stats: Any
) -> bool:
    """One row: run, time it, print it; True if every check succeeded within the bound."""
    base = f"http://127.0.0.1:{port}"
    stats()  # reset the server's counters
    wall0, cpu0, child0 = time.perf_counter(), time.process_time(), _children_cpu()
    outcome = runner(count, concurrency, base)
    failed = outcome if isinstance(outcome, int) else asyncio.run(_awaited(outcome))
    wall = time.perf_counter() - wall0
    cpu = (time.process_time() - cpu0) + (_children_cpu() - child0)
    served, peak = stats()
    ideal = count * delay / concurrency
    ratio = f"{wall / ideal:5.2f}" if ideal > 0 else "    -"
    print(
        f"{label:<44} {count:5d} {delay * 1000:4.0f} ms {concurrency:4d}  {wall:7.2f} s "
        f"{ideal:6.2f} s {ratio}  {cpu * 1000 / count:6.2f} ms  {peak:4d}",
        flush=True,
    )
    ok = not failed and peak <= concurrency and served >= count
    if failed:
        print(f"  {failed} check(s) failed")
    if peak > concurrency:
        print(f"  BOUND EXCEEDED: {peak} > {concurrency}")
    return ok


def rows(transports: bool) -> list[tuple[str, Runner]]:
    found: list[tuple[str, Runner]] = []
    if transports:
        found.append(("creditwatch balances --accounts (aiohttp)", _cli(blocked=False)))
    found.append(("creditwatch balances --accounts (httpx only)", _cli(blocked=True)))
    if transports:
        found.append(("check_accounts(), aiohttp transport", _in_process("aiohttp")))
    found.append(("check_accounts(), httpx transport", _in_process("httpx")))
    found.append(("bare httpx.AsyncClient", _bare_httpx))
    if transports:
        found.append(
            ("bare httpx + AiohttpTransport", lambda n, c, b: _bare_httpx(n, c, b, aio=True))
        )
        found.append(("bare aiohttp.ClientSession", _bare_aiohttp))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="a few hundred checks (for CI)")
    parser.add_argument("--accounts", type=int, help="one setting only: this many accounts")
    parser.add_argument("--concurrency", type=int, default=100, help="default 100")
    parser.add_argument("--delay", type=float, help="server delay in seconds (default 0.1)")
    args = parser.parse_args(argv)
    if args.smoke:
        settings = [(200, 20, 0.05), (200, 20, 0.0)]
    elif args.accounts is not None:
        delay = 0.1 if args.delay is None else args.delay
        settings = [(args.accounts, args.concurrency, delay)]
    else:
        delays = (0.1, 0.0) if args.delay is None else (args.delay,)
        settings = [(2000, args.concurrency, d) for d in delays]
    transports = _aiohttp.aiohttp_available()
    print(
        f"{'client':<44} {'accts':>5} {'delay':>7} {'conc':>4}  {'wall':>9} {'ideal':>8} "
        f"{'ratio':>5}  {'CPU/check':>9}  peak"
    )
    ok = True
    for count, concurrency, delay in settings:
        with slow_server(delay) as (port, stats):
            # One untimed round first: imports and first connections are not measured.
            asyncio.run(_awaited(_in_process("httpx")(8, 4, f"http://127.0.0.1:{port}")))
            for label, runner in rows(transports):
                ok = (
                    measure(
                        label,
                        runner,
                        count=count,
                        concurrency=concurrency,
                        delay=delay,
                        port=port,
                        stats=stats,
                    )
                    and ok
                )
    if not transports:
        print(f"(the aiohttp rows need the extra: {_aiohttp.EXTRA_HINT})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
