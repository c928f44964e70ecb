"""Temporary copies of the repository and fresh virtual environments, for the tests
that run the generator or install the package the way a user does.

A copy holds the parts the generator and the release scripts read and write (specs/,
scripts/, generated/, overlays/, pyproject.toml, README.md, CHANGELOG.md): the copied
scripts find their root from their own location, so the real tree is never touched.

A fresh environment is made with ``venv --without-pip`` and filled by this
environment's pip (``pip --python``): the same result as a user's ``pip install``,
without the seconds ensurepip takes. Dependencies (httpx, attrs) come from the
configured package index.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from conftest import PROVIDERS, ROOT

COPIED = (
    "specs", "scripts", "generated", "overlays", "pyproject.toml", "README.md", "CHANGELOG.md",
)  # fmt: skip
BUILD_TIMEOUT = 600  # seconds; the isolated build environments come from the index


def copy_repo(target: Path) -> Path:
    """The parts of the repository the generator and a build need, copied to target."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, target / name)
    return target


def run_script(
    root: Path, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run root's scripts/<script> (it works on root's files)."""
    return subprocess.run(
        [sys.executable, str(root / "scripts" / script), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )


def generate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run root's scripts/generate.py."""
    return run_script(root, "generate.py", *args)


def tree_hash(root: Path) -> str:
    """One hash of everything generate.py writes."""
    digest = hashlib.sha256()
    files = [root / "pyproject.toml"]
    for folder in ("generated", "specs"):
        files += [
            p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        ]
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def edit_spec(repo: Path, provider: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Load repo's specs/<provider>.yaml, apply change to it, write it back."""
    path = repo / "specs" / f"{provider}.yaml"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(spec)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would point Python at the source tree,
    and without provider credentials or base URLs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MYPYPATH", "PYTHONSTARTUP"}
        and not k.startswith(tuple(p.upper() + "_" for p in PROVIDERS))
    }
    env["PYTHONNOUSERSITE"] = "1"
    env.update(extra)
    return env


@dataclasses.dataclass(frozen=True)
class Venv:
    root: Path
    python: Path
    workdir: Path  # outside the source tree

    def run(self, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a command in workdir with this environment active (and env added)."""
        return subprocess.run(
            list(args),
            cwd=self.workdir,
            env=clean_env(VIRTUAL_ENV=str(self.root), **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def mypy(self, *files: Path) -> subprocess.CompletedProcess[str]:
        """mypy --strict on files, resolving imports in this environment (as a user's
        type checker does)."""
        return self.run(
            sys.executable, "-m", "mypy",
            "--strict",
            "--python-executable", str(self.python),
            "--cache-dir", str(self.workdir / ".mypy_cache"),
            "--no-color-output",
            "--no-error-summary",
            "--show-error-codes",
            "--hide-error-context",
            *map(str, files),
            timeout=300,
        )  # fmt: skip


def fresh_venv(base: Path, requirement: str) -> Venv:
    """A new virtual environment under base with requirement (a wheel, a source folder)
    pip-installed into it."""
    root, workdir = base / "venv", base / "work"
    workdir.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120
    )
    python = root / "bin" / "python"
    install = subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", str(python),
            "install", "--quiet", "--disable-pip-version-check", requirement,
        ],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )  # fmt: skip
    assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"
    return Venv(root=root, python=python, workdir=workdir)
