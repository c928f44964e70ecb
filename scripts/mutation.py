"""Mutation testing over the modules in scripts/mutation.toml, with cosmic-ray.

Run by scripts/mutation.sh (which makes the environment); by hand:

    .venv-mutation/bin/python scripts/mutation.py [--module NAME ...] [--report-only]

Works on a copy of the repository (.mutation/work, installed editable in the running
venv, so the tests import the mutated files): the checkout is never touched. For each
configured module and each file its paths match: a cosmic-ray session (init, the
operator filter, exec: one mutant at a time, the module's tests as the command), then
a report per module and one closing line, ``mutation: K/N killed (P %)``. Mutants
listed in tests/mutation/equivalent.toml are left out of N.

A mutant is matched to the list by file, operator, the source line it changes and the
line it becomes (whitespace stripped): not by line number, which moves.
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "scripts" / "mutation.toml"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.toml"
STATE = ROOT / ".mutation"
WORK = STATE / "work"
COPIED = ("specs", "scripts", "generated", "overlays", "tests", "pyproject.toml", "README.md",
          "CHANGELOG.md", "CONTRIBUTING.md")  # fmt: skip
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Mutant:
    file: str
    operator: str
    line: str
    mutant: str
    lineno: int
    outcome: str  # killed, survived, equivalent

    def key(self) -> tuple[str, str, str, str]:
        return (self.file, self.operator, self.line, self.mutant)


@dataclass
class Tally:
    name: str
    mutants: list[Mutant] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(m.outcome == outcome for m in self.mutants)


def copy_tree() -> None:
    """The repository's files (not .venv, caches, node_modules) into WORK."""
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", ".hypothesis")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, WORK / name, ignore=ignore)
        else:
            shutil.copy2(source, WORK / name)


def install() -> None:
    """WORK, editable, into this venv: the tests import creditwatch from WORK's files."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "-e", str(WORK)],
        check=True, cwd=WORK,
    )  # fmt: skip


class Equivalents:
    """tests/mutation/equivalent.toml: ``file`` may be a glob (one entry for a line the
    code generator writes into every model, say)."""

    def __init__(self) -> None:
        text = EQUIVALENT.read_text(encoding="utf-8")
        self.entries: list[dict[str, str]] = tomllib.loads(text).get("equivalent", [])

    def __contains__(self, key: tuple[str, str, str, str]) -> bool:
        file, operator, line, mutant = key
        return any(
            fnmatch.fnmatchcase(file, e["file"])
            and (e["operator"], e["line"], e["mutant"]) == (operator, line, mutant)
            for e in self.entries
        )


def test_command(tests: list[str], skip: list[str]) -> str:
    # Plugins are loaded explicitly (no entry-point autoload: hypothesis & co. cost a
    # second per mutant); -x: the first failure kills the mutant.
    deselect = f' -k "{" and ".join(f"not {s}" for s in skip)}"' if skip else ""
    return (f"{BIN / 'python'} -m pytest -x -q -p no:cacheprovider -p asyncio"
            f"{deselect} {' '.join(tests)}")  # fmt: skip


def baseline(tests: list[str], skip: list[str]) -> bool:
    """The module's tests pass on the unmutated copy (else every mutant looks killed)."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = shlex.split(test_command(tests, skip))
    result = subprocess.run(command, cwd=WORK, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(
            f"mutation: the tests fail without a mutant:\n{result.stdout[-3000:]}", file=sys.stderr
        )
    return result.returncode == 0


def cosmic(*args: str) -> None:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    subprocess.run([str(BIN / args[0]), *args[1:]], check=True, cwd=WORK, env=env)


def session(
    file: str, tests: list[str], skip: list[str], settings: dict[str, object], db: Path
) -> None:
    excluded = ", ".join(f"'{e}'" for e in settings["exclude-operators"])  # type: ignore[attr-defined]
    config = db.with_suffix(".toml")
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = '{file}'\n"
        f"timeout = {settings['timeout']}\n"
        "excluded-modules = []\n"
        f"test-command = '{test_command(tests, skip)}'\n"
        "[cosmic-ray.distributor]\nname = 'local'\n"
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n",
        encoding="utf-8",
    )
    db.unlink(missing_ok=True)
    cosmic("cosmic-ray", "init", str(config), str(db))
    cosmic("cr-filter-operators", str(db), str(config))
    cosmic("cosmic-ray", "exec", str(config), str(db))


def changed_lines(diff: str) -> tuple[str, str]:
    minus = [
        ln[1:].strip()
        for ln in diff.splitlines()
        if ln.startswith("-") and not ln.startswith("---")
    ]
    plus = [
        ln[1:].strip()
        for ln in diff.splitlines()
        if ln.startswith("+") and not ln.startswith("+++")
    ]
    return " / ".join(minus), " / ".join(plus)


def read_session(db: Path, file: str, listed: Equivalents) -> list[Mutant]:
    """The session's finished mutants (``cosmic-ray dump``: one JSON pair a line); none
    for a session not started yet (``--report-only`` during a run)."""
    if not db.exists():
        return []
    dump = subprocess.run(
        [str(BIN / "cosmic-ray"), "dump", str(db)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    out = []
    for row in dump.splitlines():
        item, result = json.loads(row)
        if result is None or result["worker_outcome"] == "skipped":
            continue
        (mutation,) = item["mutations"]
        line, mutant = changed_lines(result.get("diff") or "")
        outcome = "survived" if result.get("test_outcome") == "survived" else "killed"
        found = Mutant(
            file, mutation["operator_name"], line, mutant, mutation["start_pos"][0], outcome
        )
        if found.key() in listed:
            if outcome == "killed":  # a test tells it apart: the entry is wrong
                print(f"   listed as equivalent but killed: {file}:{found.lineno} "
                      f"{found.operator}: {found.mutant}")  # fmt: skip
            else:
                found = Mutant(*found.key(), found.lineno, "equivalent")
        out.append(found)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="only these [[module]] names (substring)")
    parser.add_argument("--report-only", action="store_true", help="read the last sessions")
    args = parser.parse_args()
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    settings, modules = config["settings"], config["module"]
    if args.module:
        modules = [m for m in modules if any(s in m["name"] for s in args.module)]
    listed = Equivalents()
    sessions = STATE / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        copy_tree()
        install()
    tallies = []
    for module in modules:
        tally = Tally(module["name"])
        files = sorted(
            {
                str(Path(p).relative_to(WORK))
                for pattern in module["paths"]
                for p in glob.glob(str(WORK / pattern))
            }
        )
        if not files:
            print(f"mutation: {module['name']}: no file matches {module['paths']}", file=sys.stderr)
            return 2
        started = time.monotonic()
        if not args.report_only and not baseline(module["tests"], module.get("skip", [])):
            return 2
        for file in files:
            db = sessions / (file.replace("/", "_").removesuffix(".py") + ".sqlite")
            if not args.report_only:
                print(f"-- {module['name']}: {file}", flush=True)
                session(file, module["tests"], module.get("skip", []), settings, db)
            tally.mutants += read_session(db, file, listed)
        tally.seconds = time.monotonic() - started
        tallies.append(tally)
        report(tally)
    killed = sum(t.count("killed") for t in tallies)
    counted = killed + sum(t.count("survived") for t in tallies)
    print()
    for t in tallies:
        k, n = t.count("killed"), t.count("killed") + t.count("survived")
        print(
            f"{t.name}: {k}/{n} killed ({100 * k / max(n, 1):.1f} %), "
            f"{t.count('equivalent')} equivalent, {len(t.mutants)} generated, {t.seconds:.0f} s"
        )
    print(f"mutation: {killed}/{counted} killed ({100 * killed / max(counted, 1):.1f} %)")
    return 0


def report(tally: Tally) -> None:
    survivors = [m for m in tally.mutants if m.outcome == "survived"]
    by = Counter(m.outcome for m in tally.mutants)
    print(f"== {tally.name}: {dict(by)}", flush=True)
    for m in sorted(survivors, key=lambda m: (m.file, m.lineno)):
        print(f"   survived {m.file}:{m.lineno} {m.operator}\n      - {m.line}\n      + {m.mutant}")


if __name__ == "__main__":
    sys.exit(main())
