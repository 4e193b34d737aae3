"""Where the shipped templates and schemas live: inside the wheel, or beside the source tree."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """`templates` or `schemas`: the installed copy first, the source checkout second."""
    for candidate in (_HERE / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"draftsman-gen is installed without its {name} folder")
