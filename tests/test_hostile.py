"""Hostile servers and hostile input (issue #17), one section per failure class:
secrets, failures outside `APIError`, numbers, unbounded resources, the exporter and
the terminal. Loopback servers built to misbehave (tests/_faults.py); every client
call goes through `hostile_call`, so a ``transport`` fixture can parametrize them."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import creditwatch
import httpcore
import httpx
import pytest
from creditwatch import _base
from creditwatch._bounded import BoundedBackend, BoundedStream, bound_pools

from _cases import CASES, MODES, call
from _faults import FaultServer, Reply, json_reply
from _golden import request as golden_request
from conftest import (
    FAKE_KEY,
    PROVIDERS,
    concrete_path,
    credential_env,
    credentials,
    key_argument,
)
from test_cli import base_env, configured_env, run_cli, serve_examples

KEY = f"{FAKE_KEY}-hostile"  # built here: no key-like literal in the sdist


def leaks(text: str) -> bool:
    """Whether ``text`` holds KEY, whole or a 12-character start or end of it."""
    return KEY[:12] in text or KEY[-12:] in text


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base, "INITIAL_BACKOFF", 0.01)


def hostile_call(provider: str, mode: str, *, raw: bool = False, **options: Any) -> Any:
    """The provider's main method, on a client built with ``options`` (one place to
    add an ``http_client`` for another httpx transport)."""
    return call(CASES[provider], mode, raw=raw, **options)


def ok(provider: str) -> Reply:
    return json_reply(CASES[provider].example())


def texts(exc: BaseException) -> list[str]:
    """Every text an error shows: str, repr, args, message, body, code."""
    out = [str(exc), repr(exc), repr(exc.args)]
    for name in ("message", "body", "code", "request_id"):
        value = getattr(exc, name, None)
        if value is not None:
            out.append(str(value))
    return out


def echo_body(provider: str, text: str) -> Any:
    """The provider's documented 401 example with every string replaced by ``text``
    (or a generic error body when it documents none)."""
    responses = creditwatch_examples()[provider][CASES[provider].operation_id]["responses"]
    samples = responses.get("401") or {}
    if not samples:
        return {"error": text, "message": text, "detail": text, "data": text, "status": 401}

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return text if isinstance(node, str) else node

    return swap(next(iter(samples.values())))


def creditwatch_examples() -> dict[str, Any]:
    import importlib.resources  # noqa: PLC0415

    files = importlib.resources.files("creditwatch._generated")
    data: dict[str, Any] = json.loads((files / "examples.json").read_text("utf-8"))
    return data


# == 1. secrets =======================================================================


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_echoed_key_is_nowhere_in_errors_or_logs(
    server: FaultServer, provider: str, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The provider echoes the key (as JSON, and in a plain-text body whose 120-char
    snippet cuts it): not in the error's text, args, message, body, nor the retry log."""
    caplog.set_level(logging.DEBUG, logger="creditwatch")
    echoed = json_reply(echo_body(provider, f"invalid key {KEY} for this account"), 500)
    cut = Reply(401, ("x" * 100 + KEY + " was refused").encode(), {"Content-Type": "text/plain"})
    server.script(echoed, cut)
    with pytest.raises(creditwatch.AuthenticationError) as caught:
        hostile_call(provider, mode, api_key=KEY, base_url=server.base_url, max_retries=1)
    assert "retry 1 of 1" in caplog.text
    for text in [*texts(caught.value), caplog.text]:
        assert not leaks(text), text
    assert server.requests[0].headers.get_all("user-agent")  # the requests were real


@pytest.mark.parametrize("provider", PROVIDERS)
def test_credential_headers_are_hidden_in_every_repr(server: FaultServer, provider: str) -> None:
    server.script(ok(provider))
    answer = hostile_call(provider, "sync", raw=True, api_key=KEY, base_url=server.base_url)
    request = answer.http_response.request
    for text in (repr(request.headers), repr(answer.http_response), repr(answer)):
        assert KEY not in text, text
    server.script(json_reply({"error": "no"}, 401))
    with pytest.raises(creditwatch.AuthenticationError) as caught:
        hostile_call(provider, "sync", api_key=KEY, base_url=server.base_url)
    assert KEY not in repr(caught.value.response.request.headers)
    assert "[secure]" in repr(caught.value.response.request.headers)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_surrounding_whitespace_is_stripped(server: FaultServer, provider: str) -> None:
    """A key read whole from a file (``open(f).read()``) ends with a newline."""
    server.script(ok(provider))
    hostile_call(provider, "sync", api_key=f"  {KEY}\n", base_url=server.base_url)
    _, expected = golden_request(provider, KEY)  # as sent with the stripped key
    for name, value in expected.items():
        assert server.requests[0].headers[name] == value
    assert not any("\n" in v for _, v in server.requests[0].headers.items())


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (f"{KEY}\r\nX-Injected: 1", "control character"),
        (f"{KEY[:10]}\n{KEY[10:]}", "control character"),
        (f"{KEY}\x00", "control character"),
        (f"{KEY}é", "cannot carry"),
        ("   \n", "blank"),
    ],
)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_unsendable_credential_is_refused_at_construction(
    server: FaultServer, provider: str, key: str, words: str
) -> None:
    with pytest.raises(creditwatch.InvalidCredentialsError) as caught:
        CASES[provider].module.Client(**credentials(provider, key), base_url=server.base_url)
    assert words in str(caught.value)
    assert key_argument(provider) in str(caught.value)
    for text in texts(caught.value):
        assert not leaks(text) and "é" not in text
    assert server.requests == []  # nothing was sent, nothing retried


def test_unsendable_credential_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider = PROVIDERS[0]
    for variable, value in credential_env(provider, f"{KEY[:6]}\x1b[2J{KEY[6:]}").items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(creditwatch.InvalidCredentialsError) as caught:
        CASES[provider].module.Client()
    assert f"{provider.upper()}_API_KEY" in str(caught.value)
    assert not leaks(str(caught.value))


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2secret@127.0.0.1:1",
        "https://user:hunter2secret@api.example.com",
        "https://api.example.com/v1?token=hunter2secret",
        "https://api.example.com/v1#hunter2secret",
    ],
)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_base_url_with_user_info_query_or_fragment_is_refused(provider: str, url: str) -> None:
    with pytest.raises(ValueError, match="must not have") as caught:
        CASES[provider].module.Client(**credentials(provider, KEY), base_url=url)
    assert "hunter2secret" not in str(caught.value)


def test_cli_redacts_a_short_key_echoed_back(server: FaultServer) -> None:
    """A 5-character key (the old redaction skipped keys under 8 characters)."""
    provider = PROVIDERS[0]
    short = "Zq7Wx"
    env = base_env()
    env.update(credential_env(provider, short))
    env[f"{provider.upper()}_BASE_URL"] = server.base_url
    server.script(json_reply(echo_body(provider, f"bad key {short}"), 401))
    for args in (("balances", provider), ("balances", provider, "--json")):
        run = run_cli(*args, env=env)
        assert run.returncode == 2
        assert short not in run.stdout + run.stderr


def test_cli_redacts_a_key_cut_at_the_snippet_boundary() -> None:
    from creditwatch import _cli  # noqa: PLC0415

    text = "Flamel 401: '" + "x" * 100 + KEY[:20] + "...'"
    assert not leaks(_cli.redact(text, [KEY]))


# == 2. every failure is an APIError ====================================================

NOT_GZIP = b'{"definitely": "not gzip"}'


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_content_encoding_that_lies_is_a_validation_error(
    server: FaultServer, provider: str, mode: str
) -> None:
    server.script(
        Reply(200, NOT_GZIP, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    )
    with pytest.raises(creditwatch.APIResponseValidationError) as caught:
        hostile_call(provider, mode, api_key=KEY, base_url=server.base_url)
    assert "decoded" in str(caught.value)
    assert caught.value.__cause__ is not None
    assert len(server.requests) == 1  # the same body would come back: not retried


@pytest.mark.parametrize(
    "body",
    [
        b'{"status": 1e400, "data": {}}',  # EasySlip: OverflowError in int()
        b'{"status": "NaN", "data": {}}',
        b'{"userId": "\xff\xfe"}',  # not UTF-8
        b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"1e400",
        b'"\\ud800"',
    ],
    ids=["overflow", "nan-status", "not-utf8", "deep", "bare-inf", "lone-surrogate"],
)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_any_body_gives_a_result_or_an_api_error(
    server: FaultServer, provider: str, mode: str, body: bytes
) -> None:
    server.script(Reply(200, body, {"Content-Type": "application/json"}))
    with contextlib.suppress(creditwatch.APIError):  # any other exception fails the test
        hostile_call(provider, mode, api_key=KEY, base_url=server.base_url, max_retries=0)


def _configure(env: dict[str, str], server: FaultServer, provider: str, prefix: str) -> None:
    env.update(credential_env(provider, KEY))
    env[f"{provider.upper()}_BASE_URL"] = server.url(prefix)


@pytest.mark.parametrize("bad", ["gzip-lie", "overflow"])
def test_balances_never_raise_because_of_one_provider(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    broken, healthy = PROVIDERS[-2], PROVIDERS[0]
    serve_examples(server, healthy, "/good")
    lie = Reply(200, NOT_GZIP, {"Content-Encoding": "gzip", "Content-Type": "application/json"})
    overflow = Reply(200, b'{"status": 1e400, "data": {}}', {"Content-Type": "application/json"})
    for path in ("/bad" + p for p in _paths(broken)):
        server.script_path(path, lie if bad == "gzip-lie" else overflow)
    for name in PROVIDERS:
        for variable in credential_env(name):
            monkeypatch.delenv(variable, raising=False)
    for variable, value in credential_env(broken, KEY).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv(f"{broken.upper()}_BASE_URL", server.url("/bad"))
    for variable, value in credential_env(healthy, KEY).items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv(f"{healthy.upper()}_BASE_URL", server.url("/good"))
    for results in (
        creditwatch.balances([broken, healthy]),
        asyncio.run(creditwatch.abalances([broken, healthy])),
    ):
        assert isinstance(results[broken], creditwatch.APIError)
        assert isinstance(results[healthy], creditwatch.Balance)


def _paths(provider: str) -> list[str]:
    return [
        concrete_path(provider, str(op["path"])) for op in creditwatch_examples()[provider].values()
    ]


# == 3. numbers ==========================================================================

HUGE = 10**3999  # 4000 digits


def _every_number(node: Any, value: int) -> Any:
    if isinstance(node, dict):
        return {k: _every_number(v, value) for k, v in node.items()}
    if isinstance(node, list):
        return [_every_number(v, value) for v in node]
    if isinstance(node, bool) or not isinstance(node, int | float):
        return node
    return value


def serve_numbers(server: FaultServer, provider: str, prefix: str, value: int) -> str:
    for op_id, op in creditwatch_examples()[provider].items():
        body = CASES[provider].example() if False else _example(provider, op_id)
        raw = json.dumps(_every_number(body, value)).encode()
        server.script_path(
            prefix + concrete_path(provider, str(op["path"])),
            Reply(200, raw, {"Content-Type": "application/json"}),
        )
    return server.url(prefix)


def _example(provider: str, operation_id: str) -> Any:
    samples = creditwatch_examples()[provider][operation_id]["responses"]["200"]
    return next(iter(samples.values()))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_number_no_balance_can_hold_is_a_validation_error(
    server: FaultServer, provider: str
) -> None:
    url = serve_numbers(server, provider, "/huge", HUGE)
    try:
        module = CASES[provider].module
        with module.Client(**credentials(provider, KEY), base_url=url, max_retries=0) as client:
            balance = client.balance()
    except creditwatch.APIResponseValidationError as exc:
        words = ("remaining", "limit", "spec", "status", "resets_at", "expires_at")
        assert any(w in str(exc) for w in words), str(exc)
        return
    for number in (balance.remaining, balance.limit):  # a Balance: only numbers it can hold
        assert number is None or abs(float(number)) < float("inf")


@pytest.mark.parametrize("value", [float("inf"), float("nan"), HUGE])
def test_balance_refuses_numbers_beyond_float_range(value: float) -> None:
    for field in ("remaining", "limit"):
        numbers: dict[str, Any] = {"remaining": 1.0, "limit": 2.0, field: value}
        with pytest.raises(ValueError, match=field):
            creditwatch.Balance(provider="x", account=None, **numbers)
    big = creditwatch.Balance(
        provider="x", remaining=18446744073709551615, limit=None, account=None
    )
    assert big.remaining == 18446744073709551615


@pytest.mark.parametrize("value", [HUGE, 18446744073709551615], ids=["4000-digits", "2**64-1"])
def test_one_absurd_number_hides_no_other_result(tmp_path: Path, value: int) -> None:
    """Table, JSON, --record and history all show the healthy providers."""
    with FaultServer() as server:
        env = configured_env(server)
        odd = PROVIDERS[0]
        env[f"{odd.upper()}_BASE_URL"] = serve_numbers(server, odd, "/odd", value)
        db = tmp_path / "history.sqlite3"
        table = run_cli("balances", "--record", "--db", str(db), env=env)
        as_json = run_cli("balances", "--json", env=env)
    rows = {line.split()[0] for line in table.stdout.splitlines()[1:] if line.strip()}
    assert set(PROVIDERS) <= rows, table.stdout + table.stderr
    objects = {o["provider"]: o for o in json.loads(as_json.stdout)}
    for name in PROVIDERS[1:]:
        assert objects[name]["status"] == "ok"
    with sqlite3.connect(db) as connection:
        recorded = {p for (p,) in connection.execute("SELECT provider FROM checks")}
    assert set(PROVIDERS) <= recorded
    history = run_cli("history", "--db", str(db), env=env)
    assert history.returncode == 0
    assert {line.split()[0] for line in history.stdout.splitlines()[1:]} >= set(PROVIDERS[1:])


def test_metrics_survive_an_absurd_number() -> None:
    pytest.importorskip("prometheus_client")
    from test_exporter import serve  # noqa: PLC0415

    with FaultServer() as server:
        env = configured_env(server, PROVIDERS[:2])
        odd = PROVIDERS[0]
        env[f"{odd.upper()}_BASE_URL"] = serve_numbers(server, odd, "/odd", HUGE)
        with serve("--interval", "60", env=env) as running:
            samples = running.wait(
                lambda s: any(k[0] == "creditwatch_credits_remaining" for k in s), timeout=20
            )
    providers = {
        dict(k[1]).get("provider") for k in samples if k[0] == "creditwatch_credits_remaining"
    }
    assert PROVIDERS[1] in providers


# == 4. bounded resources ==================================================================

MEMORY_CHILD = """
import resource, sys, time, creditwatch
provider, url, key = sys.argv[1:4]
started = time.monotonic()
try:
    with getattr(creditwatch, provider).Client(
        key, base_url=url, max_retries=0, timeout=300
    ) as client:
        client.balance()
    outcome = "ok"
except creditwatch.APIError as exc:
    outcome = type(exc).__name__
print(outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
      round(time.monotonic() - started, 1))
"""
MIB = 1 << 20


def _zeros(total: int, size: int = MIB) -> Iterator[bytes]:
    chunk = b"0" * size
    for _ in range(total // size):
        yield chunk


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """1 GiB of "0"s, gzipped (about 1 MB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [compressor.compress(chunk) for chunk in _zeros(1 << 30, 16 * MIB)]
    return b"".join([*parts, compressor.flush()])


def peak_memory(provider: str, reply: Reply) -> tuple[str, int, float]:
    """(outcome, peak RSS in MiB, seconds) of a child process that asks for the balance."""
    with FaultServer() as server:
        for path in _paths(provider):
            server.script_path(path, reply)
        proc = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, provider, server.base_url, KEY],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    outcome, peak, seconds = proc.stdout.split()
    print(f"{provider}: {outcome}, peak {peak} MiB, {seconds} s")
    return outcome, int(peak), float(seconds)


def test_a_200_mb_body_stays_under_300_mb() -> None:
    size = 200 * MIB
    body = lambda: iter([b'{"pad": "', *_zeros(size), b'"}'])  # noqa: E731
    reply = Reply(200, headers={"Content-Type": "application/json",
                                "Content-Length": str(size + 11)}, chunks=body)  # fmt: skip
    outcome, peak, _ = peak_memory(PROVIDERS[0], reply)
    assert outcome == "ResponseTooLargeError"
    assert peak < 300


def test_a_1_gb_gzip_bomb_stays_under_300_mb(gzip_bomb: bytes) -> None:
    reply = Reply(200, gzip_bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    outcome, peak, seconds = peak_memory(PROVIDERS[0], reply)
    assert outcome == "ResponseTooLargeError"
    assert peak < 300
    assert seconds < 10


@pytest.mark.parametrize("mode", MODES)
def test_max_response_bytes_is_the_cap(server: FaultServer, mode: str) -> None:
    provider = PROVIDERS[0]
    body = json.dumps(CASES[provider].example()).encode()
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    server.script(Reply(200, gzip.compress(body), headers))
    options: dict[str, Any] = {"api_key": KEY, "base_url": server.base_url}
    with pytest.raises(creditwatch.ResponseTooLargeError) as caught:
        hostile_call(provider, mode, max_response_bytes=len(body) - 1, **options)
    assert caught.value.limit == len(body) - 1
    assert "max_response_bytes" in str(caught.value)
    hostile_call(provider, mode, max_response_bytes=len(body), **options)
    hostile_call(provider, mode, max_response_bytes=None, **options)


@pytest.mark.parametrize("mode", MODES)
def test_a_drip_ends_within_the_timeout(server: FaultServer, mode: str) -> None:
    """One byte a second, timeout=3: an APITimeoutError within 5 s (each read took
    well under the timeout, so only a bound on the whole attempt stops it)."""
    provider = PROVIDERS[0]
    body = json.dumps(CASES[provider].example()).encode()
    drip = 8  # bytes, one a second (then the rest: a client without a bound ends after 8 s)
    chunks = lambda: [*(body[i : i + 1] for i in range(drip)), body[drip:]]  # noqa: E731
    server.script(Reply(200, headers={"Content-Length": str(len(body))}, chunks=chunks,
                        interval=1.0))  # fmt: skip
    started = time.monotonic()
    with pytest.raises(creditwatch.APITimeoutError):
        hostile_call(
            provider, mode, api_key=KEY, base_url=server.base_url, timeout=3, max_retries=0
        )
    took = time.monotonic() - started
    print(f"drip ({mode}): APITimeoutError after {took:.2f} s")
    assert took < 5


@contextlib.contextmanager
def header_drip() -> Iterator[str]:
    """A server that sends its status line, then its headers one byte a second."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                for byte in b"X-Slow: " + b"a" * 60:
                    if stop.wait(1.0):
                        return
                    connection.sendall(bytes([byte]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


@pytest.mark.parametrize("mode", MODES)
def test_a_header_drip_ends_within_the_timeout(mode: str) -> None:
    """Headers one byte a second, timeout=3: an APITimeoutError within 5 s. Async
    clients run the attempt under ``asyncio.timeout``; a sync client's own pool has a
    network backend that caps each read at the time left (`creditwatch._bounded`)."""
    with header_drip() as url:
        started = time.monotonic()
        with pytest.raises(creditwatch.APITimeoutError) as caught:
            hostile_call(PROVIDERS[0], mode, api_key=KEY, base_url=url, timeout=3, max_retries=0)
        took = time.monotonic() - started
    print(f"header drip ({mode}): APITimeoutError after {took:.2f} s")
    assert took < 5
    assert "3 s" in str(caught.value)  # the budget, named (not httpx's "timed out")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_with_options_timeout_is_the_attempt_budget(mode: str) -> None:
    """``with_options(timeout=3)`` on a 30 s client bounds the attempt at 3 s (the copy
    used to keep the original's 30 s budget)."""
    module = CASES[PROVIDERS[0]].module
    method = CASES[PROVIDERS[0]].method
    with header_drip() as url:
        started = time.monotonic()
        with pytest.raises(creditwatch.APITimeoutError):
            if mode == "sync":
                with module.Client(api_key=KEY, base_url=url, timeout=30) as client:
                    getattr(client.with_options(timeout=3, max_retries=0), method)()
            else:

                async def run() -> None:
                    async with module.AsyncClient(api_key=KEY, base_url=url, timeout=30) as c:
                        await getattr(c.with_options(timeout=3, max_retries=0), method)()

                asyncio.run(run())
        took = time.monotonic() - started
    assert took < 5


def test_own_pools_have_the_bounded_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """`_bounded.bound_pools` reads httpx's private attributes: this fails loudly when
    an httpx release moves them (the sync header drip would then run unbounded).
    The proxy pools httpx mounts from the environment get the backend too; a caller's
    ``http_client`` is left as it is."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    proxied = httpx.Client()
    assert bound_pools(proxied) == 2  # the default transport and the HTTPS proxy's
    assert bound_pools(proxied) == 0  # never wrapped twice
    proxied.close()
    monkeypatch.delenv("HTTPS_PROXY")
    module = CASES[PROVIDERS[0]].module
    with module.Client(api_key=KEY) as client:
        own: Any = client._transport.http._transport
        assert isinstance(own._pool._network_backend, BoundedBackend)
    caller = httpx.Client()
    with module.Client(api_key=KEY, http_client=caller):
        theirs: Any = caller._transport
        assert not isinstance(theirs._pool._network_backend, BoundedBackend)
    caller.close()


def test_the_bounded_stream_caps_at_the_time_left() -> None:
    """Each read waits at most the time left (never 0, which would make the socket
    non-blocking); past the deadline it raises at once, naming the budget; outside
    an attempt, and under a shorter timeout of the caller's, it passes through."""
    waits: list[float | None] = []

    class Stream(httpcore.NetworkStream):
        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            waits.append(timeout)
            return b"x"

    stream = BoundedStream(Stream())
    assert stream.read(1, 30.0) == b"x"  # no attempt under way
    token = _base.ATTEMPT_DEADLINE.set((time.monotonic() + 2.0, 2.0))
    try:
        stream.read(1, 30.0)
        stream.read(1, None)
        stream.read(1, 0.5)
    finally:
        _base.ATTEMPT_DEADLINE.reset(token)
    assert waits[0] == 30.0
    assert all(wait is not None and 1.5 < wait <= 2.0 for wait in waits[1:3])
    assert waits[3] == 0.5
    token = _base.ATTEMPT_DEADLINE.set((time.monotonic() - 0.1, 2.0))
    try:
        with pytest.raises(httpcore.ReadTimeout, match="its 2 s budget"):
            stream.read(1, 30.0)
    finally:
        _base.ATTEMPT_DEADLINE.reset(token)
    assert len(waits) == 4  # not read at all


def test_balances_deadline_bounds_the_whole_check(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow, fast = PROVIDERS[0], PROVIDERS[1]
    for path in _paths(slow):
        server.script_path("/slow" + path, ok(slow).with_delay(30))
    serve_examples(server, fast, "/fast")
    for name in PROVIDERS:
        for variable in credential_env(name):
            monkeypatch.delenv(variable, raising=False)
    for name, prefix in ((slow, "/slow"), (fast, "/fast")):
        for variable, value in credential_env(name, KEY).items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setenv(f"{name.upper()}_BASE_URL", server.url(prefix))
    for asynchronous in (False, True):
        started = time.monotonic()
        if asynchronous:
            results = asyncio.run(creditwatch.abalances([slow, fast], deadline=1.5))
        else:
            results = creditwatch.balances([slow, fast], deadline=1.5)
        assert time.monotonic() - started < 3
        assert isinstance(results[slow], creditwatch.APITimeoutError)
        assert isinstance(results[fast], creditwatch.Balance)


# == 5. the exporter =========================================================================


def test_serve_binds_loopback_by_default() -> None:
    pytest.importorskip("prometheus_client")
    env = base_env()
    env[f"{PROVIDERS[0].upper()}_API_KEY"] = KEY
    env[f"{PROVIDERS[0].upper()}_BASE_URL"] = "http://127.0.0.1:9"
    process = subprocess.Popen(
        [sys.executable, "-m", "creditwatch", "serve", "--port", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
    finally:
        process.terminate()
        process.wait(10)
    assert "listening on http://127.0.0.1:" in line, line


def test_listen_option_sets_host_and_port() -> None:
    from creditwatch import _cli  # noqa: PLC0415

    args = _cli.parse_args(["serve", "--listen", "0.0.0.0:9999"])
    assert not isinstance(args, int)
    assert (args.host, args.port) == ("0.0.0.0", 9999)
    args = _cli.parse_args(["serve", "--listen", "[::1]:0"])
    assert not isinstance(args, int)
    assert (args.host, args.port) == ("::1", 0)


@contextlib.contextmanager
def exporter_server() -> Iterator[tuple[Any, int]]:
    from creditwatch import _exporter  # noqa: PLC0415

    exporter = _exporter.Exporter([], log=lambda text: None)
    server = _exporter.make_server("127.0.0.1", 0, exporter)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield _exporter, int(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_half_sent_requests_are_closed_and_do_not_block_scrapes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("prometheus_client")
    from creditwatch import _exporter  # noqa: PLC0415

    monkeypatch.setattr(_exporter, "REQUEST_TIMEOUT", 1.0)
    before = threading.active_count()
    with exporter_server() as (module, port):
        assert module.make_server  # the server's listen backlog holds a burst of scrapes
        sockets = []
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
            sockets.append(sock)
        started = time.monotonic()
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert response.status_code == 200
        assert time.monotonic() - started < 5
        assert threading.active_count() - before <= module.MAX_HANDLERS + 3
        deadline = time.monotonic() + 10
        while threading.active_count() - before > 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert threading.active_count() - before <= 3, "half-sent requests still hold threads"
        for sock in sockets:
            sock.close()


def test_listen_backlog_holds_a_burst() -> None:
    pytest.importorskip("prometheus_client")
    with exporter_server() as (_, port):
        sockets = []
        for _ in range(300):
            sock = socket.socket()
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", port))
            sockets.append(sock)
        for sock in sockets:
            sock.setblocking(True)
            sock.settimeout(10)
            sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        answers = [sock.recv(64) for sock in sockets]
        for sock in sockets:
            sock.close()
    assert all(a.startswith(b"HTTP/1.0 200") for a in answers)


def test_a_stalled_check_does_not_delay_the_others(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("prometheus_client")
    from creditwatch import _exporter  # noqa: PLC0415
    from creditwatch._history import History  # noqa: PLC0415

    slow, fast = PROVIDERS[0], PROVIDERS[1]
    for path in _paths(slow):
        server.script_path("/slow" + path, ok(slow).with_delay(30))
    serve_examples(server, fast, "/fast")
    for name, prefix in ((slow, "/slow"), (fast, "/fast")):
        for variable, value in credential_env(name, KEY).items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setenv(f"{name.upper()}_BASE_URL", server.url(prefix))
    messages: list[Any] = []
    targets = [_exporter.Target(slow), _exporter.Target(fast)]
    with History(":memory:") as history:
        checker = _exporter.Checker(
            targets, history=history, record=False, send=messages.append, deadline=1.0
        )
        started = time.monotonic()
        asyncio.run(checker.check_all())
    assert time.monotonic() - started < 3
    checked = {targets[m[1][0]].provider: m[1][1] for m in messages if m[0] == "checked"}
    assert isinstance(checked[fast], creditwatch.Balance)
    assert checked[slow].error == "APITimeoutError"
    exporter = _exporter.Exporter(targets, log=lambda text: None)
    for message in messages:
        exporter.apply(message)
    names = {sample.name: sample for family in exporter.collect() for sample in family.samples}
    assert "creditwatch_last_check_timestamp_seconds" in names


# == 6. the terminal ==========================================================================

EVIL = "\x1b[2J\x1b]0;pwned\x07\x9b31m\rline"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_control_characters_from_a_provider_never_reach_the_terminal(
    server: FaultServer, provider: str
) -> None:
    env = base_env()
    env.update(credential_env(provider, KEY))
    env[f"{provider.upper()}_BASE_URL"] = server.base_url
    server.script(json_reply(echo_body(provider, EVIL), 401))
    for args in (("balances", provider), ("balances", provider, "--json")):
        run = run_cli(*args, env=env)
        assert run.returncode == 2
        for char in "\x1b\x07\x9b\r":
            assert char not in run.stdout + run.stderr, (args, run.stderr)


def test_a_non_utf8_accounts_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_bytes(b'[[account]]\nname = "caf\xe9"\nprovider = "flamel"\nkey_env = "K"\n')
    run = run_cli("balances", "--accounts", str(path), env=base_env())
    assert run.returncode == 2
    assert str(path) in run.stderr
    assert "UTF-8" in run.stderr


def test_a_history_on_read_only_storage_can_be_read() -> None:
    folder = Path(tempfile.mkdtemp(prefix="creditwatch-ro-"))
    db = folder / "history.sqlite3"
    balance = creditwatch.Balance(provider=PROVIDERS[0], remaining=5.0, limit=10.0, account=None)
    creditwatch.record({PROVIDERS[0]: balance}, db=db)
    os.chmod(db, 0o444)
    os.chmod(folder, 0o555)
    # one provider configured (its server refuses at once), so --record has a check
    # to record
    prefix_ = PROVIDERS[0].upper()
    env = {
        **base_env(),
        f"{prefix_}_API_KEY": FAKE_KEY,
        f"{prefix_}_BASE_URL": "http://127.0.0.1:1",
    }

    # root ignores file modes: without the capabilities that let it, it does not
    prefix: list[str] = []
    if os.getuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file modes cannot make storage read-only")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "creditwatch", *args, "--db", str(db)],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    try:
        shown = run("history")
        assert shown.returncode == 0, shown.stderr
        assert PROVIDERS[0] in shown.stdout
        assert "not a creditwatch history" not in shown.stderr
        recorded = run("balances", "--record")
        assert "is read-only" in recorded.stderr, recorded.stderr
        assert "not a creditwatch history" not in recorded.stderr
    finally:
        os.chmod(folder, 0o755)
        os.chmod(db, 0o644)
