"""The pre-commit hooks (.pre-commit-hooks.yaml), run by pre-commit itself in a sample model
repository: pre-commit clones this repository at HEAD, installs draftsman-gen into its own
environment, and runs `validate` and `check` as a model repository's commits would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from helpers import build, invoke


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", *args],
        cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_hooks_validate_and_check_a_model_repository(tmp_path: Path) -> None:
    if shutil.which("pre-commit", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("pre-commit is missing: pip install -e '.[test]'")
    if not (ROOT / ".git").exists():
        pytest.fail("this test clones the repository at HEAD: run it in a git checkout")
    head = _git(ROOT, "rev-parse", "HEAD")
    # draftsman-gen needs draftsman-runtime of its own version, which lives in this repository
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT / "runtime"),
                    "-w", str(wheels)], check=True, capture_output=True)
    repo = tmp_path / "shop"
    assert invoke("init", str(repo), "--name", "Shop").exit_code == 0
    build(repo, repo / "generated" / "shop")
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {ROOT}\n"
        f"    rev: {head}\n"
        "    hooks:\n"
        "      - id: draftsman-validate\n"
        "      - id: draftsman-check\n"
        "        args: [., --out, generated/shop]\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "a new model")
    env = {**os.environ, "PIP_FIND_LINKS": str(wheels), "PRE_COMMIT_HOME": str(tmp_path / "pc")}
    pre_commit = [str(Path(sys.executable).parent / "pre-commit"), "run", "--all-files"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(pre_commit, cwd=repo, env=env, capture_output=True, text=True,
                              timeout=600, check=False)

    first = run()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "draftsman-gen validate" in first.stdout and "draftsman-gen check" in first.stdout
    assert first.stdout.count("Passed") == 2
    # A model change without a build: check fails and says why; validate still passes.
    flow = repo / "domain/Shop/Item/behavior-flows/RegisterItem.yaml"
    flow.write_text(flow.read_text().replace("got {flow.quantity}", "was {flow.quantity}")
                    .replace("got 0", "was 0"))
    stale = run()
    assert stale.returncode == 1, stale.stdout[-3000:]
    assert "generated/shop is stale" in stale.stdout
    assert stale.stdout.count("Passed") == 1 and stale.stdout.count("Failed") == 1
    # A broken model: validate names the file, line and code.
    flow.write_text(flow.read_text().replace("key-field: itemId", "key-field: itemNr"))
    broken = run()
    assert broken.returncode == 1
    assert "domain/Shop/Item/behavior-flows/RegisterItem.yaml:" in broken.stdout
    assert "error[DG316]" in broken.stdout
