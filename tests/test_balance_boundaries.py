"""The balance mappings and `balances()` at their boundaries (issue 21, mutation testing).

Providers come from the registry and their declarations (specs/providers/<p>.yaml),
expected numbers from the hand-worked golden files (tests/golden/<p>.yaml): never a
list of providers, never the generated code's own output."""

from __future__ import annotations

import importlib
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import creditwatch
import pytest

from _bodies import client_operations
from _cases import CASES, call
from _faults import FaultServer, json_reply, slow_reply
from _golden import FIELDS, balance_examples, expected, first_example, request
from _specs import load, operations, resolve
from codegen.providers import PROVIDERS as DECLARED
from conftest import FAKE_KEY, PROVIDERS
from test_cli import configured_env, example, operation_paths


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


def first_balance(server: FaultServer, provider: str) -> creditwatch.Balance[Any]:
    """The sync client's balance of the first documented example (of each call)."""
    for path, body in next(iter(balance_examples(provider).values())).items():
        server.script_path(path, json_reply(body))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Exorde's notice
        result = call(
            CASES[provider], "sync", "balance", api_key=FAKE_KEY, base_url=server.base_url
        )
    assert isinstance(result, creditwatch.Balance)
    return result


# -- each provider's modules load in a fresh interpreter, whichever comes first -----------


@contextmanager
def fresh_modules(package: str) -> Iterator[None]:
    """`package` and its submodules unloaded for the block (as in a new interpreter),
    and put back afterwards, so the rest of the test session sees the same objects."""
    parent_name, _, child = package.rpartition(".")
    parent = sys.modules[parent_name]
    saved = {n: m for n, m in sys.modules.items() if n == package or n.startswith(package + ".")}
    saved_attribute = getattr(parent, child, None)
    for name in saved:
        del sys.modules[name]
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]
        sys.modules.update(saved)
        if saved_attribute is not None:
            setattr(parent, child, saved_attribute)


@pytest.mark.parametrize("first", ["client", "_profile"])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_provider_loads_whichever_of_its_modules_is_imported_first(
    provider: str, first: str
) -> None:
    # `import creditwatch.<p>` loads the client first; the command line and account
    # files (load_profile) load the compiled profile first: neither may meet an import
    # cycle.
    package = f"creditwatch._generated.{provider}"
    with fresh_modules(package):
        module = importlib.import_module(f"{package}.{first}")
        profile = importlib.import_module(f"{package}._profile")
        client = importlib.import_module(f"{package}.client")
        assert module in (profile, client)
        assert profile.PROFILE.name == provider
        assert callable(client.Client)


# -- the first documented example, end to end ------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_first_documented_example_gives_the_hand_worked_balance_and_request(
    server: FaultServer, provider: str
) -> None:
    # Twilio's account SID and auth token go together (HTTP basic): both are sent.
    result = first_balance(server, provider)

    want = first_example(provider)
    assert {f: getattr(result, f) for f in FIELDS} == {
        f: expected(want[f], result.checked_at) for f in FIELDS
    }
    path, headers = request(provider, FAKE_KEY)
    sent = next(r for r in server.requests if r.path == path)
    assert {name: sent.headers.get(name) for name in headers} == headers


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_balance_keeps_its_account_out_of_repr_and_equality(
    server: FaultServer, provider: str
) -> None:
    # The account model holds personal data (emails, names): a repr of a Balance,
    # logged or printed, does not show it, and two balances with the same numbers are
    # equal whatever account they came from.
    result = first_balance(server, provider)

    assert repr(result.account) not in repr(result)
    assert attrs.evolve(result, account=None) == result


# -- a term of remaining that the body may leave out ----------------------------------


def _schema_node(spec: dict[str, Any], node: Any, parts: list[str]) -> tuple[Any, bool] | None:
    """(schema of the last part, whether its object requires it), or None when the
    path does not walk plain object properties."""
    required = True
    for part in parts:
        node = resolve(spec, node)
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict) or part not in properties:
            return None
        required = part in node.get("required", [])
        node = properties[part]
    return node, required


def _optional_terms() -> list[tuple[str, str]]:
    """(provider, field path) of each term of a declared sum or difference ``remaining``
    (single call, no ``or`` default) whose field the spec lets the body leave out."""
    found = []
    for declared in DECLARED:
        mapping = declared.declaration.balance
        calls = mapping.named_calls()
        if mapping.remaining is None or list(calls) != [""]:
            continue
        terms = mapping.remaining.terms()
        if len(terms) < 2:
            continue
        op = next(
            o
            for o in client_operations()
            if o.provider == declared.name and o.method == calls[""] and "api_key" in o.credential
        )
        spec = load(declared.name)
        operation = next(
            o for _, _, o in operations(spec) if o.get("operationId") == op.operation_id
        )
        response = resolve(spec, operation["responses"]["200"])
        schema = response["content"]["application/json"]["schema"]
        for _sign, path, default in terms:
            walked = _schema_node(spec, schema, path.split("."))
            if default is None and walked is not None and not walked[1]:
                found.append((declared.name, path))
    return found


OPTIONAL_TERMS = _optional_terms()


@pytest.mark.parametrize(("provider", "path"), OPTIONAL_TERMS)
def test_a_term_the_body_leaves_out_makes_remaining_unknown(
    server: FaultServer, provider: str, path: str
) -> None:
    # DeepL's usage may come without character_count (or character_limit): the
    # difference is then unknown, not an error and not a number.
    body = CASES[provider].example()
    *parents, leaf = path.split(".")
    holder = body
    for part in parents:
        holder = holder[part]
    assert leaf in holder, f"the documented example of {provider} has no {path}"
    del holder[leaf]
    server.script(json_reply(body))

    result = call(CASES[provider], "sync", "balance", api_key=FAKE_KEY, base_url=server.base_url)

    assert isinstance(result, creditwatch.Balance), result
    assert result.remaining is None


def test_the_table_of_terms_a_body_may_leave_out_is_not_empty() -> None:
    # At least one declared sum or difference (DeepL's) has terms the spec makes optional.
    assert OPTIONAL_TERMS


# -- balances(deadline=...) -------------------------------------------------------------


def stall(server: FaultServer, provider: str, seconds: float) -> None:
    """Every operation of `provider` (served under /<provider>) answers after `seconds`."""
    for operation, suffix in operation_paths(provider).items():
        server.script_path(
            f"/{provider}{suffix}", slow_reply(seconds, example(provider, operation))
        )


def test_balances_answered_within_the_deadline_are_balances(
    server: FaultServer, environment: Callable[[dict[str, str]], None]
) -> None:
    environment(configured_env(server))

    results = creditwatch.balances(deadline=10.0)

    assert list(results) == list(PROVIDERS)
    assert all(isinstance(r, creditwatch.Balance) for r in results.values()), results


def test_a_provider_past_the_deadline_is_a_timeout_at_the_deadline(
    server: FaultServer, environment: Callable[[dict[str, str]], None]
) -> None:
    slow = PROVIDERS[0]
    environment(configured_env(server, (slow,)))
    stall(server, slow, 1.0)

    started = time.monotonic()
    results = creditwatch.balances(deadline=0.1)
    elapsed = time.monotonic() - started

    assert isinstance(results[slow], creditwatch.APITimeoutError), results[slow]
    assert elapsed < 0.6, elapsed  # the deadline, not the stalled answer (1 s)


def test_a_check_past_the_deadline_does_not_hold_up_the_programs_exit(
    server: FaultServer, environment: Callable[[dict[str, str]], None]
) -> None:
    # The check left running in the background after the deadline must not keep the
    # interpreter alive at exit (Python waits for every non-daemon thread).
    slow = PROVIDERS[0]
    environment(configured_env(server, (slow,)))
    stall(server, slow, 1.0)
    before = set(threading.enumerate())

    results = creditwatch.balances(deadline=0.05)

    assert isinstance(results[slow], creditwatch.APITimeoutError), results[slow]
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left, "the stalled check is still running in the background"
    assert all(t.daemon for t in left), left
