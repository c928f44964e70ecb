"""Every Python block of the README runs as written (issue #19), so an example can
never rot.

The README tells a newcomer to start ``creditwatch demo --serve`` and paste the
``export`` lines it prints into another shell; this test does the same: it starts the
installed command, reads those lines, and runs each ```python block as a script with
that environment (in a temporary folder, with an empty XDG_DATA_HOME so the history
example writes nowhere else). A block passes when it exits 0, prints something and
shows no traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PROVIDERS, ROOT, credential_env
from test_cli import base_env

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def python_blocks() -> list[tuple[int, str]]:
    """(line number, code) of every ```python block of the README."""
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 1, match[2])
        for match in FENCE.finditer(text)
        if match[1] == "python"
    ]


BLOCKS = python_blocks()


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 8
    text = README.read_text(encoding="utf-8")
    assert text.startswith("# creditwatch\n")  # the title first, then the two commands
    first_block = text.split("```", 2)[1]
    assert "creditwatch demo" in first_block and "bash scripts/test.sh" in first_block


@pytest.fixture(scope="module")
def demo_environment() -> Iterator[dict[str, str]]:
    """``creditwatch demo --serve`` running; the environment its export lines set."""
    command = Path(sys.executable).parent / "creditwatch"
    proc = subprocess.Popen(
        [str(command), "demo", "--serve", "--port", "0"],
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        env = base_env()
        exports = 0
        # each provider's credential variables (Twilio: two) and its base URL
        expected = sum(len(credential_env(p)) + 1 for p in PROVIDERS)
        while exports < expected:
            line = proc.stdout.readline()
            assert line, f"demo --serve stopped: {proc.stderr and proc.stderr.read()}"
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = value
                exports += 1
        yield env
    finally:
        proc.terminate()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_example_runs(
    line: int, code: str, demo_environment: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / f"readme_{line}.py"
    script.write_text(code, encoding="utf-8")
    env = demo_environment | {"XDG_DATA_HOME": str(tmp_path / "data")}

    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"README.md:{line} failed:\n{output}"
    assert "Traceback" not in output
    assert proc.stdout.strip(), f"README.md:{line} printed nothing"
    assert "failed" not in proc.stdout, output  # balances() reported an error
