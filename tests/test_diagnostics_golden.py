"""Golden tests of diagnostics (sqlc style): each case is a small broken model and the exact
output `draftsman-gen validate` must print for it. Run with UPDATE_GOLDEN=1 to accept changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import update_golden
from diag_cases import CASES, materialise

from draftsman_gen.cli import cli


def run_validate(model: Path, fmt: str = "text") -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", str(model), "--error-format", fmt])
    return result.exit_code, result.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_diagnostics_golden(case: Path, tmp_path: Path) -> None:
    model = materialise(case, tmp_path)
    code, out = run_validate(model)
    actual = f"{out}# exit: {code}\n"
    expected_file = case.with_suffix(".expected")
    if update_golden():
        expected_file.write_text(actual, encoding="utf-8")
    if not expected_file.exists():
        pytest.fail(f"{expected_file} is missing: run scripts/update-goldens.sh and review it")
    assert actual == expected_file.read_text(encoding="utf-8")
    assert code == 1, "every diagnostics case is an invalid model"


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_base_model_is_valid(tmp_path: Path) -> None:
    from diag_cases import BASE

    code, out = run_validate(BASE)
    assert (code, out) == (0, "")
