"""The two async transports (httpx's own pool, and aiohttp's through the ``aiohttp``
extra) keep the same guarantees; the one check-a-balance path (`creditwatch._checks`)
and its error policy; the default install without the extra.

The per-request guarantees (redirects, timeouts, retries, Retry-After, the error
mapping, headers) are tested on both transports in test_overlays_faults.py (its
mode ``"aiohttp"``); this file has what is about the pools themselves: how a network
failure is classified, clean shutdown, cookies, decompression, the shared pools'
choice of transport, and the hint when the extra is missing.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import socket
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import creditwatch
import httpx
import pytest
from creditwatch import _aiohttp, _checks, errors
from creditwatch._accounts import Account, check_accounts

from _cases import CASES, PROVIDERS
from _faults import FaultServer, Reply, drop_reply, json_reply, reset_reply, slow_reply
from codegen.providers import PROVIDERS as DECLARED
from conftest import FAKE_KEY, async_http
from test_cli import base_env, example, operation_paths, parse_table

pytestmark = pytest.mark.filterwarnings(
    "error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


async def get_me(kind: str, base_url: str, *, timeout: float = 5.0) -> object:
    """Flamel's account over transport ``kind``; its pool closed afterwards."""
    http = async_http(kind)
    try:
        async with creditwatch.flamel.AsyncClient(
            FAKE_KEY, base_url=base_url, http_client=http, max_retries=0, timeout=timeout
        ) as client:
            return await client.get_my_info()
    finally:
        if http is not None:
            await http.aclose()


class GarbageServer:
    """Answers every connection with ``reply`` (raw bytes), then closes it."""

    def __init__(self, reply: bytes) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.reply = reply
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(self.reply)

    def close(self) -> None:
        self.socket.close()


# -- how a failure is classified: the same class on both transports -----------------------

FAILURES = {
    "dropped": (drop_reply(), errors.APIConnectionError),
    "reset": (reset_reply(), errors.APIConnectionError),
    "slow": (slow_reply(1.0, b"{}"), errors.APITimeoutError),
}


@pytest.mark.parametrize("failure", list(FAILURES))
async def test_network_failures_are_classified_alike(
    server: FaultServer, transport_kind: str, failure: str
) -> None:
    reply, kind = FAILURES[failure]
    server.script(reply)
    with pytest.raises(errors.APIConnectionError) as caught:
        await get_me(transport_kind, server.base_url, timeout=0.3)
    assert type(caught.value) is kind
    assert len(server.requests) == 1  # max_retries=0: the transport did not retry either


@pytest.mark.parametrize(
    "raw",
    [b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n"],
    ids=["not-http", "huge-header"],
)
async def test_a_response_that_is_not_http_is_a_connection_error(
    transport_kind: str, raw: bytes
) -> None:
    garbage = GarbageServer(raw)
    try:
        with pytest.raises(errors.APIConnectionError) as caught:
            await get_me(transport_kind, f"http://127.0.0.1:{garbage.port}", timeout=5)
    finally:
        garbage.close()
    assert not isinstance(caught.value, errors.APITimeoutError)


async def test_refused_connection_is_not_a_timeout(transport_kind: str) -> None:
    with FaultServer() as closed:
        url = closed.base_url
    with pytest.raises(errors.APIConnectionError) as caught:
        await get_me(transport_kind, url)
    assert not isinstance(caught.value, errors.APITimeoutError)


# -- bodies: httpx decodes (aiohttp hands over the bytes as sent) --------------------------


async def test_a_gzip_body_is_decoded_once(server: FaultServer, transport_kind: str) -> None:
    body = CASES["flamel"].example()
    server.script(
        Reply(200, gzip.compress(json.dumps(body).encode()), {"Content-Encoding": "gzip"})
    )
    user = await get_me(transport_kind, server.base_url)
    assert user == CASES["flamel"].module.models.AuthUserDto.from_dict(body)


# -- the pools: clean shutdown, no cookies, the transport chosen --------------------------


def test_an_unclosed_aiohttp_pool_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the warning filters of these tests: an aiohttp session left
    open does warn (so a pool that is closed and does not warn is really closed)."""

    async def leak() -> None:
        with FaultServer() as srv:
            srv.script(json_reply(CASES["flamel"].example()))
            http = creditwatch.DefaultAioHttpClient()
            async with creditwatch.flamel.AsyncClient(
                FAKE_KEY, base_url=srv.base_url, http_client=http
            ) as client:
                await client.get_my_info()
            del client, http  # never closed

    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(leak())
        gc.collect()
    assert any("Unclosed client session" in str(w.message) for w in caught), caught


def test_shared_pools_close_cleanly(server: FaultServer, transport_kind: str) -> None:
    server.script(json_reply(CASES["flamel"].example()))
    accounts = [
        Account(name=f"a{i}", provider="flamel", key_env=f"K{i}", base_url=server.base_url)
        for i in range(6)
    ]
    environ = {f"K{i}": f"{FAKE_KEY}-{i}" for i in range(6)}
    loop_errors: list[dict[str, object]] = []

    async def run() -> list[_checks.Result]:
        asyncio.get_running_loop().set_exception_handler(lambda _, c: loop_errors.append(c))
        return await check_accounts(accounts, concurrency=3, environ=environ)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = asyncio.run(run())
        gc.collect()
    assert all(isinstance(r, creditwatch.Balance) for r in results), results
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert loop_errors == []


async def test_shared_pool_uses_the_transport_chosen(transport_kind: str) -> None:
    async with _aiohttp.shared_pool(4) as pool:
        assert _aiohttp.transport_name(pool) == transport_kind


async def test_a_shared_pool_keeps_no_cookie(server: FaultServer, transport_kind: str) -> None:
    """One account's cookie never travels with another account's request."""
    body = json.dumps(CASES["flamel"].example()).encode()
    server.script(Reply(200, body, {"Content-Type": "application/json", "Set-Cookie": "s=a0"}))
    accounts = [
        Account(name=f"a{i}", provider="flamel", key_env=f"K{i}", base_url=server.base_url)
        for i in range(3)
    ]
    environ = {f"K{i}": f"{FAKE_KEY}-{i}" for i in range(3)}
    results = await check_accounts(accounts, concurrency=1, environ=environ)
    assert all(isinstance(r, creditwatch.Balance) for r in results), results
    assert [r.headers.get("cookie") for r in server.requests] == [None, None, None]


async def test_a_shared_pool_stores_no_cookie_even_when_asked(transport_kind: str) -> None:
    """The pool's cookies stay empty: a cookie set by hand is refused by the jar's
    policy, and the pool's cookies cannot be replaced."""
    async with _aiohttp.shared_pool(2) as pool:
        pool.cookies.set("s", "a0", domain="127.0.0.1")
        assert dict(pool.cookies) == {}
        with pytest.raises(AttributeError):
            pool.cookies = {"s": "a0"}


def test_a_refused_base_url_is_refused_every_time() -> None:
    """Base URLs are checked once per URL (cached), but a refusal is never cached: the
    same plain-http URL off loopback is refused on every construction."""
    for _ in range(3):
        with pytest.raises(ValueError, match="must be https"):
            creditwatch.flamel.AsyncClient(FAKE_KEY, base_url="http://example.com")


async def test_progress_watchers_see_each_attempt_start_and_end(server: FaultServer) -> None:
    """The command line's progress follows attempts through `_base.WATCHERS`: one
    start (provider, attempt n of m) and one end per attempt."""
    from creditwatch import _base  # noqa: PLC0415

    seen: list[tuple[str, object]] = []

    class Watcher:
        def sending(self, key: int, provider: str, attempt: tuple[int, int]) -> None:
            seen.append(("send", (provider, attempt)))

        def answered(self, key: int) -> None:
            seen.append(("done", None))

    server.script(json_reply(CASES["flamel"].example()))
    watcher = Watcher()
    _base.WATCHERS.append(watcher)
    try:
        async with creditwatch.flamel.AsyncClient(
            FAKE_KEY, base_url=server.base_url, max_retries=2
        ) as client:
            await client.get_my_info()
    finally:
        _base.WATCHERS.remove(watcher)
    assert seen == [("send", ("flamel", (1, 3))), ("done", None)]


def test_default_aiohttp_client_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_aiohttp, "aiohttp_available", lambda: False)
    with pytest.raises(ImportError, match=r'pip install "creditwatch\[aiohttp\]"'):
        creditwatch.DefaultAioHttpClient()


def test_default_aiohttp_client_is_an_httpx_async_client() -> None:
    http = creditwatch.DefaultAioHttpClient(timeout=3.0)
    assert isinstance(http, httpx.AsyncClient)
    assert http.timeout == httpx.Timeout(3.0)
    assert "DefaultAioHttpClient" in creditwatch.__all__
    asyncio.run(http.aclose())


# -- the default install, without the extra ------------------------------------------------

BLOCKED = """\
import runpy, sys
sys.modules["aiohttp"] = None  # as if the extra were not installed: import fails
sys.modules["httpx_aiohttp"] = None
sys.argv = ["creditwatch", *sys.argv[1:]]
runpy.run_module("creditwatch", run_name="__main__", alter_sys=True)
"""


def test_without_the_extra_accounts_work_and_the_hint_is_printed(
    tmp_path: Path, server: FaultServer
) -> None:
    from creditwatch._accounts import MANY_ACCOUNTS  # noqa: PLC0415

    path = operation_paths("easyslip")["getMe"]
    server.script_path(path, json_reply(example("easyslip", "getMe")))
    tables = "".join(
        f'[[account]]\nname = "a{i}"\nprovider = "easyslip"\nkey_env = "ACCT"\n'
        f'base_url = "{server.base_url}"\n'
        for i in range(MANY_ACCOUNTS)
    )
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(tables, encoding="utf-8")
    env = base_env() | {"ACCT": FAKE_KEY}
    run = subprocess.run(
        [sys.executable, "-c", BLOCKED, "balances", "--accounts", str(accounts), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)) == MANY_ACCOUNTS
    [hint] = run.stderr.splitlines()
    assert hint.startswith("creditwatch: hint: ")
    assert 'pip install "creditwatch[aiohttp]"' in hint
    assert len(server.requests) == MANY_ACCOUNTS


def test_with_the_extra_there_is_no_hint(tmp_path: Path, server: FaultServer) -> None:
    """The same file with the extra installed (as in the dev environment): no hint."""
    from creditwatch._accounts import MANY_ACCOUNTS  # noqa: PLC0415

    server.script(json_reply(example("easyslip", "getMe")))
    tables = "".join(
        f'[[account]]\nname = "a{i}"\nprovider = "easyslip"\nkey_env = "ACCT"\n'
        f'base_url = "{server.base_url}"\n'
        for i in range(MANY_ACCOUNTS)
    )
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(tables, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "creditwatch", "balances", "--accounts", str(accounts)],
        env=base_env() | {"ACCT": FAKE_KEY},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert len(parse_table(run.stdout)) == MANY_ACCOUNTS


# -- one check-a-balance path, one error policy --------------------------------------------


def test_credential_names_come_from_the_constructor() -> None:
    declared = {p.name: p.declaration for p in DECLARED}
    for provider in PROVIDERS:
        names = _checks.credential_names(provider)
        # the declared credentials, in order: api_key first, or those used together
        assert names == tuple(c.argument for c in declared[provider].credentials), provider
        client = CASES[provider].module.Client
        for name in names:  # each is a keyword argument of the constructor
            assert name in client.__init__.__code__.co_varnames


async def test_an_unexpected_error_is_that_providers_api_error(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch, transport_kind: str
) -> None:
    """A bug in one provider's mapping (any exception) becomes its APIError, with the
    original as __cause__, and never hides another provider's result."""
    import attrs  # noqa: PLC0415
    from creditwatch._generated.flamel import client  # noqa: PLC0415

    async def broken(*_: object) -> creditwatch.Balance[Any]:
        raise ZeroDivisionError("a bug")

    profile = client.PROFILE  # type: ignore[attr-defined]
    monkeypatch.setattr(client, "PROFILE", attrs.evolve(profile, abalance=broken))
    flamel_path = "/flamel" + operation_paths("flamel")["getMyInfo"]
    server.script_path(flamel_path, json_reply(example("flamel", "getMyInfo")))
    exorde = operation_paths("exorde")["getUserInfo"]
    server.script_path("/exorde" + exorde, json_reply(example("exorde", "getUserInfo")))
    targets: list[_checks.Target | errors.APIError] = [
        _checks.Target(provider=p, credentials={"api_key": FAKE_KEY}, base_url=server.url(f"/{p}"))
        for p in ("flamel", "exorde")
    ]
    flamel, exorde_result = await _checks.acheck_many(targets, concurrency=2)
    assert isinstance(exorde_result, creditwatch.Balance)
    assert isinstance(flamel, errors.APIError)
    assert flamel.provider == "flamel"
    assert isinstance(flamel.__cause__, ZeroDivisionError)
    assert "ZeroDivisionError: a bug" in str(flamel)


def test_an_account_can_use_an_access_token(tmp_path: Path, server: FaultServer) -> None:
    """Any credential the provider's client declares can be named in the file."""
    from test_cli import run_cli  # noqa: PLC0415

    for op_id, path in operation_paths("llmgenerator").items():
        server.script_path(path, json_reply(example("llmgenerator", op_id)))
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        textwrap.dedent(f"""\
            [[account]]
            name = "session"
            provider = "llmgenerator"
            access_token_env = "ACCT_JWT"
            base_url = "{server.base_url}"
            """),
        encoding="utf-8",
    )
    run = run_cli(
        "balances", "--accounts", str(accounts), env=base_env() | {"ACCT_JWT": "jwt-" + FAKE_KEY}
    )
    assert run.returncode == 0, run.stderr
    assert parse_table(run.stdout)["session"]["status"] == "ok"
    paths = sorted(r.path for r in server.requests)
    assert paths == ["/credits/balance", "/subscriptions/current"]  # the token's operations
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer jwt-{FAKE_KEY}"}
