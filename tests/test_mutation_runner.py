"""The mutation runner's own logic (scripts/mutation.py, scripts/mutation_server.py):
what a mutant patched into a loaded module changes, and which tests a mutant gets.

A runner that failed to switch a mutant on would report survivors that are dead; one
that broke the module would report kills that are not. These tests load a small
module from source, patch in a changed copy, and check what its users then see."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import mutation_server

# scripts/mutation.py (by name: for mypy, ``mutation`` is the tests/mutation/ folder)
mutation = importlib.import_module("mutation")

ORIGINAL = textwrap.dedent(
    """
    import functools

    LIMIT = 400
    UNITS = ("credits", "quota")

    def below(status: int) -> bool:
        return status < LIMIT

    def scaled(value: int, factor: int = 2) -> int:
        return value * factor

    @functools.cache
    def cached(value: int) -> int:
        return value + 1

    def outer(value: int) -> int:
        def inner() -> int:
            return value + 1
        return inner()

    class Client:
        retries = 2

        def attempts(self) -> int:
            return self.retries + 1

        @property
        def name(self) -> str:
            return "client"

        @staticmethod
        def code() -> int:
            return 200

    DEFAULT_CLIENT = Client()
    BY_STATUS = {400: Client}

    def lookup(status: int) -> object:
        return BY_STATUS.get(status)
    """
)


@pytest.fixture
def module(tmp_path: Path) -> Iterator[ModuleType]:
    """`ORIGINAL` imported as ``cw_mutation_sample`` (its file in tmp_path)."""
    path = tmp_path / "cw_mutation_sample.py"
    path.write_text(ORIGINAL, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("cw_mutation_sample", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules["cw_mutation_sample"] = loaded
    spec.loader.exec_module(loaded)
    yield loaded
    del sys.modules["cw_mutation_sample"]


def mutant(old: str, new: str) -> str:
    assert ORIGINAL.count(old) == 1, old
    return ORIGINAL.replace(old, new)


def test_a_patched_function_runs_the_mutant_through_every_reference(module: ModuleType) -> None:
    below = module.below  # what ``from sample import below`` holds
    mutation_server.patch(module, mutant("status < LIMIT", "status <= LIMIT"))
    assert below(400) is True and module.below(400) is True
    assert below(401) is False


@pytest.mark.parametrize(
    ("old", "new", "call", "before", "after"),
    [
        ("factor: int = 2", "factor: int = 3", lambda m: m.scaled(5), 10, 15),
        (
            "return value + 1\n\ndef outer",
            "return value - 1\n\ndef outer",
            lambda m: m.cached(1),
            2,
            0,
        ),
        (
            "return value + 1\n    return inner",
            "return value + 2\n    return inner",
            lambda m: m.outer(1),
            2,
            3,
        ),
        (
            "return self.retries + 1",
            "return self.retries - 1",
            lambda m: m.Client().attempts(),
            3,
            1,
        ),
        ('return "client"', 'return "other"', lambda m: m.Client().name, "client", "other"),
        ("return 200", "return 201", lambda m: m.Client.code(), 200, 201),
        ("retries = 2", "retries = 3", lambda m: m.Client().attempts(), 3, 4),
        ("LIMIT = 400", "LIMIT = 401", lambda m: m.below(400), False, True),
        ("{400: Client}", "{401: Client}", lambda m: m.lookup(401) is m.Client, False, True),
    ],
    ids=[
        "default",
        "cached",
        "closure",
        "method",
        "property",
        "staticmethod",
        "class-data",
        "constant",
        "mapping-to-a-class",
    ],
)
def test_each_kind_of_definition_is_patched(
    module: ModuleType, old: str, new: str, call: object, before: object, after: object
) -> None:
    assert callable(call)
    assert call(module) == before
    mutation_server.patch(module, mutant(old, new))
    assert call(module) == after


def test_a_constant_is_rebound_where_another_module_imported_it(module: ModuleType) -> None:
    user = ModuleType("cw_mutation_user")
    user.__dict__["LIMIT"] = module.LIMIT  # ``from sample import LIMIT``
    sys.modules["cw_mutation_user"] = user
    try:
        mutation_server.patch(module, mutant("LIMIT = 400", "LIMIT = 399"))
        assert user.__dict__["LIMIT"] == 399
    finally:
        del sys.modules["cw_mutation_user"]


def test_the_unchanged_source_changes_nothing(module: ModuleType) -> None:
    """The null mutant the runner checks first: patching the original is a no-op."""
    client, units = module.DEFAULT_CLIENT, module.UNITS
    mutation_server.patch(module, ORIGINAL)
    assert module.DEFAULT_CLIENT is client and module.UNITS is units
    assert (module.below(399), module.below(400), module.scaled(2), module.outer(1)) == (
        True,
        False,
        4,
        2,
    )
    assert isinstance(module.DEFAULT_CLIENT, module.Client)


def test_an_instance_made_at_import_keeps_its_class(module: ModuleType) -> None:
    """An object built at import time is not rebuilt (a survivor, never a false kill),
    but it runs the patched methods."""
    mutation_server.patch(module, mutant("return self.retries + 1", "return self.retries + 5"))
    assert isinstance(module.DEFAULT_CLIENT, module.Client)
    assert module.DEFAULT_CLIENT.attempts() == 7


# -- which tests a mutant gets --------------------------------------------------------

SOURCE = textwrap.dedent(
    """
    TIMEOUT = 5

    def wait(seconds=TIMEOUT):
        if seconds > 0:
            return seconds
        return 0

    def other():
        return TIMEOUT * 2
    """
)


def where() -> Any:
    return mutation.Where({"m.py": mutation.Source(SOURCE)})


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(SOURCE.splitlines(), 1) if text in line)


def test_a_statement_in_a_function_needs_its_own_lines() -> None:
    found = where().lines("m.py", line_of("if seconds > 0"), 7)
    assert found == {"m.py": {line_of("if seconds > 0")}}


def test_a_constant_needs_the_lines_that_read_it() -> None:
    found = where().lines("m.py", line_of("TIMEOUT = 5"), 10)
    assert found == {"m.py": {line_of("return TIMEOUT * 2")}}


def test_a_default_needs_the_function_body() -> None:
    found = where().lines("m.py", line_of("def wait"), 20)
    body = {line_of("if seconds > 0"), line_of("return seconds"), line_of("return 0")}
    assert found is not None and found["m.py"] == body


def test_the_budget_keeps_the_first_tests_that_fit_and_at_least_one() -> None:
    seconds = {"a": 1.0, "b": 2.0, "c": 3.0}.__getitem__
    assert mutation_server.within_budget(["a", "b", "c"], seconds, 3.0) == ["a", "b"]
    assert mutation_server.within_budget(["c", "a"], seconds, 1.0) == ["c"]
    assert mutation_server.within_budget(["a", "b", "c"], seconds, 0) == ["a", "b", "c"]


def test_one_case_per_test_and_parameter_set_comes_first() -> None:
    """Cases differing only in provider or mode are one; other parameters are not."""
    provider = sorted(mutation.SAME_PATH - {"sync", "async", "aiohttp", "httpx"})[0]
    tests = [
        f"t.py::test_x[{provider}-slow-sync]",
        f"t.py::test_x[{provider}-slow-async]",
        f"t.py::test_x[{provider}-drop-sync]",
    ]
    cover = mutation.Coverage({"m.py": {2: set(tests)}}, dict.fromkeys(tests, 0.1))
    chosen = mutation.select(
        mutation.Mutant("m", "m.py", "op", 0, line_of("TIMEOUT = 5"), 0),
        mutation.Where({"m.py": mutation.Source("TIMEOUT = 5\n")}),
        cover,
    )
    assert set(chosen[:2]) == {tests[0], tests[2]} or set(chosen[:2]) == {tests[1], tests[2]}
    assert sorted(chosen) == sorted(tests)
