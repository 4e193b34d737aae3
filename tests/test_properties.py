"""Property-based tests: mutated example models never crash the front end.

Whatever happens to a valid model file (keys deleted, values swapped for other types, junk
inserted, the text truncated), `validate` exits 0 or 1, never with a traceback, and every
message names a file and a line."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draftsman_gen.cli import cli
from draftsman_gen.pipeline import compile_model

# FUZZ_EXAMPLES=5000 runs a longer search locally; CI uses the default.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FILES = [(ex, p.relative_to(ex)) for ex in EXAMPLES for p in sorted(ex.rglob("*.yaml"))]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


PLACEHOLDER = "PLACEHOLDER4711"
NASTY_YAML = [
    "!!int abc", "!!float xyz", "!!bool maybe", "!!timestamp 2020-13-45", "!custom x",
    "!!python/object:os.system x", "!!binary abc", "1" + "0" * 5000, "-" + "9" * 60,
    "1e999", ".nan", "-.inf", "0x1F", "0o17", "1_000", "~", "2001-12-14t21:59:43.10-05:00",
    "[" * 300 + "]" * 300, "{a: " * 200 + "1" + "}" * 200, "*undefined", "&a [*a, *a]",
    "!!set {a, b}", "!!omap [a: 1]", "!!str 12", "!!null x", "? [a]\n  : b",
]


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, prefix + (i,))
    return out


def _mutate_data(data: Any, path: tuple[Any, ...], action: str, junk: Any) -> Any:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = junk
    elif action == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    return data


@st.composite
def mutations(draw: st.DrawFn) -> tuple[Path, Path, bytes]:
    example, rel = draw(st.sampled_from(FILES))
    text = (example / rel).read_text(encoding="utf-8")
    kind = draw(st.sampled_from(["delete", "replace", "rename", "truncate", "insert", "bytes",
                                 "yaml"]))
    if kind == "yaml":  # a value YAML parses but cannot (or should not) turn into a value
        data = yaml.safe_load(text)
        path = draw(st.sampled_from(_paths(data)))
        mutated = yaml.safe_dump(_mutate_data(data, path, "replace", PLACEHOLDER))
        snippet = draw(st.sampled_from(NASTY_YAML))
        return example, rel, mutated.replace(PLACEHOLDER, snippet, 1).encode("utf-8")
    if kind in ("delete", "replace", "rename"):
        data = yaml.safe_load(text)
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        junk = draw(json_values)
        mutated = yaml.safe_dump(_mutate_data(data, path, kind, junk), allow_unicode=True)
        return example, rel, mutated.encode("utf-8")
    if kind == "truncate":
        cut = draw(st.integers(0, len(text)))
        return example, rel, text[:cut].encode("utf-8")
    if kind == "insert":
        at = draw(st.integers(0, len(text)))
        junk_text = draw(st.text(max_size=20))
        return example, rel, (text[:at] + junk_text + text[at:]).encode("utf-8", "surrogatepass")
    at = draw(st.integers(0, len(text)))
    raw = draw(st.binary(min_size=1, max_size=8))
    encoded = text.encode("utf-8")
    return example, rel, encoded[:at] + raw + encoded[at:]


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_mutated_models_never_crash(case: tuple[Path, Path, bytes]) -> None:
    example, rel, content = case
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model"
        shutil.copytree(example, model)
        (model / rel).write_bytes(content)
        result = CliRunner().invoke(cli, ["validate", str(model)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"crash on {rel}: {result.exception!r}"
        )
        assert result.exit_code in (0, 1)
        diagnostics = compile_model(model).diagnostics
        assert (result.exit_code == 1) == bool(diagnostics)
        for diag in diagnostics:
            assert diag.location.file and diag.location.line >= 1, diag
            assert (model / diag.location.file).exists() or diag.code == "DG106", diag
