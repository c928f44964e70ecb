"""What every Python process of a mutation run loads at start-up (issue 21).

``scripts/mutation.py`` copies this file to ``.mutation/site/_creditwatch_mutation.py``
and adds a ``.pth`` line to ``.venv-mutation`` that imports it, so it is active in the
test processes *and* in the subprocesses the tests start (``python -m creditwatch``
for the CLI tests). It does nothing unless one of its environment variables is set:

* ``CW_MUTANT=<module file>=<mutated source file>``: importing the module whose file is
  ``<module file>`` runs the mutated source instead. The checkout's files are never
  written, so two mutants can run at once.
* ``CW_MUTATION_COVERAGE=<JSON {"data_file", "include"}>``: the process records which
  lines of the mutated modules each test runs, with coverage.py. The test process
  switches coverage's context to each test's node id (the pytest plugin below, loaded
  with ``-p _creditwatch_mutation``) and puts it in ``CW_MUTATION_CONTEXT`` for the
  subprocesses it starts, which record under that context.

The names do not start with ``CREDITWATCH``: the CLI tests drop such variables from
the environment they give the CLI.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

MUTANT = "CW_MUTANT"
COVERAGE = "CW_MUTATION_COVERAGE"
CONTEXT = "CW_MUTATION_CONTEXT"


class _MutantLoader(importlib.abc.Loader):
    def __init__(self, origin: str, source: str) -> None:
        self.origin, self.source = origin, source

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        text = Path(self.source).read_text(encoding="utf-8")
        exec(compile(text, self.origin, "exec", dont_inherit=True), module.__dict__)  # noqa: S102


class _MutantFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: asks the finders after it where a module is, and
    when that is the mutated file, loads the mutant from its own file instead."""

    def __init__(self, origin: str, source: str) -> None:
        self.origin, self.source = origin, source
        path = Path(origin)
        self.name = path.parent.name if path.name == "__init__.py" else path.stem

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.rpartition(".")[2] != self.name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.origin is None or os.path.realpath(spec.origin) != self.origin:
                return None
            return importlib.util.spec_from_file_location(
                fullname,
                spec.origin,
                loader=_MutantLoader(spec.origin, self.source),
                submodule_search_locations=spec.submodule_search_locations,
            )
        return None


def activate() -> None:
    """Serve the mutant named by ``CW_MUTANT`` (if any) to every import from now on."""
    given = os.environ.get(MUTANT)
    if not given:
        return
    if any(isinstance(finder, _MutantFinder) for finder in sys.meta_path):
        return
    origin, _, source = given.partition("=")
    sys.meta_path.insert(0, _MutantFinder(os.path.realpath(origin), source))


_coverage: Any = None


def _start_coverage() -> None:
    global _coverage  # noqa: PLW0603
    given = os.environ.get(COVERAGE)
    if not given or _coverage is not None:
        return
    import coverage  # noqa: PLC0415  (only in a coverage run)

    settings = json.loads(given)
    _coverage = coverage.Coverage(
        data_file=settings["data_file"],
        data_suffix=True,
        include=settings["include"],
        context=os.environ.get(CONTEXT) or None,
        config_file=False,
    )
    _coverage.start()
    atexit.register(_save_coverage)


def _save_coverage() -> None:
    if _coverage is not None:
        _coverage.stop()
        _coverage.save()


if os.environ.get(COVERAGE):  # the coverage run: a pytest plugin too (-p _creditwatch_mutation)
    import pytest

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
        """Coverage's context is the test's node id while it runs (fixtures included)."""
        if _coverage is None:
            return (yield)
        _coverage.switch_context(item.nodeid)
        os.environ[CONTEXT] = item.nodeid
        try:
            return (yield)
        finally:
            _coverage.switch_context("")
            os.environ.pop(CONTEXT, None)

    durations: dict[str, float] = {}

    def pytest_runtest_logreport(report: pytest.TestReport) -> None:
        durations[report.nodeid] = durations.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(session: pytest.Session) -> None:
        """Each test's time (set-up, call and tear-down), next to the coverage data."""
        data_file = Path(json.loads(os.environ[COVERAGE])["data_file"])
        out = data_file.with_name(f"times.{os.getpid()}.json")
        out.write_text(json.dumps(durations), encoding="utf-8")


activate()
_start_coverage()
