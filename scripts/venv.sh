# Sourced by demo.sh and test.sh: a fresh .venv with draftsman-runtime and draftsman-gen
# installed from this checkout (non-editable, so templates, schemas and the runtime come from
# their wheels) and the test tools.
PYTHON=${PYTHON:-python3}
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet './runtime[test]' '.[test]'
