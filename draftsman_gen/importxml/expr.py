"""The original's expression conventions into this language's forms.

`#` marks an expression in the original (`#flow.x`, `#'EUR'`, `#event.a + #event.b`); taking
out every `#` outside string literals leaves Python. Names are then moved into our scopes by
rewriting tokens in place (so the text keeps its spelling): `domain_event.data.x` and
`event.x` are `event.x` in trigger mappings and keys, `#global.fn(field, 'lit')` is
`fn(event.field, 'lit')`, and a handler's `self` is `document`. A result that does not parse
as Python is returned as None: the caller keeps the original, marks it and reports it."""

from __future__ import annotations

import ast
import io
import keyword
import math
import tokenize

LINE_BREAK = "|LB|"


def lines(text: str) -> str:
    """An attribute's `|LB|` line breaks decoded (indentation and tabs kept)."""
    return text.replace(LINE_BREAK, "\n")


def strip_marks(text: str) -> str:
    """`text` without the `#` marks outside string literals."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            out.append(char)
            if char == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif text.startswith(quote, i):
                out.append(text[i + 1:i + len(quote)])
                i += len(quote) - 1
                quote = ""
        elif char in "'\"":
            quote = char * 3 if text.startswith(char * 3, i) else char
            out.append(quote)
            i += len(quote) - 1
        elif char != "#":
            out.append(char)
        i += 1
    return "".join(out)


def is_marked(value: str) -> bool:
    return "#" in value and strip_marks(value) != value


def expression(text: str, scope: str) -> str | None:
    """The Python expression for an original's value in `scope` ("event" for trigger keys
    and mappings, "flow" for processors); None when it cannot be made certain."""
    if len(text) > 100_000:
        return None
    code: str | None = strip_marks(text).strip()
    if scope == "event" and code is not None:
        code = _event_scope(code)
    if code is None or not _parses(code, "eval"):
        return None
    return code


def handler_code(text: str) -> str | None:
    """A code event handler: `self` (the document) is `document` here."""
    code = lines(text)
    if len(code) > 100_000:
        return None
    renamed = _rename(code, {"self": "document"})
    if renamed is None or not _parses(renamed, "exec"):
        return None
    return renamed


def flow_code(text: str) -> str | None:
    code = lines(text)
    return code if _parses(code, "exec") else None


def arithmetic(text: str) -> int | None:
    """A whole number of seconds from an arithmetic string such as `24 * 60 * 60`; only
    numbers, + - * / // % and parentheses are read, never evaluated as Python."""
    if len(text) > 200:  # a number of seconds needs no more; ast must not see megabytes
        return None
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    try:
        value = _arith(tree.body, 0)
    except (ArithmeticError, ValueError, OverflowError):
        return None
    if value is None or not math.isfinite(value) or value != int(value):
        return None
    return int(value)


def _arith(node: ast.AST, depth: int) -> float | None:
    if depth > 50:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        value = float(node.value)
        return value if abs(value) < 1e15 else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _arith(node.operand, depth + 1)
        if inner is None:
            return None
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _arith(node.left, depth + 1), _arith(node.right, depth + 1)
        if left is None or right is None:
            return None
        result = _binary(node.op, left, right)
        return result if result is not None and abs(result) < 1e15 else None
    return None


def _binary(op: ast.operator, left: float, right: float) -> float | None:
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        return left / right
    if isinstance(op, ast.FloorDiv):
        return left // right
    if isinstance(op, ast.Mod):
        return left % right
    return None


def _parses(code: str, mode: str) -> bool:
    if len(code) > 100_000:  # validate refuses files over 1 MB anyway
        return False
    try:
        ast.parse(code, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _tokens(code: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def _offsets(code: str) -> list[int]:
    starts, total = [0], 0
    for line in code.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _rename(code: str, names: dict[str, str]) -> str | None:
    """`code` with the NAME tokens in `names` replaced (not attributes: `x.self` stays)."""
    tokens = _tokens(code)
    if tokens is None:
        return None
    starts = _offsets(code)
    edits: list[tuple[int, int, str]] = []
    previous = ""
    for token in tokens:
        if token.type == tokenize.NAME and token.string in names and previous != ".":
            begin = starts[token.start[0] - 1] + token.start[1]
            edits.append((begin, begin + len(token.string), names[token.string]))
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = token.string
    return _apply(code, edits)


def _apply(code: str, edits: list[tuple[int, int, str]]) -> str:
    for begin, end, text in sorted(edits, reverse=True):
        code = code[:begin] + text + code[end:]
    return code


def _event_scope(code: str) -> str | None:
    """Trigger scope: `domain_event.data.x` -> `event.x`; `global.fn(a, 'b')` -> `fn(event.a,
    'b')`; a bare name alone is a field of the event."""
    if code.isidentifier() and not keyword.iskeyword(code):
        return f"event.{code}"
    tokens = [t for t in (_tokens(code) or []) if t.type not in (
        tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT)]
    if not tokens:
        return None
    starts = _offsets(code)

    def at(token: tokenize.TokenInfo) -> int:
        return starts[token.start[0] - 1] + token.start[1]

    def end(token: tokenize.TokenInfo) -> int:
        return starts[token.end[0] - 1] + token.end[1]

    edits: list[tuple[int, int, str]] = []
    depth_of_call: list[int] = []  # paren depths at which a global function's args are
    depth = 0
    for n, token in enumerate(tokens):
        text = token.string
        before = tokens[n - 1].string if n else ""
        after = tokens[n + 1].string if n + 1 < len(tokens) else ""
        if text == "domain_event" and before != "." and after == ".":
            rest = tokens[n + 2:n + 4]
            if len(rest) == 2 and rest[0].string == "data" and rest[1].string == ".":
                edits.append((at(token), end(rest[1]), "event."))
        elif text == "global" and after == "." and before != ".":
            edits.append((at(token), end(tokens[n + 1]), ""))
            if n + 3 < len(tokens) and tokens[n + 3].string == "(":
                depth_of_call.append(depth + 1)
        elif text in "([{" and token.type == tokenize.OP:
            depth += 1
        elif text in ")]}" and token.type == tokenize.OP:
            if depth_of_call and depth_of_call[-1] == depth:
                depth_of_call.pop()
            depth -= 1
        elif (token.type == tokenize.NAME and depth_of_call and depth_of_call[-1] == depth
              and before in ("(", ",") and after in (")", ",")
              and not keyword.iskeyword(text)):
            edits.append((at(token), at(token), "event."))
    return _apply(code, edits)
