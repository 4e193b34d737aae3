"""End to end: every example builds, and its generated package passes its own tests,
ruff and mypy. The number of generated tests equals the modeled test cases plus one
replay check per case that does not expect an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import build, package_of, passed_count, run_in

from draftsman_gen.pipeline import compile_model


def expected_test_count(model_dir: Path) -> int:
    compiled = compile_model(model_dir).compiled
    assert compiled is not None
    model = compiled.model
    cases = [c for a in model.aggregates for f in a.flows for c in f.test_cases]
    return len(cases) + sum(1 for c in cases if c.expected_error is None)


def test_example_generates_passing_package(example_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(example_dir, out)
    tests = run_in(out, "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert passed_count(tests.stdout) == expected_test_count(example_dir), tests.stdout


@pytest.mark.parametrize("options", [[], ["--vendor-runtime"]], ids=["runtime", "vendored"])
def test_example_output_passes_ruff_and_mypy(example_dir: Path, tmp_path: Path,
                                             options: list[str]) -> None:
    """Vendored, the runtime's copy is checked too: it must pass the package's own rules."""
    out = tmp_path / "out"
    build(example_dir, out, *options)
    ruff = run_in(out, "ruff", "check", "--no-cache", ".")
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    mypy = run_in(out, "mypy", "--cache-dir", str(tmp_path / "mypy"), package_of(out), "tests")
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


def test_generated_package_does_not_import_draftsman_gen(example_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(example_dir, out)
    for path in out.rglob("*.py"):
        assert "draftsman_gen" not in path.read_text(encoding="utf-8"), path
    assert "from draftsman_runtime" in (out / package_of(out) / "registry.py").read_text()
