"""Expressions in the model: parsed, checked against the grammar, and the named key expressions."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from typing import Any

from draftsman_gen import grammar, ir
from draftsman_gen.grammar import Scope
from draftsman_gen.loader import SourceFile, Workspace
from draftsman_gen.naming import camel_problem
from draftsman_gen.pyexpr import Analysis, analyze_expression
from draftsman_gen.semantic.sink import P, Sink, file_loc, hint, snippet_loc


def check_expression(sink: Sink, source: SourceFile, path: P, text: Any,
                     scope: Scope) -> Analysis | None:
    """Parse an expression and check it against the grammar; None when it has an error."""
    if not isinstance(text, str):
        text = repr(text)  # a literal number or boolean written without quotes
    analysis = analyze_expression(text)
    if analysis.error:
        sink.err(snippet_loc(source, path, analysis.error_line), "DG311", analysis.error)
        return None
    violations = _violations(analysis.text, scope)
    for v in violations:
        known = scope.roots | scope.functions | grammar.BUILTINS
        more = hint(v.name, known) if v.name else ""
        sink.err(snippet_loc(source, path, v.line), v.code, v.message + more)
    return None if violations else analysis


@functools.lru_cache(maxsize=4096)
def _violations(text: str, scope: Scope) -> list[grammar.Violation]:
    return grammar.check(ast.parse(text, mode="eval"), scope)


def check_key_expressions(sink: Sink, ws: Workspace) -> dict[str, ir.KeyExpression]:
    """The files under expressions/: functions of their parameters, callable by name."""
    result: dict[str, ir.KeyExpression] = {}
    for source in ws.of_kind("expression"):
        if not sink.usable(source) or not sink.name_check(source, source.stem, camel_problem):
            continue
        params = source.data.get("parameters", [])
        ok = True
        for i, param in enumerate(params):
            ok &= sink.name_check(source, param, camel_problem, ("parameters", i))
        if len(set(params)) != len(params):
            sink.err(source.loc(("parameters",)), "DG303", "duplicate parameter name")
            ok = False
        scope = Scope(frozenset(params), frozenset(), frozenset())
        analysis = check_expression(sink, source, ("expression",), source.data["expression"],
                                    scope)
        if analysis is None or not ok:
            continue
        if source.stem in result:
            sink.err(source.loc(), "DG303", f"duplicate key expression '{source.stem}'")
            continue
        result[source.stem] = ir.KeyExpression(source.stem, tuple(params), analysis.text,
                                               file_loc(source))
    return result


def declared_names(fields: Iterable[ir.Field], entities: Iterable[str]) -> frozenset[str]:
    """Every field name of the model, entity collections, and the flow's `entity` and
    `identity`: the only attributes an expression may read (besides flow variables)."""
    names = {"entity", "identity", *entities}
    for f in fields:
        names.add(f.name)
        names.update(x.name for x in f.fields)  # ObjectList items
    return frozenset(names)


def call_arity_problems(text: str, expr: ir.KeyExpression) -> list[str]:
    """Calls of key expression `expr` in `text` with the wrong arguments."""
    problems = []
    for node in ast.walk(ast.parse(text, mode="eval")):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == expr.name
                and (len(node.args) != len(expr.parameters) or node.keywords)):
            problems.append(f"key expression '{expr.name}' takes {len(expr.parameters)} "
                            f"positional argument(s): {', '.join(expr.parameters)}")
    return problems
