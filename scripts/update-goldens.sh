#!/usr/bin/env bash
# Rewrite every golden file (the corpus in tests/corpus, the diagnostics cases in
# tests/diagnostics, import-xml's in tests/import_xml/library/expected, and the code table
# in the docs) from what the current code produces.
# Review `git diff` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_corpus.py tests/test_diagnostics_golden.py -k "corpus_case or diagnostics_golden"
# import-xml's YAML and report for the fixture covering the XML format reference.
UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_import_xml.py -k "expected_yaml_and_report"
# init's new model.
UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_init.py -k "expected_model"
# docs' pages of every example (tests/model_docs) and the fulfilment picture in docs/images
# (rendered again only when its diagram changed; needs scripts/install-mermaid.sh).
UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_model_docs.py -k "golden_ones or picture"
# breaking's output for each case of tests/breaking/cases.yaml.
UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_breaking.py -k "each_change"
# The diagnostic code table in docs/model-language.md, from draftsman_gen/codes.py.
.venv/bin/python - <<'PY'
import subprocess, sys
from pathlib import Path

doc = Path("docs/model-language.md")
text = doc.read_text(encoding="utf-8")
start, end = "<!-- codes:start -->\n", "<!-- codes:end -->"
table = subprocess.run([sys.executable, "-m", "draftsman_gen.codes"], check=True,
                       capture_output=True, text=True).stdout
head, rest = text.split(start, 1)
doc.write_text(head + start + table + end + rest.split(end, 1)[1], encoding="utf-8")
PY
