"""Unusual but valid models still generate clean code: no commands, no events, no flows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import build, package_of, run_in

MODELS = {
    "empty": {"draftsman.yaml": "name: Empty\n"},
    "bare-aggregate": {
        "draftsman.yaml": "name: Bare\n",
        "domain/X/Thing/root.yaml": "business-key: id\nfields: {id: String}\n",
    },
    "events-without-flows": {
        "draftsman.yaml": "name: NoFlows\n",
        "domain/X/Thing/root.yaml": "business-key: id\nfields: {id: String, n: Int}\n",
        "domain/X/Thing/events/Touched.yaml": "fields: {}\nhandler: {mapping: {}}\n",
        "domain/X/Thing/events/Counted.yaml": "fields: {n: Int}\nhandler: {mapping: {n: {add: n}}}\n",
    },
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_edge_model_generates_clean_code(name: str, tmp_path: Path) -> None:
    model = tmp_path / "model"
    for rel, text in MODELS[name].items():
        (model / rel).parent.mkdir(parents=True, exist_ok=True)
        (model / rel).write_text(text)
    out = tmp_path / "out"
    build(model, out)
    package = package_of(out)
    ruff = run_in(out, "ruff", "check", "--no-cache", ".")
    assert ruff.returncode == 0, ruff.stdout
    mypy = run_in(out, "mypy", "--cache-dir", str(tmp_path / "mypy"), package)
    assert mypy.returncode == 0, mypy.stdout
    imported = run_in(out, package, "--help")
    assert imported.returncode == 0, imported.stderr
    # and its API: the runtime's shared types with what the model adds, if anything
    script = ("from draftsman_runtime.api import create_app; "
              f"from {package}.registry import REGISTRY; create_app(REGISTRY, dispatch=False); "
              "print('ok')")
    check = subprocess.run(
        [sys.executable, "-c", script],
        cwd=out, env={**os.environ, "PYTHONPATH": str(out),
                      f"{package.upper()}_DATABASE": str(tmp_path / "db.sqlite3")},
        capture_output=True, text=True, timeout=120, check=False)
    assert check.stdout == "ok\n", check.stderr
