# Sourced by demo.sh and test.sh: a fresh .venv with draftsman-gen installed from this
# checkout (non-editable, so templates and schemas come from the wheel) and its test tools.
PYTHON=${PYTHON:-python3}
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet '.[test]'
