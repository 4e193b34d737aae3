"""`draftsman-gen init`: the new model validates, builds and passes its generated tests with
no edit; its files are golden (tests/init/expected, sqlc style: scripts/update-goldens.sh);
it never writes into a folder that is not empty unless told, nor a model that would not
validate."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from conftest import ROOT, update_golden
from helpers import build, invoke, outcomes, run_in

from draftsman_gen.schema import schema_texts

EXPECTED = ROOT / "tests" / "init" / "expected"


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_writes_the_expected_model(tmp_path: Path) -> None:
    out = tmp_path / "inventory"
    result = invoke("init", str(out), "--name", "Inventory")
    assert result.exit_code == 0, result.output
    files = _files(out)
    schemas = {k: v for k, v in files.items() if k.startswith("schemas/")}
    assert schemas == {f"schemas/{k}": v for k, v in schema_texts().items()}
    model = {k: v for k, v in files.items() if not k.startswith("schemas/")}
    stderr = result.stderr.replace(str(out), "OUT")
    if update_golden():
        shutil.rmtree(EXPECTED, ignore_errors=True)
        for rel, text in model.items():
            (EXPECTED / "model" / rel).parent.mkdir(parents=True, exist_ok=True)
            (EXPECTED / "model" / rel).write_text(text, encoding="utf-8")
        (EXPECTED / "stderr.txt").write_text(stderr, encoding="utf-8")
    assert model == _files(EXPECTED / "model"), "run scripts/update-goldens.sh"
    assert stderr == (EXPECTED / "stderr.txt").read_text(encoding="utf-8")


def test_the_new_model_validates_builds_and_passes_its_tests(tmp_path: Path) -> None:
    out = tmp_path / "my-shop"
    assert invoke("init", str(out)).exit_code == 0
    assert "name: MyShop\n" in (out / "draftsman.yaml").read_text()  # from the folder
    assert invoke("validate", str(out)).exit_code == 0
    build(out, out / "generated" / "my_shop")
    run = run_in(out / "generated" / "my_shop", "pytest", "-q", "-p", "no:cacheprovider")
    assert run.returncode == 0, run.stdout[-3000:]
    assert outcomes(run.stdout) == {"passed": 3}  # two cases and the success case's replay
    checked = invoke("check", str(out), "--out", str(out / "generated" / "my_shop"))
    assert checked.exit_code == 0, checked.output


def test_the_workflow_checks_the_service_and_runs_its_tests(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path / "m"), "--name", "Orders").exit_code == 0
    workflow = yaml.safe_load((tmp_path / "m/.github/workflows/draftsman.yml").read_text())
    steps = [step.get("run", "") for step in workflow["jobs"]["model"]["steps"]]
    assert "draftsman-gen check . --out generated/orders" in steps
    assert "python -m pytest generated/orders" in steps
    assert any(s.startswith('pip install "draftsman-gen==') for s in steps)


def test_a_folder_that_is_not_empty_needs_force(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = invoke("init", str(tmp_path), "--name", "Shop")
    assert result.exit_code == 2 and "is not empty; use --force" in result.stderr
    assert not (tmp_path / "draftsman.yaml").exists()
    assert invoke("init", str(tmp_path), "--name", "Shop", "--force").exit_code == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert invoke("validate", str(tmp_path)).exit_code == 0


def test_bad_names_write_nothing(tmp_path: Path) -> None:
    result = invoke("init", str(tmp_path / "a"), "--name", "not pascal")
    assert result.exit_code == 2 and "--name 'not pascal'" in result.stderr
    result = invoke("init", str(tmp_path / "b"), "--name", "Json")  # package json: stdlib
    assert result.exit_code == 1, result.output
    assert "error[DG309]" in result.stdout and "nothing was written" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x")
    assert invoke("init", str(tmp_path / "file")).exit_code == 2


def test_force_never_merges_into_another_model_nor_writes_around_a_file(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path / "a"), "--name", "Alpha").exit_code == 0
    again = invoke("init", str(tmp_path / "a"), "--name", "Beta", "--force")
    assert again.exit_code == 2 and "already holds a model" in again.stderr
    assert "name: Alpha" in (tmp_path / "a" / "draftsman.yaml").read_text()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "commands").write_text("a file where a folder goes")
    blocked = invoke("init", str(tmp_path / "b"), "--name", "Beta", "--force")
    assert blocked.exit_code == 2 and "is in the way" in blocked.stderr
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["commands"]


def test_a_package_that_would_shadow_a_library_of_the_service_is_refused(tmp_path: Path) -> None:
    for name in ("Pytest", "Starlette"):
        result = invoke("init", str(tmp_path / name), "--name", name)
        assert result.exit_code == 1 and "error[DG309]" in result.stdout, result.output
        assert not (tmp_path / name).exists()
