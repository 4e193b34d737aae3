"""The check of emitted events against the model's field types, before anything is stored.

An expression or code processor can put a value of the wrong type into an event (`str(n)`
into an Int field). Stored, it would break every later flow on that instance; so each
emit-event checks its event first and a mismatch is a technical error, located by the
unit of work at the emit-event's model file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import TechnicalError
from .model import Event, FieldSpec
from .payload import (
    boolean_problem,
    integer_problem,
    kind,
    number_problem,
    string_list_problem,
    string_problem,
)


def check_event(event: Event) -> None:
    """Raise TechnicalError when a field of `event` does not have its declared type."""
    problem = fields_problem(event.to_dict(), event.FIELDS)
    if problem:
        raise TechnicalError(f"emitted {event.EVENT_TYPE}: {problem}")


def fields_problem(data: dict[str, Any], fields: FieldSpec) -> str | None:
    for name, ftype in fields:
        value = data.get(name)
        check = _SCALARS.get(ftype) if isinstance(ftype, str) else None
        problem = check(value) if check is not None else value_problem(value, ftype)
        if problem:
            return f"field {name!r}: {problem}"
    return None


def value_problem(value: Any, ftype: str | FieldSpec) -> str | None:
    if not isinstance(ftype, str):
        return _objects_problem(value, ftype)
    check = _SCALARS.get(ftype)
    if check is None:
        raise ValueError(f"unknown field type {ftype!r}")
    return check(value)


_SCALARS: dict[str, Callable[[Any], str | None]] = {
    "String": string_problem,
    "Int": integer_problem,
    "Float": number_problem,
    "Boolean": boolean_problem,
    "StringList": string_list_problem,
}


def _objects_problem(value: Any, fields: FieldSpec) -> str | None:
    if not isinstance(value, list):
        return f"expected a list of objects, got {kind(value)}"
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            return f"item {i}: expected an object, got {kind(item)}"
        problem = fields_problem(item, fields)
        if problem:
            return f"item {i}: {problem}"
    return None
