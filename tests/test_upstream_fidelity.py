"""A client accepts everything its provider's upstream spec allows (issue #18).

A normalizer step (scripts/codegen/<provider>.py) may correct a documented defect of
the upstream document, but it may not invent a constraint: a body the upstream
response schema allows must parse.

* The regression that started it: Generect types its credit counts as `number`, a
  step narrowed them to `integer` because the examples were whole numbers, and a real
  body with ``balance_platform: 4120.5`` raised `APIResponseValidationError`. Such a
  body now works through the client, `balance()`, `balances()` and the CLI, over
  loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import creditwatch
import pytest
import yaml

from _faults import FaultServer, json_reply
from conftest import FAKE_KEY, ROOT

# -- the Generect regression -------------------------------------------------------------


def generect_example() -> dict[str, Any]:
    """The documented example of Generect's upstream snapshot (whole numbers)."""
    spec = yaml.safe_load((ROOT / "specs/upstream/generect.yaml").read_text(encoding="utf-8"))
    media = spec["paths"]["/api/auth/users/me/"]["get"]["responses"]["200"]["content"]
    body: dict[str, Any] = media["application/json"]["examples"]["200"]["value"]
    return body


FRACTIONAL = {
    "balance_platform": 4120.5,
    "max_credits": 10000.25,
    "blocked_balance_platform": 0.5,
    "balance_email_finder": 12.75,
    "count_searches_completed_today": 1.5,
}


def fractional_body() -> dict[str, Any]:
    body = generect_example()
    body.update(FRACTIONAL)
    body["icp_flow"]["active_compaign_count_lead"] = 999.5
    return body


@pytest.fixture
def generect_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.script_path("/api/auth/users/me/", json_reply(fractional_body()))
        yield server


def test_fractional_counts_parse_through_the_client(generect_server: FaultServer) -> None:
    with creditwatch.generect.Client(
        FAKE_KEY, base_url=generect_server.base_url, max_retries=0
    ) as client:
        user = client.get_user_me()
    assert user.balance_platform == 4120.5
    assert user.max_credits == 10000.25
    assert user.count_searches_completed_today == 1.5
    assert user.icp_flow.active_compaign_count_lead == 999.5
    assert user.to_dict()["balance_platform"] == 4120.5


def test_balance_of_fractional_counts(generect_server: FaultServer) -> None:
    with creditwatch.generect.Client(
        FAKE_KEY, base_url=generect_server.base_url, max_retries=0
    ) as client:
        balance = client.balance()
    assert (balance.remaining, balance.limit) == (4120.5, 10000.25)
    assert balance.percent_left == pytest.approx(100 * 4120.5 / 10000.25)
    assert balance.plan == "Business"


def test_balances_of_fractional_counts(
    generect_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENERECT_API_KEY", FAKE_KEY)
    monkeypatch.setenv("GENERECT_BASE_URL", generect_server.base_url)
    result = creditwatch.balances(["generect"])
    balance = result["generect"]
    assert isinstance(balance, creditwatch.Balance), balance
    assert (balance.remaining, balance.limit) == (4120.5, 10000.25)


def test_cli_shows_fractional_counts(generect_server: FaultServer, tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_ACCESS_TOKEN", "_BASE_URL")) and "proxy" not in k.lower()
    }
    env |= {
        "GENERECT_API_KEY": FAKE_KEY,
        "GENERECT_BASE_URL": generect_server.base_url,
        "XDG_DATA_HOME": str(tmp_path),
    }

    def cli(*args: str) -> str:
        run = subprocess.run(
            [sys.executable, "-m", "creditwatch", "balances", "generect", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Traceback" not in run.stderr and FAKE_KEY not in run.stdout + run.stderr
        return run.stdout

    (row,) = json.loads(cli("--json"))
    assert (row["status"], row["remaining"], row["limit"]) == ("ok", 4120.5, 10000.25)
    assert row["account"]["balance_platform"] == 4120.5
    table = cli()
    assert "4,120.5" in table or "4120.5" in table, table
