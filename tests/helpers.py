"""Shared helpers for tests that build models and run the generated packages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from draftsman_gen.cli import cli


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def build(model: Path, out: Path, *options: str) -> Result:
    result = invoke("build", str(model), "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    return result


def package_of(out: Path) -> str:
    text = (out / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'include = \["([a-z_0-9]+)\*"\]', text)
    assert match, text
    return match.group(1)


def run_in(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m ARGS` inside a generated package folder, importable via PYTHONPATH."""
    env = {**os.environ, "PYTHONPATH": str(out), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=out, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )


def outcomes(output: str) -> dict[str, int]:
    """The counts of pytest's summary line: {"passed": 12, "failed": 1, ...}. The numbers are
    read as numbers, so "12 passed" never matches an expectation of 2."""
    summary = r"\d+ (passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected)"
    lines = [line for line in output.splitlines() if re.search(summary, line)]
    if not lines:
        return {}
    return {word: int(n) for n, word in re.findall(r"(\d+) ([a-z]+)\b", lines[-1])}


def passed_count(output: str) -> int:
    return outcomes(output).get("passed", 0)
