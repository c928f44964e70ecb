"""What an IDE user sees (issue #12): pyright's type-completeness report of the
installed package, pyright in strict mode and mypy --strict on a user's program that
calls every documented public call (tests/typing/user_script.py), and jedi's
completions.

pyright is the engine of VS Code's Pylance; jedi completes in many other editors.
Both read the installed package (``py.typed``), as a user's tools do. pyright comes
from PyPI (the ``dev`` extra); its first run fetches its pinned node package.

The verdict is the same for an editable install (``pip install -e .``, what a
contributor has): its ``creditwatch`` is an import hook that maps the package onto
overlays/ and generated/, which static tools do not run, so the tools are then pointed
at a wheel of the checkout, installed once per session into a temporary environment
(`wheel_python`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import creditwatch
import jedi
import pytest

from _repo import copy_repo
from conftest import ROOT

PYRIGHT = Path(sys.executable).parent / "pyright"
USER_SCRIPT = ROOT / "tests" / "typing" / "user_script.py"


def installed_from_wheel() -> bool:
    """False for an editable install: the package's files are the checkout's."""
    return not Path(creditwatch.__file__).resolve().is_relative_to(ROOT)


def _run(*command: str | Path) -> str:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def wheel_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python whose ``creditwatch`` is installed from a wheel: this one, or else (an
    editable install) a temporary venv with a wheel built from a copy of the checkout
    (no isolation, nothing downloaded) and, through a ``.pth`` file, this venv's
    dependencies (httpx, attrs)."""
    if installed_from_wheel():
        return Path(sys.executable)
    base = tmp_path_factory.mktemp("wheel-install")
    source, wheels, venv = copy_repo(base / "src"), base / "wheels", base / "venv"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, source)
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    (wheel,) = wheels.glob("creditwatch-*.whl")
    _run(*pip, "install", "--no-deps", "--no-index", "--target", site, wheel)
    ours = _run(sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    (site / "dependencies.pth").write_text(ours, encoding="utf-8")
    return python


def pyright(python: Path, cwd: Path, *args: str) -> dict[str, Any]:
    """pyright's JSON report, run in `cwd` against `python`'s environment."""
    env = {**os.environ, "VIRTUAL_ENV": str(python.parent.parent)}
    env["PATH"] = os.pathsep.join(
        [str(python.parent), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    result = subprocess.run(
        [str(PYRIGHT), "--outputjson", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"pyright gave no JSON report:\n{result.stdout}\n{result.stderr}")
    return report


def test_type_completeness_is_100_percent(wheel_python: Path, tmp_path: Path) -> None:
    report = pyright(wheel_python, tmp_path, "--verifytypes", "creditwatch", "--ignoreexternal")
    completeness = report["typeCompleteness"]
    weak = [
        f"{s['name']}: {[d['message'] for d in s['diagnostics']]}"
        for s in completeness["symbols"]
        if s["isExported"] and (not s["isTypeKnown"] or s["isTypeAmbiguous"])
    ]
    assert completeness["exportedSymbolCounts"]["withKnownType"] > 100
    assert completeness["completenessScore"] == 1.0, "\n".join(weak)
    # Every public function and class says what it is (IDE hover).
    assert completeness["missingFunctionDocStringCount"] == 0
    assert completeness["missingClassDocStringCount"] == 0


def strict_project(folder: Path, python: Path) -> Path:
    """`folder` as a pyright project in strict mode, resolving imports in `python`'s venv."""
    prefix = python.parent.parent
    config = {
        "typeCheckingMode": "strict",
        "pythonVersion": "3.11",
        "venvPath": str(prefix.parent),
        "venv": prefix.name,
    }
    (folder / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_user_script_passes_pyright_strict(wheel_python: Path, tmp_path: Path) -> None:
    shutil.copy2(USER_SCRIPT, strict_project(tmp_path, wheel_python) / USER_SCRIPT.name)
    report = pyright(wheel_python, tmp_path, USER_SCRIPT.name)
    problems = [
        f"{d['range']['start']['line'] + 1}: {d['message']}" for d in report["generalDiagnostics"]
    ]
    assert report["summary"]["filesAnalyzed"] == 1
    assert problems == [], "\n".join(problems)


def test_pyright_strict_catches_a_wrong_pin(wheel_python: Path, tmp_path: Path) -> None:
    """Negative control: the same setup reports a pin that is wrong."""
    wrong = USER_SCRIPT.read_text(encoding="utf-8").replace(
        "assert_type(client.get_my_info(), AuthUserDto)",
        "assert_type(client.get_my_info(), ExordeUser)",
    )
    assert wrong != USER_SCRIPT.read_text(encoding="utf-8")
    (strict_project(tmp_path, wheel_python) / "wrong.py").write_text(wrong, encoding="utf-8")
    report = pyright(wheel_python, tmp_path, "wrong.py")
    assert [d["rule"] for d in report["generalDiagnostics"]] == ["reportAssertTypeFailure"]


# -- jedi ---------------------------------------------------------------------------------


def complete(python: Path, code: str) -> dict[str, jedi.api.classes.Completion]:
    """jedi's completions at the end of code, by name, in `python`'s environment."""
    environment = jedi.create_environment(str(python), safe=False)
    lines = code.splitlines()
    script = jedi.Script(code, environment=environment)
    return {c.name: c for c in script.complete(len(lines), len(lines[-1]))}


CLIENT_SURFACE = {
    "balance",
    "base_url",
    "close",
    "max_response_bytes",
    "max_retries",
    "provider",
    "timeout",
    "with_options",
}
OPERATIONS = {
    "flamel": {"get_my_info"},
    "exorde": {"get_user_info", "get_user_info_response"},
    "generect": {"get_user_me"},
    "easyslip": {"get_me"},
    "llmgenerator": {"get_current_subscription", "get_credit_balance", "uses_access_token"},
}


@pytest.mark.parametrize("kind", ["Client", "AsyncClient"])
@pytest.mark.parametrize("provider", list(OPERATIONS))
def test_client_completion_is_its_public_surface(
    wheel_python: Path, provider: str, kind: str
) -> None:
    names = complete(wheel_python, f"from creditwatch import {provider}\n{provider}.{kind}().")
    private = {n for n in names if n.startswith("_") and not n.startswith("__")}
    public = {n for n in names if not n.startswith("_")}
    assert private == {"_transport"}
    lifecycle = {"close"} if kind == "Client" else {"aclose"}
    expected = (CLIENT_SURFACE - {"close"}) | lifecycle | {"with_raw_response"}
    assert public == expected | OPERATIONS[provider]
    assert "credits" in names["balance"].docstring().lower()


WITH_BLOCKS = {
    "Client": "with {provider}.Client() as client:\n    {expr}",
    "AsyncClient": "async def main() -> None:\n"
    "    async with {provider}.AsyncClient() as client:\n        {expr}",
}


@pytest.mark.parametrize("kind", list(WITH_BLOCKS))
@pytest.mark.parametrize("provider", list(OPERATIONS))
def test_completion_inside_with_keeps_the_client_type(
    wheel_python: Path, provider: str, kind: str
) -> None:
    """The README's pattern: ``with Client() as client: client.`` offers the operations
    (``__enter__``/``__aenter__`` return the concrete class, not the base's ``Self``)."""
    block = WITH_BLOCKS[kind]
    names = complete(
        wheel_python,
        f"from creditwatch import {provider}\n" + block.format(provider=provider, expr="client."),
    )
    assert OPERATIONS[provider] | {"with_raw_response", "with_options", "balance"} <= set(names)
    # ... and the result of an operation completes to its model's fields.
    operation = min(OPERATIONS[provider] - {"uses_access_token"})
    call = f"client.{operation}()." if kind == "Client" else f"(await client.{operation}())."
    fields = complete(
        wheel_python,
        f"from creditwatch import {provider}\n" + block.format(provider=provider, expr=call),
    )
    assert {"to_dict", "additional_properties"} <= set(fields), sorted(fields)
    # with_options keeps the type too
    copied = complete(
        wheel_python,
        f"from creditwatch import {provider}\n"
        + block.format(provider=provider, expr="client.with_options(timeout=5)."),
    )
    assert OPERATIONS[provider] <= set(copied)


def test_raw_client_completion_is_the_operations(wheel_python: Path) -> None:
    names = complete(
        wheel_python, "from creditwatch import exorde\nexorde.Client().with_raw_response."
    )
    assert {n for n in names if not n.startswith("__")} == OPERATIONS["exorde"] | {"_transport"}


def test_method_docstring_comes_from_the_spec(wheel_python: Path) -> None:
    names = complete(wheel_python, "from creditwatch import flamel\nflamel.Client().get_my_")
    doc = names["get_my_info"].docstring()
    assert "GET /api/users/me" in doc
    assert "AuthenticationError" in doc and "401" in doc


def test_model_completion_shows_field_docstrings(wheel_python: Path) -> None:
    names = complete(wheel_python, "from creditwatch import flamel\nflamel.Client().get_my_info().")
    assert {"default_credit", "plan", "email", "to_dict"} <= set(names)
    assert "not expiring daily or monthly" in names["default_credit"].docstring()
    nested = complete(
        wheel_python,
        "from creditwatch import flamel\nflamel.Client().with_raw_response.get_my_info()"
        ".parsed.plan.",
    )
    assert "Grade (plan tier)" in nested["grade"].docstring()


def test_package_completion_shows_providers_and_functions(wheel_python: Path) -> None:
    names = complete(wheel_python, "import creditwatch\ncreditwatch.")
    assert set(OPERATIONS) | {"balances", "abalances", "Balance", "APIError"} <= set(names)
    assert "reported as its `APIError`" in names["balances"].docstring()
    # Nothing but the public API (and the subpackages): no helper imports.
    public = {n for n in names if not n.startswith("_")}
    assert public <= {*creditwatch.__all__, "errors", "prometheus"}, public - {*creditwatch.__all__}
