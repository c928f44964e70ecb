"""Many accounts (``balances --accounts FILE``) and the concurrency of the checks:
the TOML file, per-account results, bounded in-flight requests observed at the server,
and ``balances()`` running providers at once."""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import creditwatch
import pytest
from creditwatch._accounts import (
    Account,
    AccountsFileError,
    check_accounts,
    load_accounts,
    parse_accounts,
)

from _faults import FaultServer, RecordedRequest, Reply, json_reply, slow_reply
from codegen.providers import PROVIDERS as DECLARED
from conftest import FAKE_KEY, credential_env
from test_cli import (
    PROVIDERS,
    assert_row_matches,
    base_env,
    example,
    expected,
    fake_key,
    operation_paths,
    parse_table,
    run_cli,
    serve_examples,
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


class InFlight:
    """A FaultServer responder that answers after `delay` and records how many
    requests were in flight at once."""

    def __init__(self, reply: Reply, delay: float) -> None:
        self.reply = reply
        self.delay = delay
        self.current = 0
        self.max = 0
        self.total = 0
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.current += 1
            self.total += 1
            self.max = max(self.max, self.current)
        try:
            time.sleep(self.delay)
        finally:
            with self._lock:
                self.current -= 1
        return self.reply


# -- the file -------------------------------------------------------------------------


def test_load_accounts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        [[account]]
        name = "team-a"
        provider = "flamel"
        key_env = "ACCT_TEAM_A"

        [[account]]
        name = "billing"
        provider = "easyslip"
        key_env = "ACCT_BILLING"
        base_url = "https://developer.easyslip.com/api/v1"
        """,
    )

    assert load_accounts(path) == [
        Account(name="team-a", provider="flamel", key_env="ACCT_TEAM_A"),
        Account(
            name="billing",
            provider="easyslip",
            key_env="ACCT_BILLING",
            base_url="https://developer.easyslip.com/api/v1",
        ),
    ]


SECRET = FAKE_KEY + "-written-into-the-file"

BAD_FILES = {
    "syntax": ('[[account]]\nname = "a\n', "not valid TOML"),
    "no accounts": ('title = "x"\n', "unexpected top-level key 'title'"),
    "empty": ("", "no [[account]] tables"),
    "not tables": ('account = "flamel"\n', "must be [[account]] tables"),
    "missing key_env": (
        '[[account]]\nname = "a"\nprovider = "flamel"\n',
        "account #1 ('a'): 'key_env' is required",
    ),
    "unknown provider": (
        '[[account]]\nname = "a"\nprovider = "openai"\nkey_env = "K"\n',
        "unknown provider 'openai'",
    ),
    "duplicate name": (
        '[[account]]\nname = "a"\nprovider = "flamel"\nkey_env = "K"\n'
        '[[account]]\nname = "a"\nprovider = "exorde"\nkey_env = "L"\n',
        "account #2: the name 'a' is used twice",
    ),
    "key in the file": (
        f'[[account]]\nname = "a"\nprovider = "flamel"\nkey_env = "K"\napi_key = "{SECRET}"\n',
        "keys never live in the file",
    ),
    "key as key_env": (
        f'[[account]]\nname = "a"\nprovider = "flamel"\nkey_env = "{SECRET}"\n',
        "key_env must be the NAME of an environment variable",
    ),
    "unknown field": (
        '[[account]]\nname = "a"\nprovider = "flamel"\nkey_env = "K"\nregion = "eu"\n',
        "unknown field 'region'",
    ),
    "plain http": (
        '[[account]]\nname = "a"\nprovider = "flamel"\nkey_env = "K"\n'
        'base_url = "http://example.com"\n',
        "base_url must be https://",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    content, message = BAD_FILES[case]
    path = write(tmp_path, content)

    run = run_cli("balances", "--accounts", str(path), env=base_env())

    assert run.returncode == 2
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith(f"creditwatch: {path}: ")
    assert message in line
    assert SECRET not in line
    with pytest.raises(AccountsFileError, match=r"\S"):
        load_accounts(path)


def test_missing_file(tmp_path: Path) -> None:
    run = run_cli("balances", "--accounts", str(tmp_path / "nope.toml"), env=base_env())

    assert run.returncode == 2
    [line] = run.stderr.splitlines()
    assert "nope.toml: cannot read it" in line


def test_parse_accounts_never_quotes_a_value_that_may_be_a_key() -> None:
    data = {"account": [{"name": "a", "provider": "flamel", "token": SECRET, "key_env": "K"}]}
    with pytest.raises(AccountsFileError) as info:
        parse_accounts(data)
    assert SECRET not in str(info.value)
    assert "'token'" in str(info.value)


# -- per-account results --------------------------------------------------------------


def accounts_file(tmp_path: Path, server: FaultServer) -> Path:
    """team-a and team-b at Flamel (two keys), ops at Exorde, money at LLMGenerator."""
    flamel = serve_examples(server, "flamel")
    exorde = serve_examples(server, "exorde")
    llmgenerator = serve_examples(server, "llmgenerator")
    return write(
        tmp_path,
        f"""\
        [[account]]
        name = "team-a"
        provider = "flamel"
        key_env = "ACCT_TEAM_A"
        base_url = "{flamel}"

        [[account]]
        name = "team-b"
        provider = "flamel"
        key_env = "ACCT_TEAM_B"
        base_url = "{flamel}"

        [[account]]
        name = "ops"
        provider = "exorde"
        key_env = "ACCT_OPS"
        base_url = "{exorde}"

        [[account]]
        name = "money"
        provider = "llmgenerator"
        key_env = "ACCT_MONEY"
        base_url = "{llmgenerator}"
        """,
    )


def accounts_env() -> dict[str, str]:
    env = base_env()
    for name in ("TEAM_A", "TEAM_B", "OPS", "MONEY"):
        env[f"ACCT_{name}"] = f"{FAKE_KEY}-{name.lower()}"
    return env


def test_each_account_is_checked_with_its_own_key(tmp_path: Path, server: FaultServer) -> None:
    path = accounts_file(tmp_path, server)

    run = run_cli("balances", "--accounts", str(path), env=accounts_env())

    assert run.returncode == 0, run.stderr
    rows = parse_table(run.stdout)
    assert list(rows) == ["team-a", "team-b", "ops", "money"]
    assert [r["provider"] for r in rows.values()] == ["flamel", "flamel", "exorde", "llmgenerator"]
    for row in rows.values():
        assert_row_matches(row, expected(row["provider"]))
        assert row["status"] == "ok"
    flamel_path = "/flamel" + operation_paths("flamel")["getMyInfo"]
    keys = sorted(r.headers["x-api-key"] for r in server.requests_to(flamel_path))
    assert keys == [f"{FAKE_KEY}-team_a", f"{FAKE_KEY}-team_b"]


def test_accounts_json_is_keyed_by_account_name(tmp_path: Path, server: FaultServer) -> None:
    path = accounts_file(tmp_path, server)

    run = run_cli(
        "balances", "--accounts", str(path), "--json", "--include-account", env=accounts_env()
    )

    assert run.returncode == 0, run.stderr
    objects = json.loads(run.stdout)
    assert [(o["name"], o["provider"]) for o in objects] == [
        ("team-a", "flamel"),
        ("team-b", "flamel"),
        ("ops", "exorde"),
        ("money", "llmgenerator"),
    ]
    for obj in objects:
        assert obj["remaining"] == pytest.approx(expected(obj["provider"]).remaining)
    # LLMGenerator's account is two models: both are there
    assert set(objects[3]["account"]) == {"subscription", "credits"}


def test_missing_key_variable_fails_that_account_only(tmp_path: Path, server: FaultServer) -> None:
    path = accounts_file(tmp_path, server)
    env = accounts_env()
    del env["ACCT_TEAM_B"]
    env["FLAMEL_API_KEY"] = fake_key("flamel")  # no fallback to the provider's variable

    run = run_cli("balances", "--accounts", str(path), env=env)

    assert run.returncode == 2
    rows = parse_table(run.stdout)
    assert rows["team-b"]["status"] == "error: MissingCredentialsError"
    assert {rows[n]["status"] for n in ("team-a", "ops", "money")} == {"ok"}
    [line] = run.stderr.splitlines()
    assert line.startswith("team-b (flamel): MissingCredentialsError: ")
    assert "ACCT_TEAM_B" in line
    flamel_path = "/flamel" + operation_paths("flamel")["getMyInfo"]
    assert len(server.requests_to(flamel_path)) == 1


def test_accounts_filtered_by_provider(tmp_path: Path, server: FaultServer) -> None:
    path = accounts_file(tmp_path, server)

    run = run_cli("balances", "exorde", "--accounts", str(path), env=accounts_env())

    assert run.returncode == 0
    assert list(parse_table(run.stdout)) == ["ops"]

    run = run_cli("balances", "generect", "--accounts", str(path), env=accounts_env())

    assert run.returncode == 2
    assert "no account uses generect" in run.stderr


def test_an_account_that_fails_does_not_hide_the_others(
    tmp_path: Path, server: FaultServer
) -> None:
    path = accounts_file(tmp_path, server)
    server.script_path(
        "/exorde" + operation_paths("exorde")["getUserInfo"],
        json_reply(example("exorde", "getUserInfo", "401"), 401),
    )

    run = run_cli("balances", "--accounts", str(path), "--json", env=accounts_env())

    assert run.returncode == 2
    by_name = {o["name"]: o for o in json.loads(run.stdout)}
    assert by_name["ops"]["error"]["type"] == "AuthenticationError"
    assert by_name["ops"]["error"]["status_code"] == 401
    assert {by_name[n]["status"] for n in ("team-a", "team-b", "money")} == {"ok"}


# -- bounded concurrency ----------------------------------------------------------------


def many_accounts(provider: str, count: int, base_url: str) -> list[Account]:
    return [
        Account(name=f"a{i}", provider=provider, key_env=f"ACCT_{i}", base_url=base_url)
        for i in range(count)
    ]


def keys_for(count: int) -> dict[str, str]:
    return {f"ACCT_{i}": f"{FAKE_KEY}-{i}" for i in range(count)}


@pytest.mark.parametrize("concurrency", [3, 5])
async def test_at_most_n_requests_in_flight(
    server: FaultServer, concurrency: int, transport_kind: str
) -> None:
    counter = InFlight(json_reply(example("generect", "getUserMe")), delay=0.1)
    path = operation_paths("generect")["getUserMe"]
    server.script_path(path, counter)
    accounts = many_accounts("generect", 4 * concurrency, server.base_url)
    done: list[None] = []

    results = await check_accounts(
        accounts,
        concurrency=concurrency,
        environ=keys_for(len(accounts)),
        on_done=lambda: done.append(None),
    )

    assert all(isinstance(r, creditwatch.Balance) for r in results), results
    assert counter.total == len(accounts)
    assert 1 < counter.max <= concurrency
    assert len(done) == len(accounts)
    assert len({r.client_port for r in server.requests}) <= concurrency  # one pool


async def test_two_call_provider_still_bounded(server: FaultServer, transport_kind: str) -> None:
    """An LLMGenerator balance is two concurrent calls: the pool keeps the bound."""
    lock = threading.Lock()
    in_flight = [0, 0]  # current, max over both paths

    def tracked(request: RecordedRequest) -> Reply:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            time.sleep(0.05)
        finally:
            with lock:
                in_flight[0] -= 1
        op_id = next(o for o, p in operation_paths("llmgenerator").items() if p == request.path)
        return json_reply(example("llmgenerator", op_id))

    for path in operation_paths("llmgenerator").values():
        server.script_path(path, tracked)
    accounts = many_accounts("llmgenerator", 6, server.base_url)

    results = await check_accounts(accounts, concurrency=2, environ=keys_for(6))

    assert all(isinstance(r, creditwatch.Balance) for r in results), results
    assert 1 < in_flight[1] <= 2


def test_concurrency_option_is_observed_at_the_server(tmp_path: Path, server: FaultServer) -> None:
    counter = InFlight(json_reply(example("easyslip", "getMe")), delay=0.1)
    server.script_path(operation_paths("easyslip")["getMe"], counter)
    tables = "".join(
        f'[[account]]\nname = "a{i}"\nprovider = "easyslip"\nkey_env = "ACCT_{i}"\n'
        f'base_url = "{server.base_url}"\n'
        for i in range(12)
    )
    path = write(tmp_path, tables)

    run = run_cli(
        "balances", "--accounts", str(path), "--concurrency", "4", env=base_env() | keys_for(12)
    )

    assert run.returncode == 0, run.stderr
    assert len(parse_table(run.stdout)) == 12
    assert counter.total == 12
    assert 1 < counter.max <= 4


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_concurrency_must_be_positive(value: str) -> None:
    run = run_cli("balances", "--accounts", "x.toml", "--concurrency", value, env=base_env())

    assert run.returncode == 2
    assert "--concurrency" in run.stderr


# -- balances() runs providers at once ----------------------------------------------------


@pytest.fixture
def five_slow_providers(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> FaultServer:
    """Every provider configured against `server`, each answer 300 ms late."""
    for name in set(os.environ) - set(base_env()):  # credentials, base URLs, proxies
        monkeypatch.delenv(name)
    for provider in PROVIDERS:
        for op_id, path in operation_paths(provider).items():
            server.script_path(f"/{provider}{path}", slow_reply(0.3, example(provider, op_id)))
        for variable, value in credential_env(provider, fake_key(provider)).items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setenv(f"{provider.upper()}_BASE_URL", server.url(f"/{provider}"))
    return server


def test_balances_checks_providers_concurrently(five_slow_providers: FaultServer) -> None:
    start = time.monotonic()
    results = creditwatch.balances()
    elapsed = time.monotonic() - start

    assert sorted(results) == sorted(PROVIDERS)
    assert all(isinstance(r, creditwatch.Balance) for r in results.values()), results
    assert elapsed < 1.0, f"five 300 ms providers took {elapsed:.2f} s"


async def test_abalances_checks_providers_concurrently(
    five_slow_providers: FaultServer, transport_kind: str
) -> None:
    start = time.monotonic()
    results = await creditwatch.abalances()
    elapsed = time.monotonic() - start

    assert all(isinstance(r, creditwatch.Balance) for r in results.values()), results
    assert len(results) == len(PROVIDERS)
    assert elapsed < 1.0, f"five 300 ms providers took {elapsed:.2f} s"


def test_cli_checks_providers_concurrently(five_slow_providers: FaultServer) -> None:
    run = run_cli("balances", env=dict(os.environ))

    assert run.returncode == 0, run.stderr
    assert len(parse_table(run.stdout)) == len(PROVIDERS)
    calls = sum(len(p.declaration.balance.named_calls()) for p in DECLARED)  # LLMGenerator: 2
    assert len(five_slow_providers.requests) == calls
    spread = [r.received_at for r in five_slow_providers.requests]
    assert max(spread) - min(spread) < 0.3, "the requests were not sent at once"


def test_concurrency_needs_accounts() -> None:
    run = run_cli("balances", "--concurrency", "4", env=base_env())

    assert run.returncode == 2
    assert "--concurrency applies to --accounts only" in run.stderr
