"""The corpus (sqlc style): each folder of tests/corpus is a model and what building it gives,
byte for byte: the whole output tree (`expected/`), or the diagnostics and exit code
(`expected.txt`). The examples are cases too. A case without its expected file fails: run
scripts/update-goldens.sh, then review the diff before committing it."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, update_golden
from helpers import build, invoke, package_of, passed_count, run_in

from draftsman_gen.pipeline import compile_model

CORPUS = ROOT / "tests" / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "case.yaml").exists())


def _spec(case: Path) -> dict[str, object]:
    spec = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))
    assert isinstance(spec, dict) and spec.get("description"), f"{case}: case.yaml needs a description"
    return spec


def _model(case: Path) -> Path:
    spec = _spec(case)
    return ROOT / str(spec["model"]) if "model" in spec else case / "model"


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _build(case: Path, out: Path) -> tuple[int, str]:
    options = [str(o) for o in _spec(case).get("options", [])]  # type: ignore[attr-defined]
    result = invoke("build", str(_model(case)), "--out", str(out), "--no-cache", *options)
    return result.exit_code, result.output


def _missing(what: Path) -> None:
    pytest.fail(f"{what} is missing: run scripts/update-goldens.sh and review what it wrote")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Path, tmp_path: Path) -> None:
    out = tmp_path / _model(case).name
    code, output = _build(case, out)
    expected_dir, expected_txt = case / "expected", case / "expected.txt"
    if code != 0:
        actual = f"{output}# exit: {code}\n"
        if update_golden():
            shutil.rmtree(expected_dir, ignore_errors=True)
            expected_txt.write_text(actual, encoding="utf-8")
        if not expected_txt.exists():
            _missing(expected_txt)
        assert actual == expected_txt.read_text(encoding="utf-8")
        return
    if update_golden():
        expected_txt.unlink(missing_ok=True)
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
    if not expected_dir.exists():
        _missing(expected_dir)
    actual, expected = _files(out), _files(expected_dir)
    assert sorted(actual) == sorted(expected), "the set of generated files differs"
    for name, text in actual.items():
        if text != expected[name]:
            diff = "".join(difflib.unified_diff(expected[name].splitlines(True),
                                                text.splitlines(True), f"expected/{name}", name))
            raise AssertionError(f"{case.name}: {name} differs:\n{diff}")


BUILDS = [c for c in CASES if (c / "expected").exists()]


def expected_test_count(model_dir: Path) -> int:
    compiled = compile_model(model_dir).compiled
    assert compiled is not None
    model = compiled.model
    cases = [c for a in model.aggregates for f in a.flows for c in f.test_cases]
    return len(cases) + sum(1 for c in cases if c.expected_error is None)


@pytest.mark.parametrize("case", BUILDS, ids=[c.name for c in BUILDS])
def test_corpus_output_passes_its_tests_ruff_and_mypy(case: Path, tmp_path: Path) -> None:
    """Each case that builds: its generated tests pass (exactly one test per modeled case plus
    one replay per case that expects success), and ruff and mypy find nothing."""
    out = tmp_path / _model(case).name
    assert _build(case, out)[0] == 0
    tests = run_in(out, "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert passed_count(tests.stdout) == expected_test_count(_model(case)), tests.stdout
    ruff = run_in(out, "ruff", "check", "--no-cache", ".")
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = run_in(out, "mypy", "--cache-dir", str(tmp_path / "mypy"), package_of(out), "tests")
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


def test_corpus_output_is_what_black_writes() -> None:
    """The format stage skips black for files in black's layout: black must agree, with the
    settings the generated pyproject.toml gives it."""
    folders = [str(c / "expected") for c in BUILDS]
    black = subprocess.run([sys.executable, "-m", "black", "--check", "--quiet",
                            "--config", str(BUILDS[0] / "expected" / "pyproject.toml"), *folders],
                           capture_output=True, text=True, check=False)
    assert black.returncode == 0, black.stderr


def test_synthetic_model_output_is_what_black_writes(tmp_path: Path) -> None:
    """The benchmark's synthetic model (names of other lengths than the corpus's)."""
    model, out = tmp_path / "model", tmp_path / "out"
    subprocess.run([sys.executable, str(ROOT / "bench" / "synthetic.py"), "3", str(model)],
                   check=True, capture_output=True)
    assert build(model, out).exit_code == 0
    black = subprocess.run([sys.executable, "-m", "black", "--check", "--quiet", str(out)],
                           capture_output=True, text=True, check=False, cwd=out)
    assert black.returncode == 0, black.stderr
