"""The command line, run as users run it: ``python -m creditwatch`` in a subprocess.

The providers are a FaultServer serving the documented examples that ship in the
package (``creditwatch/_generated/examples.json``, the same data ``creditwatch demo``
serves). Expected numbers are computed here from those examples with the README's
balance mapping, never from the code under test.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import creditwatch
import pytest
from creditwatch._generated._registry import CREDENTIAL_VARIABLES

from _faults import FaultServer, Reply, json_reply, slow_reply
from _golden import first_example
from conftest import FAKE_KEY, concrete_path, credential_env, credentials
from conftest import PROVIDERS as PROVIDERS  # noqa: PLC0414 - test_accounts, test_exporter

EXAMPLES: dict[str, Any] = json.loads(
    (importlib.resources.files("creditwatch._generated") / "examples.json").read_text("utf-8")
)
KEY_VARIABLES = tuple(v for variables in CREDENTIAL_VARIABLES.values() for v in variables)
COLUMNS = ("provider", "plan", "remaining", "limit", "% left", "resets/expires", "status")


def fake_key(provider: str) -> str:
    """Obviously fake, and different per provider so a leak names its source."""
    return f"{FAKE_KEY}-{provider}"


# -- documented examples and the expected balances ------------------------------------


def documented_example(provider: str, operation_id: str, status: str = "200") -> Any:
    """The first documented example, as the spec has it (its dates are years old)."""
    samples = EXAMPLES[provider][operation_id]["responses"][status]
    assert samples, f"examples.json has no {status} example for {provider} {operation_id}"
    return next(iter(samples.values()))


# The documented examples were written in 2023-2025; moved by whole years, so that an
# expiry they show lies ahead (a past one makes the status "expired", exit status 1).
YEARS_AHEAD = datetime.now(UTC).year - 2023


def example(provider: str, operation_id: str, status: str = "200") -> Any:
    """The first documented example with its dates `YEARS_AHEAD` years later."""
    text = json.dumps(documented_example(provider, operation_id, status))
    moved = re.sub(r'"(\d{4})-(\d{2}-\d{2})', lambda m: f'"{int(m[1]) + YEARS_AHEAD}-{m[2]}', text)
    return json.loads(moved)


def operation_paths(provider: str) -> dict[str, str]:
    """operationId -> the path the client requests (credential-filled parameters filled)."""
    return {
        op_id: concrete_path(provider, str(op["path"])) for op_id, op in EXAMPLES[provider].items()
    }


@dataclass(frozen=True)
class Expected:
    remaining: float | None
    limit: float | None
    plan: str | None
    when: str | None  # "resets" / "expires" / None
    unit: str = "credits"
    unlimited: bool = False

    @property
    def percent_left(self) -> float | None:
        if self.remaining is None or not self.limit:
            return None
        return 100 * self.remaining / self.limit


def expected(provider: str) -> Expected:
    """The hand-worked balance of the first documented example (tests/golden/<p>.yaml)."""
    answer = first_example(provider)
    when = "resets" if answer["resets_at"] else "expires" if answer["expires_at"] else None
    return Expected(
        answer["remaining"],
        answer["limit"],
        answer["plan"],
        when,
        unit=answer["unit"],
        unlimited=answer["unlimited"],
    )


def serve_examples(server: FaultServer, provider: str, prefix: str | None = None) -> str:
    """Script every operation of `provider` at ``<prefix><path>``; return the base URL."""
    prefix = f"/{provider}" if prefix is None else prefix
    for op_id, path in operation_paths(provider).items():
        server.script_path(prefix + path, json_reply(example(provider, op_id)))
    return server.url(prefix)


# -- running the command line ---------------------------------------------------------


# No history database unless a test makes one: the default one is in here (empty).
NO_HISTORY = tempfile.mkdtemp(prefix="creditwatch-test-xdg-")


def base_env() -> dict[str, str]:
    """The test process's environment without credentials, base URLs or proxies, and
    with an empty XDG_DATA_HOME (so no history database of the user's shows up)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in KEY_VARIABLES
        and not name.endswith("_BASE_URL")
        and not name.lower().endswith("_proxy")
        and not name.startswith("CREDITWATCH")
    }
    env["XDG_DATA_HOME"] = NO_HISTORY
    return env


def configured_env(server: FaultServer, providers: tuple[str, ...] = PROVIDERS) -> dict[str, str]:
    """Fake keys, and base URLs pointing at `server` serving the documented examples."""
    env = base_env()
    for provider in providers:
        env.update(credential_env(provider, fake_key(provider)))
        env[f"{provider.upper()}_BASE_URL"] = serve_examples(server, provider)
    return env


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float


# Mutation runs (scripts/mutation.py sets it) call the command line's ``main()`` in the
# test process instead: the same code ``python -m creditwatch`` runs, without the half
# second a new interpreter takes, so a mutant of the CLI meets 20 times more tests.
IN_PROCESS = bool(os.environ.get("CW_MUTATION_IN_PROCESS"))


def run_cli(
    *args: str, env: Mapping[str, str], cwd: Path | None = None, timeout: float = 60
) -> Run:
    """``python -m creditwatch ARGS`` with stdout and stderr piped (not terminals)."""
    if IN_PROCESS:
        return _run_in_process(list(args), env, cwd)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "creditwatch", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    run = Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)
    assert_clean(run, env)
    return run


def _run_in_process(args: list[str], env: Mapping[str, str], cwd: Path | None) -> Run:
    """`run_cli` in this process (`IN_PROCESS`): ``main(args)`` with this environment,
    working directory and captured text streams; all three restored after."""
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415
    import logging  # noqa: PLC0415

    from creditwatch.__main__ import main  # noqa: PLC0415

    start = time.monotonic()
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    logger = logging.getLogger("creditwatch")
    saved_log = (list(logger.handlers), logger.level)
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        logger.handlers[:], logger.level = saved_log
    run = Run(code, out.getvalue(), err.getvalue(), time.monotonic() - start)
    assert_clean(run, env)
    return run


def assert_clean(run: Run, env: Mapping[str, str]) -> None:
    """What must hold for every run: no traceback, no key, no progress in a pipe."""
    output = run.stdout + run.stderr
    assert "Traceback" not in output, output
    for name, value in env.items():
        if (name in KEY_VARIABLES or name.startswith("ACCT_")) and value:
            assert value not in output, f"{name}'s value was printed"
    assert "\r" not in run.stderr, "progress indicator written to a pipe"


def parse_table(stdout: str) -> dict[str, dict[str, str]]:
    """Rows of the table by their first column (provider, or account name). A table
    split to fit the width (the demo: blocks that repeat the first column, a blank
    line apart) is read as one."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("provider", "account")))
    first = lines[start].split()[0]
    rows: dict[str, dict[str, str]] = {}
    while start < len(lines) and lines[start].startswith(first):
        header = re.split(r"\s{2,}", lines[start].strip())
        start += 1
        while start < len(lines) and lines[start].strip():
            cells = re.split(r"\s{2,}", lines[start].strip())
            assert len(cells) == len(header), f"{lines[start]!r} does not match {header}"
            rows.setdefault(cells[0], {}).update(zip(header, cells, strict=True))
            start += 1
        start += 1  # the blank line between blocks
    return rows


def number(cell: str) -> float | None:
    return None if cell == "-" else float(cell.replace(",", ""))


def assert_row_matches(row: Mapping[str, str], want: Expected) -> None:
    assert number(row["remaining"]) == pytest.approx(want.remaining)
    assert number(row["limit"]) == pytest.approx(want.limit)
    assert row["plan"] == (want.plan or "-")
    if want.percent_left is None:
        assert row["% left"] == "-"
    else:
        assert row["% left"] == f"{want.percent_left:.1f}%"
    if want.when is None:
        assert row["resets/expires"] == "-"
    else:
        assert row["resets/expires"].startswith(want.when + " ")


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


# -- balances: table ------------------------------------------------------------------


def test_table_shows_each_provider_with_the_mapped_numbers(server: FaultServer) -> None:
    run = run_cli("balances", env=configured_env(server))

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    rows = parse_table(run.stdout)
    assert list(rows) == list(PROVIDERS)
    assert tuple(next(iter(rows.values()))) == COLUMNS
    for provider in PROVIDERS:
        assert_row_matches(rows[provider], expected(provider))
        assert rows[provider]["status"] == "ok"
    # every provider was called with its own key
    flamel = server.requests_to("/flamel" + operation_paths("flamel")["getMyInfo"])
    assert flamel[0].headers["x-api-key"] == fake_key("flamel")


def test_unconfigured_providers_are_listed_not_failed(server: FaultServer) -> None:
    env = configured_env(server, ("generect", "easyslip"))

    run = run_cli("balances", env=env)

    assert run.returncode == 0, run.stderr
    rows = parse_table(run.stdout)
    assert list(rows) == list(PROVIDERS)
    for provider in ("flamel", "exorde", "llmgenerator"):
        assert rows[provider]["status"] == "not configured"
        assert rows[provider]["remaining"] == "-"
    assert rows["generect"]["status"] == rows["easyslip"]["status"] == "ok"
    assert run.stderr == ""


def test_named_providers_only_and_in_that_order(server: FaultServer) -> None:
    run = run_cli("balances", "easyslip", "flamel", env=configured_env(server))

    assert run.returncode == 0, run.stderr
    assert list(parse_table(run.stdout)) == ["easyslip", "flamel"]
    assert not server.requests_to("/exorde" + operation_paths("exorde")["getUserInfo"])


def test_named_provider_without_key_is_a_failure(server: FaultServer) -> None:
    env = configured_env(server, ("flamel",))

    run = run_cli("balances", "flamel", "exorde", env=env)

    assert run.returncode == 2
    rows = parse_table(run.stdout)
    assert rows["flamel"]["status"] == "ok"
    assert rows["exorde"]["status"] == "error: MissingCredentialsError"
    [line] = run.stderr.splitlines()
    assert line.startswith("exorde: MissingCredentialsError: ")
    assert "EXORDE_API_KEY" in line


def test_nothing_configured_exits_2_and_says_how(tmp_path: Path) -> None:
    run = run_cli("balances", env=base_env(), cwd=tmp_path)

    assert run.returncode == 2
    rows = parse_table(run.stdout)
    assert {r["status"] for r in rows.values()} == {"not configured"}
    assert list(rows) == list(PROVIDERS)
    assert "no provider is configured" in run.stderr
    assert "FLAMEL_API_KEY" in run.stderr


def test_unknown_provider_is_a_usage_error() -> None:
    run = run_cli("balances", "flamingo", env=base_env())

    assert run.returncode == 2
    assert "unknown provider 'flamingo'" in run.stderr
    assert run.stdout == ""


# -- exit status with --below ---------------------------------------------------------


def test_below_compares_remaining_credits(server: FaultServer) -> None:
    remaining = {p: expected(p).remaining for p in PROVIDERS}
    known = sorted(v for v in remaining.values() if v is not None)
    threshold = (known[len(known) // 2] + known[len(known) // 2 - 1]) / 2  # some above/below

    run = run_cli("balances", "--below", f"{threshold}", env=configured_env(server))

    assert run.returncode == 1, run.stderr
    rows = parse_table(run.stdout)
    for provider, value in remaining.items():
        want = "below" if value is not None and value < threshold else "ok"
        assert rows[provider]["status"] == want, provider
    assert "below" in {r["status"] for r in rows.values()}
    assert "ok" in {r["status"] for r in rows.values()}


def test_below_zero_is_never_below(server: FaultServer) -> None:
    run = run_cli("balances", "--below", "0", env=configured_env(server))

    assert run.returncode == 0
    assert {r["status"] for r in parse_table(run.stdout).values()} == {"ok"}


def test_below_percent_compares_percent_left(server: FaultServer) -> None:
    percents = {p: expected(p).percent_left for p in PROVIDERS}
    known = sorted(v for v in percents.values() if v is not None)
    assert len(known) >= 2, "the examples need two providers with a limit"
    threshold = (known[0] + known[-1]) / 2

    run = run_cli("balances", "--below", f"{threshold}%", "--json", env=configured_env(server))

    assert run.returncode == 1
    statuses = {o["provider"]: o["status"] for o in json.loads(run.stdout)}
    for provider, percent in percents.items():
        below = percent is not None and percent < threshold
        assert statuses[provider] == ("below" if below else "ok"), provider


@pytest.mark.parametrize("value", ["ten", "-1", "nan", "5%%"])
def test_below_rejects_non_numbers(value: str) -> None:
    run = run_cli("balances", "--below", value, env=base_env())

    assert run.returncode == 2
    assert "--below" in run.stderr


def test_help_documents_below_and_exit_status() -> None:
    run = run_cli("balances", "--help", env=base_env())

    assert run.returncode == 0
    assert "--below compares the credits REMAINING" in run.stdout
    assert "--below 10%" in run.stdout
    assert "exit status" in run.stdout


# -- failures ---------------------------------------------------------------------------


def test_a_401_is_one_line_with_class_and_provider_message(server: FaultServer) -> None:
    env = configured_env(server)
    rejected = example("flamel", "getMyInfo", "401")
    server.script_path(
        "/flamel" + operation_paths("flamel")["getMyInfo"], json_reply(rejected, 401)
    )

    run = run_cli("balances", env=env)

    assert run.returncode == 2
    rows = parse_table(run.stdout)
    assert rows["flamel"]["status"] == "error: AuthenticationError"
    for provider in (p for p in PROVIDERS if p != "flamel"):  # the others are still reported
        assert rows[provider]["status"] == "ok"
    [line] = run.stderr.splitlines()
    assert line.startswith("flamel: AuthenticationError: ")
    assert str(rejected["data"]) in line  # the provider's own reason


def test_json_error_object(server: FaultServer) -> None:
    env = configured_env(server)
    rejected = example("generect", "getUserMe", "401")
    server.script_path(
        "/generect" + operation_paths("generect")["getUserMe"], json_reply(rejected, 401)
    )

    run = run_cli("balances", "--json", env=env)

    assert run.returncode == 2
    by_provider = {o["provider"]: o for o in json.loads(run.stdout)}
    failed = by_provider["generect"]
    assert set(failed) == {"provider", "status", "error"}
    assert failed["status"] == "error"
    error = failed["error"]
    assert set(error) == {"type", "message", "status_code", "code"}
    assert error["type"] == "AuthenticationError"
    assert rejected["detail"] in error["message"]
    assert error["status_code"] == 401
    assert error["code"] is None or isinstance(error["code"], str)
    assert by_provider["flamel"]["status"] == "ok"


def test_a_key_echoed_by_the_provider_is_redacted(server: FaultServer) -> None:
    env = configured_env(server)
    key = env["FLAMEL_API_KEY"]
    body = {"success": False, "code": 401, "data": f"wrong_api_key {key}"}
    server.script_path("/flamel" + operation_paths("flamel")["getMyInfo"], json_reply(body, 401))

    for args in (("balances",), ("balances", "--json")):
        run = run_cli(*args, env=env)  # assert_clean: the key is nowhere in the output

        assert run.returncode == 2
        assert "wrong_api_key <redacted>" in run.stdout + run.stderr


def test_timeout_option(server: FaultServer) -> None:
    env = configured_env(server, ("exorde",))
    server.script_path(
        "/exorde" + operation_paths("exorde")["getUserInfo"],
        slow_reply(5, example("exorde", "getUserInfo")),
    )

    run = run_cli("balances", "--timeout", "0.2", env=env)

    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert line.startswith("exorde: APITimeoutError: ")
    assert run.elapsed < 5  # three 0.2 s attempts and two back-offs, not 5 s each


def test_interrupt_exits_130_quietly(server: FaultServer) -> None:
    env = configured_env(server, ("generect",))
    server.script_path(
        "/generect" + operation_paths("generect")["getUserMe"], Reply(200, b"{}", delay=30)
    )
    # Ctrl-C as in a terminal. A test run started in the background by a
    # non-interactive shell (`cmd &`) has SIGINT ignored, a child inherits that, and
    # Python then never turns SIGINT into KeyboardInterrupt; a handled one is reset.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "creditwatch", "balances"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        deadline = time.monotonic() + 20
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.requests, "the request never arrived"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert stderr == ""
    assert stdout == ""


# -- JSON -------------------------------------------------------------------------------


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"{text!r} has no time zone"
    return value


def test_json_schema_and_values(server: FaultServer) -> None:
    env = configured_env(server, PROVIDERS)
    del env["GENERECT_API_KEY"]  # listed as not configured

    run = run_cli("balances", "--json", env=env)

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    objects = json.loads(run.stdout)
    assert isinstance(objects, list)
    assert [o["provider"] for o in objects] == list(PROVIDERS)
    for obj in objects:
        provider = obj["provider"]
        if provider == "generect":
            assert obj == {"provider": "generect", "status": "not configured"}
            continue
        assert set(obj) == {
            "provider",
            "status",
            "remaining",
            "limit",
            "unlimited",
            "unit",
            "plan",
            "percent_left",
            "resets_at",
            "expires_at",
            "checked_at",
        }  # no "account": the provider's raw data (e-mail, card fields) needs a flag
        want = expected(provider)
        assert obj["status"] == "ok"
        for field in ("remaining", "limit", "percent_left"):
            assert obj[field] is None or isinstance(obj[field], int | float), field
        assert obj["remaining"] == pytest.approx(want.remaining)
        assert obj["limit"] == pytest.approx(want.limit)
        assert obj["percent_left"] == pytest.approx(want.percent_left)
        assert obj["unlimited"] is want.unlimited
        assert obj["unit"] == want.unit
        assert obj["plan"] == want.plan
        _aware(obj["checked_at"])
        for field in ("resets_at", "expires_at"):
            assert obj[field] is None or _aware(obj[field])
        if want.when is not None:
            assert obj[f"{want.when}_at"] is not None
    served = example("flamel", "getMyInfo")
    assert served["email"] not in run.stdout
    assert str(served["customerKey"]) not in run.stdout


def test_json_include_account_adds_the_raw_account(server: FaultServer) -> None:
    env = configured_env(server, ("flamel",))

    run = run_cli("balances", "--json", "--include-account", env=env)

    assert run.returncode == 0, run.stderr
    flamel = next(o for o in json.loads(run.stdout) if o["provider"] == "flamel")
    served = example("flamel", "getMyInfo")
    assert flamel["account"]["userId"] == served["userId"]
    assert flamel["account"]["email"] == served["email"]


def test_json_keys_are_one_vocabulary(server: FaultServer, tmp_path: Path) -> None:
    """An account's NAME is `name` in `balances --accounts --json` and `history --json`;
    `account` is only ever the provider's raw account data (--include-account)."""
    accounts, env = accounts_setup(server, tmp_path, {"client-a": "flamel"})
    db = tmp_path / "h.sqlite3"

    checked = run_cli(
        "balances", "--accounts", str(accounts), "--json", "--record", "--db", str(db), env=env
    )
    history = run_cli("history", "--db", str(db), "--json", env=env)

    [balance] = json.loads(checked.stdout)
    [series] = json.loads(history.stdout)
    assert balance["name"] == series["name"] == "client-a"
    assert "account" not in balance and "account" not in series
    with_account = run_cli(
        "balances", "--accounts", str(accounts), "--json", "--include-account", env=env
    )
    [raw] = json.loads(with_account.stdout)
    assert raw["name"] == "client-a" and isinstance(raw["account"], dict)


def test_demo_json_has_no_personal_data() -> None:
    run = run_cli("demo", "--json", env=base_env())

    assert run.returncode == 0, run.stderr
    for obj in json.loads(run.stdout):
        assert "account" not in obj
    assert documented_example("flamel", "getMyInfo")["email"] not in run.stdout


def test_json_datetimes_keep_the_providers_instant(server: FaultServer) -> None:
    env = configured_env(server, ("easyslip",))

    run = run_cli("balances", "easyslip", "--json", env=env)

    [obj] = json.loads(run.stdout)
    served = example("easyslip", "getMe")["data"]["expiredAt"]
    assert _aware(obj["expires_at"]) == _aware(served.replace("Z", "+00:00"))


# -- progress -------------------------------------------------------------------------


def test_no_progress_when_stderr_is_piped(server: FaultServer) -> None:
    env = configured_env(server, ("generect",))
    server.script_path(
        "/generect" + operation_paths("generect")["getUserMe"],
        slow_reply(0.6, example("generect", "getUserMe")),
    )

    run = run_cli("balances", env=env)  # assert_clean: no "\r" on stderr

    assert run.returncode == 0
    assert run.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_on_a_terminal(server: FaultServer) -> None:
    import pty  # noqa: PLC0415 - POSIX only

    env = configured_env(server, ("generect",))
    server.script_path(
        "/generect" + operation_paths("generect")["getUserMe"],
        slow_reply(0.6, example("generect", "getUserMe")),
    )
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "creditwatch", "balances"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        terminal = -1
        seen = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal side is closed and drained
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)
    assert proc.returncode == 0
    text = seen.decode()
    assert "checking providers: 0/1 done" in text
    assert text.endswith("\r\x1b[K")  # erased before the table
    assert b"\r" not in proc.stdout


# -- demo -------------------------------------------------------------------------------


def test_demo_needs_no_keys_and_no_network(tmp_path: Path) -> None:
    env = base_env()
    unreachable = "http://127.0.0.1:9"  # the discard port: nothing listens there
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env[name] = unreachable
    for provider in PROVIDERS:  # must be neither read nor used
        env.update(credential_env(provider, f"sentinel-{provider}-must-not-be-read"))
        env[f"{provider.upper()}_BASE_URL"] = "https://unreachable.invalid"

    run = run_cli("demo", env=env, cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "demo" in run.stdout.splitlines()[0]
    assert "example data" in run.stdout.splitlines()[0]
    rows = parse_table(run.stdout)
    assert list(rows) == list(PROVIDERS)
    for provider in PROVIDERS:
        assert_row_matches(rows[provider], expected(provider))
        assert rows[provider]["status"] == "ok"


def test_demo_json() -> None:
    run = run_cli("demo", "--json", env=base_env())

    assert run.returncode == 0
    objects = json.loads(run.stdout)
    assert [o["provider"] for o in objects] == list(PROVIDERS)
    for obj in objects:
        assert obj["remaining"] == pytest.approx(expected(obj["provider"]).remaining)
    assert "demo" in run.stderr


# -- entry points -----------------------------------------------------------------------


def test_no_command_prints_usage() -> None:
    run = run_cli(env=base_env())

    assert run.returncode == 2
    assert "usage: creditwatch" in run.stderr


def test_version() -> None:
    run = run_cli("--version", env=base_env())

    assert run.returncode == 0
    assert re.fullmatch(r"creditwatch \d+\.\d+\.\d+\S*\n", run.stdout)


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    from creditwatch.__main__ import main  # noqa: PLC0415

    assert main(["demo", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(PROVIDERS)


# -- history: --record, the "runs out" column, --runs-out-within, `history` -------------


def accounts_setup(
    server: FaultServer, tmp_path: Path, names: Mapping[str, str]
) -> tuple[Path, dict[str, str]]:
    """An accounts file (name -> provider), each account served at its own path prefix
    with its own fake key; returns the file and the environment."""
    env = base_env()
    tables = []
    for name, provider in names.items():
        variable = f"ACCT_{name.upper().replace('-', '_')}_KEY"
        # the key (api_key, or every credential Twilio uses together: key_env is the
        # first, <argument>_env the others)
        given = credentials(provider, f"{fake_key(provider)}-{name}")
        lines = []
        for i, (argument, value) in enumerate(given.items()):
            entry_variable = variable if i == 0 else f"{variable}_{argument.upper()}"
            env[entry_variable] = value
            lines.append(f'{"key" if i == 0 else argument}_env = "{entry_variable}"\n')
        url = serve_examples(server, provider, prefix=f"/{name}")
        tables.append(
            f'[[account]]\nname = "{name}"\nprovider = "{provider}"\n'
            f'{"".join(lines)}base_url = "{url}"\n'
        )
    path = tmp_path / "accounts.toml"
    path.write_text("\n".join(tables), encoding="utf-8")
    return path, env


def test_record_accounts_by_name(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    accounts, env = accounts_setup(server, tmp_path, {"client-a": "flamel", "client-b": "flamel"})

    run = run_cli("balances", "--accounts", str(accounts), "--record", "--db", str(db), env=env)
    history = run_cli("history", "--db", str(db), "--json", env=env)
    table = run_cli("history", "--db", str(db), env=env)

    assert run.returncode == 0, run.stderr
    assert parse_table(run.stdout)["client-a"]["runs out"] == "not enough data"
    found = json.loads(history.stdout)
    assert [(o["provider"], o["name"]) for o in found] == [
        ("flamel", "client-a"),
        ("flamel", "client-b"),
    ]
    assert all(o["remaining"] == expected("flamel").remaining for o in found)
    assert list(parse_table(table.stdout)["flamel"])[:2] == ["provider", "account"]


def seed_history(db: Path, provider: str, per_day: float, days: int = 2) -> float:
    """Checks of `provider` on each of the last `days` days, `per_day` credits a day
    above the documented example's (what the mock serves now); returns that value."""
    remaining = expected(provider).remaining
    assert remaining is not None
    now = datetime.now(UTC)
    creditwatch.record(
        [
            creditwatch.Balance(
                provider=provider,
                remaining=remaining + per_day * d,
                limit=None,
                account=None,
                checked_at=now - timedelta(days=d),
            )
            for d in range(days, 0, -1)
        ],
        db=db,
    )
    return remaining


def test_record_then_history_table_and_json(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    remaining = seed_history(db, "flamel", per_day=10)  # runs out in remaining / 10 days
    env = configured_env(server, ("flamel", "exorde", "generect"))
    env["EXORDE_API_KEY"] = ""  # exorde: not configured, not recorded
    rejected = example("generect", "getUserMe", "401")
    server.script_path(
        "/generect" + operation_paths("generect")["getUserMe"], json_reply(rejected, 401)
    )

    started = datetime.now(UTC)  # the expected date is counted from the run (UTC)
    first = run_cli("balances", "--record", "--db", str(db), env=env)
    finished = datetime.now(UTC)
    table = run_cli("history", "--db", str(db), env=env)
    as_json = run_cli("history", "--db", str(db), "--json", env=env)
    only = run_cli("history", "generect", "--db", str(db), "--json", env=env)

    assert first.returncode == 2  # generect failed
    left = timedelta(days=remaining / 10)
    rows = parse_table(first.stdout)
    assert rows["flamel"]["runs out"] in {
        f"{started + left - timedelta(hours=1):%Y-%m-%d}",
        f"{started + left:%Y-%m-%d}",
        f"{finished + left:%Y-%m-%d}",
    }
    assert rows["generect"]["runs out"] == "-"
    assert table.returncode == 0, table.stderr
    history = parse_table(table.stdout)
    assert list(history) == ["flamel", "generect"]
    assert list(history["flamel"]) == [
        "provider", "remaining", "trend", "used/day", "runs out", "checks", "last check"
    ]  # fmt: skip
    assert number(history["flamel"]["remaining"]) == remaining
    assert number(history["flamel"]["used/day"]) == pytest.approx(10, rel=0.01)
    assert history["flamel"]["runs out"] == rows["flamel"]["runs out"]
    assert history["flamel"]["checks"] == "3"
    # 24 buckets over the two days: 11 end before yesterday's check (20 above today:
    # highest), 12 more before today's (10 above: (10 / 20) * 7 = 3.5 -> bar 4), today
    assert history["flamel"]["trend"] == "█" * 11 + "▅" * 12 + "▁"
    assert history["generect"]["checks"] == "1 (1 failed)"
    assert history["generect"]["last check"].endswith("(AuthenticationError)")
    flamel, generect = json.loads(as_json.stdout)
    assert flamel["provider"] == "flamel"
    assert flamel["name"] is None
    assert (flamel["checks"], flamel["failures"], flamel["last_error"]) == (3, 0, None)
    assert flamel["remaining"] == remaining
    assert flamel["forecast"]["kind"] == "runs_out"
    assert flamel["forecast"]["used_per_day"] == pytest.approx(10, rel=0.01)
    out_at = datetime.fromisoformat(flamel["forecast"]["runs_out_at"])
    assert started + left - timedelta(minutes=10) < out_at < finished + left + timedelta(minutes=10)
    assert flamel["trend"][0] == remaining + 20
    assert generect["forecast"]["kind"] == "not_enough_data"
    assert (generect["checks"], generect["failures"]) == (1, 1)
    assert [o["provider"] for o in json.loads(only.stdout)] == ["generect"]
    # the database holds no key and no error message
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("history"))
    for provider in ("flamel", "generect"):
        assert fake_key(provider).encode() not in data
    assert rejected["detail"].encode() not in data
    stored = sqlite3.connect(db).execute("SELECT provider, error FROM checks").fetchall()
    assert sorted(stored) == [("flamel", None)] * 3 + [("generect", "AuthenticationError")]


def test_record_uses_creditwatch_db(server: FaultServer, tmp_path: Path) -> None:
    env = configured_env(server, ("easyslip",))
    env["CREDITWATCH_DB"] = str(tmp_path / "sub" / "h.sqlite3")

    run = run_cli("balances", "--record", env=env)

    assert run.returncode == 0, run.stderr
    assert "runs out" in run.stdout.splitlines()[0]  # a history now exists
    assert parse_table(run.stdout)["easyslip"]["runs out"] == "not enough data"
    assert sqlite3.connect(tmp_path / "sub" / "h.sqlite3").execute(
        "SELECT count(*) FROM checks"
    ).fetchone() == (1,)


@pytest.mark.parametrize(
    ("within", "status", "code"), [("7d", "ok", 0), ("90d", "runs out", 1), ("1w", "ok", 0)]
)
def test_runs_out_within_exit_status(
    server: FaultServer, tmp_path: Path, within: str, status: str, code: int
) -> None:
    db = tmp_path / "history.sqlite3"
    remaining = seed_history(db, "flamel", per_day=10)
    assert 7 < remaining / 10 < 90  # the example's credits last between the two

    run = run_cli(
        "balances", "--runs-out-within", within, "--db", str(db), env=configured_env(server)
    )
    as_json = run_cli(
        "balances", "flamel", "--runs-out-within", within, "--db", str(db), "--json",
        env=configured_env(server),
    )  # fmt: skip

    assert run.returncode == code, run.stderr
    rows = parse_table(run.stdout)
    assert rows["flamel"]["status"] == status
    for provider in (p for p in PROVIDERS if p != "flamel"):  # one point: no history
        assert rows[provider]["runs out"] == "not enough data"
        assert rows[provider]["status"] == "ok"
    assert as_json.returncode == code
    [flamel] = json.loads(as_json.stdout)
    assert flamel["status"] == status
    assert flamel["forecast"]["kind"] == "runs_out"


def test_runs_out_within_without_history_says_so(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "none.sqlite3"

    run = run_cli(
        "balances", "--runs-out-within", "7d", "--db", str(db), env=configured_env(server)
    )

    assert run.returncode == 0
    assert "no history at" in run.stderr
    assert "--record" in run.stderr
    assert {r["runs out"] for r in parse_table(run.stdout).values()} == {"not enough data"}
    assert not db.exists()  # reading never creates it


def test_below_and_runs_out_within_together(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed_history(db, "flamel", per_day=10)
    env = configured_env(server, ("flamel",))

    run = run_cli("balances", "--below", "1000000", "--runs-out-within", "1d", "--db", str(db),
                  env=env)  # fmt: skip

    assert run.returncode == 1
    assert parse_table(run.stdout)["flamel"]["status"] == "below"


@pytest.mark.parametrize("value", ["7", "7x", "-1d", "0d"])
def test_durations_are_checked(value: str) -> None:
    for command in (f"balances --runs-out-within={value}", f"history --since={value}"):
        run = run_cli(*command.split(), env=base_env())
        assert run.returncode == 2
        assert "expected a duration" in run.stderr


def test_history_without_a_database_exits_2(tmp_path: Path) -> None:
    run = run_cli("history", "--db", str(tmp_path / "none.sqlite3"), env=base_env())

    assert run.returncode == 2
    assert "no history at" in run.stderr
    assert "balances --record" in run.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_history_window(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed_history(db, "flamel", per_day=10, days=5)  # 5, 4, 3, 2 and 1 days ago

    short = run_cli("history", "--since", "36h", "--db", str(db), "--json", env=base_env())
    empty = run_cli("history", "--since", "1h", "--db", str(db), env=base_env())

    [flamel] = json.loads(short.stdout)
    assert flamel["checks"] == 1
    assert flamel["forecast"]["kind"] == "not_enough_data"
    assert empty.returncode == 0
    assert empty.stdout == ""
    assert "no checks recorded in this window" in empty.stderr


def test_demo_shows_history_and_forecast() -> None:
    started = datetime.now(UTC)  # the demo's history ends when it runs
    run = run_cli("demo", env=base_env())
    finished = datetime.now(UTC)

    assert run.returncode == 0, run.stderr
    balances = parse_table(run.stdout)
    history_part = run.stdout.split("History and forecast", 1)[1]
    history = parse_table(history_part)
    assert set(history) == set(PROVIDERS)
    for provider in PROVIDERS:
        assert history[provider]["checks"] == "120"  # 30 days, every 6 hours
        assert balances[provider]["runs out"] == history[provider]["runs out"]
    # the synthetic profiles (overlays/_demo.py): flamel uses 3 % of its credits a day
    flamel = expected("flamel").remaining
    assert flamel is not None
    assert number(history["flamel"]["used/day"]) == pytest.approx(0.03 * flamel, abs=0.01)
    left = timedelta(days=1 / 0.03)
    assert history["flamel"]["runs out"] in {
        f"{started + left:%Y-%m-%d}",
        f"{finished + left:%Y-%m-%d}",
    }
    assert history["easyslip"]["runs out"] == "not at this rate"  # unused
    assert history["exorde"]["runs out"] == "after the next reset"  # 50 days vs the 1st
    assert history["generect"]["trend"][0] != "█"  # topped up 12 days ago: highest later
