"""Checks of command payloads and JSON input: every problem names the command and the field.

Generated `commands.py` calls these from each command's `from_payload`. The limits here keep
client input away from Python's internals: integers must fit in 64 bits, floats must be
finite, strings must be valid Unicode (no lone surrogates), JSON text has a size and a depth
limit, and patterns are matched in linear time (draftsman_runtime.pattern).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import PayloadError
from .pattern import Pattern

T = TypeVar("T")
_MISSING: Any = object()

INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what SQLite and PostgreSQL bigint hold
MAX_DEPTH = 32  # nesting levels of a JSON payload; commands nest at most two
DEFAULT_MAX_BYTES = 1_048_576  # size of a JSON payload; <PREFIX>_MAX_PAYLOAD_BYTES changes it
_MAX_NUMBER_CHARS = 40  # longer numerals are refused before Python converts them


def decode_json(text: str | bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parse a JSON payload, refusing what could hurt: too large, too deep, NaN, huge numbers."""
    size = len(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    if size > max_bytes:
        raise PayloadError(f"payload is {size:,} bytes; the limit is {max_bytes:,}")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError(f"payload is not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"payload is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise PayloadError(f"payload is nested more than {MAX_DEPTH} levels deep") from None
    check_depth(value)
    return value


def _parse_int(text: str) -> int:
    if len(text) > _MAX_NUMBER_CHARS:
        raise PayloadError(f"payload has a number of {len(text)} digits: {text[:20]}...")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > _MAX_NUMBER_CHARS:
        raise PayloadError(f"payload has a number of {len(text)} characters: {text[:20]}...")
    return float(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: `{"a": 1, "a": 2}` is ambiguous, refused."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _item in pairs:
            if key in seen:
                raise PayloadError(f"payload has the key {_short(key)} twice in one object")
            seen.add(key)
    return value


def _refuse_constant(text: str) -> Any:
    raise PayloadError(f"payload is not valid JSON: {text} is not a number in JSON")


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse values nested deeper than `limit` (iteratively: deep input cannot overflow us)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                raise PayloadError(f"payload is nested more than {limit} levels deep")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


# -- the checks generated from_payload methods call ----------------------------------------
def mapping(payload: Any, where: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise PayloadError(f"{where}: expected a JSON object, got {kind(payload)}")
    return payload


def no_unknown(data: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(_printable(str(k)) for k in data if k not in known)
    if unknown:
        raise PayloadError(f"{where}: unknown field(s): {', '.join(unknown)}")


def _get(data: dict[str, Any], name: str, where: str, default: Any) -> Any:
    value = data.get(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise PayloadError(f"{where}.{name}: required field is missing")
    return default


def _checked(
    data: dict[str, Any], name: str, where: str, default: Any, problem: Callable[[Any], str | None]
) -> Any:
    """The field's value (or its default), when `problem` finds nothing wrong with it."""
    value = _get(data, name, where, default)
    found = problem(value)
    if found:
        raise PayloadError(f"{where}.{name}: {found}")
    return value


def string(
    data: dict[str, Any],
    name: str,
    where: str,
    default: Any = _MISSING,
    pattern: Pattern | None = None,
    auto_fill: bool = False,
) -> str:
    if auto_fill and data.get(name) in (None, ""):
        return str(uuid.uuid4())
    value = str(_checked(data, name, where, default, string_problem))
    if pattern is not None and not pattern.fullmatch(value):
        raise PayloadError(f"{where}.{name}: {_short(value)} does not match {pattern.pattern!r}")
    return value


def integer(data: dict[str, Any], name: str, where: str, default: Any = _MISSING) -> int:
    return int(_checked(data, name, where, default, integer_problem))


def number(data: dict[str, Any], name: str, where: str, default: Any = _MISSING) -> float:
    return float(_checked(data, name, where, default, number_problem))


def boolean(data: dict[str, Any], name: str, where: str, default: Any = _MISSING) -> bool:
    return bool(_checked(data, name, where, default, boolean_problem))


def string_list(data: dict[str, Any], name: str, where: str, default: Any = _MISSING) -> list[str]:
    return list(_checked(data, name, where, default, string_list_problem))


def objects(
    data: dict[str, Any],
    name: str,
    where: str,
    parse: Callable[[Any, str], T],
    default: Any = _MISSING,
) -> list[T]:
    value = _get(data, name, where, default)
    if not isinstance(value, list):
        raise PayloadError(f"{where}.{name}: expected a list of objects, got {kind(value)}")
    return [parse(item, f"{where}.{name}[{i}]") for i, item in enumerate(value)]


# -- value checks, shared with the check of emitted events ----------------------------------
def string_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expected a string, got {kind(value)}"
    return unicode_problem(value)


def unicode_problem(value: str) -> str | None:
    """Text every store can keep: valid Unicode, and no NUL character (PostgreSQL refuses
    NUL in text; SQLite keeps it, and a service must behave the same on both)."""
    if "\x00" in value:
        return f"contains a NUL character at offset {value.index(chr(0))}"
    if value.isascii():  # the usual case, and much cheaper than encoding
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains an unpaired surrogate (U+{ord(value[exc.start]):04X}) at offset {exc.start}"
        )
    return None


def integer_problem(value: Any) -> str | None:
    if type(value) is int and INT_MIN <= value <= INT_MAX:  # the usual case first
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected an integer, got {kind(value)}"
    if not INT_MIN <= value <= INT_MAX:
        return "integer out of range (a 64-bit signed integer is expected)"
    return None


def number_problem(value: Any) -> str | None:
    if type(value) is float and math.isfinite(value):  # the usual case first
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {kind(value)}"
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        return "number out of range"
    if not math.isfinite(value):
        return "expected a finite number"
    return None


def boolean_problem(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"expected true or false, got {kind(value)}"


def string_list_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"expected a list of strings, got {kind(value)}"
    for i, item in enumerate(value):
        problem = string_problem(item)
        if problem:
            return f"item {i}: {problem}"
    return None


def kind(value: Any) -> str:
    """A short description of a JSON value for messages (never the whole value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number (too large to show)" if value.bit_length() > 64 else f"a number ({value})"
    if isinstance(value, float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({_short(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: str) -> str:
    return repr(_printable(value[:40])) + ("..." if len(value) > 40 else "")


def _printable(value: str) -> str:
    """Text safe to print: lone surrogates become U+FFFD instead of breaking the terminal."""
    return value.encode("utf-8", "replace").decode("utf-8")
