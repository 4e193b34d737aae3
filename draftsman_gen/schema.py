"""Stage 2a: check each loaded file against the JSON Schema of its kind."""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from draftsman_gen.diagnostics import Diagnostics
from draftsman_gen.loader import SourceFile, Workspace
from draftsman_gen.resources import resource_dir

SCHEMA_NAMES = (
    "common",
    "project",
    "command",
    "aggregate",
    "event",
    "behavior-flow",
    "pattern",
    "expression",
)


def schema_texts() -> dict[str, str]:
    """File name -> text of every published schema."""
    folder = resource_dir("schemas")
    return {
        f"{name}.schema.json": (folder / f"{name}.schema.json").read_text(encoding="utf-8")
        for name in SCHEMA_NAMES
    }


@lru_cache(maxsize=1)
def _validators() -> dict[str, Draft202012Validator]:
    texts = schema_texts()
    contents = {name: json.loads(text) for name, text in texts.items()}
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(body)) for name, body in contents.items()
    )
    return {
        name.removesuffix(".schema.json"): Draft202012Validator(
            _inline_refs(body, name, contents, ()), registry=registry
        )
        for name, body in contents.items()
        if name != "common.schema.json"
    }


def _inline_refs(node: Any, doc: str, contents: dict[str, Any],
                 stack: tuple[str, ...]) -> Any:
    """A copy of a schema with each `$ref` replaced by what it points at, so validation does
    not look references up (a third of its time); a reference back into itself stays a
    reference, made absolute. Same meaning, same error messages."""
    if isinstance(node, list):
        return [_inline_refs(item, doc, contents, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return {key: _inline_refs(value, doc, contents, stack) for key, value in node.items()}
    target_doc, _, pointer = ref.partition("#")
    target_doc = target_doc or doc
    absolute = f"{target_doc}#{pointer}"
    siblings = {key: _inline_refs(value, doc, contents, stack)
                for key, value in node.items() if key != "$ref"}
    if absolute in stack:
        return {"$ref": absolute, **siblings}
    target: Any = contents[target_doc]
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        target = target[part.replace("~1", "/").replace("~0", "~")]
    inlined = _inline_refs(target, target_doc, contents, (*stack, absolute))
    return {"allOf": [inlined], **siblings} if siblings else inlined


def validate_schemas(ws: Workspace, diags: Diagnostics) -> set[str]:
    """Validate every YAML file; return the relative paths of files that failed."""
    failed: set[str] = set()
    validators = _validators()
    for source in ws.files:
        if source.kind == "lib":
            continue
        errors = list(validators[source.kind].iter_errors(source.data))
        # One message for a mis-indented processor, instead of one per key it left behind.
        misplaced = _under_indented(source) if errors else {}
        for path, message in misplaced.items():
            diags.error(source.loc(path, key=True), "DG203", message)
        for error in errors:
            if not any(tuple(error.absolute_path)[:2] == path[:2] for path in misplaced):
                _report(source, error, diags)
        if errors:
            failed.add(source.rel)
    return failed


PROCESSOR_KINDS = ("emit-event", "validator", "set-variable", "code", "update-key")


def _under_indented(source: SourceFile) -> dict[tuple[str | int, ...], str]:
    """Processors written `- emit-event:` with their keys at its own level, not under it."""
    found: dict[tuple[str | int, ...], str] = {}
    processors = source.data.get("processors") if source.kind == "behavior-flow" else None
    if not isinstance(processors, list):
        return found
    for i, item in enumerate(processors):
        if not isinstance(item, dict) or len(item) < 2:
            continue
        empty = [k for k in item if k in PROCESSOR_KINDS and item[k] is None]
        others = [str(k) for k in item if k not in PROCESSOR_KINDS]
        if len(empty) == 1 and others:
            found[("processors", i, empty[0])] = (
                f"'{empty[0]}' is empty and {', '.join(repr(k) for k in others)} sit beside it: "
                f"indent them under '{empty[0]}', two spaces further than it")
    return found


def _close(value: object, options: list[object]) -> str:
    """"; did you mean 'Int'?" for 'Integer', 'int' or 'Intt'."""
    if not isinstance(value, str):
        return ""
    names = [str(o) for o in options]
    lowered = value.lower()
    close = [n for n in names if n.lower() == lowered]
    close = close or [n for n in names
                      if lowered.startswith(n.lower()) or n.lower().startswith(lowered)]
    close = close or difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null"


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _report(source: SourceFile, error: ValidationError, diags: Diagnostics) -> None:
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = best_match(error.context)
        if deepest is not None:
            _report(source, deepest, diags)
            return
    path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "top level"
    validator = error.validator
    value = error.validator_value
    instance = error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extra = [key for key in instance if key not in allowed]
        for key in extra:
            hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
            diags.error(source.loc(path + (key,), key=True), "DG202", f"unknown key '{key}'{hint}")
        return
    if validator == "required" and isinstance(value, list) and isinstance(instance, dict):
        for key in value:
            if key not in instance:
                diags.error(source.loc(path), "DG201", f"missing required key '{key}' in {where}")
        return
    if validator == "type":
        wanted = value if isinstance(value, list) else [value]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        diags.error(
            source.loc(path), "DG203", f"{where}: expected {words}, got {_type_name(instance)}"
        )
        return
    if validator == "enum":
        options = ", ".join(str(v) for v in value)
        diags.error(
            source.loc(path),
            "DG204",
            f"{where}: {json.dumps(instance)} is not one of: {options}{_close(instance, value)}",
        )
        return
    if validator in ("minProperties", "maxProperties") and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        diags.error(
            source.loc(path),
            "DG204",
            f"{where}: expected exactly one of: {', '.join(allowed)}"
            if validator == "maxProperties" or error.schema.get("maxProperties") == 1
            else f"{where}: must not be empty",
        )
        return
    if validator == "minItems":
        diags.error(source.loc(path), "DG204", f"{where}: needs at least {value} item(s)")
        return
    if validator == "minLength":
        diags.error(source.loc(path), "DG204", f"{where}: must not be empty")
        return
    if validator == "minimum":
        diags.error(source.loc(path), "DG204", f"{where}: must be at least {value}")
        return
    diags.error(source.loc(path), "DG204", f"{where}: {error.message}")
