"""`draftsman-gen validate MODEL_DIR`."""

from __future__ import annotations

import sys
from pathlib import Path

from draftsman_gen.diagnostics import render
from draftsman_gen.pipeline import compile_model


def run(model_dir: Path, error_format: str) -> int:
    result = compile_model(model_dir)
    if result.diagnostics:
        sys.stdout.write(render(result.diagnostics, error_format))
        if error_format == "text":
            count = len(result.diagnostics)
            sys.stderr.write(f"{count} problem{'s' if count != 1 else ''} found\n")
        return 1
    if error_format == "json":
        sys.stdout.write("[]\n")
    elif error_format == "text":
        sys.stderr.write(f"{model_dir}: model is valid\n")
    return 0
