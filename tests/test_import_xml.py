"""import-xml end to end: the examples written in both XML formats import back to their own
IR (what the XML has no place for aside), every imported model builds and its generated tests
pass, and the fixture covering the whole format reference imports to the expected YAML and
report (golden files, sqlc style: `bash scripts/update-goldens.sh` rewrites them)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import update_golden
from helpers import build, invoke, outcomes, run_in

from draftsman_gen import ir
from draftsman_gen.pipeline import compile_model

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "import_xml"
EXAMPLES = HERE.parent / "examples"
FORMS = {"v2": "v2/model.xml", "v4": "v4"}

# What the XML formats have no place for, so an import cannot restore it (docs/import-xml.md):
# the round trip compares everything else.
LOSSY_ALWAYS = {
    (ir.Model, "package"): "the XML has no package name: the default (from the name) is used",
    (ir.Command, "namespace"): "the command's folder: the v4 folder is the GraphQL namespace",
    (ir.Command, "user_must_match"): "the XML has no user-must-match",
    (ir.Aggregate, "query_access"): "the XML's read side is views; aggregates have no queries",
    (ir.TestCase, "expected_error"): "the XML keeps no message: \"\" expects any error",
}
LOCATIONS = {"loc", "package_loc", "line"}  # where things are written: source locations


def comparable(value: Any, form: str) -> Any:
    """The IR as plain values, without source locations and lossy fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            if f.name in LOCATIONS or (type(value), f.name) in LOSSY_ALWAYS:
                continue
            if f.name == "description" and form == "v2":  # v4 keeps them in <name>.md files
                continue
            item = getattr(value, f.name)
            if f.name == "description":  # a folded YAML scalar ends in a newline
                item = item.strip()
            out[f.name] = comparable(item, form)
        if isinstance(value, ir.TestCase):
            out["expects_error"] = value.expected_error is not None
        return type(value).__name__, out
    if isinstance(value, (tuple, list)):
        return [comparable(item, form) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item, form) for key, item in value.items()}
    return value


def imported(source: Path, out: Path) -> Path:
    result = invoke("import-xml", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def model_ir(folder: Path) -> ir.Model:
    result = compile_model(folder)
    assert result.compiled is not None, [d.text() for d in result.diagnostics]
    return result.compiled.model


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("example", ["banking", "fulfilment", "shop"])
def test_an_example_written_in_xml_imports_back_to_its_ir(
    example: str, form: str, tmp_path: Path
) -> None:
    out = imported(FIXTURES / "roundtrip" / example / FORMS[form], tmp_path / "model")
    assert comparable(model_ir(out), form) == comparable(model_ir(EXAMPLES / example), form)
    build(out, tmp_path / "gen")
    run = run_in(tmp_path / "gen", "pytest", "-q", "-p", "no:cacheprovider")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert outcomes(run.stdout).get("failed", 0) == 0 and outcomes(run.stdout)["passed"] > 0


def test_the_comparison_sees_a_difference(tmp_path: Path) -> None:
    """The round trip's comparison is not blind: one changed setting fails it."""
    copy = tmp_path / "banking"
    shutil.copytree(EXAMPLES / "banking", copy)
    root = copy / "domain" / "Banking" / "Account" / "root.yaml"
    root.write_text(root.read_text().replace("snapshot-interval: 100", "snapshot-interval: 7"))
    assert comparable(model_ir(copy), "v4") != comparable(model_ir(EXAMPLES / "banking"), "v4")


# -- the fixture covering the whole reference: golden YAML and report, then build and test ---
LIBRARY = FIXTURES / "library"


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_library_imports_to_the_expected_yaml_and_report(
    form: str, tmp_path: Path
) -> None:
    out = tmp_path / "library"
    result = invoke("import-xml", str(LIBRARY / FORMS[form]), "--out", str(out))
    assert result.exit_code == 0, result.output
    report = result.stdout + result.stderr.replace(str(out), "OUT")
    expected = LIBRARY / "expected" / form
    if update_golden():
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected / "model")
        (expected / "report.txt").write_text(report, encoding="utf-8")
    assert (expected / "report.txt").is_file(), "run scripts/update-goldens.sh"
    assert report == (expected / "report.txt").read_text(encoding="utf-8")
    assert _files(out) == _files(expected / "model")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_imported_library_validates_builds_and_passes_its_tests(
    form: str, tmp_path: Path
) -> None:
    out = imported(LIBRARY / FORMS[form], tmp_path / "library")
    model = model_ir(out)
    assert sum(len(f.test_cases) for a in model.aggregates for f in a.flows) >= 8
    build(out, tmp_path / "gen")
    run = run_in(tmp_path / "gen", "pytest", "-q", "-p", "no:cacheprovider")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert outcomes(run.stdout).get("failed", 0) == 0 and outcomes(run.stdout)["passed"] > 0


def test_both_formats_of_the_library_are_one_model(tmp_path: Path) -> None:
    """v2 and v4 hold the same model; only v4 has descriptions and a username-field-less
    command (v2's older form is read as auto-fill: username)."""
    v2 = model_ir(imported(LIBRARY / FORMS["v2"], tmp_path / "v2"))
    v4 = model_ir(imported(LIBRARY / FORMS["v4"], tmp_path / "v4"))
    assert comparable(v2, "v2") == comparable(v4, "v2")


def test_the_report_in_json_matches_the_text(tmp_path: Path) -> None:
    args = ("import-xml", str(LIBRARY / "v4"), "--out")
    text = invoke(*args, str(tmp_path / "a")).stdout.splitlines()
    items = json.loads(invoke(*args, str(tmp_path / "b"), "--error-format", "json").stdout)
    assert [f"{i['file']}:{i['line']}:{i['column']}: {i['severity']}[{i['code']}]: "
            f"{i['message']}" for i in items] == text
    assert all(i["severity"] == "warning" for i in items)
    github = invoke(*args, str(tmp_path / "c"), "--error-format", "github").stdout.splitlines()
    assert len(github) == len(text) and all(g.startswith("::warning file=") for g in github)
