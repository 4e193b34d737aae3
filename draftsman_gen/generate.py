"""The back end as one call: plan, render, format. Pure: touches no output folder."""

from __future__ import annotations

import warnings

from draftsman_gen.format import Formatter
from draftsman_gen.pipeline import Compiled
from draftsman_gen.plan import plan
from draftsman_gen.render import render


def generate(compiled: Compiled, model_label: str, formatter: Formatter,
             vendor_runtime: bool = False) -> dict[str, str]:
    """{relative path: file text} of the whole generated package."""
    files: dict[str, str] = {}
    python: dict[str, str] = {}
    in_layout: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # re-parsed model snippets
        outputs = plan(compiled.model, compiled.names, model_label, vendor_runtime)
    for output in outputs:
        text = render(output)
        (python if output.python else files)[output.path] = text
        if output.python and output.black_layout:
            in_layout.add(output.path)
    files.update(formatter.format_many(python, frozenset(in_layout)))
    return dict(sorted(files.items()))
