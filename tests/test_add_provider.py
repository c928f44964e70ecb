"""A provider joins through its spec and a declaration, with no Python: in a copy of the
repository, ``scripts/add_provider.py`` starts a throwaway provider ("acme") from a
small spec (tests/data/acme.openapi.json), its open items are reported, the filled-in
declaration generates and installs, and the installed package serves it everywhere
(client, async, raw, ``balance()``, ``balances()``, the CLI, the demo). A broken
declaration is reported in one line naming the file and the key, and generated/ is
left as it was."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from _faults import FaultServer, json_reply
from _repo import Venv, copy_repo, fresh_venv, generate, run_script, tree_hash
from conftest import FAKE_KEY, ROOT

SPEC = ROOT / "tests" / "data" / "acme.openapi.json"
DECLARATION = "specs/providers/acme.yaml"
# What a maintainer fills in (YAML, not Python): the skeleton's open items.
FILLED = {
    "  remaining: 'TODO: field path, or a + b - c, of the credits left'\n": (
        "  remaining: credits\n"
    ),
    "  limit: 'TODO: field path of the limit (delete the key if there is none)'\n": (
        "  limit: quota\n  unlimited: {absent: quota}\n  plan: plan\n"
    ),
}
ERRORS = "errors:\n  - {schema: Error, message: message}\n"

SCRIPT = """
import asyncio, json, sys
import creditwatch
from creditwatch import acme

url = sys.argv[1]
with acme.Client(base_url=url) as client:
    model = client.get_credits()
    raw = client.with_raw_response.get_credits()
    balance = client.balance()

async def main():
    async with acme.AsyncClient(base_url=url) as client:
        return await client.get_credits(), await client.balance()

amodel, abalance = asyncio.run(main())
together = creditwatch.balances(["acme"])["acme"]
print(json.dumps({
    "providers": list(creditwatch.PROVIDERS),
    "model": [type(model).__name__, model.credits, model.quota, model.plan],
    "raw": [raw.status_code, raw.parsed.credits],
    "balance": [balance.remaining, balance.limit, balance.unlimited, balance.plan, balance.unit],
    "async": [amodel.credits, abalance.remaining],
    "balances": [together.remaining, together.limit],
    "unset_shared": acme.Unset is creditwatch.flamel.Unset,
}))
"""


def _add(repo: Path) -> None:
    run = run_script(
        repo, "add_provider.py", "acme", "--spec", str(SPEC), "--operation", "getCredits"
    )
    assert run.returncode == 0, run.stderr
    assert (repo / DECLARATION).is_file()
    assert (repo / "specs" / "upstream" / "acme.json").read_bytes() == SPEC.read_bytes()
    sidecar = json.loads((repo / "specs" / "upstream" / "acme.source.json").read_text())
    assert sidecar["bytes"] == len(SPEC.read_bytes())


def _fill(repo: Path) -> None:
    path = repo / DECLARATION
    text = path.read_text(encoding="utf-8")
    for old, new in FILLED.items():
        assert old in text, text
        text = text.replace(old, new)
    path.write_text(text + ERRORS, encoding="utf-8")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy with acme added (open items still open)."""
    copy = copy_repo(tmp_path_factory.mktemp("repo"))
    _add(copy)
    return copy


def test_open_items_are_reported_and_nothing_is_generated(repo: Path) -> None:
    before = tree_hash(repo)
    run = generate(repo)
    assert run.returncode == 1
    lines = [re.sub(r"^error: ([^:]+):\d+: ", r"\1: ", line) for line in run.stderr.splitlines()]
    assert (
        f"{DECLARATION}: balance.remaining: open item: "
        "TODO: field path, or a + b - c, of the credits left" in lines
    )
    assert any(line.startswith(f"{DECLARATION}: balance.limit: open item:") for line in lines)
    assert tree_hash(repo) == before


def test_a_renamed_field_is_one_line_naming_the_declaration_and_key(
    repo: Path, tmp_path: Path
) -> None:
    broken = copy_repo(tmp_path / "broken")
    _add(broken)
    _fill(broken)
    upstream = broken / "specs" / "upstream" / "acme.json"
    upstream.write_text(upstream.read_text().replace('"credits"', '"creditsLeft"'))
    before = tree_hash(broken)
    run = generate(broken)
    assert run.returncode == 1
    problems = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(problems) == 1, run.stderr
    assert re.fullmatch(
        rf"error: {re.escape(DECLARATION)}:\d+: balance\.remaining: field 'credits' is not in "
        r"Credits \(fields: creditsLeft, plan, quota\); did you mean 'creditsLeft'\?",
        problems[0],
    ), run.stderr
    assert tree_hash(broken) == before


@pytest.fixture(scope="module")
def venv(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    _fill(repo)
    run = generate(repo)
    assert run.returncode == 0, run.stderr
    normalized = (repo / "specs" / "acme.yaml").read_text(encoding="utf-8")
    assert "getCredits" in normalized and "getUnused" not in normalized  # the subset
    assert "Unused" not in normalized
    return fresh_venv(tmp_path_factory.mktemp("venv"), str(repo))


def test_the_added_provider_works_everywhere(venv: Venv) -> None:
    body = {"credits": 750, "quota": 1000, "plan": "pro"}
    with FaultServer() as server:
        server.script(json_reply(body))
        run = venv.run(
            str(venv.python), "-c", SCRIPT, server.base_url,
            ACME_API_KEY=FAKE_KEY, ACME_BASE_URL=server.base_url,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout)
        cli = venv.run(
            str(venv.root / "bin" / "creditwatch"), "balances", "acme", "--json",
            ACME_API_KEY=FAKE_KEY, ACME_BASE_URL=server.base_url,
        )  # fmt: skip
        requests = server.requests
    assert "acme" in result["providers"]
    assert result["model"] == ["Credits", 750, 1000, "pro"]
    assert result["raw"] == [200, 750]
    assert result["balance"] == [750, 1000, False, "pro", "credits"]
    assert result["async"] == [750, 750]
    assert result["balances"] == [750, 1000]
    assert result["unset_shared"] is True
    assert {r.path for r in requests} == {"/v1/credits"}
    assert all(r.headers["authorization"] == f"Bearer {FAKE_KEY}" for r in requests)
    assert cli.returncode == 0, cli.stderr
    assert FAKE_KEY not in cli.stdout
    row = json.loads(cli.stdout)
    assert re.search(r'"remaining": 750', json.dumps(row)), row


def test_the_demo_shows_it(venv: Venv) -> None:
    run = venv.run(str(venv.root / "bin" / "creditwatch"), "demo")
    assert run.returncode == 0, run.stderr
    assert "acme" in run.stdout.lower()
