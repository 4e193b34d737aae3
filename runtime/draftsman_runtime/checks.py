"""Checks of emitted events and documents against the model's field types, before anything
is stored.

An expression or code processor can put a value of the wrong type into an event (`str(n)`
into an Int field), and a handler can leave a document holding one (code that assigns a
string, or a sum that overflowed to infinity). Stored, either would break every later flow on
that instance; so each emit-event checks its event first (a mismatch is a technical error
located at the emit-event's model file and line), the unit of work checks the document after
every flow, and a restore checks every backed-up state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import TechnicalError
from .model import AggregateType, Entities, Event, FieldSpec
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


def document_problem(agg: AggregateType[Any], document: Any) -> str | None:
    """What is wrong with a document, by the model's field types; None when it fits."""
    if not agg.fields:
        return None
    return fields_problem(agg.document_to_dict(document), agg.fields)


def fields_problem(data: dict[str, Any], fields: FieldSpec) -> str | None:
    for name, ftype in fields:
        value = data.get(name)
        check = _SCALARS.get(ftype) if isinstance(ftype, str) else None
        problem = check(value) if check is not None else value_problem(value, ftype)
        if problem:
            return f"field {name!r}: {problem}"
    return None


def value_problem(value: Any, ftype: str | FieldSpec | Entities) -> str | None:
    if isinstance(ftype, Entities):
        return _entities_problem(value, ftype.fields)
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


def _entities_problem(value: Any, fields: FieldSpec) -> str | None:
    if not isinstance(value, dict):
        return f"expected an object of entities, got {kind(value)}"
    for key, item in value.items():
        if not isinstance(item, dict):
            return f"entity {key!r}: expected an object, got {kind(item)}"
        problem = fields_problem(item, fields)
        if problem:
            return f"entity {key!r}: {problem}"
    return None


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
