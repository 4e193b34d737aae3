"""pyexpr.black_print against black: an expression it certifies is one black leaves alone, in
every place generated code puts an expression."""

from __future__ import annotations

import ast
import os
import warnings

import black
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draftsman_gen.layout import black_canonical, black_print, negate

MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=100)
EXAMPLES = int(os.environ.get("BLACK_PRINT_EXAMPLES", "300"))

# The places templates put a model expression (flows.py, expressions.py).
CONTEXTS = [
    "def f(flow):\n    return {e}\n",
    "def f(flow):\n    flow.x = {e}\n",
    "def f(flow):\n    if {e}:\n        raise E()\n",
    "def f(flow):\n    return X(\n        a={e},\n    )\n",
    "def f(flow):\n    return str({e})\n",
]

NAMES = ["flow", "x", "len", "str", "event"]
ATTRIBUTES = ["amount", "entity", "owner", "lines", "upper", "strip"]
CONSTANTS = ["1", "0", "2.5", "1e16", "1E-7", "1_000", "0x1F", "'a'", '"b"', "'it\\'s'",
             "'say \"hi\"'", "None", "True", "''", "-1", "'\\u00e9'", "'\\x00'"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "and", "or", "<", "<=", "==", "!=", "in",
             "not in", "is", "is not"]


def expressions() -> st.SearchStrategy[str]:
    leaves = st.sampled_from(NAMES + CONSTANTS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(ATTRIBUTES)).map(lambda t: f"{t[0]}.{t[1]}"),
            st.tuples(inner, st.lists(inner, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}(key={t[1]})"),
            st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
                lambda t: f"{t[0]} {t[1]} {t[2]}"),
            st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
                lambda t: f"({t[0]}{t[1]}{t[2]})"),
            inner.map(lambda e: f"not {e}"),
            inner.map(lambda e: f"-{e}"),
            inner.map(lambda e: f"({e})"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(inner, st.sampled_from(["1", "x", "-1", "x + 1", ""]),
                      st.sampled_from(["2", "", "x.y"])).map(lambda t: f"{t[0]}[{t[1]}:{t[2]}]"),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
            st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
            st.lists(inner, max_size=3).map(lambda items: f"({', '.join(items)},)"),
            st.lists(inner, min_size=2, max_size=3).map(lambda items: f"({', '.join(items)})"),
            st.tuples(inner, inner).map(lambda t: f"{{{t[0]}: {t[1]}}}"),
            st.tuples(inner, inner).map(lambda t: f"[{t[0]} for x in {t[1]}]"),
            st.tuples(inner, inner).map(lambda t: f"f'{{{t[0]}}}-{{{t[1]}!r}}'"),
        )

    return st.recursive(leaves, extend, max_leaves=8)


def parses(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntaxWarning)  # `1in x`: not something people write
        try:
            ast.parse(text, mode="eval")
        except (SyntaxError, SyntaxWarning, ValueError):
            return False
    return True


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.filter_too_much])
@given(text=expressions().filter(parses))
def test_what_black_print_writes_black_keeps(text: str) -> None:
    printed = black_print(ast.parse(text, mode="eval").body)
    if printed is None:
        return  # not certified: the format stage runs black on the file
    assert ast.dump(ast.parse(printed, mode="eval")) == ast.dump(ast.parse(text, mode="eval"))
    assert black_canonical(printed)
    for context in CONTEXTS:
        source = context.format(e=printed)
        if any(len(line) > 100 for line in source.splitlines()):
            continue  # too long: not skipped either
        assert black.format_str(source, mode=MODE) == source, source
    negated = f"def f(flow):\n    if {negate(printed)}:\n        raise E()\n"
    if all(len(line) <= 100 for line in negated.splitlines()) and black_canonical(negate(printed)):
        assert black.format_str(negated, mode=MODE) == negated, negated


@pytest.mark.parametrize(("text", "canonical"), [
    ("flow.amount > 0", True), ("flow.status == 'open'", False),
    ('flow.status == "open"', True), ("flow.amount>0", False), ("(flow.amount) > 0", False),
    ("flow.amount ** 2", False), ("x[a + 1:]", False), ("x[1:2]", True), ("1e+16 < x", False),
    ("f'{x}'", False), ("max(flow.a, flow.b,)", False),
])
def test_black_canonical(text: str, canonical: bool) -> None:
    assert black_canonical(text) is canonical
