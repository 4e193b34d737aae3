"""The documentation lists exactly the diagnostic codes the tool can emit."""

from __future__ import annotations

import re

from conftest import ROOT

from draftsman_gen.codes import CODES, markdown_table


def test_every_code_the_tool_emits_is_registered_and_every_registered_code_is_emitted() -> None:
    sources = [p for p in (ROOT / "draftsman_gen").rglob("*.py") if p.name != "codes.py"]
    source = "".join(p.read_text(encoding="utf-8") for p in sources)
    assert set(re.findall(r'"(DG\d{3})"', source)) == set(CODES)


def test_the_docs_table_is_the_generated_one() -> None:
    doc = (ROOT / "docs" / "model-language.md").read_text(encoding="utf-8")
    start, end = "<!-- codes:start -->\n", "<!-- codes:end -->"
    table = doc[doc.index(start) + len(start):doc.index(end)]
    assert table == markdown_table(), "run: python -m draftsman_gen.codes, and paste it"


def test_readme_shows_the_two_setup_commands_and_ci_runs_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for command in ("bash scripts/demo.sh", "bash scripts/test.sh"):
        assert command in readme
        assert command in ci
