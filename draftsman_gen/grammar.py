"""The grammar of model expressions: an allowlist over Python's syntax tree.

Conditions, mappings, key expressions, set-variable, update-key and message placeholders are
expressions over the flow, the event or the document, not Python programs: arbitrary Python
belongs in code processors, which say so. An expression passes when every node of its tree is
on the list below, every name it reads is one of its scope's roots (`flow`, `event`, key
expression parameters), a key expression, a listed builtin or a comprehension variable, every
attribute is a name the model declares (or a listed method being called), and every call is
of a listed builtin, a key expression or a listed method. A deny-list of dangerous names can
always be walked around (a comprehension that rebinds `__import__`, a generator's frame, a
format string that reads `__globals__`); an allowlist cannot.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

BUILTINS = frozenset(
    {"abs", "all", "any", "bool", "dict", "enumerate", "float", "int", "len", "list", "max",
     "min", "range", "round", "set", "sorted", "str", "sum", "tuple", "zip"}
)  # fmt: skip
"""Builtins an expression may call: pure, and unable to reach the interpreter."""

METHODS = frozenset(
    {"strip", "lstrip", "rstrip", "upper", "lower", "title", "capitalize", "casefold",
     "replace", "split", "rsplit", "join", "startswith", "endswith", "isdigit", "isalpha",
     "isalnum", "isspace", "isupper", "islower", "isdecimal", "isnumeric", "zfill", "center",
     "ljust", "rjust", "removeprefix", "removesuffix", "count", "find", "index",
     "get", "keys", "values", "items"}
)  # fmt: skip
"""Methods an expression may call: read-only string, list and dict methods (no `format`, which
reads attributes named in its text)."""

MAX_POWER = 100  # `x ** n` only with a literal n up to this: client numbers cannot hang a flow

_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_UNARY = (ast.Not, ast.USub, ast.UAdd)
_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
                ast.Is, ast.IsNot)  # fmt: skip
_LEAVES = (ast.Load, ast.Store, ast.And, ast.Or, *_OPERATORS, *_UNARY, *_COMPARISONS)
_CONSTANTS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Scope:
    """What an expression may refer to."""

    roots: frozenset[str]  # `flow`; or `event`; or a key expression's parameters
    functions: frozenset[str]  # key expressions, callable by name
    attributes: frozenset[str]  # names the model declares: its fields, `entity`, `identity`
    # Attribute chains whose next name the caller checks with a better message (flow
    # variables, document fields, event fields): `("flow",)`, `("flow", "entity")`, ...
    checked_elsewhere: frozenset[tuple[str, ...]] = frozenset()


@dataclass(frozen=True)
class Violation:
    code: str  # DG312 private name, DG313 unknown name, DG334 construct outside the grammar
    message: str
    line: int  # 1-based, within the expression
    name: str = ""  # the unknown name (DG313), for a did-you-mean


def check(tree: ast.Expression, scope: Scope) -> list[Violation]:
    """Every way `tree` leaves the grammar, in the order they appear."""
    checker = _Checker(scope, _comprehension_names(tree))
    return sorted(checker.visit(tree.body), key=lambda v: v.line)


def _comprehension_names(tree: ast.AST) -> frozenset[str]:
    return frozenset(
        n.id
        for node in ast.walk(tree)
        if isinstance(node, ast.comprehension)
        for n in ast.walk(node.target)
        if isinstance(n, ast.Name)
    )


class _Checker:
    def __init__(self, scope: Scope, bound: frozenset[str]) -> None:
        self.scope = scope
        self.bound = bound  # comprehension variables

    def visit(self, node: ast.AST) -> Iterator[Violation]:
        line = getattr(node, "lineno", 1)
        match node:
            case ast.Constant(value=value):
                if not isinstance(value, _CONSTANTS):
                    yield _outside(f"a {type(value).__name__} literal", line)
            case ast.Name(id=name):
                yield from self.name(name, line)
            case ast.Attribute(value=value, attr=attr):
                elsewhere = _chain(value) in self.scope.checked_elsewhere
                yield from self.attribute(attr, line, called=False, elsewhere=elsewhere)
                yield from self.visit(value)
            case ast.Call():
                yield from self.call(node)
            case ast.BinOp(op=ast.Pow(), right=right) if not _small_literal(right):
                yield _outside(f"'**' with an exponent other than a literal up to {MAX_POWER}",
                               line)
            case ast.ListComp() | ast.SetComp() | ast.GeneratorExp() | ast.DictComp():
                yield from self.comprehension(node)
            case ast.Dict(keys=keys) if any(key is None for key in keys):
                yield _outside("'**' unpacking", line)
            case ast.JoinedStr() | ast.FormattedValue() | ast.Subscript() | ast.Slice():
                yield from self.children(node)
            case (ast.BoolOp() | ast.BinOp() | ast.UnaryOp() | ast.IfExp() | ast.Compare()
                  | ast.List() | ast.Tuple() | ast.Set() | ast.Dict()):  # fmt: skip
                yield from self.children(node)
            case _:
                yield _outside(_describe(node), line)

    def children(self, node: ast.AST) -> Iterator[Violation]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _LEAVES):
                continue
            if isinstance(child, ast.expr_context | ast.operator | ast.unaryop | ast.cmpop
                          | ast.boolop):  # fmt: skip
                yield _outside(f"the operator {type(child).__name__}", getattr(node, "lineno", 1))
                continue
            yield from self.visit(child)

    def name(self, name: str, line: int) -> Iterator[Violation]:
        if name.startswith("_"):
            yield Violation("DG312", f"name '{name}' is not allowed: names starting with '_' "
                            "are private", line)
        elif name not in self.known():
            yield Violation("DG313", f"unknown name '{name}' in expression", line, name)

    def known(self) -> frozenset[str]:
        """Every name an expression may read."""
        return self.scope.roots | self.scope.functions | BUILTINS | self.bound

    def attribute(
        self, attr: str, line: int, called: bool, elsewhere: bool = False
    ) -> Iterator[Violation]:
        if attr.startswith("_"):
            yield Violation("DG312", f"attribute '{attr}' is not allowed: names starting with "
                            "'_' are private", line)
        elif called and attr not in METHODS:
            yield _outside(f"calling the method '{attr}' (not one of the read-only methods "
                           "expressions may call)", line)
        elif not called and not elsewhere and attr not in self.scope.attributes:
            yield _outside(f"the attribute '{attr}', which is not a field or variable of the "
                           "model", line)

    def call(self, node: ast.Call) -> Iterator[Violation]:
        line = node.lineno
        func = node.func
        if isinstance(func, ast.Name):
            if func.id.startswith("_") or not (func.id in self.scope.roots | self.bound):
                if func.id not in BUILTINS | self.scope.functions:
                    yield from self.name(func.id, line)
            else:
                yield _outside(f"calling '{func.id}'", line)
        elif isinstance(func, ast.Attribute):
            yield from self.attribute(func.attr, line, called=True)
            yield from self.visit(func.value)
        else:
            yield _outside("calling the result of an expression", line)
            yield from self.visit(func)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                yield _outside("'*' arguments", line)
            else:
                yield from self.visit(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                yield _outside("'**' arguments", line)
            else:
                yield from self.visit(keyword.value)

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> Iterator[Violation]:
        for generator in node.generators:
            if generator.is_async:
                yield _outside("async comprehensions", node.lineno)
            yield from self.target(generator.target)
            yield from self.visit(generator.iter)
            for condition in generator.ifs:
                yield from self.visit(condition)
        if isinstance(node, ast.DictComp):
            yield from self.visit(node.key)
            yield from self.visit(node.value)
        else:
            yield from self.visit(node.elt)

    def target(self, target: ast.expr) -> Iterator[Violation]:
        """A comprehension variable: a new name, or a tuple of them; it may not rebind anything."""
        if isinstance(target, ast.Tuple):
            for element in target.elts:
                yield from self.target(element)
            return
        if not isinstance(target, ast.Name):
            yield _outside("a comprehension that assigns to anything but a plain name",
                           target.lineno)
            return
        taken = self.scope.roots | self.scope.functions | BUILTINS
        if target.id.startswith("_"):
            yield Violation("DG312", f"name '{target.id}' is not allowed: names starting "
                            "with '_' are private", target.lineno)
        elif target.id in taken:
            yield _outside(f"a comprehension variable '{target.id}' that hides a name of the "
                           "expression's scope", target.lineno)


def _chain(node: ast.expr) -> tuple[str, ...]:
    """("flow", "entity") for `flow.entity`; () for anything that is not a plain name chain."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return (node.id, *reversed(names)) if isinstance(node, ast.Name) else ()


def _small_literal(node: ast.expr) -> bool:
    if not isinstance(node, ast.Constant):
        return False
    value = node.value
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_POWER


def _outside(what: str, line: int) -> Violation:
    return Violation("DG334", f"{what} is not allowed in an expression; a code processor can "
                     "do more", line)


_NAMES = {
    ast.Lambda: "lambda", ast.NamedExpr: "an assignment expression (:=)",
    ast.Starred: "'*' unpacking", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield from",
}  # fmt: skip


def _describe(node: ast.AST) -> str:
    return _NAMES.get(type(node), f"the construct {type(node).__name__}")
