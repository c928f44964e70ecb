#!/usr/bin/env bash
# Mutation testing over the core (issue 21), from nothing: not part of scripts/test.sh.
#
#   bash scripts/mutation.sh                      # every module in scripts/mutation.toml
#   bash scripts/mutation.sh --module forecast    # one (a substring of its name)
#
# Makes .venv-mutation (cosmic-ray, coverage.py and the dev extra), copies the repository
# to .mutation/work (the checkout is never mutated), installs that copy editable, and
# runs scripts/mutation.py: each mutant against the tests that execute its lines, two at
# a time, then a kill ratio per module, the survivors, and last `mutation: K/N killed
# (P %)`. About 15 minutes on the 2-core development machine (CONTRIBUTING.md,
# "Mutation testing").
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv-mutation
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "cosmic-ray==8.7.0" "coverage==7.18.0" ".[dev]"
rm -rf build ./*.egg-info  # the install above builds in-tree: leave nothing behind
exec nice -n "${NICE:-19}" "$VENV/bin/python" scripts/mutation.py "$@"
