"""The front end as one call: load -> schema -> semantic rules -> IR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from draftsman_gen import ir
from draftsman_gen.diagnostics import Diagnostic, Diagnostics
from draftsman_gen.loader import load_workspace
from draftsman_gen.schema import validate_schemas
from draftsman_gen.semantic import check


@dataclass(frozen=True)
class FrontEndResult:
    model: ir.Model | None
    diagnostics: list[Diagnostic]


def compile_model(root: Path) -> FrontEndResult:
    diags = Diagnostics()
    ws = load_workspace(root, diags)
    broken = validate_schemas(ws, diags)
    # Files that failed to load are broken too: their names must not cause follow-up errors.
    model = check(ws, diags, broken | ws.failed)
    if diags:
        return FrontEndResult(None, diags.sorted())
    return FrontEndResult(model, [])
