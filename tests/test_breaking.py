"""`draftsman-gen breaking`: a git repository made from tests/breaking/base with one commit
per kind of change (tests/breaking/cases.yaml), each compared with the base commit; the exact
output of each case is golden (tests/breaking/expected/<name>.txt)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, update_golden
from helpers import invoke

HERE = ROOT / "tests" / "breaking"
CASES = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", *args],
        cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base model in a git repository, tagged `base`, with one branch and commit per case
    (the model lives in a subfolder, as in a repository that holds more than the model)."""
    root = tmp_path_factory.mktemp("breaking")
    model = root / "model"
    shutil.copytree(HERE / "base", model)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "tag", "base")
    for case in CASES:
        git(root, "checkout", "-q", "-B", case["name"], "base")
        for edit in case["edits"]:
            _apply(model, edit)
        git(root, "add", "-A")
        git(root, "commit", "-qm", case["name"])
    git(root, "checkout", "-q", "main")
    return root


def _apply(model: Path, edit: dict[str, str]) -> None:
    if "delete" in edit:
        (model / edit["delete"]).unlink()
    elif "rename" in edit:
        (model / edit["rename"]).rename(model / edit["to"])
    elif "write" in edit:
        (model / edit["file"]).parent.mkdir(parents=True, exist_ok=True)
        (model / edit["file"]).write_text(edit["write"], encoding="utf-8")
    else:
        path = model / edit["file"]
        text = path.read_text(encoding="utf-8")
        assert edit["replace"] in text, edit
        path.write_text(text.replace(edit["replace"], edit["with"]), encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_change_is_judged(case: dict[str, object], repo: Path) -> None:
    git(repo, "checkout", "-q", str(case["name"]))
    try:
        assert invoke("validate", str(repo / "model")).exit_code == 0, "a case must validate"
        result = invoke("breaking", str(repo / "model"), "--against", "base")
    finally:
        git(repo, "checkout", "-q", "main")
    assert result.exit_code == (1 if case["breaks"] else 0), result.output
    output = f"exit {result.exit_code}\n{result.stdout}"
    expected = HERE / "expected" / f"{case['name']}.txt"
    if update_golden():
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(output, encoding="utf-8")
    assert output == expected.read_text(encoding="utf-8"), "run scripts/update-goldens.sh"
    if case["breaks"]:
        assert result.stdout and all(":" in line and "error[DG5" in line
                                     for line in result.stdout.splitlines())
    else:
        assert result.stdout == "" and "no breaking changes against base" in result.stderr


def test_every_breaking_code_has_a_case() -> None:
    codes = {line.split("error[")[1][:5] for path in (HERE / "expected").glob("*.txt")
             for line in path.read_text().splitlines() if "error[" in line}
    assert codes >= {f"DG50{n}" for n in range(2, 10)} | {"DG510"}


def test_formats_and_usage_errors(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "event-removed")
    try:
        args = ("breaking", str(repo / "model"), "--against", "base")
        items = json.loads(invoke(*args, "--error-format", "json").stdout)
        assert [(i["code"], i["file"], i["severity"]) for i in items] == [
            ("DG502", "domain/Ledger/Entry/root.yaml", "error")]
        github = invoke(*args, "--error-format", "github").stdout
        assert github.startswith("::error file=domain/Ledger/Entry/root.yaml,line=1,")
        assert invoke("breaking", str(repo / "model"), "--against", "main").exit_code == 1
        unknown = invoke("breaking", str(repo / "model"), "--against", "no-such-ref")
        assert unknown.exit_code == 2 and "'no-such-ref' is not a commit" in unknown.stderr
        sneaky = invoke("breaking", str(repo / "model"), "--against", "--output=/tmp/x")
        assert sneaky.exit_code == 2 and "is not a git ref" in sneaky.stderr
    finally:
        git(repo, "checkout", "-q", "main")
    shutil.copytree(HERE / "base", tmp_path / "plain")
    outside = invoke("breaking", str(tmp_path / "plain"), "--against", "HEAD")
    assert outside.exit_code == 2 and "is not in a git repository" in outside.stderr


def test_a_new_model_and_an_invalid_one(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "new-model", "base")
    try:
        shutil.copytree(HERE / "base", repo / "second")
        result = invoke("breaking", str(repo / "second"), "--against", "base")
        assert result.exit_code == 0 and "does not exist at base" in result.stderr
        root = repo / "model" / "domain" / "Ledger" / "Entry" / "root.yaml"
        root.write_text(root.read_text().replace("business-key: entryId", "business-key: nope"))
        broken = invoke("breaking", str(repo / "model"), "--against", "base")
        assert broken.exit_code == 1 and "error[DG314]" in broken.stdout
        assert "does not validate" in broken.stderr
    finally:
        git(repo, "checkout", "-q", "-f", "main")
        git(repo, "clean", "-qfd")


def test_the_model_at_the_ref_is_read_as_stored_in_git(tmp_path: Path) -> None:
    """Not as `git archive` would give it: a file marked export-ignore is still part of the
    model, and a symbolic link in the tree (to anywhere) is left out, not followed."""
    root = tmp_path / "repo"
    shutil.copytree(HERE / "base", root / "model")
    (root / ".gitattributes").write_text("model/commands/Ledger/ArchiveRequested.yaml export-ignore\n")
    (root / "model" / "lib").mkdir()
    (root / "model" / "lib" / "etc").symlink_to("/etc")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    result = invoke("breaking", str(root / "model"), "--against", "HEAD")
    assert result.exit_code == 0, result.output
    assert "no breaking changes against HEAD" in result.stderr
