"""Model names and strings can never inject code into generated files.

Hostile names are rejected by validation; hostile strings (quotes, newlines, triple quotes,
`__import__('os').system(...)`) end up inert inside string literals or comments, survive a
round trip exactly (the generated tests compare them), and nothing runs at build or import
time."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

from helpers import build, invoke, outcomes, run_in

EVIL = "__import__('os').system('touch {marker}')"


def hostile_model(root: Path, marker: Path) -> Path:
    evil = EVIL.format(marker=marker)
    text = f'"""\\n{evil}\\n\'\'\' \\\\ {{{{ }}}} #'
    files = {
        "draftsman.yaml": f"name: Evil\ndescription: |\n  \"\"\"\n  {evil}\n  '''\n",
        "patterns/Code.yaml": "regex: \"[A-Z\\\"']+\"\n",
        "commands/Core/PokeRequested.yaml": (
            "description: \"\\\"\\\"\\\"\\n" + evil + "\"\n"
            "fields:\n  thingId: String\n  note: {type: String, default: \"" + text.replace('"', '\\"') + "\"}\n"
            "  code: {type: String, pattern: Code, default: \"A\\\"'\"}\n"
        ),
        "domain/Core/Thing/root.yaml": "business-key: thingId\nfields:\n  thingId: String\n  note: String\n",
        "domain/Core/Thing/events/Poked.yaml": (
            "fields:\n  thingId: String\n  note: String\n"
            "handler:\n  mapping:\n    thingId: {set: thingId}\n    note: {set: note}\n"
        ),
        "domain/Core/Thing/behavior-flows/Poke.yaml": (
            "create-command: true\n"
            "triggers:\n  - source: PokeRequested\n    key-field: thingId\n"
            "processors:\n"
            "  - validator:\n      condition: \"len(flow.note) < 200\"\n"
            "      exception: \"" + text.replace('"', '\\"') + " {flow.note}\"\n"
            "  - emit-event:\n      ref: Poked\n      mapping: {thingId: flow.thingId, note: flow.note}\n"
            "test-cases:\n"
            "  - name: StringsSurvive\n    trigger-event: PokeRequested\n"
            "    input: {thingId: \"x\\\"y\\n" + evil + "\"}\n"
            "    expected: [{event: Poked, fields: {note: \"" + text.replace('"', '\\"') + "\"}}]\n"
            "    expected-state: {pk: \"x\\\"y\\n" + evil + "\", state: {note: \"" + text.replace('"', '\\"') + "\"}}\n"
        ),
    }
    model = root / "model"
    for rel, content in files.items():
        path = model / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return model


def code_names(source: str) -> set[str]:
    """NAME tokens of a Python file: what is code, not string or comment."""
    return {t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type == tokenize.NAME}


def test_hostile_strings_are_inert(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    model = hostile_model(tmp_path, marker)
    check = invoke("validate", str(model))
    assert check.exit_code == 0, check.output
    out = tmp_path / "out"
    build(model, out)
    for path in out.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
        assert "__import__" not in code_names(source), path
    tests = run_in(out, "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert outcomes(tests.stdout) == {"passed": 2}
    assert not marker.exists()


def test_hostile_names_and_expressions_are_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    model = hostile_model(tmp_path, marker)
    flow = model / "domain/Core/Thing/behavior-flows/Poke.yaml"
    flow.write_text(flow.read_text().replace("len(flow.note) < 200", EVIL.format(marker=marker)))
    root = model / "domain/Core/Thing/root.yaml"
    root.write_text(root.read_text() + "  \"x: str = 1; import os #\": String\n")
    (model / "domain/Core/Thing/events/Bad'Name.yaml").write_text("fields: {}\nhandler: {code: pass}\n")
    result = invoke("validate", str(model))
    assert result.exit_code == 1
    assert "name '__import__' is not allowed" in result.output
    assert "must be camelCase" in result.output
    assert "'Bad'Name' must be PascalCase" in result.output
    assert not marker.exists()
