"""Every provider's balance on every documented example equals its hand-worked answer in
tests/golden/<provider>.yaml: an oracle written from the examples and the providers'
docs, independent of the declarations and of the generated code. A provider without a
golden file, or a documented example without an answer, fails."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import creditwatch
import pytest

from _cases import CASES, MODES, call
from _faults import FaultServer, json_reply
from _golden import FIELDS, GOLDEN, balance_examples, expected, golden
from conftest import FAKE_KEY, PROVIDERS, ROOT


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_documented_example_has_a_hand_worked_balance(provider: str) -> None:
    path = GOLDEN / f"{provider}.yaml"
    assert path.is_file(), f"write {path.relative_to(ROOT)}: the expected balances, by hand"
    assert set(golden(provider)) == set(balance_examples(provider))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_balance_of_each_documented_example(server: FaultServer, provider: str, mode: str) -> None:
    answers = golden(provider)
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
        want = {field: expected(answers[name][field], result.checked_at) for field in FIELDS}
        assert got == want, name
