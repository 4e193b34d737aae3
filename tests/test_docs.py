"""The documentation lists exactly the diagnostic codes the tool can emit."""

from __future__ import annotations

import re

from conftest import ROOT


def test_every_diagnostic_code_is_documented() -> None:
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "draftsman_gen").glob("*.py"))
    used = set(re.findall(r'"(DG\d{3})"', source))
    documented = set(re.findall(r"^\| (DG\d{3}) \|", (ROOT / "docs" / "model-language.md")
                                .read_text(encoding="utf-8"), re.MULTILINE))
    assert used == documented


def test_readme_shows_the_two_setup_commands_and_ci_runs_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in ("bash scripts/demo.sh", "bash scripts/test.sh"):
        assert command in readme
        assert command in ci
