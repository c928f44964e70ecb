"""The pytest plugin that runs the mutants (issue 21): ``-p _creditwatch_mutation_server``.

``scripts/mutation.py`` copies this file next to ``mutation_site.py`` (into
``.mutation/site``) and starts one pytest session over all the modules' tests with
``CW_MUTATION_JOBS`` naming a JSON file of mutants. The session collects the tests
(importing creditwatch and the test modules once) and, instead of running them, runs
each mutant in a child process forked from it:

1. the child patches the mutated module in place: it runs the mutated source in a
   fresh namespace and moves what changed into the loaded module: a function's code,
   defaults and closure; a class's methods and plain attributes; plain module-level
   data (numbers, text, tuples ... also where other modules imported it). Every
   reference to the old objects (``from creditwatch._base import Transport`` in a
   test) then runs the mutant. A module not imported yet, and every subprocess a test
   starts (``python -m creditwatch``), gets the mutant from the import hook
   (``CW_MUTANT``, mutation_site.py);
2. it runs the mutant's tests in the given order through pytest's own
   ``pytest_runtest_protocol`` (fixtures, warnings as configured, captured output),
   stopping at the first failure, and exits 1 (a test failed) or 0.

What patching cannot reach makes a mutant look alive, never dead: an instance made at
import time keeps its old attributes. Before the mutants, the driver runs null mutants
(the unchanged source, patched the same way): they must pass.

Forking skips the interpreter's start, the imports and the collection: a mutant's
run costs its tests, not the half second a new pytest process takes.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

JOBS = "CW_MUTATION_JOBS"
T = TypeVar("T")
PLAIN = (int, float, complex, str, bytes, bool, type(None), Decimal, date, datetime, timedelta)

_failed: list[str] = []


def _plain(value: object) -> bool:
    """Data a module may bind at import time and a mutant may change: moved over."""
    if isinstance(value, PLAIN):
        return True
    if isinstance(value, tuple | list | set | frozenset):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False


def _portable(value: object, known: dict[int, object], shared: set[int]) -> tuple[bool, object]:
    """`value` (from the mutant's namespace) in the loaded module's terms: plain data as
    is; this module's classes and functions as their loaded counterparts (``known``);
    objects both namespaces hold (imports: ``shared``) as is; containers of those
    (``{400: BadRequestError}``). False: something else (left alone)."""
    if isinstance(value, PLAIN) or id(value) in shared:
        return True, value
    if id(value) in known:
        return True, known[id(value)]
    kind = type(value)
    if kind in (tuple, list, set, frozenset):
        items = [_portable(v, known, shared) for v in value]  # type: ignore[attr-defined]
        if all(ok for ok, _ in items):
            return True, kind([v for _, v in items])
    if kind is dict:
        pairs = [
            (_portable(k, known, shared), _portable(v, known, shared))
            for k, v in value.items()  # type: ignore[attr-defined]
        ]
        if all(k[0] and v[0] for k, v in pairs):
            return True, {k[1]: v[1] for k, v in pairs}
    return False, value


def _differs(old: object, new: object) -> bool:
    if type(old) is not type(new):
        return True
    try:
        return bool(old != new)
    except Exception:
        return True


def _swap_function(old: types.FunctionType, new: types.FunctionType) -> bool:
    """Give `old` the code, defaults and closure contents of `new`."""
    if old.__code__.co_freevars != new.__code__.co_freevars:
        return False
    old.__code__ = new.__code__
    old.__defaults__ = new.__defaults__
    old.__kwdefaults__ = new.__kwdefaults__
    for old_cell, new_cell in zip(old.__closure__ or (), new.__closure__ or (), strict=True):
        try:
            before, after = old_cell.cell_contents, new_cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(before, types.FunctionType) and isinstance(after, types.FunctionType):
            _swap_function(before, after)
        elif _plain(after) and _differs(before, after):
            old_cell.cell_contents = after
    return True


def _swap_callable(old: object, new: object) -> bool:
    """A function, or what wraps one (functools.cache, staticmethod, property ...)."""
    if isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
        return _swap_function(old, new)
    if isinstance(old, staticmethod | classmethod) and type(old) is type(new):
        return _swap_callable(old.__func__, new.__func__)
    if isinstance(old, property) and isinstance(new, property):
        pairs = ((old.fget, new.fget), (old.fset, new.fset), (old.fdel, new.fdel))
        return all(a is b or _swap_callable(a, b) for a, b in pairs)
    wrapped_old, wrapped_new = getattr(old, "__wrapped__", None), getattr(new, "__wrapped__", None)
    if wrapped_old is not None and wrapped_new is not None:
        if hasattr(old, "cache_clear"):
            old.cache_clear()
        return _swap_callable(wrapped_old, wrapped_new)
    return False


SKIPPED = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "__doc__",
                     "__slots__", "__firstlineno__", "__static_attributes__"})  # fmt: skip


def _patch_class(old: type, new: type, source: str) -> None:
    for name, value in vars(new).items():
        slots = types.MemberDescriptorType | types.GetSetDescriptorType
        if name in SKIPPED or isinstance(value, slots):
            continue
        current = vars(old).get(name, _MISSING)
        if current is _MISSING:
            with contextlib.suppress(AttributeError, TypeError):
                setattr(old, name, value)
            continue
        code = getattr(value, "__code__", None)
        if code is not None and code.co_filename == source and _swap_callable(current, value):
            continue  # written in the source: swapped in place
        if isinstance(value, type) and isinstance(current, type):
            if value.__qualname__ == current.__qualname__:
                _patch_class(current, value, source)
            continue
        if _swap_callable(current, value):
            continue
        generated = callable(value) or _plain(value) or name == "__attrs_attrs__"
        if generated and _differs(current, value):
            # a method attrs or dataclasses generated (defaults baked in), a field
            with contextlib.suppress(AttributeError, TypeError):
                setattr(old, name, value)


_MISSING = object()


def patch(module: types.ModuleType, text: str) -> None:
    """Run `text` (the mutant) as `module` in a new namespace; move the changes in."""
    origin = module.__file__ or ""
    namespace: dict[str, Any] = {
        "__name__": module.__name__,
        "__file__": origin,
        "__package__": module.__package__,
        "__spec__": module.__spec__,
        "__loader__": module.__loader__,
        "__builtins__": builtins,
    }
    exec(compile(text, origin, "exec", dont_inherit=True), namespace)  # noqa: S102
    old = module.__dict__
    loaded = {id(v) for v in old.values()}
    shared = {id(v) for v in namespace.values() if id(v) in loaded}
    known = {
        id(v): old[n]
        for n, v in namespace.items()
        if n in old and isinstance(v, type | types.FunctionType)
    }
    for name, new in namespace.items():
        if name.startswith("__") and name.endswith("__"):
            continue
        current = old.get(name, _MISSING)
        if current is _MISSING or current is new:
            old.setdefault(name, new)
            continue
        if isinstance(new, type) and isinstance(current, type):
            if new.__module__ == module.__name__:
                _patch_class(current, new, origin)
            continue
        if _swap_callable(current, new):
            continue
        portable, value = _portable(new, known, shared)
        if portable and _differs(current, value):
            old[name] = value
            for other in list(sys.modules.values()):  # ``from module import NAME`` copies
                space = getattr(other, "__dict__", None)
                if isinstance(space, dict) and space.get(name, _MISSING) is current:
                    space[name] = value


def _loaded(origin: str) -> types.ModuleType | None:
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if file and os.path.realpath(file) == origin:
            return module
    return None


def _imports(module: types.ModuleType) -> str | None:
    """A module-level mutant may break the import itself (``if not TYPE_CHECKING:``: a
    circular import), which patching a loaded module cannot show: import it in a new
    interpreter, through the hook. The error's last line, or None."""
    command = [sys.executable, "-c", f"import {module.__name__}"]
    path = os.pathsep.join(p for p in sys.path if p)  # pytest's pythonpath (scripts/) too
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=env)
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]


def _child(
    session: pytest.Session, job: dict[str, Any], tests: list[str], log: Path, basetemp: Path
) -> None:
    started = time.monotonic()
    os.setpgid(0, 0)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    capture = session.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:  # this child's own capture files, not the session's
        capture.stop_global_capturing()
        capture.start_global_capturing()
    origin = os.path.realpath(job["origin"])
    source = Path(job["source"])
    if not source.exists():  # the mutant itself, made here: in parallel, off the driver
        import cosmic_ray.mutating  # noqa: PLC0415  (in .venv-mutation only)
        import cosmic_ray.plugins  # noqa: PLC0415

        original = Path(origin).read_text(encoding="utf-8")
        operator = cosmic_ray.plugins.get_operator(job["operator"])()
        mutated = cosmic_ray.mutating.mutate_code(original, operator, job["occurrence"])
        source.write_text(original if mutated is None else mutated, encoding="utf-8")
    os.environ["CW_MUTANT"] = f"{origin}={job['source']}"
    # The hook (mutation_site.py, installed beside this file): for modules imported
    # from now on, and for every subprocess.
    importlib.import_module("_creditwatch_mutation").activate()
    module = _loaded(origin)
    if module is not None:
        failure = _imports(module) if job["import"] else None
        if failure is None:
            try:
                patch(module, source.read_text(encoding="utf-8"))
            except Exception as error:
                failure = f"{type(error).__name__}: {error}"
        if failure is not None:
            os.write(fd, f"FAILED import: {failure}\n".encode())
            os._exit(1)
    made = time.monotonic()
    factory = session.config._tmp_path_factory  # type: ignore[attr-defined]
    factory._given_basetemp, factory._basetemp = basetemp, None
    by_id = {item.nodeid: item for item in session.items}
    items = [by_id[t] for t in tests]
    for i, item in enumerate(items):
        following = items[i + 1] if i + 1 < len(items) else None
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
        if _failed:
            break
    spent = f"mutant {made - started:.3f} s, tests {time.monotonic() - made:.3f} s"
    os.write(fd, f"TIMES {spent}\n".encode())
    if _failed:
        os.write(fd, f"FAILED {_failed[0]}\n".encode())
    os._exit(1 if _failed else 0)


def within_budget(tests: list[T], seconds: Callable[[T], float], budget: float) -> list[T]:
    """The first `tests` whose baseline seconds fit `budget` (at least one; 0: all)."""
    chosen: list[T] = []
    spent = 0.0
    for test in tests:
        spent += seconds(test)
        if chosen and budget and spent > budget:
            break
        chosen.append(test)
    return chosen


class _Killers:
    """Which tests killed mutants so far, per line and per file: they go first for the
    next mutant there (a test that caught one bug in a line tends to catch the next)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.tests: list[str] = settings["tests"]
        self.seconds: list[float] = settings["seconds"]
        self.budget: float = settings["budget"]
        self.index = {t: i for i, t in enumerate(self.tests)}
        self.by_line: dict[tuple[str, int], dict[int, int]] = {}
        self.by_file: dict[str, dict[int, int]] = {}

    def order(self, job: dict[str, Any]) -> list[int]:
        """The job's tests, killers first, cut at the budget (at least one)."""
        line = self.by_line.get((job["origin"], job["line"]), {})
        file = self.by_file.get(job["origin"], {})
        ranked = sorted(
            enumerate(job["tests"]), key=lambda p: (-line.get(p[1], 0), -file.get(p[1], 0), p[0])
        )
        return within_budget([t for _, t in ranked], self.seconds.__getitem__, self.budget)

    def killer(self, log: str) -> int | None:
        """The test that failed, from a child's log."""
        found = re.search(r"^FAILED (\S+)$", log, re.MULTILINE)
        return self.index.get(found.group(1)) if found else None

    def killed(self, job: dict[str, Any], test: int) -> None:
        for counts in (
            self.by_line.setdefault((job["origin"], job["line"]), {}),
            self.by_file.setdefault(job["origin"], {}),
        ):
            counts[test] = counts.get(test, 0) + 1


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _failed.append(report.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool:
    """Run the mutants of ``CW_MUTATION_JOBS`` (see the module docstring); write one
    JSON line per mutant: its id, exit status (null: timed out) and seconds."""
    settings = json.loads(Path(os.environ[JOBS]).read_text(encoding="utf-8"))
    known = {item.nodeid for item in session.items}
    missing = set(settings["tests"]) - known
    if missing:
        raise pytest.UsageError(f"tests not collected: {sorted(missing)[:5]}")
    killers = _Killers(settings)
    state = Path(settings["state"])
    results = Path(settings["results"]).open("a", encoding="utf-8")  # noqa: SIM115
    queue = list(settings["mutants"])
    gc.freeze()  # the collected session is shared with every child: keep its pages shared
    free = list(range(settings["jobs"]))
    running: dict[int, tuple[dict[str, Any], list[int], float, float, int]] = {}
    done = 0
    while queue or running:
        while queue and free:
            job, slot = queue.pop(0), free.pop()
            chosen = killers.order(job)
            names = [settings["tests"][i] for i in chosen]
            limit = settings["timeout"] + 3 * sum(settings["seconds"][i] for i in chosen)
            limit += 10 if job["import"] else 0  # the fresh interpreter
            sys.stdout.flush()
            sys.stderr.flush()
            started = time.monotonic()
            pid = os.fork()
            if pid == 0:
                try:
                    _child(session, job, names, state / f"run{slot}.log", state / f"tmp{slot}")
                finally:
                    os._exit(3)
            running[pid] = (job, chosen, started, started + limit, slot)
        time.sleep(0.002)
        now = time.monotonic()
        for pid, (job, chosen, started, deadline, slot) in list(running.items()):
            got, status = os.waitpid(pid, os.WNOHANG)
            if got == 0 and now < deadline:
                continue
            if got == 0:  # out of time: the child and whatever it started
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # a subprocess a test left behind
            log = (state / f"run{slot}.log").read_text(encoding="utf-8", errors="replace")
            code = None if got == 0 else os.waitstatus_to_exitcode(status)
            test = killers.killer(log) if code == 1 else None
            ran = chosen
            if test is not None and test in chosen:
                killers.killed(job, test)
                ran = chosen[: chosen.index(test) + 1]
            record = {
                "id": job["id"],
                "status": code,
                "seconds": time.monotonic() - started,
                "ran": ran,
                "log": log[-3000:],
            }
            results.write(json.dumps(record) + "\n")
            results.flush()
            del running[pid]
            free.append(slot)
            done += 1
            if done % 100 == 0 or not (queue or running):
                total = len(settings["mutants"])
                print(f"   {done}/{total} mutants run", file=sys.__stderr__, flush=True)
    return True
