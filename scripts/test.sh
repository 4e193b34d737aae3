#!/usr/bin/env bash
# The whole test suite, from scratch: a virtualenv in .venv, draftsman-gen installed from
# this checkout (non-editable, so the tests prove templates and schemas ship in the wheel),
# then ruff, mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
.venv/bin/ruff check draftsman_gen tests
.venv/bin/mypy
# Run from the checkout with the installed package (pytest does not put the checkout on sys.path).
.venv/bin/pytest "$@"
