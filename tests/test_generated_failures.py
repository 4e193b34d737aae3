"""A wrong expectation in a model makes its generated test fail with a message that names
the model file, the test case and shows a diff."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT
from helpers import build, outcomes, run_in


def test_wrong_expected_state_names_model_file_and_case(tmp_path: Path) -> None:
    model = tmp_path / "banking"
    shutil.copytree(ROOT / "examples" / "banking", model)
    flow = model / "domain/Banking/Account/behavior-flows/Deposit.yaml"
    flow.write_text(flow.read_text().replace("state: {balance: 15.5}", "state: {balance: 99.0}"))
    out = tmp_path / "out"
    build(model, out)
    result = run_in(out, "pytest", "-q", "-p", "no:cacheprovider", "tests/test_account_deposit.py")
    assert result.returncode == 1
    assert outcomes(result.stdout) == {"failed": 1, "passed": 5}  # the case, not its replay
    assert "banking/domain/Banking/Account/behavior-flows/Deposit.yaml:" in result.stdout
    assert "(test case DepositIncreasesBalance)" in result.stdout
    assert '-  "balance": 99.0' in result.stdout
    assert '+  "balance": 15.5' in result.stdout


def test_wrong_expected_error_fails(tmp_path: Path) -> None:
    model = tmp_path / "banking"
    shutil.copytree(ROOT / "examples" / "banking", model)
    flow = model / "domain/Banking/Account/behavior-flows/Withdraw.yaml"
    flow.write_text(flow.read_text().replace("amount: 11, reference: w2", "amount: 1, reference: w2"))
    out = tmp_path / "out"
    build(model, out)
    result = run_in(out, "pytest", "-q", "-p", "no:cacheprovider", "tests/test_account_withdraw.py")
    assert result.returncode == 1
    assert "(test case OverdraftIsRejected)" in result.stdout
    assert "but the flow succeeded" in result.stdout
