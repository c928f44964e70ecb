"""A newcomer's first hour (issue #19): progress while a provider stalls, logging,
an honest demo, command-line polish and the small API gaps.

The command line runs as users run it (``python -m creditwatch`` in a subprocess,
stdout and stderr piped), against local servers on loopback.
"""

from __future__ import annotations

import ast
import importlib.resources
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import creditwatch
import httpx
import pytest

from _faults import FaultServer, json_reply
from conftest import FAKE_KEY, PROVIDERS, credential_env
from test_cli import (
    base_env,
    configured_env,
    documented_example,
    operation_paths,
    parse_table,
    run_cli,
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


class Silent:
    """A server that accepts connections and never answers; notes when the first
    connection came (the moment a client starts waiting)."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._held: list[socket.socket] = []
        self.first_connection: float | None = None
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed
                return
            if self.first_connection is None:
                self.first_connection = time.monotonic()
            self._held.append(conn)  # held open, never read or answered

    def close(self) -> None:
        self._listener.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    try:
        yield server
    finally:
        server.close()


# -- progress, logging, attempts ------------------------------------------------------------


def test_a_stalled_provider_is_named_on_stderr_within_3_seconds(silent: Silent) -> None:
    """Within 3 s of the request reaching a provider that never answers (stderr is a
    pipe here, not a terminal)."""
    env = base_env() | {
        "GENERECT_API_KEY": f"{FAKE_KEY}-generect",
        "GENERECT_BASE_URL": silent.url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "creditwatch", "balances"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 30  # for the interpreter to start, on a busy machine
    try:
        while b"\n" not in seen and time.monotonic() < deadline:
            if silent.first_connection is not None:
                deadline = min(deadline, silent.first_connection + 3.0)
            ready, _, _ = select.select([proc.stderr], [], [], 0.05)
            if ready:
                seen += os.read(proc.stderr.fileno(), 4096)
        assert silent.first_connection is not None, seen
        elapsed = time.monotonic() - silent.first_connection
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout and proc.stdout.close()
        proc.stderr.close()
    line = seen.decode().splitlines()[0] if seen else ""
    assert "waiting for generect" in line, (seen, elapsed)
    assert "attempt 1 of 3" in line
    assert elapsed < 3.0
    assert FAKE_KEY.encode() not in seen


def test_the_final_error_says_how_many_attempts(silent: Silent) -> None:
    env = base_env() | {
        "GENERECT_API_KEY": f"{FAKE_KEY}-generect",
        "GENERECT_BASE_URL": silent.url,
    }

    run = run_cli("balances", "--timeout", "0.3", env=env)

    assert run.returncode == 2
    assert "APITimeoutError" in run.stderr
    assert "after 3 attempts" in run.stderr


def test_verbose_logs_each_request_and_response_line(server: FaultServer) -> None:
    env = configured_env(server, ("flamel",))

    run = run_cli("balances", "--verbose", env=env)

    assert run.returncode == 0, run.stderr
    path = operation_paths("flamel")["getMyInfo"]
    request = rf"Flamel: GET http://127\.0\.0\.1:\d+/flamel{path} \(attempt 1 of 3\)"
    assert re.search(request, run.stderr), run.stderr
    assert re.search(r"-> 200 OK \(\d+\.\d\d s\)", run.stderr)
    assert f"{FAKE_KEY}-flamel" not in run.stderr  # run_cli checks every key, too


@pytest.mark.parametrize("level", ["debug", "info"])
def test_creditwatch_log_turns_on_the_library_logging(server: FaultServer, level: str) -> None:
    server.script(
        json_reply({"error": "busy"}, 503),
        json_reply(documented_example("generect", "getUserMe")),
    )
    script = (
        "from creditwatch import generect\n"
        f"with generect.Client({FAKE_KEY!r}, base_url={server.base_url!r}) as c:\n"
        "    c.get_user_me()\n"
    )
    env = base_env() | {"CREDITWATCH_LOG": level}

    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    assert "retry 1 of 2" in proc.stderr  # INFO
    assert ("(attempt 2 of 3)" in proc.stderr) is (level == "debug")
    assert FAKE_KEY not in proc.stderr
    quiet = subprocess.run(
        [sys.executable, "-c", script],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert quiet.stderr == ""


# -- the demo ----------------------------------------------------------------------------------


def test_demo_dates_lie_ahead_and_the_status_is_ok() -> None:
    run = run_cli("demo", "--json", env=base_env())

    assert run.returncode == 0, run.stderr
    now = datetime.now(UTC)
    dates = 0
    for obj in json.loads(run.stdout):
        assert obj["status"] == "ok"
        for field in ("resets_at", "expires_at"):
            if obj[field] is not None:
                dates += 1
                assert datetime.fromisoformat(obj[field]) > now, (obj["provider"], obj[field])
    assert dates >= 2  # the examples have an expiry and a subscription period end
    # ... while the documented example itself is years old:
    expired = documented_example("easyslip", "getMe")["data"]["expiredAt"]
    assert datetime.fromisoformat(expired.replace("Z", "+00:00")) < now


def test_a_past_expiry_is_expired_not_ok(server: FaultServer) -> None:
    env = configured_env(server, ("easyslip",))
    data = documented_example("easyslip", "getMe")  # expiredAt 2025-01-01: past
    server.script_path("/easyslip" + operation_paths("easyslip")["getMe"], json_reply(data))

    run = run_cli("balances", env=env)

    row = parse_table(run.stdout)["easyslip"]
    assert row["status"] == "expired"
    assert row["resets/expires"].endswith("(past)")
    assert run.returncode == 1


def test_demo_fits_80_columns_and_ends_with_the_next_step() -> None:
    run = run_cli("demo", env=base_env())

    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []
    tail = " ".join(lines[-3:])
    assert "creditwatch balances" in tail and "API_KEY" in tail


def test_demo_serve_prints_exports_and_serves_documented_headers() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "creditwatch", "demo", "--serve", "--port", "0"],
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        expected = {v for p in PROVIDERS for v in (*credential_env(p), f"{p.upper()}_BASE_URL")}
        exports: dict[str, str] = {}
        while len(exports) < len(expected):
            line = proc.stdout.readline()
            assert line, proc.stderr and proc.stderr.read()
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
        assert set(exports) == expected  # each provider's credential variables and base URL
        base = exports["LLMGENERATOR_BASE_URL"]
        answer = httpx.get(base + operation_paths("llmgenerator")["getCreditBalanceWithApiKey"])
        assert answer.status_code == 200
        reset = int(answer.headers["x-ratelimit-reset"])
        assert int(answer.headers["x-ratelimit-remaining"]) >= 0
        assert reset > time.time()
    finally:
        proc.terminate()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# -- the command line ---------------------------------------------------------------------------


def test_each_subcommand_lists_its_own_exit_statuses() -> None:
    demo = run_cli("demo", "--help", env=base_env())
    balances = run_cli("balances", "--help", env=base_env())

    demo_statuses = demo.stdout.split("exit status:")[1]
    balances_statuses = balances.stdout.split("exit status:")[1]
    for only_balances in ("--runs-out-within", "accounts file", "missing key", "130"):
        assert only_balances not in demo_statuses
        assert only_balances in balances_statuses
    assert "--port in use" in demo_statuses
    for run in (demo, balances, run_cli("history", "--help", env=base_env())):
        assert max(len(line) for line in run.stdout.splitlines()) <= 80


def test_an_error_shows_the_usage_of_the_subcommand_at_fault() -> None:
    run = run_cli("balances", "nosuch", env=base_env())

    assert run.returncode == 2
    assert run.stderr.startswith("usage: creditwatch balances ")
    assert "unknown provider 'nosuch'" in run.stderr


def test_record_with_nothing_configured_creates_no_database(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"

    run = run_cli("balances", "--record", "--db", str(db), env=base_env())
    history = run_cli("history", "--db", str(db), env=base_env())

    assert run.returncode == 2
    assert "no provider is configured" in run.stderr
    assert list(tmp_path.iterdir()) == []
    assert history.returncode == 2


# -- the API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unset_prints_as_unset(provider: str) -> None:
    module = getattr(creditwatch, provider)
    assert repr(module.UNSET) == "UNSET"
    assert str(module.UNSET) == "UNSET"


def test_an_optional_field_absent_from_a_model_prints_unset() -> None:
    from creditwatch.exorde.models import User  # noqa: PLC0415

    body = documented_example("exorde", "getUserInfo")["user"]
    del body["email"]
    assert "email=UNSET" in repr(User.from_dict(body))


def test_history_error_is_public() -> None:
    import sqlite3  # noqa: PLC0415

    assert "HistoryError" in creditwatch.__all__
    assert issubclass(creditwatch.HistoryError, sqlite3.DatabaseError)
    assert creditwatch.HistoryError.__doc__


def test_with_options_shares_the_connection_pool(server: FaultServer) -> None:
    server.script(
        *[json_reply(documented_example("generect", "getUserMe"))] * 3,
    )
    with creditwatch.generect.Client(FAKE_KEY, base_url=server.base_url) as client:
        quick = client.with_options(timeout=1.5, max_retries=0)
        assert type(quick) is type(client)
        assert (quick.timeout, quick.max_retries) == (httpx.Timeout(1.5), 0)
        assert (client.timeout, client.max_retries) == (httpx.Timeout(30.0), 2)
        assert quick._transport.http is client._transport.http
        quick.get_user_me()
        quick.close()  # leaves the shared pool open
        client.get_user_me()
        assert client.with_options().timeout == client.timeout
    assert len(server.requests) == 2
    with pytest.raises(ValueError, match="max_retries"):
        creditwatch.generect.Client(FAKE_KEY).with_options(max_retries=-1)


def _docstrings(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            yield node.value.value


def test_docstrings_cite_only_what_users_have() -> None:
    """No docstring of the installed package points at a file the wheel does not ship."""
    package = Path(str(importlib.resources.files("creditwatch")))
    cited = []
    for path in sorted(package.rglob("*.py")):
        for doc in _docstrings(path.read_text(encoding="utf-8")):
            for needle in ("provider-facts", "specs/", ".yaml`"):
                if needle in doc:
                    cited.append(f"{path.relative_to(package)}: {needle}")
    assert cited == []
