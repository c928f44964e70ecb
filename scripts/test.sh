#!/usr/bin/env bash
# The whole test suite, from nothing: the README's test command, and what .ci/run runs.
#
#   bash scripts/test.sh              # everything
#   bash scripts/test.sh -k flamel    # extra arguments go to pytest
#
# Sets up what the tests need, in places of its own: a virtual environment
# (.venv-test, never your .venv) with the package and its dev extra (installed as a
# wheel, the way users get it), Prism from the npm registry (tests/prism/node_modules)
# and, when it is missing, promtool from Debian's `prometheus` package (system-wide,
# as root only; it says so before installing). Then: the regenerate --check step,
# ruff, mypy --strict, the benchmarks in smoke mode (informational) and pytest (last,
# so its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv-test
step() { printf '\n==> %s\n' "$*"; }

step "test environment ($VENV: the package with its dev extra; your .venv is not touched)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
rm -rf build ./*.egg-info  # setuptools reuses build/: a stale copy would leak into the wheel
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check ".[dev]"
rm -rf build ./*.egg-info  # and leave none behind (./build would shadow `python -m build`)

step "Prism mock server (npm ci --prefix tests/prism, into tests/prism/node_modules)"
if [ ! -x tests/prism/node_modules/.bin/prism ] || [ tests/prism/package-lock.json -nt tests/prism/node_modules/.package-lock.json ]; then
  npm ci --prefix tests/prism --ignore-scripts --no-audit --no-fund --loglevel=error
else
  echo "already installed"
fi

step "promtool, for the tests of the Prometheus alert rules"
if command -v promtool >/dev/null; then
  promtool --version 2>&1 | head -1
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "promtool is missing. Installing it system-wide now: Debian's 'prometheus' package"
  echo "(apt-get install --no-install-recommends prometheus; its service is not started),"
  echo "because tests/promtool checks creditwatch's alert rules with promtool. To skip"
  echo "this, install promtool yourself first, or run as a user without root (the"
  echo "promtool tests are then skipped)."
  # Only the package itself (its recommends would pull in node-exporter & co.); the
  # service is not started (no init system here, and policy-rc.d in containers).
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends prometheus >/dev/null) || echo "could not install prometheus"
  command -v promtool >/dev/null && promtool --version 2>&1 | head -1
else
  echo "promtool missing and not root with apt-get: the promtool tests will be skipped (CI fails them)"
fi

step "generated code is up to date (scripts/generate.py --check)"
"$VENV/bin/python" scripts/generate.py --check

step "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

step "mypy --strict (the installed package, tests, scripts)"
"$VENV/bin/mypy" --strict -p creditwatch
"$VENV/bin/mypy" --strict tests scripts

step "benchmarks, smoke mode: they still run; the rows are informational, not a verdict"
"$VENV/bin/python" scripts/bench.py --smoke
"$VENV/bin/python" scripts/bench_accounts.py --smoke
"$VENV/bin/python" scripts/bench_exporter.py --smoke

step "pytest"
"$VENV/bin/python" -m pytest "$@"
