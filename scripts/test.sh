#!/usr/bin/env bash
# The whole test suite, from nothing: the README's test command, and what .ci/run runs.
#
#   bash scripts/test.sh              # everything
#   bash scripts/test.sh -k flamel    # extra arguments go to pytest
#
# Sets up what the tests need: a virtual environment (.venv), the package with its
# dev extra (installed as a wheel, the way users get it), Prism from the npm registry
# (tests/prism) and promtool from Debian's `prometheus` package (when missing). Then:
# the regenerate --check step, ruff, mypy --strict, the benchmarks in smoke mode, and
# pytest (last, so its summary closes the output).
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

step "promtool (Debian's prometheus package) for the alert-rule tests"
if command -v promtool >/dev/null; then
  promtool --version 2>&1 | head -1
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # Only the package itself (its recommends would pull in node-exporter & co.); the
  # service is not started (no init system here, and policy-rc.d in containers).
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends prometheus >/dev/null) || echo "could not install prometheus"
  command -v promtool >/dev/null && promtool --version 2>&1 | head -1
else
  echo "promtool missing and not root with apt-get: the promtool tests will be skipped (CI fails them)"
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
.venv/bin/python scripts/bench_exporter.py --smoke

step "pytest"
.venv/bin/python -m pytest "$@"

