"""Reading mypy's verdicts in the typing tests: the `# E: <code>` markers a source puts
on the lines that must fail, and the errors mypy reported."""

from __future__ import annotations

import re
from pathlib import Path

_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$", re.M)
_MARK = re.compile(r"# E: ([\w-]+)$")


def marked_errors(source: str) -> set[tuple[int, str]]:
    """(line, error code) of every line of `source` that ends with ``# E: <code>``."""
    return {
        (number, match[1])
        for number, line in enumerate(source.splitlines(), start=1)
        if (match := _MARK.search(line))
    }


def reported_errors(stdout: str, file_name: str) -> set[tuple[int, str]]:
    """(line, error code) of every error mypy reported in the file named `file_name`
    (run with --show-error-codes --hide-error-context --no-color-output)."""
    return {
        (int(m["line"]), m["code"])
        for m in _ERROR.finditer(stdout)
        if Path(m["file"]).name == file_name
    }
