"""Every provider's balance on every documented example equals its hand-worked answer in
tests/golden/<provider>.yaml: an oracle written from the examples and the providers'
docs, independent of the declarations and of the generated code. A provider without a
golden file, or a documented example without an answer, fails."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import creditwatch
import pytest
import yaml

from _bodies import client_operations
from _cases import CASES, EXAMPLES, MODES, call
from _faults import FaultServer, json_reply
from codegen.providers import PROVIDERS as DECLARED
from conftest import FAKE_KEY, PROVIDERS, ROOT

GOLDEN = ROOT / "tests" / "golden"
FIELDS = ("remaining", "limit", "unlimited", "unit", "plan", "resets_at", "expires_at")


def balance_examples(provider: str) -> dict[str, dict[str, Any]]:
    """{"example[ + example...]": {path: documented body}} for every combination of the
    documented 200 examples of the operations balance() calls with an API key."""
    declared = next(p for p in DECLARED if p.name == provider)
    per_call = []
    for method in declared.declaration.balance.named_calls().values():
        op = next(
            o
            for o in client_operations()
            if o.provider == provider and o.method == method and "api_key" in o.credential
        )
        examples = EXAMPLES[provider][op.operation_id]["responses"]["200"]
        per_call.append([(name, op.path, body) for name, body in examples.items()])
    return {
        " + ".join(name for name, _, _ in combo): {path: body for _, path, body in combo}
        for combo in itertools.product(*per_call)
    }


def expected(value: Any, checked_at: datetime) -> Any:
    if value == "next-month-utc":
        month = checked_at.astimezone(UTC)
        return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    if isinstance(value, str) and value[:4].isdigit() and "T" in value:
        return datetime.fromisoformat(value)
    return value


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_documented_example_has_a_hand_worked_balance(provider: str) -> None:
    path = GOLDEN / f"{provider}.yaml"
    assert path.is_file(), f"write {path.relative_to(ROOT)}: the expected balances, by hand"
    golden = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(golden) == set(balance_examples(provider))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_balance_of_each_documented_example(server: FaultServer, provider: str, mode: str) -> None:
    golden = yaml.safe_load((GOLDEN / f"{provider}.yaml").read_text(encoding="utf-8"))
    for name, bodies in balance_examples(provider).items():
        server.reset()
        for path, body in bodies.items():
            server.script_path(path, json_reply(body))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Exorde's notice
            result = call(
                CASES[provider], mode, "balance", api_key=FAKE_KEY, base_url=server.base_url
            )
        assert isinstance(result, creditwatch.Balance)
        assert result.provider == provider
        got = {field: getattr(result, field) for field in FIELDS}
        want = {field: expected(golden[name][field], result.checked_at) for field in FIELDS}
        assert got == want, name
