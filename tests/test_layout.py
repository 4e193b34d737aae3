"""layout.py against black: whatever the values, black leaves what layout writes unchanged."""

from __future__ import annotations

import ast
import keyword
import os
import string

import black
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from draftsman_gen.format import may_skip_black
from draftsman_gen.layout import (
    Code,
    assign,
    call,
    import_from,
    py,
    signature,
    string_literal,
    union,
)

MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=100)
EXAMPLES = int(os.environ.get("LAYOUT_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def black_keeps(source: str) -> None:
    """What the format stage relies on: a file it may skip is one black leaves unchanged."""
    if not may_skip_black(source):
        return  # the format stage runs black on it
    formatted = black.format_str(source, mode=MODE)
    assert formatted == source, f"black changed:\n{source}\n---- to ----\n{formatted}"


names = st.from_regex(r"[a-z][a-zA-Z0-9]{0,30}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name))
texts = st.one_of(
    st.text(alphabet=string.ascii_letters + " -_'\"\\{}", max_size=40),
    st.text(max_size=12),  # any Unicode, control characters and surrogates excluded below
).filter(lambda s: all(not 0xD800 <= ord(c) <= 0xDFFF for c in s))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False), texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6),
                            st.dictionaries(names, inner, max_size=6)),
    max_leaves=30,
)


def function(body: str) -> str:
    return f"def f() -> None:\n{body}\n"


@SETTINGS
@given(value=json_values, target=names, indent=st.sampled_from([0, 4, 8]))
def test_assignments_are_black_stable(value: object, target: str, indent: int) -> None:
    code = assign(indent, target, value)
    source = code + "\n" if indent == 0 else function(code) if indent == 4 else (
        "def f() -> None:\n    if x:\n" + code + "\n")
    black_keeps(source)
    assert ast.literal_eval(py(value)) == value


@SETTINGS
@given(head=st.sampled_from(["case = FlowCase", "FLOW = Flow", "case.then_events",
                             "case.then_state", "case.given_state"]),
       args=st.lists(st.one_of(json_values, st.just(Code("REGISTRY")), st.just(Code("result"))),
                     min_size=1, max_size=5))
def test_calls_are_black_stable(head: str, args: list[object]) -> None:
    indent = 0 if head.startswith("FLOW") else 4
    code = call(indent, head, args)
    black_keeps(code + "\n" if indent == 0 else function(code))


@SETTINGS
@given(module=st.from_regex(r"[a-z_]{1,30}(\.[a-z_]{1,20}){0,3}", fullmatch=True).filter(
           lambda m: not any(keyword.iskeyword(part) for part in m.split("."))),
       imported=st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,40}", fullmatch=True).filter(
           lambda name: not keyword.iskeyword(name)), min_size=1, max_size=12, unique=True))
def test_imports_are_black_stable(module: str, imported: list[str]) -> None:
    black_keeps(import_from(module, imported) + "\n")


@SETTINGS
@given(target=st.from_regex(r"[A-Z][A-Za-z0-9]{0,40}", fullmatch=True),
       members=st.lists(st.from_regex(r"[A-Z][A-Za-z0-9]{0,40}", fullmatch=True),
                        min_size=1, max_size=15, unique=True))
def test_unions_are_black_stable(target: str, members: list[str]) -> None:
    black_keeps(union(target, members) + "\n")


@pytest.mark.parametrize("text", ["plain", "it's", 'say "hi"', "both ' and \"", "back\\slash",
                                  "\x00\x7f\u2028", "tab\there", "{braces}"])
def test_string_literals_are_what_black_writes(text: str) -> None:
    literal = string_literal(text)
    assert ast.literal_eval(literal) == text
    black_keeps(f"x = {literal}\n")


@pytest.mark.parametrize("value", [1e16, 1e-07, 1.5e300, -0.0, 0.1, 123456789.0])
def test_float_literals_are_what_black_writes(value: float) -> None:
    black_keeps(f"x = {py(value)}\n")
    assert float(py(value)) == value


def test_non_finite_floats_have_no_literal() -> None:
    with pytest.raises(ValueError):
        py(float("inf"))


@SETTINGS
@given(name=names, params=st.lists(st.tuples(names, st.from_regex(r"[A-Z][A-Za-z0-9]{0,40}",
                                                                  fullmatch=True)),
                                   min_size=1, max_size=4, unique_by=lambda p: p[0]),
       returns=st.from_regex(r"[A-Z][A-Za-z0-9]{0,40}", fullmatch=True))
def test_signatures_are_black_stable(name: str, params: list[tuple[str, str]],
                                     returns: str) -> None:
    code = signature(0, name, [f"{p}: {t}" for p, t in params], returns)
    black_keeps(code + '\n    """Doc."""\n')


def test_a_lone_parameter_split_onto_its_own_line_gets_black_s_comma() -> None:
    # Found by the property above in CI: black adds the comma when a signature has none.
    param = "a" * 31 + ": " + "A" * 31
    code = signature(0, "a" * 10, [param], "A" * 16)
    assert code.splitlines()[1] == f"    {param},"
    black_keeps(code + '\n    """Doc."""\n')
