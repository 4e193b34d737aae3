from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The tests never touch the user's real cache (~/.cache/draftsman-gen): each test process
# (each pytest-xdist worker) gets a cache of its own, removed at exit.
_CACHE = tempfile.mkdtemp(prefix="draftsman-gen-test-cache-")
os.environ["DRAFTSMAN_GEN_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "draftsman.yaml").exists())


def update_golden() -> bool:
    """Set UPDATE_GOLDEN=1 to rewrite expected outputs after a deliberate change."""
    return os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(params=EXAMPLES, ids=[p.name for p in EXAMPLES])
def example_dir(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples built once per session into one folder, importable in-process."""
    import sys

    from click.testing import CliRunner

    from draftsman_gen.cli import cli

    root = tmp_path_factory.mktemp("generated")
    for example in EXAMPLES:
        result = CliRunner().invoke(cli, ["build", str(example), "--out", str(root / example.name)])
        assert result.exit_code == 0, result.output
        sys.path.insert(0, str(root / example.name))
    return root
