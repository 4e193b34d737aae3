#!/usr/bin/env bash
# Rewrite every golden file (the corpus in tests/corpus and the diagnostics cases in
# tests/diagnostics) from what the current code produces. Review `git diff` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_corpus.py tests/test_diagnostics_golden.py -k "corpus_case or diagnostics_golden"
