"""The command line: formats, exit codes, schema publishing, speed-sensitive imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from diag_cases import HERE, materialise
from helpers import invoke
from jsonschema import Draft202012Validator

BROKEN = HERE / "cases" / "many-errors-sorted.yaml"


def test_json_error_format(tmp_path: Path) -> None:
    model = materialise(BROKEN, tmp_path)
    result = invoke("validate", str(model), "--error-format", "json")
    assert result.exit_code == 1
    items = json.loads(result.stdout)
    assert [i["code"] for i in items] == ["DG204", "DG314"]
    assert items[1] == {
        "file": "domain/Core/Thing/root.yaml", "line": 1, "column": 15, "severity": "error",
        "code": "DG314",
        "message": "business key 'thingID' is not a document field; did you mean 'thingId'?",
    }


def test_json_format_of_valid_model_is_empty_list() -> None:
    result = invoke("validate", str(ROOT / "examples" / "banking"), "--error-format", "json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")


def test_github_error_format(tmp_path: Path) -> None:
    model = materialise(BROKEN, tmp_path)
    result = invoke("validate", str(model), "--error-format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1] == (
        "::error file=domain/Core/Thing/root.yaml,line=1,col=15,title=DG314::business key "
        "'thingID' is not a document field; did you mean 'thingId'?"
    )


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert invoke("validate", str(tmp_path / "missing")).exit_code == 2
    assert invoke("validate", str(ROOT / "examples"), "--error-format", "xml").exit_code == 2
    assert invoke("build", str(ROOT / "examples" / "banking")).exit_code == 2  # no --out
    assert invoke("frobnicate").exit_code == 2


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = invoke("build", str(ROOT / "examples" / "banking"), "--out", str(target))
    assert result.exit_code == 2


def test_schema_command_writes_valid_schemas(tmp_path: Path) -> None:
    result = invoke("schema", "--out", str(tmp_path))
    assert result.exit_code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 8 and "behavior-flow.schema.json" in names
    for path in tmp_path.iterdir():
        Draft202012Validator.check_schema(json.loads(path.read_text()))
    single = invoke("schema", "--name", "event")
    assert json.loads(single.stdout)["title"].startswith("draftsman-gen domain event")


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and "draftsman-gen, version" in result.stdout


def test_help_imports_no_heavy_modules() -> None:
    code = ("import sys; from draftsman_gen.cli import cli\n"
            "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('jinja2', 'black', 'jsonschema', 'yaml') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_huge_file_is_reported_not_loaded(tmp_path: Path) -> None:
    model = materialise(HERE / "cases" / "empty-file.yaml", tmp_path)
    (model / "domain/Core/Thing/events/ThingCreated.yaml").write_text("a: b\n" * 300_000)
    result = invoke("validate", str(model))
    assert result.exit_code == 1
    assert "error[DG101]: file is too large" in result.stdout


def test_alias_bomb_is_reported(tmp_path: Path) -> None:
    model = materialise(HERE / "cases" / "empty-file.yaml", tmp_path)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
              for i in range(1, 12)]
    (model / "domain/Core/Thing/events/ThingCreated.yaml").write_text("\n".join(lines) + "\n")
    result = invoke("validate", str(model))
    assert result.exit_code == 1
    assert "expands to more than" in result.stdout
