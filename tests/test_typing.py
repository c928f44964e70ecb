"""The public API's types, as a user's type checker sees them.

``tests/typing/check_public_api.py`` pins the type of every public call with
`typing.assert_type`; here mypy --strict checks it (it passes), and checks a file of
deliberate mistakes (each one must be reported, on its line, with its error code), so
a pin that silently stopped checking anything (``Any`` everywhere, a missing
``py.typed``, mypy not finding the package) would fail too.

mypy reads the *source tree* (overlays/ and generated/ assembled into a
``creditwatch`` package of symlinks, the way pyproject.toml maps them), not the copy
installed in the virtual environment, so the test follows the working tree without a
reinstall. That the installed wheel is typed too is checked in test_packaging.py.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest

from _mypy import marked_errors, reported_errors
from conftest import PROVIDERS, ROOT

CHECK_FILE = ROOT / "tests" / "typing" / "check_public_api.py"
LIFECYCLE = {"close", "aclose"}  # no result to pin


def source_view(where: Path) -> Path:
    """``where/creditwatch``: overlays/ with generated/ as ``_generated``, by symlinks."""
    package = where / "creditwatch"
    package.mkdir(parents=True)
    for child in sorted((ROOT / "overlays").iterdir()):
        if child.name != "__pycache__":
            (package / child.name).symlink_to(child, target_is_directory=child.is_dir())
    (package / "_generated").symlink_to(ROOT / "generated", target_is_directory=True)
    return where


@pytest.fixture(scope="module")
def mypy_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for a mypy run on the source view, with a cache shared by this module."""
    base = tmp_path_factory.mktemp("typing")
    view = source_view(base / "view")
    env = dict(os.environ)
    env["MYPYPATH"] = str(view)
    env["MYPY_CACHE_DIR"] = str(base / "mypy-cache")
    env.pop("MYPY_FORCE_COLOR", None)
    return env


def run_mypy(env: dict[str, str], *files: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "mypy",
        "--strict",
        "--config-file", str(ROOT / "pyproject.toml"),
        "--no-error-summary",
        "--show-error-codes",
        "--no-color-output",
        "--hide-error-context",
        *map(str, files),
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_public_api_types(mypy_env: dict[str, str]) -> None:
    result = run_mypy(mypy_env, CHECK_FILE)
    assert result.returncode == 0, f"mypy --strict failed:\n{result.stdout}{result.stderr}"


def test_user_script_types(mypy_env: dict[str, str]) -> None:
    """A user's program calling every documented call (also checked by pyright strict in
    test_ide.py)."""
    result = run_mypy(mypy_env, ROOT / "tests" / "typing" / "user_script.py")
    assert result.returncode == 0, f"mypy --strict failed:\n{result.stdout}{result.stderr}"


# Each line ending in ``# E: <code>`` must draw exactly that error; no other line may.
NEGATIVE = """\
from collections.abc import Coroutine
from typing import Any, assert_type

import httpx

from creditwatch import APIResponse, Balance, flamel, llmgenerator, twilio
from creditwatch.flamel.models import AuthUserDto


def wrong(c: flamel.Client) -> None:
    assert_type(c.get_my_info(), AuthUserDto)  # the control: correct, no error
    assert_type(c.get_my_info(), str)  # E: assert-type
    assert_type(c.get_my_info(), Any)  # E: assert-type
    assert_type(c.with_raw_response.get_my_info(), APIResponse[Any])  # E: assert-type
    assert_type(c.balance(), Balance[object])  # E: assert-type
    c.get_my_info().no_such_field  # E: attr-defined


async def wrong_async(c: flamel.AsyncClient) -> None:
    assert_type(await c.get_my_info(), Coroutine[Any, Any, AuthUserDto])  # E: assert-type
    x: AuthUserDto = c.get_my_info()  # E: assignment
    await c.get_my_info()


def wrong_arguments() -> None:
    flamel.Client(api_kee="k")  # E: call-arg
    flamel.Client(access_token="t")  # E: call-arg
    flamel.Client(http_client=httpx.AsyncClient())  # E: arg-type
    flamel.AsyncClient(http_client=httpx.Client())  # E: arg-type
    flamel.Client(max_retries="3")  # E: arg-type
    llmgenerator.Client(acces_token="t")  # E: call-arg
    twilio.Client(api_key="k")  # E: call-arg
    twilio.Client("AC1", "t").fetch_balance(account_sid="AC1")  # E: call-arg
"""


def test_mypy_rejects_wrong_types(mypy_env: dict[str, str], tmp_path: Path) -> None:
    """The negative control: the same setup reports every deliberate mistake."""
    source = textwrap.dedent(NEGATIVE)
    path = tmp_path / "wrong_types.py"
    path.write_text(source, encoding="utf-8")
    expected = marked_errors(source)
    result = run_mypy(mypy_env, path)
    reported = reported_errors(result.stdout, path.name)
    assert result.returncode == 1, result.stdout + result.stderr
    marked_lines = {line for line, _ in expected}
    missing = expected - reported
    unexpected = {(line, code) for line, code in reported if line not in marked_lines}
    assert not missing, f"mypy accepted deliberate mistakes {sorted(missing)}:\n{result.stdout}"
    assert not unexpected, f"errors on lines without a mistake: {unexpected}:\n{result.stdout}"


def _is_raw(receiver: ast.expr) -> bool:
    """``c.with_raw_response`` or a local named ``raw`` bound to it."""
    return (isinstance(receiver, ast.Attribute) and receiver.attr == "with_raw_response") or (
        isinstance(receiver, ast.Name) and receiver.id == "raw"
    )


def _pinned_calls(tree: ast.Module, function: str) -> tuple[set[str], set[str]]:
    """Methods called inside assert_type(...) in `function`: (on the client, on the raw
    client)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            direct: set[str] = set()
            raw: set[str] = set()
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id == "assert_type"
                ):
                    for inner in ast.walk(call.args[0]):
                        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                            receiver = inner.func.value
                            (raw if _is_raw(receiver) else direct).add(inner.func.attr)
            return direct, raw
    raise AssertionError(f"{CHECK_FILE.name} has no function {function}()")


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in LIFECYCLE
    }


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_public_method_is_pinned(provider: str) -> None:
    """A method added to a client (or its raw variant) must get its assert_type line in
    check_public_api.py: the check covers the whole public surface, not a sample."""
    tree = ast.parse(CHECK_FILE.read_text(encoding="utf-8"))
    module = importlib.import_module(f"creditwatch.{provider}")
    for cls, function in (
        (module.Client, f"{provider}_sync"),
        (module.AsyncClient, f"{provider}_async"),
    ):
        direct, raw = _pinned_calls(tree, function)
        methods = _public_methods(cls)
        assert methods, cls
        assert methods <= direct, f"{cls.__qualname__}: not pinned: {sorted(methods - direct)}"
        raw_cls = typing.get_type_hints(cls.with_raw_response.fget)["return"]
        raw_methods = _public_methods(raw_cls)
        assert raw_methods, raw_cls
        assert raw_methods <= raw, (
            f"{raw_cls.__qualname__}: not pinned: {sorted(raw_methods - raw)}"
        )
