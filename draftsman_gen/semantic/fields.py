"""Field definitions (commands, documents, entities, events) and the values written for them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from draftsman_runtime.pattern import compile as compile_pattern

from draftsman_gen import ir
from draftsman_gen.loader import SourceFile
from draftsman_gen.naming import camel_problem
from draftsman_gen.semantic.sink import P, Sink, hint


@dataclass(frozen=True)
class FieldRules:
    """What field definitions may refer to: the model's patterns."""

    patterns: Mapping[str, ir.Pattern]
    broken_names: frozenset[str]  # defined in files that failed: not reported again


def check_fields(sink: Sink, rules: FieldRules, source: SourceFile, path: P,
                 data: dict[str, Any], allow_nested: bool) -> dict[str, ir.Field]:
    """Check field definitions. Every field is returned, also one with a reported problem,
    so that references to it do not produce follow-up errors."""
    result: dict[str, ir.Field] = {}
    for name, spec in data.items():
        fpath = path + (name,)
        sink.name_check(source, name, camel_problem, fpath, key=True)
        if isinstance(spec, str):
            spec = {"type": spec}
        result[name] = _field(sink, rules, source, fpath, name, spec, allow_nested)
    return result


def _field(sink: Sink, rules: FieldRules, source: SourceFile, fpath: P, name: str,
           spec: dict[str, Any], allow_nested: bool) -> ir.Field:
    ftype: ir.FieldType = spec["type"]  # the schema allows only these names
    nested: tuple[ir.Field, ...] = ()
    if ftype == "ObjectList":
        if not allow_nested:
            sink.err(source.loc(fpath), "DG306", "ObjectList cannot be nested in another ObjectList")
        elif "fields" not in spec:
            sink.err(source.loc(fpath), "DG306", f"ObjectList field '{name}' needs 'fields'")
        else:
            nested = tuple(check_fields(sink, rules, source, fpath + ("fields",), spec["fields"],
                                        False).values())
    elif "fields" in spec:
        sink.err(source.loc(fpath + ("fields",), key=True), "DG306",
                 f"'fields' is only allowed on ObjectList fields, not on {ftype}")
    pattern = spec.get("pattern")
    if pattern is not None and pattern not in rules.patterns:
        if pattern not in rules.broken_names:
            sink.err(source.loc(fpath + ("pattern",)), "DG305", f"unknown pattern '{pattern}'"
                     + hint(pattern, rules.patterns))
        pattern = None
    if pattern is not None and ftype != "String":
        sink.err(source.loc(fpath + ("pattern",)), "DG306", "a pattern needs a String field")
    if spec.get("auto-fill") and ftype != "String":
        sink.err(source.loc(fpath + ("auto-fill",)), "DG306", "auto-fill needs a String field")
    has_default = "default" in spec
    default = spec.get("default")
    if has_default:
        problem = value_problem(default, ftype, nested)
        if problem:
            sink.err(source.loc(fpath + ("default",)), "DG307", f"default of '{name}': {problem}")
        elif pattern and not compile_pattern(rules.patterns[pattern].regex).fullmatch(str(default)):
            sink.err(source.loc(fpath + ("default",)), "DG307",
                     f"default of '{name}' does not match pattern {pattern}")
        if ftype == "Float" and isinstance(default, int) and not isinstance(default, bool):
            default = float(default)
    return ir.Field(name, ftype, has_default, default, pattern, spec.get("auto-fill"), nested)


def entity_compat(entity: ir.Entity, event_field: ir.Field) -> str | None:
    """Why the items of an ObjectList event field cannot be upserted into an entity, or None."""
    efields = {f.name: f for f in entity.fields}
    names = {f.name for f in event_field.fields}
    if entity.business_key not in names:
        return f"items of '{event_field.name}' need the entity key '{entity.business_key}'"
    for f in event_field.fields:
        if f.name not in efields:
            return f"'{event_field.name}.{f.name}' is not a field of entity '{entity.name}'"
        if not assignable(f.type, efields[f.name].type):
            return f"'{event_field.name}.{f.name}' is {f.type}, entity field is {efields[f.name].type}"
    return None


def assignable(source: str, target: str) -> bool:
    return source == target or (source == "Int" and target == "Float")


# -- values ------------------------------------------------------------------------------
_TYPE_CHECK: dict[str, Callable[[Any], bool]] = {
    "String": lambda v: isinstance(v, str),
    "Int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and math.isfinite(v)),
    "Boolean": lambda v: isinstance(v, bool),
    "StringList": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def value_problem(value: Any, ftype: str, nested: Iterable[ir.Field] = ()) -> str | None:
    """Why `value` is not a valid value of a field type, or None."""
    if ftype in _TYPE_CHECK:
        if _TYPE_CHECK[ftype](value):
            return None
        return f"expected {ftype}, got {describe(value)}"
    if not isinstance(value, list):
        return f"expected a list of objects, got {describe(value)}"
    return _items_problem(list(enumerate(value)), nested, None)


def entities_problem(value: Any, entity: ir.Entity) -> str | None:
    """Why `value` is not a valid state of an entity collection (key -> object), or None."""
    key = entity.business_key
    if not isinstance(value, dict):
        return f"expected a mapping of {key} to objects, got {describe(value)}"
    return _items_problem(list(value.items()), entity.fields, key)


def _items_problem(items: list[tuple[Any, Any]], nested: Iterable[ir.Field],
                   entity_key: str | None) -> str | None:
    sub = {f.name: f for f in nested}
    for index, item in items:
        if not isinstance(item, dict):
            return f"item {index}: expected an object, got {describe(item)}"
        for key, inner in item.items():
            if key not in sub:
                return f"item {index}: '{key}' is not a field" + hint(key, sub)
            problem = value_problem(inner, sub[key].type)
            if problem:
                return f"item {index}: '{key}': {problem}"
        if entity_key is not None and item.get(entity_key, index) != index:
            return f"item {index}: its {entity_key} must equal its key"
    return None


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value}, which is not a finite number"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null"
