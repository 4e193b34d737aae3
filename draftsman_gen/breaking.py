"""Which differences between two versions of a model break stored data or API clients.

`compare(old, new)` walks the two IRs and returns one `Change` per breaking difference: its
code, the file and YAML path in the new model where it shows (for something removed, the
nearest thing that is still there), and a message that says what happens to stored events or
to clients. Additions that old data and old clients can live with pass: a new event, command
or flow; a new field with a default; an optional field; a looser command input.

The rules, and why (docs/breaking.md):
- stored domain events are read back by the new code (replay, snapshots of a new shape,
  pending deliveries), so an event or event field they need must still be there, with a type
  their values fit, and a field they lack must have a default;
- instances are found by their business key through the keychain, which holds the values of
  the old key field;
- clients send commands and call mutations by name, and read documents through the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from draftsman_gen import ir

Path_ = tuple[str | int, ...]
# a field's dotted name, its YAML path, and the field before and after (None: absent)
_Pair = tuple[str, Path_, ir.Field | None, ir.Field | None]

_LOOSER = {("Int", "Float")}  # (old, new) types whose old values the new type accepts
_ACCESS_ORDER = {"anonymous": 0, "authenticated": 1, "role": 2}


@dataclass(frozen=True)
class Change:
    code: str
    file: str  # relative to the model folder (the new one)
    path: Path_  # where in that file's YAML (for its line and column)
    message: str


def compare(old: ir.Model, new: ir.Model) -> list[Change]:
    changes: list[Change] = []
    regexes = ({p.name: p.regex for p in old.patterns}, {p.name: p.regex for p in new.patterns})
    new_aggs = {a.name: a for a in new.aggregates}
    for agg in old.aggregates:
        if agg.name not in new_aggs:
            changes.append(Change("DG501", "draftsman.yaml", (), (
                f"aggregate {agg.name} was removed: its stored instances and events can no "
                "longer be read")))
            continue
        changes += _aggregate(agg, new_aggs[agg.name])
    new_commands = {c.name: c for c in new.commands}
    for command in old.commands:
        if command.name not in new_commands:
            changes.append(Change("DG507", "draftsman.yaml", (), (
                f"command {command.name} was removed: clients calling "
                f"{command.graphql_namespace}.{command.graphql_name} fail, and stored commands "
                "not yet run are dead-lettered")))
            continue
        changes += _command(command, new_commands[command.name], regexes)
    return changes


# -- aggregates, their events and documents ---------------------------------------------------
def _aggregate(old: ir.Aggregate, new: ir.Aggregate) -> list[Change]:
    changes = []
    root = new.loc.file
    if old.business_key != new.business_key:
        changes.append(Change("DG505", root, ("business-key",), (
            f"the business key of {new.name} changed from {old.business_key!r} to "
            f"{new.business_key!r}: the keychain of stored instances holds values of "
            f"{old.business_key!r}, so commands find them by the old field's values")))
    new_events = {e.name: e for e in new.events}
    for event in old.events:
        if event.name not in new_events:
            changes.append(Change("DG502", root, (), (
                f"domain event {event.name} of {new.name} was removed (or renamed): stored "
                f"{event.name} events can no longer be replayed, so every instance that has "
                "one cannot be loaded")))
            continue
        now = new_events[event.name]
        changes += _event_fields(now, event.fields, now.fields)
    changes += _document(old, new)
    return changes


def _pairs(old: tuple[ir.Field, ...], new: tuple[ir.Field, ...],
           prefix: tuple[str, ...] = (), at: Path_ = ("fields",)) -> Iterator[_Pair]:
    """Each field of `old` and of `new` by name: its dotted name, its YAML path in the new
    file (for a removed field, its parent's), and the field before and after (None when
    absent). The items of an ObjectList that kept its type are paired too."""
    kept = {f.name: f for f in new}
    for field in old:
        now = kept.get(field.name)
        name = ".".join((*prefix, field.name))
        if now is None:
            yield name, at, field, None
            continue
        yield name, (*at, field.name), field, now
        if field.type == now.type == "ObjectList":
            yield from _pairs(field.fields, now.fields, (*prefix, field.name),
                              (*at, field.name, "fields"))
    was = {f.name for f in old}
    for now in new:
        if now.name not in was:
            yield ".".join((*prefix, now.name)), (*at, now.name), None, now


def _event_fields(event: ir.Event, old: tuple[ir.Field, ...],
                  new: tuple[ir.Field, ...]) -> list[Change]:
    """Stored events were written with `old`; the new code reads them with `new`."""
    changes = []
    file, what = event.loc.file, f"of domain event {event.name}"
    for name, path, field, now in _pairs(old, new):
        if now is None:
            changes.append(Change("DG503", file, path, (
                f"field {name!r} {what} was removed (or renamed): stored {event.name} events "
                "keep it, but nothing reads it any more, so documents rebuilt from them and "
                "pending deliveries lose it")))
        elif field is None:
            if not now.has_default:
                changes.append(Change("DG506", file, path, (
                    f"new field {name!r} {what} has no default: stored {event.name} events "
                    "lack it and can no longer be read; give it a default")))
        else:
            if field.type != now.type and (field.type, now.type) not in _LOOSER:
                changes.append(Change("DG504", file, path, (
                    f"field {name!r} {what} changed type from {field.type} to {now.type}: "
                    f"stored events hold {field.type} values")))
            if field.has_default and not now.has_default:
                changes.append(Change("DG506", file, path, (
                    f"field {name!r} {what} lost its default: stored events written without "
                    "it can no longer be read")))
    return changes


def _document(old: ir.Aggregate, new: ir.Aggregate) -> list[Change]:
    """Documents are rebuilt from events, so their shape may change; but API clients read
    them (get and filter): a field they read must stay, with its type."""
    changes = []
    fields = {f.name: f for f in new.fields}
    for field in old.fields:
        now = fields.get(field.name)
        if now is None:
            changes.append(Change("DG508", new.loc.file, ("fields",), (
                f"document field {field.name!r} of {new.name} was removed: API clients "
                f"reading it from get/filter fail")))
        elif now.type != field.type:
            changes.append(Change("DG508", new.loc.file, ("fields", field.name), (
                f"document field {field.name!r} of {new.name} changed type from {field.type} "
                f"to {now.type}: API clients reading it get another type")))
    entities = {e.name: e for e in new.entities}
    for entity in old.entities:
        if entity.name not in entities:
            changes.append(Change("DG508", new.loc.file, ("entities",), (
                f"entity collection {entity.name!r} of {new.name} was removed: API clients "
                "reading it fail")))
        elif entities[entity.name].business_key != entity.business_key:
            changes.append(Change("DG505", new.loc.file,
                                  ("entities", entity.name, "business-key"), (
                f"the key of entity collection {entity.name!r} changed from "
                f"{entity.business_key!r} to {entities[entity.name].business_key!r}: stored "
                "events keyed entries by the old field")))
    return changes


# -- commands: what clients send -------------------------------------------------------------
_Regexes = tuple[dict[str, str], dict[str, str]]  # pattern name -> regex, old and new


def _command(old: ir.Command, new: ir.Command, regexes: _Regexes) -> list[Change]:
    changes = []
    file = new.loc.file
    if (old.graphql_namespace, old.graphql_name) != (new.graphql_namespace, new.graphql_name):
        changes.append(Change("DG507", file, ("graphql-name",), (
            f"the mutation of {new.name} moved from {old.graphql_namespace}."
            f"{old.graphql_name} to {new.graphql_namespace}.{new.graphql_name}: clients "
            "calling the old name fail")))
    if _stricter_access(old.access, new.access):
        changes.append(Change("DG510", file, ("authorization",), (
            f"{new.name} now needs {_access(new.access)} (was {_access(old.access)}): "
            "callers without it are refused")))
    if new.user_must_match and new.user_must_match != old.user_must_match:
        changes.append(Change("DG510", file, ("user-must-match",), (
            f"{new.name} now requires {new.user_must_match!r} to be the caller's username: "
            "other callers are refused")))
    changes += _command_fields(new, old.fields, new.fields, regexes)
    return changes


def _command_fields(command: ir.Command, old: tuple[ir.Field, ...],
                    new: tuple[ir.Field, ...], regexes: _Regexes) -> list[Change]:
    """Clients send what `old` accepted; the new service checks it against `new`."""
    changes = []
    file, what = command.loc.file, f"of command {command.name}"
    for name, path, field, now in _pairs(old, new):
        if now is None:
            changes.append(Change("DG509", file, path, (
                f"field {name!r} {what} was removed (or renamed): clients that send it are "
                "refused (unknown field)")))
        elif field is None:
            if now.required:
                changes.append(Change("DG509", file, path, (
                    f"new field {name!r} {what} is required: clients that do not send it are "
                    "refused; give it a default")))
        else:
            if field.type != now.type and (field.type, now.type) not in _LOOSER:
                changes.append(Change("DG509", file, path, (
                    f"field {name!r} {what} changed type from {field.type} to {now.type}: "
                    f"clients sending {field.type} values are refused")))
            if now.required and not field.required:
                changes.append(Change("DG509", file, path, (
                    f"field {name!r} {what} is now required (its default or auto-fill is "
                    "gone): clients that leave it out are refused")))
            was = regexes[0].get(field.pattern or "")
            if now.pattern is not None and regexes[1].get(now.pattern) != was:
                changes.append(Change("DG509", file, (*path, "pattern"), (
                    f"field {name!r} {what} must now match the pattern {now.pattern} "
                    f"({regexes[1].get(now.pattern)!r}; was "
                    f"{repr(was) if was is not None else 'none'}): values clients send today "
                    "may be refused")))
    return changes


def _stricter_access(old: ir.Access, new: ir.Access) -> bool:
    if _ACCESS_ORDER[new.mode] != _ACCESS_ORDER[old.mode]:
        return _ACCESS_ORDER[new.mode] > _ACCESS_ORDER[old.mode]
    return new.mode == "role" and new.role != old.role


def _access(access: ir.Access) -> str:
    if access.mode == "role":
        return f"the role {access.role!r}"
    return "a token" if access.mode == "authenticated" else "an API key or a token"
