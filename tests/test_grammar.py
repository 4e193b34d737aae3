"""The expression grammar: what passes, what does not, and a hypothesis test that nothing
outside the grammar passes, judged by a second, independent statement of the grammar."""

from __future__ import annotations

import ast
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from draftsman_gen.grammar import BUILTINS, MAX_POWER, METHODS, Scope, check

SCOPE = Scope(
    roots=frozenset({"flow"}),
    functions=frozenset({"shipmentKey"}),
    attributes=frozenset({"amount", "entity", "identity", "balance", "lines", "quantity", "sku",
                          "items", "owner"}),
    checked_elsewhere=frozenset({("flow",), ("flow", "entity")}),
)


@pytest.mark.parametrize("text", [
    "flow.amount > 0", "not flow.entity.frozen", "all(line.quantity > 0 for line in flow.lines)",
    "sorted(line.sku for line in flow.lines)", "len(flow.owner.strip()) > 0",
    "flow.amount ** 2", "{k: v for k, v in flow.entity.items.items()}", "flow.lines[0].sku",
    "f'{flow.amount:>10}'", "shipmentKey(flow.owner)", "round(flow.amount, 2)",
    "sorted(flow.lines, key=len, reverse=True)", "'SHP-' + flow.owner.upper()",
    "flow.amount if flow.amount > 0 else -flow.amount", "[1, 2.5, 'a', None, True]",
])
def test_expressions_in_the_grammar(text: str) -> None:
    assert check(ast.parse(text, mode="eval"), SCOPE) == []


@pytest.mark.parametrize(("text", "code"), [
    ("[0 for __import__ in ()]", "DG312"), ("(lambda exec: 0)(1)", "DG334"),
    ("(x for x in [1]).gi_frame", "DG334"), ("'{0.__class__}'.format(flow)", "DG334"),
    ("(o := 1)", "DG334"), ("flow.amount.__class__", "DG312"), ("getattr(flow, 'x')", "DG313"),
    ("open('x')", "DG313"), ("flow.amount ** flow.amount", "DG334"), ("{**flow.items}", "DG334"),
    ("max(*flow.lines)", "DG334"), ("dict(**flow.items)", "DG334"), ("flow()", "DG334"),
    ("[len for len in flow.lines]", "DG334"), ("b'x'", "DG334"), ("flow.amount @ 2", "DG334"),
    ("~flow.amount", "DG334"), ("flow.amount << 2", "DG334"), ("flow.lines.append(1)", "DG334"),
    ("flow.entity.items.clear()", "DG334"), ("flow.owner.real", "DG334"),
    ("[x async for x in flow.lines]", "DG334"), ("(yield)", "DG334"), ("...", "DG334"),
])
def test_expressions_outside_the_grammar(text: str, code: str) -> None:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        tree = ast.parse(f"({text})", mode="eval")
    assert code in {v.code for v in check(tree, SCOPE)}


# -- the property: nothing outside the grammar passes --------------------------------------
NAMES = ["flow", "x", "y", "len", "sorted", "eval", "exec", "getattr", "open", "__import__",
         "shipmentKey", "_secret", "os", "type", "vars", "globals"]
ATTRIBUTES = ["amount", "entity", "balance", "lines", "quantity", "upper", "strip", "format",
              "system", "real", "mro", "__class__", "__globals__", "gi_frame", "f_builtins",
              "append", "items", "get", "__dict__", "_x"]
CONSTANTS = ["1", "2.5", "'a'", "None", "True", "b'x'", "...", "200", "''"]


def expressions() -> st.SearchStrategy[str]:
    leaves = st.sampled_from(NAMES + CONSTANTS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        name = st.sampled_from(NAMES)
        return st.one_of(
            st.tuples(inner, st.sampled_from(ATTRIBUTES)).map(lambda t: f"{t[0]}.{t[1]}"),
            st.tuples(inner, st.lists(inner, max_size=2)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(inner, st.sampled_from(["+", "*", "**", "@", "<<", "and", "<", "in"]),
                      inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(inner, name, inner).map(lambda t: f"[{t[0]} for {t[1]} in {t[2]}]"),
            st.tuples(name, inner).map(lambda t: f"(lambda {t[0]}: {t[1]})"),
            st.tuples(name, inner).map(lambda t: f"({t[0]} := {t[1]})"),
            inner.map(lambda e: f"(*{e},)"),
            inner.map(lambda e: f"{{**{e}}}"),
            inner.map(lambda e: f"f'{{{e}}}'"),
            inner.map(lambda e: f"(~{e})"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}(key={t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}(**{t[1]})"),
        )
    return st.recursive(leaves, extend, max_leaves=6)


ALLOWED_NODES = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Compare,
                 ast.Call, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Name,
                 ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp,
                 ast.GeneratorExp, ast.comprehension, ast.JoinedStr, ast.FormattedValue,
                 ast.keyword, ast.Load, ast.Store, ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult,
                 ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.Not, ast.USub, ast.UAdd, ast.Eq,
                 ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)


def conforms(tree: ast.Expression) -> bool:
    """The grammar said once more, walking the whole tree: the oracle."""
    targets = {n.id for c in ast.walk(tree) if isinstance(c, ast.comprehension)
               for n in ast.walk(c.target) if isinstance(n, ast.Name)}
    readable = SCOPE.roots | SCOPE.functions | BUILTINS | targets
    callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            return False
        if isinstance(node, ast.Constant) and not isinstance(node.value,
                                                             str | int | float | type(None)):
            return False
        if isinstance(node, ast.Name):
            if node.id.startswith("_") or node.id not in readable:
                return False
            if isinstance(node.ctx, ast.Store) and node.id in SCOPE.roots | BUILTINS:
                return False
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                return False
            if id(node) in callees and node.attr not in METHODS:
                return False
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id not in BUILTINS | SCOPE.functions:
                return False
            if not isinstance(func, ast.Name | ast.Attribute):
                return False
            if any(k.arg is None for k in node.keywords):
                return False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            right = node.right
            if not (isinstance(right, ast.Constant) and type(right.value) in (int, float)
                    and 0 <= right.value <= MAX_POWER):
                return False
        if isinstance(node, ast.Dict) and None in node.keys:
            return False
        if isinstance(node, ast.comprehension) and node.is_async:
            return False
    return True


@settings(max_examples=int(os.environ.get("GRAMMAR_EXAMPLES", "500")), deadline=None)
@given(expressions())
def test_nothing_outside_the_grammar_passes(text: str) -> None:
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):
        return
    if not check(tree, SCOPE):
        assert conforms(tree), text
