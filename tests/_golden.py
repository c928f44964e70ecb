"""The hand-worked balances of tests/golden/<provider>.yaml (see tests/test_golden.py),
for every test that needs a provider's expected numbers."""

from __future__ import annotations

import base64
import functools
import itertools
from datetime import UTC, datetime
from typing import Any

import yaml

from _bodies import client_operations
from _cases import EXAMPLES
from codegen.providers import PROVIDERS as DECLARED
from conftest import ROOT
from conftest import credentials as fake_credentials

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


@functools.cache
def _load(provider: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((GOLDEN / f"{provider}.yaml").read_text(encoding="utf-8"))
    return data


def golden(provider: str) -> dict[str, dict[str, Any]]:
    """{example name: the hand-worked balance fields} of a provider."""
    balances: dict[str, dict[str, Any]] = _load(provider)["balances"]
    return balances


def credentials(provider: str, key: str) -> dict[str, str]:
    """The constructor's credential arguments for a client that sends ``key``: the
    golden file's ``request.credentials`` (Twilio's account SID and auth token, used
    together), else ``{"api_key": key}``."""
    return fake_credentials(provider, key)


def request(provider: str, key: str) -> tuple[str, dict[str, str]]:
    """(path, headers) the provider's main call sends with API key ``key`` (with
    `credentials`; ``<basic>``: HTTP basic's base64 of the first two, joined by ':')."""
    expected = _load(provider)["request"]
    values = list(credentials(provider, key).values())
    basic = base64.b64encode(":".join(values[:2]).encode()).decode() if len(values) > 1 else ""
    headers = {
        k: v.replace("<key>", key).replace("<basic>", basic) for k, v in expected["headers"].items()
    }
    return expected["path"], headers


def error(provider: str) -> dict[str, Any]:
    """The golden ``error:``: a body in the provider's error format and what it decodes
    to (tests/test_error_matrix.py)."""
    found: dict[str, Any] = _load(provider)["error"]
    return found


def server(provider: str) -> str:
    """The provider's real server URL, the client's default (from its docs)."""
    url: str = _load(provider)["request"]["server"]
    return url


def first_example(provider: str) -> dict[str, Any]:
    """The hand-worked balance of the first documented example (of each call)."""
    return golden(provider)[next(iter(balance_examples(provider)))]
