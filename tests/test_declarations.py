"""The declaration format itself (scripts/codegen/declaration.py, profile.py): invalid
declarations are reported one line per problem naming the file and the key; the
independent JSON reading of a balance mapping; the server a credential selects."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from creditwatch._base import choose_server, load_profile

from codegen.declaration import Declaration, DeclarationError, load
from codegen.profile import evaluate


def _write(tmp_path: Path, text: str, name: str = "acme") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "title: Acme\n"
        "spec: {source: https://acme.example/openapi.json}\n"
        "credentials: [{argument: api_key, send: {header: X-Key, scheme: Bearer}}]\n"
        "balance: {calls: [get_me], remaining: credits, limits: quota}\n",
    )
    with pytest.raises(DeclarationError) as caught:
        load(path)
    assert caught.value.lines == [
        "specs/providers/acme.yaml: credentials.0.send: Value error, give exactly one of "
        "scheme, header, basic, path (got ['scheme', 'header'])",
        "specs/providers/acme.yaml: balance.limits: Extra inputs are not permitted",
    ]


def test_a_file_name_that_is_no_module_name(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError) as caught:
        load(_write(tmp_path, "title: X\n", name="Acme-API"))
    assert caught.value.lines == [
        "specs/providers/Acme-API.yaml: the file name must be a provider name ([a-z][a-z0-9]*)"
    ]


def _declaration(balance: dict[str, object]) -> Declaration:
    return Declaration.model_validate(
        {"title": "Acme", "spec": {"source": "https://acme.example"}, "balance": balance}
    )


def test_evaluate_sums_defaults_and_zero_means_none() -> None:
    declaration = _declaration(
        {
            "calls": ["get_me"],
            "remaining": "plan.monthly + (plan.extra or 0) - used",
            "limit": {"value": "plan.max", "zero_means_none": True},
            "unlimited": {"absent": "plan.cap"},
            "plan": "plan.name",
            "resets_at": {"path": "reset", "format": "unix"},
        }
    )
    body = {"plan": {"monthly": 10, "max": 0, "name": "pro"}, "used": 3, "reset": 5}
    assert evaluate(declaration, {"": body}) == {
        "unit": "credits",  # the default, fixed
        "remaining": 7,
        "limit": None,  # max 0: no limit
        "unlimited": True,  # no cap
        "plan": "pro",
        "resets_at": 5,
        "expires_at": None,
    }
    body["plan"]["monthly"] = "ten"  # type: ignore[index]
    with pytest.raises(ValueError, match=r"plan.monthly is 'ten', not a number"):
        evaluate(declaration, {"": body})


def test_evaluate_reads_decimal_text_and_a_unit_field() -> None:
    """Twilio's shape: remaining from decimal text, the unit from the body."""
    declaration = _declaration(
        {
            "calls": ["fetch_balance"],
            "remaining": {"value": "balance", "text": "decimal"},
            "unit": {"field": "currency"},
        }
    )
    found = evaluate(declaration, {"": {"balance": "0.05", "currency": "USD"}})
    assert (found["remaining"], found["limit"], found["unit"]) == (0.05, None, "USD")
    child = evaluate(declaration, {"": {"balance": None, "currency": None}})
    assert (child["remaining"], child["unit"]) == (None, None)
    for bad in ("lots", "NaN", 5):
        with pytest.raises(ValueError, match="balance is"):
            evaluate(declaration, {"": {"balance": bad, "currency": "USD"}})
    with pytest.raises(ValueError, match="currency is 'dollars', not a unit"):
        evaluate(declaration, {"": {"balance": "1", "currency": "dollars"}})


def test_a_credential_suffix_selects_its_server() -> None:
    profile = attrs.evolve(
        load_profile("flamel"), servers=(("api_key", ":fx", "https://free.acme.example"),)
    )
    main = "https://acme.example"
    assert choose_server(profile, "api_key", "k:fx", main) == "https://free.acme.example"
    assert choose_server(profile, "api_key", "k", main) == main
    assert choose_server(profile, "access_token", "k:fx", main) == main
