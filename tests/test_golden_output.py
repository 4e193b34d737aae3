"""The generated output of the banking example is kept in tests/golden/banking and compared
byte for byte. After a deliberate change, run with UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

from conftest import ROOT, update_golden
from helpers import build

GOLDEN = ROOT / "tests" / "golden" / "banking"


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_banking_output_matches_golden(tmp_path: Path) -> None:
    out = tmp_path / "banking"
    build(ROOT / "examples" / "banking", out)
    if update_golden():
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    actual, expected = _files(out), _files(GOLDEN)
    assert sorted(actual) == sorted(expected)
    for name, text in actual.items():
        if text != expected[name]:
            diff = "".join(difflib.unified_diff(expected[name].splitlines(True),
                                                text.splitlines(True), f"golden/{name}", name))
            raise AssertionError(f"{name} differs from the golden copy:\n{diff}")
