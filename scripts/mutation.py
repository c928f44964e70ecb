"""Mutation testing over the modules in scripts/mutation.toml: cosmic-ray's mutants,
each run against the tests that execute the line it changes.

Run by scripts/mutation.sh (which makes the environment); by hand:

    .venv-mutation/bin/python scripts/mutation.py [--module NAME ...] [--jobs N]
    .venv-mutation/bin/python scripts/mutation.py --report-only

Works on a copy of the repository (.mutation/work, installed editable in the running
venv): the checkout is never touched, and neither is the copy: a mutant is served to
the imports of its test run by an import hook (scripts/mutation_site.py), so two
mutants run at once, one per core.

1. Mutants: cosmic-ray's operators (minus ``exclude-operators``) over every file the
   modules' paths match, as ``cosmic-ray init`` makes them.
2. Which tests run which line: the modules' tests run once, with coverage.py recording
   each test's lines under its node id (subprocesses too: the CLI tests run
   ``python -m creditwatch``). A failing test stops the run here: it would make every
   mutant look killed.
3. Each mutant runs the tests that execute its statement, fastest first, stopping at
   the first failure (``pytest -x``), in a process forked from this one (the test
   libraries are already imported; creditwatch is not, so the child imports the
   mutant). A statement that runs at import time (module or class level, a ``def``
   line's defaults or decorators) gets every test that runs any line of its file. A
   mutant no test executes survives without a run. A failure, an error or the time
   limit kills it.
4. A report per module and one closing line, ``mutation: K/N killed (P %)``. Mutants
   listed in tests/mutation/equivalent.toml are not run and are left out of N
   (``--verify-equivalents`` runs them: one a test kills counts as killed, and the
   report says the entry is wrong). An entry matches by file, operator, the source
   line it changes and the line it becomes (whitespace stripped), not by line number.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mutation_server import within_budget  # the one budget cut (the server applies it)

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "scripts" / "mutation.toml"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.toml"
STATE = Path(os.environ.get("MUTATION_STATE") or ROOT / ".mutation").resolve()
WORK = STATE / "work"
SITE = STATE / "site"
MUTANTS = STATE / "mutants"
COVERAGE = STATE / "coverage"
RESULTS = STATE / "results.json"
COPIED = ("specs", "scripts", "generated", "overlays", "tests", "pyproject.toml", "README.md",
          "CHANGELOG.md", "CONTRIBUTING.md")  # fmt: skip
# Parameters that choose a provider or a transport mode: a test's cases that differ only
# in these mostly run the same lines of the core (the order in `select`).
SAME_PATH = frozenset(
    [p.stem for p in (ROOT / "specs" / "providers").glob("*.yaml")]
    + ["sync", "async", "aiohttp", "httpx"]
)
PYTEST = ("-q", "-p", "no:cacheprovider", "-p", "asyncio")


# -- the mutants ----------------------------------------------------------------------


@dataclass
class Mutant:
    module: str  # the [[module]] it belongs to
    file: str  # relative to the repository
    operator: str
    occurrence: int
    lineno: int
    column: int
    line: str = ""  # the source line(s) it changes, whitespace stripped
    mutant: str = ""  # what they become
    outcome: str = "pending"  # killed, survived, equivalent
    detail: str = ""  # the test that killed it, "timeout", "no test runs this line" ...
    seconds: float = 0.0
    tests: list[str] = field(default_factory=list)  # the tests run (in the report)
    at_import: bool = False  # a module-level statement: also checked by a fresh import

    def key(self) -> tuple[str, str, str, str]:
        return (self.file, self.operator, self.line, self.mutant)

    def source_path(self) -> Path:
        return (
            MUTANTS
            / f"{self.file.replace('/', '_')}.{self.operator.replace('/', '_')}.{self.occurrence}.py"  # noqa: E501
        )


def operators(excluded: list[str]) -> list[tuple[str, Any]]:
    """cosmic-ray's operators (the ones that take no arguments, as ``cosmic-ray init``
    uses them), minus those matching an ``exclude-operators`` pattern."""
    import cosmic_ray.plugins  # noqa: PLC0415  (in .venv-mutation only)

    pattern = re.compile("|".join(f"(?:{e})" for e in excluded)) if excluded else None
    chosen = []
    for name in sorted(cosmic_ray.plugins.operator_names()):
        operator_class = cosmic_ray.plugins.get_operator(name)
        if operator_class.arguments() or (pattern and pattern.match(name)):
            continue
        chosen.append((name, operator_class()))
    return chosen


def find_mutants(module: str, file: str, chosen: list[tuple[str, Any]]) -> list[Mutant]:
    from cosmic_ray.ast import ast_nodes, get_ast_from_path  # noqa: PLC0415

    tree = get_ast_from_path(WORK / file)
    found = []
    for name, operator in chosen:
        positions = (p for node in ast_nodes(tree) for p in operator.mutation_positions(node))
        for occurrence, (start, _end) in enumerate(positions):
            found.append(Mutant(module, file, name, occurrence, start[0], start[1]))
    return found


def mutate(mutant: Mutant) -> str:
    """The mutated source (cached in .mutation/mutants); sets `line` and `mutant`."""
    import cosmic_ray.plugins  # noqa: PLC0415
    from cosmic_ray.mutating import mutate_code  # noqa: PLC0415

    path = mutant.source_path()
    original = (WORK / mutant.file).read_text(encoding="utf-8")
    if path.exists():
        mutated = path.read_text(encoding="utf-8")
    else:
        operator = cosmic_ray.plugins.get_operator(mutant.operator)()
        result = mutate_code(original, operator, mutant.occurrence)
        mutated = original if result is None else result
        path.write_text(mutated, encoding="utf-8")
    mutant.line, mutant.mutant = changed_lines(original, mutated)
    return mutated


def changed_lines(original: str, mutated: str) -> tuple[str, str]:
    minus, plus = [], []
    for line in difflib.unified_diff(original.split("\n"), mutated.split("\n"), lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            minus.append(line[1:].strip())
        elif line.startswith("+") and not line.startswith("+++"):
            plus.append(line[1:].strip())
    return " / ".join(minus), " / ".join(plus)


class Equivalents:
    """tests/mutation/equivalent.toml: ``file`` may be a glob (one entry for a line the
    code generator writes into every model, say)."""

    def __init__(self) -> None:
        text = EQUIVALENT.read_text(encoding="utf-8")
        self.entries: list[dict[str, str]] = tomllib.loads(text).get("equivalent", [])

    def may_list(self, mutant: Mutant, source_line: str) -> bool:
        """Whether an entry could match (before the mutant is made: file, operator and
        the original line; the mutated line is checked by `__contains__`)."""
        return any(
            fnmatch.fnmatchcase(mutant.file, e["file"])
            and e["operator"] == mutant.operator
            and source_line in e["line"]
            for e in self.entries
        )

    def __contains__(self, key: tuple[str, str, str, str]) -> bool:
        file, operator, line, mutant = key
        return any(
            fnmatch.fnmatchcase(file, e["file"])
            and (e["operator"], e["line"], e["mutant"]) == (operator, line, mutant)
            for e in self.entries
        )


# -- the copy and the environment -----------------------------------------------------


def copy_tree() -> None:
    """The repository's files (not .venv, caches, node_modules) into WORK."""
    for stale in (WORK, MUTANTS, COVERAGE):
        if stale.exists():
            shutil.rmtree(stale)
    WORK.mkdir(parents=True)
    MUTANTS.mkdir()
    COVERAGE.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".hypothesis")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, WORK / name, ignore=ignore)
        else:
            shutil.copy2(source, WORK / name)


def install() -> None:
    """WORK, editable, into this venv (the tests import creditwatch from WORK's files),
    and the start-up hook: a .pth line that imports scripts/mutation_site.py."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "-e", str(WORK)],
        check=True, cwd=WORK,
    )  # fmt: skip
    SITE.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "scripts" / "mutation_site.py", SITE / "_creditwatch_mutation.py")
    shutil.copy2(ROOT / "scripts" / "mutation_server.py", SITE / "_creditwatch_mutation_server.py")
    pth = Path(sysconfig.get_paths()["purelib"]) / "_creditwatch_mutation.pth"
    pth.write_text(f"{SITE}\nimport _creditwatch_mutation\n", encoding="utf-8")


# -- which tests run which line -------------------------------------------------------


@dataclass
class Coverage:
    """Per file and line, the tests that run it; per test, its time."""

    lines: dict[str, dict[int, set[str]]]
    seconds: dict[str, float]

    def file_tests(self, file: str) -> set[str]:
        return set().union(*self.lines.get(file, {}).values())


def baseline(tests: list[str], skip: list[str], files: list[str], jobs: int) -> Coverage | None:
    """Run `tests` once (in `jobs` processes, split by file), recording coverage of
    `files` per test. None when a test fails."""
    deselect = ["-k", " and ".join(f"not {s}" for s in skip)] if skip else []
    include = [str(WORK / f) for f in files]
    groups: list[list[str]] = [[] for _ in range(jobs)]
    for i, test in enumerate(sorted(tests, key=lambda t: -(WORK / t).stat().st_size)):
        groups[i % jobs].append(test)
    procs = []
    for n, group in enumerate(g for g in groups if g):
        settings = {"data_file": str(COVERAGE / "cov"), "include": include}
        env = {**os.environ, "CW_MUTATION_COVERAGE": json.dumps(settings)}
        command = [sys.executable, "-m", "pytest", *PYTEST, "-p", "_creditwatch_mutation",
                   "--basetemp", str(STATE / f"tmp-baseline{n}"), *deselect, *group]  # fmt: skip
        log = (STATE / f"baseline{n}.log").open("w", encoding="utf-8")
        procs.append((subprocess.Popen(command, cwd=WORK, env=env, stdout=log, stderr=log), n))
    failed = False
    for proc, n in procs:
        if proc.wait() != 0:
            failed = True
            text = (STATE / f"baseline{n}.log").read_text(encoding="utf-8")
            print(f"mutation: the tests fail without a mutant:\n{text[-4000:]}", file=sys.stderr)
    if failed:
        return None
    return read_coverage(files)


def read_coverage(files: list[str]) -> Coverage:
    """The baseline's coverage files (one per process, subprocesses included), merged."""
    import coverage  # noqa: PLC0415  (in .venv-mutation only)
    from coverage.data import combine_parallel_data  # noqa: PLC0415

    data = coverage.CoverageData(basename=str(COVERAGE / "cov"))
    combine_parallel_data(data, data_paths=[str(COVERAGE)], keep=True)
    lines: dict[str, dict[int, set[str]]] = {}
    for file in files:
        by_line = data.contexts_by_lineno(str(WORK / file))
        lines[file] = {n: {c for c in contexts if c} for n, contexts in by_line.items()}
    seconds: dict[str, float] = {}
    for times in COVERAGE.glob("times.*.json"):
        seconds.update(json.loads(times.read_text(encoding="utf-8")))
    return Coverage(lines, seconds)


BLOCKS = ("body", "orelse", "finalbody", "handlers")
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _children(node: ast.AST) -> list[ast.stmt | ast.excepthandler]:
    return [c for name in BLOCKS for c in getattr(node, name, [])]


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    decorators = [d.lineno for d in getattr(node, "decorator_list", [])]
    start = (min(decorators), 0) if decorators else (node.lineno, node.col_offset)  # type: ignore[attr-defined]
    return start, (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


class Source:
    """One mutated file's syntax tree: where a mutant sits, and which lines inside
    functions use a name (the readers of a constant, a field, a class)."""

    def __init__(self, text: str) -> None:
        self.tree = ast.parse(text)
        self.uses: dict[str, set[int]] = {}
        for function in ast.walk(self.tree):
            if isinstance(function, FUNCTIONS):
                for statement in function.body:
                    for node in ast.walk(statement):
                        name = (
                            node.id
                            if isinstance(node, ast.Name)
                            else node.attr
                            if isinstance(node, ast.Attribute)
                            else node.arg
                            if isinstance(node, ast.keyword)
                            else None
                        )
                        if name and hasattr(node, "lineno"):
                            self.uses.setdefault(name, set()).add(node.lineno)

    def locate(self, lineno: int, column: int) -> tuple[list[ast.AST], ast.AST]:
        """The statements that contain the position, outermost first, and the innermost."""
        path: list[ast.AST] = []
        node: ast.AST = self.tree
        while True:
            inner = next(
                (c for c in _children(node) if _span(c)[0] <= (lineno, column) < _span(c)[1]),
                None,
            )
            if inner is None:
                return path, node
            path.append(inner)
            node = inner


class Where:
    """What a mutant's test run must cover: the lines it changes, or (for code that runs
    at import time, once for all tests) the lines that read what it defines."""

    def __init__(self, sources: dict[str, Source]) -> None:
        self.sources = sources

    def lines(self, file: str, lineno: int, column: int) -> dict[str, set[int]] | None:
        """Lines per file whose tests can tell the mutant apart; None: every test that
        runs any line of the file."""
        path, node = self.sources[file].locate(lineno, column)
        in_function = any(isinstance(n, FUNCTIONS) for n in path[:-1])
        if in_function or not path:  # a statement that runs when it is reached
            return {file: set(range(*self.header(node, lineno)))} if in_function else None
        if isinstance(node, FUNCTIONS):  # a def line: defaults, decorators, annotations
            first = node.body[0]
            start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", []))])
            return {file: set(range(start, node.end_lineno + 1))}  # type: ignore[operator]
        names = self.defined(node)
        if not names:  # an import, an if at module level ...
            return None
        found = {
            other: set().union(*(source.uses.get(n, set()) for n in names))
            for other, source in self.sources.items()
        }
        return found if any(found.values()) else None

    def names(self, file: str, lineno: int, column: int) -> set[str]:
        """What a mutant at import time defines (a function's name for its ``def``
        line, a class's for its decorators or body): tests that name it may construct or
        call it without running a line the coverage saw (a keyword-only argument refused)."""
        path, node = self.sources[file].locate(lineno, column)
        if any(isinstance(n, FUNCTIONS) for n in path[:-1]) or not path:
            return set()
        classes = {n.name for n in path if isinstance(n, ast.ClassDef)}
        if isinstance(node, FUNCTIONS):
            return {node.name} | classes
        return self.defined(node) | classes

    @staticmethod
    def header(node: ast.AST, lineno: int) -> tuple[int, int]:
        """A statement's lines; a compound statement's header only."""
        start = _span(node)[0][0]
        body = [c.lineno for c in _children(node)]
        end = min(body) - 1 if body else getattr(node, "end_lineno", lineno)
        return start, max(end, start) + 1

    @staticmethod
    def defined(node: ast.AST) -> set[str]:
        """The names a module- or class-level statement binds (a class: its name)."""
        if isinstance(node, ast.ClassDef):
            return {node.name}
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        return {
            n.id if isinstance(n, ast.Name) else n.attr
            for t in targets
            for n in ast.walk(t)
            if isinstance(n, ast.Name | ast.Attribute)
        }


class Naming:
    """Which test functions name which identifiers (in their bodies), by node id."""

    def __init__(self, test_files: list[str], cover: Coverage) -> None:
        by_function: dict[str, set[str]] = {}
        for file in test_files:
            tree = ast.parse((WORK / file).read_text(encoding="utf-8"))
            used = {  # every function of the file (its decorators too): the names in it
                node.name: {
                    n.id if isinstance(n, ast.Name) else n.attr
                    for n in ast.walk(node)
                    if isinstance(n, ast.Name | ast.Attribute)
                }
                for node in ast.walk(tree)
                if isinstance(node, FUNCTIONS)
            }
            for name in used:
                if name.startswith("test"):  # and what the file's helpers it names use
                    seen, todo = set[str](), [name]
                    while todo:
                        for n in used.get(todo.pop(), set()) - seen:
                            seen.add(n)
                            todo.append(n)
                    by_function[f"{file}::{name}"] = seen
        self.users: dict[str, set[str]] = {}
        for test in cover.seconds:
            function = test.partition("[")[0]
            key = (
                function
                if function in by_function
                else "::".join(function.split("::")[:1] + function.split("::")[-1:])
            )
            for name in by_function.get(key, ()):
                self.users.setdefault(name, set()).add(test)

    def tests(self, names: set[str]) -> set[str]:
        return set().union(*(self.users.get(n, set()) for n in names))


def select(
    mutant: Mutant, where: Where, cover: Coverage, naming: Naming | None = None
) -> list[str]:
    """The tests that run the mutant's lines (see `Where`), in the order that finds a
    failure soonest: first the fastest case of each test and parameter set (the
    provider and the mode set aside: ``[exorde-slow-sync]`` is one case of
    ``[slow]``), then the other cases, fastest first. The server moves the tests that
    killed other mutants of the line, then of the file, to the front, and cuts the list
    at the time budget."""
    wanted = where.lines(mutant.file, mutant.lineno, mutant.column)
    if wanted is None:
        chosen = cover.file_tests(mutant.file)
    else:
        chosen = {
            test
            for file, lines in wanted.items()
            for n in lines
            for test in cover.lines.get(file, {}).get(n, set())
        }
    ordered = sorted(chosen, key=lambda t: (cover.seconds.get(t, 1.0), t))
    first: dict[tuple[str, tuple[str, ...]], str] = {}
    for test in ordered:
        function, _, params = test.partition("[")
        kept = tuple(p for p in re.split(r"-", params.rstrip("]")) if p and p not in SAME_PATH)
        first.setdefault((function, kept), test)
    leaders = set(first.values())
    named = (
        naming.tests(where.names(mutant.file, mutant.lineno, mutant.column)) if naming else set()
    )
    named_first = sorted(named, key=lambda t: (cover.seconds.get(t, 1.0), t))
    rest = [t for t in ordered if t in leaders] + [t for t in ordered if t not in leaders]
    return named_first + [t for t in rest if t not in named]


# -- running the mutants --------------------------------------------------------------


def null_mutants(files: dict[str, str], cover: Coverage) -> list[Mutant]:
    """A control per file: its source unchanged, served by the import hook, under the
    20 fastest tests that run it. Each must pass: else the runner, not a mutant, fails
    tests, and every mutant would look killed."""
    controls = []
    for file, module in files.items():
        control = Mutant(module, file, "null", 0, 1, 0, at_import=True)
        shutil.copy2(WORK / file, control.source_path())
        chosen = sorted(cover.file_tests(file), key=lambda t: (cover.seconds.get(t, 1.0), t))
        control.tests = chosen[:20]
        if control.tests:
            controls.append(control)
    return controls


def finish(mutant: Mutant, status: int | None, seconds: float, log: str) -> None:
    """Record the outcome of a finished (status) or timed-out (None) run."""
    mutant.seconds = seconds
    mutate(mutant)  # the child made it; read it for the report
    if status is None:
        mutant.outcome, mutant.detail = "killed", "timeout"
    elif status == 0:
        mutant.outcome, mutant.detail = "survived", f"{len(mutant.tests)} tests pass"
    elif status == 1:
        failed = re.search(r"^FAILED (.+)$", log, re.MULTILINE)
        mutant.outcome, mutant.detail = "killed", failed.group(1) if failed else "failed"
    elif status < 0:
        mutant.outcome, mutant.detail = "killed", f"signal {-status}"
    else:  # the runner's fault, not a kill
        where = f"{mutant.file}:{mutant.lineno}"
        raise RuntimeError(f"the mutant run exited {status} for {where}:\n{log}")


def run_all(
    mutants: list[Mutant],
    settings: dict[str, Any],
    tests: list[str],
    cover: Coverage,
    *,
    jobs: int,
    budget: float,
) -> None:
    """Run `mutants` in one pytest session over `tests` (scripts/mutation_server.py),
    `jobs` at once, the longest first (so no core idles at the end)."""

    def cost(m: Mutant) -> float:
        return sum(
            cover.seconds.get(t, 1.0)
            for t in within_budget(m.tests, lambda t: cover.seconds.get(t, 1.0), budget)
        )

    queue = sorted(mutants, key=cost, reverse=True)
    table = sorted({t for m in queue for t in m.tests})
    index = {t: i for i, t in enumerate(table)}
    jobs_file, results = STATE / "jobs.json", STATE / "results.jsonl"
    results.unlink(missing_ok=True)
    spec = {
        "jobs": jobs,
        "state": str(STATE),
        "results": str(results),
        "budget": budget,
        "timeout": float(settings["timeout"]),
        "tests": table,
        "seconds": [cover.seconds.get(t, 1.0) for t in table],
        "mutants": [
            {
                "id": i,
                "origin": str(WORK / m.file),
                "line": m.lineno,
                "source": str(m.source_path()),
                "operator": m.operator,
                "occurrence": m.occurrence,
                "tests": [index[t] for t in m.tests],
                "import": m.at_import,
            }
            for i, m in enumerate(queue)
        ],
    }
    jobs_file.write_text(json.dumps(spec), encoding="utf-8")
    skip = settings.get("skip", [])
    deselect = ["-k", " and ".join(f"not {s}" for s in skip)] if skip else []
    command = [sys.executable, "-m", "pytest", *PYTEST, "-p", "_creditwatch_mutation_server",
               "--basetemp", str(STATE / "tmp-server"), *deselect, *tests]  # fmt: skip
    env = {**os.environ, "CW_MUTATION_JOBS": str(jobs_file)}
    with (STATE / "server.log").open("w", encoding="utf-8") as log:
        code = subprocess.run(command, cwd=WORK, env=env, stdout=log, check=False).returncode
    seen = set()
    for line in results.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        seen.add(record["id"])
        mutant = queue[record["id"]]
        mutant.tests = [table[i] for i in record["ran"]]
        finish(mutant, record["status"], record["seconds"], record["log"])
    if code != 0 or len(seen) != len(queue):
        text = (STATE / "server.log").read_text(encoding="utf-8", errors="replace")
        raise RuntimeError(f"the mutant runs ended early (exit {code}):\n{text[-3000:]}")


# -- the report -----------------------------------------------------------------------


def report(modules: list[str], mutants: list[Mutant], wall: float) -> None:
    killed = counted = 0
    for name in modules:
        mine = [m for m in mutants if m.module == name]
        by = Counter(m.outcome for m in mine)
        print(f"== {name}: {dict(by)}", flush=True)
        for m in sorted(mine, key=lambda m: (m.file, m.lineno)):
            if m.outcome == "survived" or m.detail.startswith("listed"):
                print(f"   {m.outcome} {m.file}:{m.lineno} {m.operator} ({m.detail})\n"
                      f"      - {m.line}\n      + {m.mutant}")  # fmt: skip
    print()
    for name in modules:
        mine = [m for m in mutants if m.module == name]
        k = sum(m.outcome == "killed" for m in mine)
        n = k + sum(m.outcome == "survived" for m in mine)
        equivalent = sum(m.outcome == "equivalent" for m in mine)
        seconds = sum(m.seconds for m in mine)
        print(f"{name}: {k}/{n} killed ({100 * k / max(n, 1):.1f} %), {equivalent} equivalent, "
              f"{len(mine)} generated, {seconds:.0f} s of test runs")  # fmt: skip
        killed, counted = killed + k, counted + n
    if wall:
        print(f"wall time: {wall:.0f} s")
    print(f"mutation: {killed}/{counted} killed ({100 * killed / max(counted, 1):.1f} %)")


def save(mutants: Iterable[Mutant]) -> None:
    RESULTS.write_text(json.dumps([asdict(m) for m in mutants], indent=1), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="only these [[module]] names (substring)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--budget", type=float, help="seconds of tests per mutant (0: all)")
    parser.add_argument("--report-only", action="store_true", help="the last run's results")
    parser.add_argument("--verify-equivalents", action="store_true",
                        help="run the listed equivalent mutants too")  # fmt: skip
    parser.add_argument("--installed", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    settings, modules = config["settings"], config["module"]
    if args.module:
        modules = [m for m in modules if any(s in m["name"] for s in args.module)]
    names = [m["name"] for m in modules]
    if args.report_only:
        saved = [Mutant(**m) for m in json.loads(RESULTS.read_text(encoding="utf-8"))]
        report(names, [m for m in saved if m.module in names], 0.0)
        return 0

    if args.installed is None:  # copy and install, then start again: this process's
        began = time.time()  # imports must see the editable install and the hook
        copy_tree()
        install()
        argv = [sys.executable, __file__, *sys.argv[1:], "--installed", str(began)]
        os.execv(sys.executable, argv)  # noqa: S606
    began = time.monotonic() - (time.time() - args.installed)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.environ["CW_MUTATION_IN_PROCESS"] = "1"  # tests/test_cli.py: main() in the test process
    chosen = operators(settings["exclude-operators"])
    mutants: list[Mutant] = []
    files: dict[str, str] = {}
    for module in modules:
        matched = sorted(
            {
                str(Path(p).relative_to(WORK))
                for pattern in module["paths"]
                for p in glob.glob(str(WORK / pattern))
            }
        )
        if not matched:
            print(f"mutation: {module['name']}: no file matches {module['paths']}", file=sys.stderr)
            return 2
        for file in matched:
            files[file] = module["name"]
            mutants += find_mutants(module["name"], file, chosen)
    print(f"mutation: {len(mutants)} mutants in {len(files)} files", flush=True)

    tests = sorted({t for m in modules for t in m["tests"]})
    cover = baseline(tests, settings.get("skip", []), sorted(files), args.jobs)
    if cover is None:
        return 2
    print(f"mutation: baseline with coverage, {len(cover.seconds)} tests, "
          f"{time.monotonic() - began:.0f} s in", flush=True)  # fmt: skip

    listed = Equivalents()
    budget = float(settings["budget"] if args.budget is None else args.budget)
    where = Where({file: Source((WORK / file).read_text(encoding="utf-8")) for file in files})
    naming = Naming(tests, cover)
    sources = {file: (WORK / file).read_text(encoding="utf-8").splitlines() for file in files}
    pending = []
    for mutant in mutants:
        source_line = sources[mutant.file][mutant.lineno - 1].strip()
        if listed.may_list(mutant, source_line):
            mutate(mutant)
            if mutant.key() in listed and not args.verify_equivalents:
                mutant.outcome, mutant.detail = "equivalent", "listed"
                continue
        mutant.tests = select(mutant, where, cover, naming)
        mutant.at_import = where.lines(mutant.file, mutant.lineno, mutant.column) is None
        if not mutant.tests:
            mutate(mutant)
            mutant.outcome, mutant.detail = "survived", "no test runs this line"
            continue
        pending.append(mutant)
    controls = null_mutants(files, cover)
    run_all(controls, settings, tests, cover, jobs=args.jobs, budget=budget)
    if broken := [m for m in controls if m.outcome != "survived"]:
        for m in broken:
            print(f"mutation: {m.file} unmutated, served by the hook, fails: {m.detail}")
        return 2
    print(f"mutation: running {len(pending)} mutants, {args.jobs} at once", flush=True)
    run_all(pending, settings, tests, cover, jobs=args.jobs, budget=budget)
    for mutant in mutants:
        if mutant.key() in listed and mutant.outcome != "equivalent":
            if mutant.outcome == "killed":
                mutant.detail = f"listed as equivalent, but {mutant.detail} kills it"
            else:
                mutant.outcome, mutant.detail = "equivalent", "listed"
    save(mutants)
    report(names, mutants, time.monotonic() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
