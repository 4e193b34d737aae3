"""infer.py: the type an expression certainly gives. A table of cases, and a hypothesis test
that whatever type it claims is the type the expression really has when evaluated."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from draftsman_gen.infer import assignable, expression_type, join

ENV = {
    ("flow", "n"): "Int",
    ("flow", "x"): "Float",
    ("flow", "s"): "String",
    ("flow", "b"): "Boolean",
    ("flow", "tags"): "StringList",
    ("flow", "identity"): "String",
    ("flow", "entity", "balance"): "Float",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "Int"), ("1.5", "Float"), ("'a'", "String"), ("True", "Boolean"),
        ("f'{flow.n}'", "String"), ("flow.n", "Int"), ("flow.entity.balance", "Float"),
        ("flow.unknown", None), ("flow.n + 1", "Int"), ("flow.n + flow.x", "Float"),
        ("flow.n / 2", "Float"), ("flow.n // 2", "Int"), ("flow.n ** 2", None),
        ("flow.s + 'x'", "String"), ("flow.s + 1", None), ("flow.s * 2", None),
        ("flow.n > 0", "Boolean"), ("not flow.n", "Boolean"), ("-flow.x", "Float"),
        ("-flow.b", None), ("flow.b and flow.n > 1", "Boolean"), ("flow.n or flow.s", None),
        ("0.05 if flow.s == 'A' else 0.0", "Float"), ("1 if flow.b else 0.5", "Float"),
        ("1 if flow.b else 'x'", None), ("len(flow.tags)", "Int"), ("str(flow.n)", "String"),
        ("int(flow.s)", "Int"), ("float(flow.n)", "Float"), ("bool(flow.s)", "Boolean"),
        ("abs(flow.n)", "Int"), ("abs(flow.s)", None), ("round(flow.x)", "Int"),
        ("round(flow.x, 2)", None), ("min(flow.n, flow.x)", "Float"), ("max(flow.n)", None),
        ("sum(flow.tags)", None), ("flow.s.strip()", "String"), ("flow.s.startswith('a')",
                                                                 "Boolean"),
        ("flow.s.split(',')", "StringList"), ("flow.n.strip()", None), ("['a', flow.s]",
                                                                        "StringList"),
        ("[]", None), ("[1]", None), ("shipmentKey(flow.s)", None), ("flow.identity", "String"),
    ],
)
def test_expression_types(text: str, expected: str | None) -> None:
    assert expression_type(text, ENV) == expected


def test_join_and_assignable() -> None:
    assert join("Int", "Float") == "Float" and join("Int", "Int") == "Int"
    assert join("Int", "String") is None and join(None, "Int") is None
    assert assignable("Int", "Float") and not assignable("Float", "Int")
    assert not assignable("String", "StringList")


# -- soundness -----------------------------------------------------------------------------
VARIABLES = {"n": st.integers(-20, 20), "x": st.floats(-1e6, 1e6, allow_nan=False),
             "s": st.text(max_size=5), "b": st.booleans(),
             "tags": st.lists(st.text(max_size=3), max_size=3)}
LEAVES = ["1", "0", "2.5", "'a'", "''", "True", "False", "flow.n", "flow.x", "flow.s",
          "flow.b", "flow.tags"]


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "<",
                                                     "==", "and", "or"]), inner)
        call = st.tuples(st.sampled_from(["len", "str", "int", "float", "bool", "abs", "round"]),
                         inner)
        return st.one_of(
            binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"(not {e})"),
            inner.map(lambda e: f"(-{e})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            call.map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, st.sampled_from(["strip()", "upper()", "startswith('a')",
                                              "split()"])).map(lambda t: f"{t[0]}.{t[1]}"),
            st.lists(inner, min_size=1, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        )
    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=8)


def has_type(value: Any, ftype: str) -> bool:
    if ftype == "Int":
        return type(value) is int
    if ftype == "Float":  # an Int is accepted where a Float is expected
        return type(value) in (int, float)
    if ftype == "String":
        return type(value) is str
    if ftype == "Boolean":
        return type(value) is bool
    return type(value) is list and all(type(v) is str for v in value)  # StringList


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@settings(max_examples=int(os.environ.get("INFER_EXAMPLES", "400")), deadline=None)
@given(expressions(), st.fixed_dictionaries(VARIABLES))
def test_a_claimed_type_is_the_type_the_value_has(text: str, values: dict[str, Any]) -> None:
    claimed = expression_type(text, ENV)
    assume(claimed is not None)
    flow = SimpleNamespace(**values)
    try:
        value = eval(text, {"__builtins__": __builtins__}, {"flow": flow})
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        return  # an expression that fails at run time is a technical error, not a type
    assert has_type(value, claimed), (text, values, value, claimed)


def test_types_that_inline_code_gives_flow_variables() -> None:
    code = (
        "flow.label = str(flow.n)\n"
        "flow.total = flow.x * 2\n"
        "total = 0\n"
        "flow.guess = total + 1\n"  # a local: unknown
        "flow.twice = 1\n"
        "if flow.b:\n"
        "    flow.twice = 'x'\n"  # assigned in a branch too: unknown
        "flow.count = 1\n"
        "flow.count += 1\n"  # augmented: unknown
        "flow.entity.balance = 3.0\n"  # a document field, not a variable
    )
    from draftsman_gen.infer import assigned_types

    assert assigned_types(code, ENV) == {"label": "String", "total": "Float", "guess": None,
                                         "twice": None, "count": None}
