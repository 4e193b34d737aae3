"""Materialise a diagnostics case: the base model plus the case's file overrides."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent / "diagnostics"
BASE = HERE / "base"
CASES = sorted((HERE / "cases").glob("*.yaml"))


def materialise(case: Path, target: Path) -> Path:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    model = target / "model"
    shutil.copytree(BASE, model)
    for rel, content in (spec.get("files") or {}).items():
        path = model / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    for rel, hexdata in (spec.get("bytes") or {}).items():
        path = model / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes.fromhex(hexdata))
    return model
