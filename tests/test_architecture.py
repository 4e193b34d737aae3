"""The compiler's shape: one job per module, imports flowing one way, no cycles."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter

import pytest
from conftest import ROOT

PACKAGE = ROOT / "draftsman_gen"
FRONT_END = {"loader", "schema", "semantic", "grammar", "infer", "pyexpr", "naming"}
BACK_END = {"plan", "contexts", "layout", "render", "format", "generate", "writer", "digest",
            "vendor", "modeldocs"}


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
        found[name.removesuffix(".__init__")] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def imports(tree: ast.Module, names: set[str]) -> set[str]:
    """The draftsman_gen modules a module imports (at any depth: lazy imports count)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module != "draftsman_gen" and not node.module.startswith("draftsman_gen."):
                continue
            module = node.module.removeprefix("draftsman_gen").removeprefix(".")
            for alias in node.names:
                submodule = f"{module}.{alias.name}".lstrip(".")
                found.add(submodule if submodule in names else module)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("draftsman_gen.") for a in node.names
                         if a.name.startswith("draftsman_gen."))
    return found - {""}


MODULES = modules()
GRAPH = {name: imports(tree, set(MODULES)) for name, tree in MODULES.items()}


def test_the_import_graph_is_acyclic() -> None:
    try:
        tuple(TopologicalSorter(GRAPH).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle: {exc.args[1]}")


def test_the_front_end_never_imports_the_back_end() -> None:
    for name, imported in GRAPH.items():
        if name.split(".")[0] in FRONT_END:
            assert not {i.split(".")[0] for i in imported} & BACK_END, (name, imported)


def test_the_ir_imports_nothing_of_the_compiler() -> None:
    assert GRAPH["ir"] == set()


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_every_module_says_what_its_one_job_is(name: str) -> None:
    docstring = ast.get_docstring(MODULES[name])
    assert docstring, f"{name} has no docstring"
    first = docstring.splitlines()[0]
    assert 10 < len(first) <= 100 and first.endswith((".", ":")), first


def test_the_importer_is_a_pipeline_of_its_own() -> None:
    """import-xml writes a model for `validate` to judge: it uses no compiler stage, only the
    shared diagnostics and naming rules (and the compiler does not use it)."""
    shared = {"diagnostics", "codes", "naming"}
    for name, imported in GRAPH.items():
        if name.startswith("importxml"):
            assert {i for i in imported if not i.startswith("importxml")} <= shared, name
        elif name != "cmd_import_xml":
            assert not any(i.startswith("importxml") for i in imported), name
