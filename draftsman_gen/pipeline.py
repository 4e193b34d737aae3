"""The front end and the middle as one call: load -> schema -> semantic rules -> IR -> names."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from draftsman_gen import ir
from draftsman_gen.diagnostics import Diagnostic, Diagnostics
from draftsman_gen.loader import load_workspace
from draftsman_gen.lower import Names, lower
from draftsman_gen.schema import validate_schemas
from draftsman_gen.semantic import check


@dataclass(frozen=True)
class Compiled:
    """A model ready for the back end: its IR and the names of its generated code."""

    model: ir.Model
    names: Names


@dataclass(frozen=True)
class FrontEndResult:
    compiled: Compiled | None
    diagnostics: list[Diagnostic]


def compile_model(root: Path) -> FrontEndResult:
    with warnings.catch_warnings():
        # Python snippets in the model are parsed, not run: a SyntaxWarning such as "invalid
        # escape sequence" from parsing one is no message for the user's terminal.
        warnings.simplefilter("ignore", SyntaxWarning)
        return _compile(root)


def _compile(root: Path) -> FrontEndResult:
    diags = Diagnostics()
    ws = load_workspace(root, diags)
    broken = validate_schemas(ws, diags)
    # Files that failed to load are broken too: their names must not cause follow-up errors.
    model = check(ws, diags, broken | ws.failed)
    names = lower(model, diags) if model is not None else None
    if diags or model is None or names is None:
        return FrontEndResult(None, diags.sorted())
    return FrontEndResult(Compiled(model, names), [])
