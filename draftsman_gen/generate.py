"""IR -> {relative path: file text}: plan, render, format. Pure: touches no output folder."""

from __future__ import annotations

from draftsman_gen import ir
from draftsman_gen.format import Formatter
from draftsman_gen.plan import plan
from draftsman_gen.render import render


def generate(model: ir.Model, model_label: str, formatter: Formatter,
             vendor_runtime: bool = False) -> dict[str, str]:
    files: dict[str, str] = {}
    python: dict[str, str] = {}
    for output in plan(model, model_label, vendor_runtime):
        text = render(output)
        (python if output.python else files)[output.path] = text
    files.update(formatter.format_many(python))
    return dict(sorted(files.items()))
