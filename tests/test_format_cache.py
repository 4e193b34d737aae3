"""The formatting cache: a rebuild of an unchanged model runs black on nothing."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT

from draftsman_gen.format import Formatter
from draftsman_gen.generate import generate
from draftsman_gen.pipeline import compile_model


def test_second_generation_formats_nothing(tmp_path: Path) -> None:
    model = compile_model(ROOT / "examples" / "shop").compiled
    assert model is not None
    first = Formatter(tmp_path / "cache")
    files = generate(model, "shop", first)
    assert first.formatted > 0  # lib modules and code handlers are not in black's layout
    assert first.skipped > 0  # the rest is
    second = Formatter(tmp_path / "cache")
    assert generate(model, "shop", second) == files
    assert second.formatted == 0


def test_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    model = compile_model(ROOT / "examples" / "banking").compiled
    assert model is not None
    with_cache = generate(model, "banking", Formatter(blocker))
    assert with_cache == generate(model, "banking", Formatter(None))
