#!/usr/bin/env bash
# The whole test suite, from scratch: a virtualenv in .venv with draftsman-runtime and
# draftsman-gen installed from this checkout (non-editable, so the tests prove templates,
# schemas and the runtime ship in the wheels), then ruff, mypy and pytest on both: the
# compiler's suite (pytest arguments go here) and the runtime's own suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
.venv/bin/ruff check draftsman_gen tests
.venv/bin/mypy
(cd runtime && ../.venv/bin/ruff check draftsman_runtime tests && ../.venv/bin/mypy)
# Run from the checkout with the installed packages (pytest does not put the checkout on sys.path).
.venv/bin/pytest -n auto "$@"
(cd runtime && ../.venv/bin/pytest -q -n auto)
