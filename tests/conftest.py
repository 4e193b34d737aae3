from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "draftsman.yaml").exists())


def update_golden() -> bool:
    """Set UPDATE_GOLDEN=1 to rewrite expected outputs after a deliberate change."""
    return os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(params=EXAMPLES, ids=[p.name for p in EXAMPLES])
def example_dir(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)
