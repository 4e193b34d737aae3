"""The field type an expression gives, where the expression alone makes it certain.

Used to type flow variables set by `set-variable` (so mypy checks the generated code that
uses them) and to catch an emit-event value of the wrong type at `validate` time. The rules
are deliberately small: literals, declared variables and document fields, comparisons, and a
few builtins and string methods whose result type never depends on their input. Anything
else is unknown (None), which types the variable `Any`: no guess is ever made.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

Env = Mapping[tuple[str, ...], str]  # ("flow", "amount") -> "Float"

NUMBERS = ("Int", "Float")
_STRING_METHODS = frozenset(
    {"strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize", "casefold",
     "replace", "zfill", "center", "ljust", "rjust", "removeprefix", "removesuffix"}
)  # fmt: skip
_BOOLEAN_METHODS = frozenset(
    {"startswith", "endswith", "isdigit", "isalpha", "isalnum", "isspace", "isupper",
     "islower", "isdecimal", "isnumeric"}
)  # fmt: skip
_FIXED_RESULTS = {"len": "Int", "str": "String", "bool": "Boolean", "int": "Int",
                  "float": "Float"}  # fmt: skip


def expression_type(text: str, env: Env) -> str | None:
    """String, Int, Float, Boolean or StringList when certain, else None."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return None
    return _type(tree.body, env)


def assignable(value: str, target: str) -> bool:
    """Whether a value of type `value` may go into a field of type `target` (Int into Float)."""
    return value == target or (value == "Int" and target == "Float")


def join(a: str | None, b: str | None) -> str | None:
    """The type of a value that is either `a` or `b`."""
    if a == b:
        return a
    if a in NUMBERS and b in NUMBERS:
        return "Float"
    return None


def _type(node: ast.expr, env: Env) -> str | None:
    match node:
        case ast.Constant(value=bool()):
            return "Boolean"
        case ast.Constant(value=int()):
            return "Int"
        case ast.Constant(value=float()):
            return "Float"
        case ast.Constant(value=str()) | ast.JoinedStr():
            return "String"
        case ast.Attribute() | ast.Name():
            path = _path(node)
            return None if path is None else env.get(path)
        case ast.Compare() | ast.UnaryOp(op=ast.Not()):
            return "Boolean"
        case ast.UnaryOp(op=ast.USub() | ast.UAdd(), operand=operand):
            inner = _type(operand, env)
            return inner if inner in NUMBERS else None
        case ast.BoolOp(values=values):
            types = {_type(v, env) for v in values}
            return types.pop() if len(types) == 1 else None
        case ast.IfExp(body=body, orelse=orelse):
            return join(_type(body, env), _type(orelse, env))
        case ast.BinOp(left=left, op=op, right=right):
            return _binary(_type(left, env), op, _type(right, env))
        case ast.Call():
            return _call(node, env)
        case ast.List(elts=items) if items:
            return "StringList" if all(_type(i, env) == "String" for i in items) else None
    return None


def _binary(left: str | None, op: ast.operator, right: str | None) -> str | None:
    if isinstance(op, ast.Add) and left == right == "String":
        return "String"
    if left not in NUMBERS or right not in NUMBERS:
        return None
    if isinstance(op, ast.Div):
        return "Float"
    if isinstance(op, ast.Add | ast.Sub | ast.Mult | ast.FloorDiv | ast.Mod):
        return join(left, right)
    return None  # ** gives a float for a negative exponent: not certain


def _call(node: ast.Call, env: Env) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        if func.id in _FIXED_RESULTS and not node.keywords:
            return _FIXED_RESULTS[func.id]
        if func.id == "abs" and len(node.args) == 1:
            inner = _type(node.args[0], env)
            return inner if inner in NUMBERS else None
        if func.id == "round" and len(node.args) == 1:
            return "Int"
        if func.id in ("min", "max") and len(node.args) >= 2 and not node.keywords:
            types = [_type(a, env) for a in node.args]
            result = types[0]
            for t in types[1:]:
                result = join(result, t)
            return result
        return None
    if isinstance(func, ast.Attribute) and _type(func.value, env) == "String":
        if func.attr in _STRING_METHODS:
            return "String"
        if func.attr in _BOOLEAN_METHODS:
            return "Boolean"
        if func.attr == "split":
            return "StringList"
    return None


def _path(node: ast.expr) -> tuple[str, ...] | None:
    """("flow", "entity", "balance") for `flow.entity.balance`; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


def assigned_types(code: str, env: Env) -> dict[str, str | None]:
    """The types inline code gives the flow variables it assigns: certain only for a plain
    `flow.x = <expression of a certain type>` at the top level of the code; any other
    assignment to `flow.x` (in a branch or loop, augmented, unpacked) makes `x` unknown."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    types: dict[str, set[str | None]] = {}
    certain: set[int] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            path = _path(target) if isinstance(target, ast.Attribute) else None
            if path is not None and len(path) == 2 and path[0] == "flow":
                types.setdefault(path[1], set()).add(_type(statement.value, env))
                certain.add(id(target))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            path = _path(node)
            if path is not None and len(path) == 2 and path[0] == "flow" and id(node) not in certain:
                types.setdefault(path[1], set()).add(None)
    return {name: found.pop() if len(found) == 1 else None for name, found in types.items()}
