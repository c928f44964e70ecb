#!/usr/bin/env bash
# The whole test suite, from nothing: the README's test command, and what .ci/run runs.
#
#   bash scripts/test.sh              # everything
#   bash scripts/test.sh -k flamel    # extra arguments go to pytest
#
# Sets up what the tests need: a virtual environment (.venv), the package with its
# dev extra (installed as a wheel, the way users get it), and Prism from the npm
# registry (tests/prism). Then: the regenerate --check step, ruff, mypy --strict,
# the benchmarks in smoke mode, and pytest (last, so its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
step() { printf '\n==> %s\n' "$*"; }

step "virtual environment (.venv)"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
rm -rf build ./*.egg-info  # setuptools reuses build/: a stale copy would leak into the wheel
.venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]"
rm -rf build ./*.egg-info  # and leave none behind (./build would shadow `python -m build`)

step "Prism mock server (npm ci --prefix tests/prism)"
if [ ! -x tests/prism/node_modules/.bin/prism ] || [ tests/prism/package-lock.json -nt tests/prism/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/prism --ignore-scripts --no-audit --no-fund --loglevel=error
fi

step "generated code is up to date (scripts/generate.py --check)"
.venv/bin/python scripts/generate.py --check

step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

step "mypy --strict (the installed package, tests, scripts)"
.venv/bin/mypy --strict -p creditwatch
.venv/bin/mypy --strict tests scripts

step "benchmarks (smoke mode: they keep working; figures in the README come from full mode)"
.venv/bin/python scripts/bench.py --smoke
.venv/bin/python scripts/bench_accounts.py --smoke

step "pytest"
.venv/bin/python -m pytest "$@"

