"""Failures of the spec scripts (generate.py, snapshot.py, spec_watch.py), reported for
people: at most five lines, ``error: <file>[:<line>]: <what>`` and then a hint, naming
the file the maintainer edits; no traceback unless ``--debug``.

A script raises `Problem` (or lets one of the known exceptions through: invalid YAML,
a normalizer `SpecError`...) and its ``main`` runs under `run`, which prints it. Several
problems found by one check (the guards of codegen/guard.py) are one `Problems`: one
line each, the first ones shown, then how many more.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 5


def relative(path: Path | str) -> str:
    """A path as the maintainer sees it: relative to the repository when inside it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Problem(Exception):
    """One failure: where (file, line), what is wrong, and what to do about it."""

    file: Path | str
    what: str
    hint: str = ""
    line: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.where(), self.what)

    def where(self) -> str:
        return relative(self.file) + (f":{self.line}" if self.line else "")

    def lines(self) -> list[str]:
        out = [f"error: {self.where()}: {_one_line(self.what)}"]
        if self.hint:
            out.append(f"  hint: {_one_line(self.hint)}")
        return out

    def one_line(self) -> str:
        """``path:line: what; hint``: the form of one problem among several."""
        hint = f"; {_one_line(self.hint)}" if self.hint else ""
        return f"{self.where()}: {_one_line(self.what)}{hint}"


class Problems(Exception):
    """Several problems found by one check; the first ones are shown."""

    def __init__(self, problems: Sequence[Problem], summary: str) -> None:
        super().__init__(summary)
        self.problems = list(problems)
        self.summary = summary

    def lines(self, debug: bool = False) -> list[str]:
        shown = self.problems if debug else self.problems[: MAX_LINES - 1]
        out = [f"error: {p.one_line()}" for p in shown]
        rest = len(self.problems) - len(shown)
        tail = f"{self.summary}; {rest} more (--debug lists all)" if rest else self.summary
        return [*out, tail]


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def yaml_problem(path: Path, exc: yaml.YAMLError) -> Problem:
    """Invalid YAML, named by the real file and the line PyYAML stopped at."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    what = f"invalid YAML: {context + ', ' if context else ''}{problem}"
    return Problem(
        path,
        what,
        "fix the YAML syntax at that line (indentation, a `:` or quote too many or missing)",
        line=None if mark is None else mark.line + 1,
    )


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster on big specs


def load_yaml(path: Path) -> object:
    """A YAML (or, by its suffix, JSON) file, safely loaded; invalid YAML is a `Problem`
    naming the file and line."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise Problem(
                path, f"invalid JSON: {exc}", "fix the file (or fetch it again)"
            ) from None
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise yaml_problem(path, exc) from None


def line_of(path: Path, *needles: str) -> int | None:
    """The first line of path containing the needles in order, each on a later line
    (or the same): a cheap locator for a YAML key or value."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    start, found = 0, None
    for needle in needles:
        for number in range(start, len(lines)):
            if needle in lines[number]:
                found, start = number + 1, number
                break
        else:
            return found
    return found


def run(main: Callable[[list[str]], int], argv: Sequence[str] | None, name: str) -> int:
    """Run a script's main: a `Problem` or an unexpected exception is printed in at most
    five lines (the whole traceback with ``--debug``), exit status 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        return main([a for a in args if a != "--debug"])
    except (Problem, Problems) as exc:
        if debug:
            traceback.print_exc()
        lines = exc.lines(debug) if isinstance(exc, Problems) else exc.lines()
        print("\n".join(lines), file=sys.stderr)
        return 1
    except Exception as exc:
        if debug:
            traceback.print_exc()
            return 1
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(
            f"error: {relative(where.filename)}:{where.lineno}: unexpected "
            f"{type(exc).__name__}: {_one_line(str(exc), 200)}\n"
            f"  hint: run `python scripts/{name} --debug` for the traceback",
            file=sys.stderr,
        )
        return 1
