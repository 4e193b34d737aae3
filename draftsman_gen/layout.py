"""Literals, width-dependent statements and model expressions, written as black writes them.

Templates own the shape of the code; where a statement's layout depends on how long its
values are (a test case's input, a long import, a union of many events), they call these.
Every function here is held to black by property tests (tests/test_layout.py,
tests/test_black_print.py): whatever the values, black leaves the output unchanged. A line that black could not shorten either (one
long string) is left long, as black leaves it; the format stage then runs black on the file.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LINE_LENGTH = 100
INDENT = "    "


@dataclass(frozen=True)
class Code:
    """Code to print as it is (a name, or an expression), among literal values."""

    text: str


def py(value: Any) -> str:
    """A Python literal for a JSON value, on one line: the only way model data enters code."""
    if isinstance(value, Code):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(str(k))}: {py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(py(v) for v in value) + "]"
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({py(value[0])},)"
        return "(" + ", ".join(py(v) for v in value) + ")"
    if isinstance(value, str):
        return string_literal(value)
    if isinstance(value, bool | int) or value is None:
        return repr(value)
    if isinstance(value, float):
        return float_literal(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def string_literal(text: str, prefix: str = "") -> str:
    """A string literal in the quotes black prefers: double, unless that needs more escapes."""
    literal = repr(text)  # single quotes, unless the text has ' and no "
    if literal.startswith('"'):
        return prefix + literal
    singles = text.count("'") if '"' in text else 0  # escaped in repr's single-quoted form
    if text.count('"') > singles:
        return prefix + literal
    body = []
    chars = iter(literal[1:-1])
    for ch in chars:
        if ch == "\\":
            escaped = next(chars)
            body.append("'" if escaped == "'" else ch + escaped)
        else:
            body.append('\\"' if ch == '"' else ch)
    return prefix + '"' + "".join(body) + '"'


def float_literal(value: float) -> str:
    """repr() of a finite float, with black's spelling of exponents (1e16, 1e-07)."""
    if not math.isfinite(value):
        raise ValueError(f"no literal for {value}")
    text = repr(value)
    return text.replace("e+", "e")


# -- statements whose layout depends on their width --------------------------------------------
def assign(indent: int, target: str, value: Any) -> str:
    """`target = value`: on one line when it fits, else the literal exploded (as black)."""
    return "\n".join(_value_lines(" " * indent, f"{target} = ", value, ""))


def call(indent: int, head: str, args: Sequence[Any]) -> str:
    """`head(arg, ...)`, e.g. `case = FlowCase(...)`: one line when it fits; else the
    arguments on one line of their own; else one argument a line (as black)."""
    pad = " " * indent
    flat = f"{pad}{head}({', '.join(py(a) for a in args)})"
    if _fits(flat) or not args:
        return flat
    inner = pad + INDENT
    body = inner + ", ".join(py(a) for a in args)
    if _fits(body):
        return f"{pad}{head}(\n{body}\n{pad})"
    lines = [f"{pad}{head}("]
    for arg in args:
        lines += _value_lines(inner, "", arg, "," if len(args) > 1 else "")
    lines.append(f"{pad})")
    return "\n".join(lines)


def signature(indent: int, name: str, params: Sequence[str], returns: str) -> str:
    """`def name(params) -> returns:`: one line when it fits; else the parameters on one line
    of their own; else one parameter a line (as black). A lone parameter on its own line gets
    a trailing comma: black adds one when it splits a signature that has no comma."""
    pad = " " * indent
    flat = f"{pad}def {name}({', '.join(params)}) -> {returns}:"
    if _fits(flat) or not params:
        return flat
    body = pad + INDENT + ", ".join(params) + ("," if len(params) == 1 else "")
    if _fits(body):
        return f"{pad}def {name}(\n{body}\n{pad}) -> {returns}:"
    lines = [f"{pad}def {name}("] + [f"{pad}{INDENT}{p}," for p in params]
    return "\n".join([*lines, f"{pad}) -> {returns}:"])


def import_from(module: str, names: Sequence[str]) -> str:
    """`from module import a, b`, or one name a line in parentheses when too long."""
    line = f"from {module} import {', '.join(names)}"
    if _fits(line):
        return line
    return f"from {module} import (\n" + "".join(f"{INDENT}{n},\n" for n in names) + ")"


def union(target: str, members: Sequence[str]) -> str:
    """`Target = A | B | C`; when too long, the members in parentheses on a line of their own,
    or one member a line."""
    line = f"{target} = {' | '.join(members)}"
    if _fits(line):
        return line
    body = INDENT + " | ".join(members)
    if _fits(body):
        return f"{target} = (\n{body}\n)"
    return f"{target} = (\n{INDENT}" + f"\n{INDENT}| ".join(members) + "\n)"


def _fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def _exploding(value: Any) -> bool:
    return isinstance(value, dict | list | tuple) and bool(value)


def _value_lines(pad: str, prefix: str, value: Any, suffix: str) -> list[str]:
    """`prefix value suffix` at `pad`: one line when it fits or cannot be split; else the
    collection opened, one item a line, and closed. Items get a trailing comma, unless there
    is only one (black adds the comma only where it splits at commas)."""
    flat = f"{pad}{prefix}{py(value)}{suffix}"
    if _fits(flat) or not _exploding(value):
        return [flat]
    inner = pad + INDENT
    comma = "," if len(value) > 1 or isinstance(value, tuple) else ""
    lines: list[str]
    if isinstance(value, dict):
        lines = [f"{pad}{prefix}{{"]
        for key, item in value.items():
            lines += _value_lines(inner, f"{py(str(key))}: ", item, comma)
        lines.append(f"{pad}}}{suffix}")
        return lines
    opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    lines = [f"{pad}{prefix}{opening}"]
    for item in value:
        lines += _value_lines(inner, "", item, comma)
    lines.append(f"{pad}{closing}{suffix}")
    return lines


# -- model expressions and messages ------------------------------------------------------------
def fstring(body: str, has_placeholders: bool) -> str:
    """A string literal for a body built by `message_template`: an f-string when it has
    placeholders, else a plain string (with the `{{`/`}}` escapes undone)."""
    if has_placeholders:
        return string_literal(body, "f")
    return string_literal(body.replace("{{", "{").replace("}}", "}"))


def negate(expression: str) -> str:
    """`not (expression)`, written the way a person would: `not x` becomes `x`."""
    tree = ast.parse(expression, mode="eval").body
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return black_print(tree.operand) or ast.unparse(tree.operand)
    return f"not ({expression})"


# -- black's spelling of an expression -----------------------------------------------------------
# Nodes whose black spelling differs from ast.unparse's in ways not fixed up below: `x**2`
# hugs its operands, complex slices get spaces around `:`, f-strings have their own rules.
_NOT_CANONICAL = (ast.JoinedStr, ast.FormattedValue, ast.Lambda, ast.NamedExpr, ast.Starred,
                  ast.Await, ast.Yield, ast.YieldFrom)  # fmt: skip


def black_print(tree: ast.expr) -> str | None:
    """An expression as black writes it on one line, or None when that is not certain."""
    for node in ast.walk(tree):
        if isinstance(node, _NOT_CANONICAL):
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return None
        if isinstance(node, ast.Slice) and not all(
            bound is None or isinstance(bound, ast.Name)
            or (isinstance(bound, ast.Constant) and isinstance(bound.value, int)
                and not isinstance(bound.value, bool) and bound.value >= 0)
            for bound in (node.lower, node.upper, node.step)
        ):
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes | complex):
            return None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Constant):
            return None  # black writes (2.5).real
    text = ast.unparse(tree)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    out = []
    pos = 0
    for token in tokens:
        if token.type not in (tokenize.STRING, tokenize.NUMBER) or token.start[0] != 1:
            continue
        start, end = token.start[1], token.end[1]
        out.append(text[pos:start])
        if token.type == tokenize.STRING:
            if not token.string[0] in "'\"":
                return None  # a prefixed string (bytes, raw): left to black
            out.append(string_literal(ast.literal_eval(token.string)))
        else:
            out.append(token.string.replace("e+", "e"))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def black_canonical(expression: str) -> bool:
    """Whether black leaves `expression` exactly as it is written (on a line that fits)."""
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return False
    return black_print(tree.body) == expression
