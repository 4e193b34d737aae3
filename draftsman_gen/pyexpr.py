"""Python snippets inside the model: parse them, find what they reference, print them safely.

Expressions are re-printed from their syntax tree, so the text that reaches generated code is
exactly one expression: no comment, newline or trailing statement can slip through. Attribute
names starting with an underscore are refused, which closes the usual `().__class__` escapes.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ref:
    """`root.attr[.sub]` found in a snippet, with its 1-based line inside the snippet."""

    root: str
    attr: str
    sub: str | None
    line: int
    store: bool


@dataclass
class Analysis:
    text: str = ""  # canonical expression, or dedented code
    error: str | None = None
    error_line: int = 1
    refs: list[Ref] = field(default_factory=list)
    names: list[tuple[str, int]] = field(default_factory=list)  # free names, with line


@functools.lru_cache(maxsize=4096)
def analyze_expression(source: str) -> Analysis:
    """Parse an expression and find what it references. Cached (models repeat expressions
    such as `flow.amount > 0`); callers treat the result as read-only."""
    result = Analysis()
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        result.error = f"invalid Python expression: {exc.msg}"
        result.error_line = exc.lineno or 1
        return result
    except (ValueError, RecursionError, MemoryError):
        result.error = "invalid Python expression"
        return result
    result.text = _printable(source.strip(), tree)
    _collect(tree, result)
    return result


def _printable(text: str, tree: ast.Expression) -> str:
    """The user's own spelling when it is one line without comments (it parsed as exactly
    one expression, so it cannot break out of where it is put); else the re-printed tree."""
    if "\n" not in text and "\r" not in text and "\\" not in text and not _has_comment(text):
        return text
    return ast.unparse(tree.body)


def _has_comment(text: str) -> bool:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return True
    return any(t.type == tokenize.COMMENT for t in tokens)


def analyze_code(source: str) -> Analysis:
    result = Analysis()
    text = textwrap.dedent(source).strip("\n")
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as exc:
        result.error = f"invalid Python code: {exc.msg}"
        result.error_line = exc.lineno or 1
        return result
    except (ValueError, RecursionError, MemoryError):
        result.error = "invalid Python code"
        return result
    result.text = text + "\n"
    _collect(tree, result)
    return result


def mentions(code: str, name: str) -> bool:
    """Whether a code snippet (already known to parse) reads the free name `name`."""
    return any(found == name for found, _line in analyze_code(code).names)


def function_parameters(source: str, function: str) -> list[str] | None:
    """The positional parameter names of a top-level function, or None when it is missing."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return [a.arg for a in node.args.posonlyargs + node.args.args]
    return None


def _collect(tree: ast.AST, result: Analysis) -> None:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            bound.update(_target_names(node.target))
        elif isinstance(node, ast.Lambda):
            bound.update(a.arg for a in node.args.args)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            bound.add(node.name)
            bound.update(a.arg for a in node.args.args)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name):
                store = isinstance(node.ctx, ast.Store | ast.Del)
                result.refs.append(Ref(node.value.id, node.attr, None, node.lineno, store))
            elif isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name):
                inner = node.value
                assert isinstance(inner.value, ast.Name)
                store = isinstance(node.ctx, ast.Store | ast.Del)
                result.refs.append(Ref(inner.value.id, inner.attr, node.attr, node.lineno, store))
        elif (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
              and node.id not in bound):
            result.names.append((node.id, node.lineno))


def _target_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_REF = re.compile(r"^flow(\.[A-Za-z][A-Za-z0-9]*){1,2}$")


def message_template(message: str) -> tuple[str, list[str], str | None]:
    """Split a validator message into an f-string body and its `{flow.x}` placeholders.

    Returns (body, placeholders, problem). Literal braces are written `{{` and `}}`.
    """
    body: list[str] = []
    refs: list[str] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(message):
        body.append(message[pos : match.start()])
        token = match.group(0)
        pos = match.end()
        if token in ("{{", "}}"):
            body.append(token)
            continue
        inner = match.group(1)
        if inner is None:
            return "", [], f"unmatched '{token}' in message; write '{token * 2}' for a literal brace"
        inner = inner.strip()
        if not _REF.match(inner):
            return "", [], (
                f"placeholder '{{{inner}}}' must be {{flow.<variable>}} or "
                "{flow.entity.<field>}"
            )
        refs.append(inner)
        body.append("{" + inner + "}")
    body.append(message[pos:])
    return "".join(body), refs, None
