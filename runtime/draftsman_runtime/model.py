"""What a generated package tells the runtime about its model: aggregates, triggers, commands.

Generated `registry.py` builds one `Registry` from these types; the runtime reads nothing
else of the package. Everything package-specific (names, the environment prefix) is data
here, never text in the runtime.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

D = TypeVar("D")  # a document class
P = TypeVar("P")  # a parsed trigger payload: a command or a domain event
F = TypeVar("F")  # the variables of one flow


FieldSpec = tuple[tuple[str, "str | FieldSpec | Entities"], ...]
"""(field name, type) pairs; the type is String, Int, Float, Boolean, StringList, the
FieldSpec of the items of an ObjectList, or Entities for a document's entity collection."""


@dataclass(frozen=True, slots=True)
class Entities:
    """The type of an entity collection: a JSON object from entity key to entity."""

    fields: FieldSpec


class Event(Protocol):
    """A domain event as generated: a frozen dataclass with its type name, field types and
    JSON form."""

    @property
    def EVENT_TYPE(self) -> str: ...

    @property
    def FIELDS(self) -> FieldSpec: ...

    def to_dict(self) -> dict[str, Any]: ...


class FlowState(Protocol):
    """The variables of a running flow, as the unit of work reads them afterwards."""

    @property
    def identity(self) -> str: ...

    @property
    def events(self) -> Sequence[Event]: ...

    @property
    def entity(self) -> Any: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AggregateType(Generic[D]):
    """One aggregate: how to make, copy, serialise and replay its document."""

    name: str
    business_key: str
    fingerprint: str  # a hash of the document's shape: snapshots of another shape are ignored
    new_document: Callable[[str], D]
    document_from_dict: Callable[[dict[str, Any]], D]
    document_to_dict: Callable[[D], dict[str, Any]]
    replay: Callable[[D, str, dict[str, Any]], None]
    set_key: Callable[[D, str], None]
    clone: Callable[[D], D]
    fields: FieldSpec = ()  # the document's field types, checked after every flow and restore
    snapshot_interval: int = 100
    event_ttl: int = -1  # seconds; -1 keeps events forever
    backup_interval_days: int = 0  # 0: no backups
    backup_ttl_days: int = 0  # 0: backups are kept forever


@dataclass(frozen=True, slots=True, kw_only=True)
class TriggerSpec(Generic[P, D, F]):
    """One trigger of one behavior flow: a command or a domain event of another aggregate."""

    source: str
    aggregate: AggregateType[D]
    flow: str  # "Aggregate.Flow"
    model_file: str  # the flow's model file, for messages
    create: bool
    parse: Callable[[Any], P]
    key: Callable[[P], str]
    start: Callable[[P, D, str], F]
    run: Callable[[F], None]
    idempotency_key: Callable[[P], str] | None = None
    idempotency_ttl: int = -1  # seconds; -1 remembers forever


AnyTrigger = TriggerSpec[Any, Any, Any]

AuthMode = Literal["anonymous", "authenticated", "role"]


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call an API operation: `anonymous` a client with an API key (or a token),
    `authenticated` a valid token, `role` a valid token whose roles claim lists `role`."""

    mode: AuthMode = "authenticated"
    role: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutation:
    """A command as the API offers it: `mutation { <namespace> { <name>(input: ...) } }`."""

    namespace: str
    name: str
    command: str
    access: Access = Access()
    username_fields: tuple[str, ...] = ()  # auto-fill: username, filled from the caller
    user_must_match: str = ""  # a field that must equal the caller's username


@dataclass(frozen=True, slots=True, kw_only=True)
class Reader:
    """An aggregate's queries in the API: `query { <aggregate> { get filter } }`."""

    aggregate: str
    access: Access = Access()
    entities: tuple[str, ...] = ()  # entity collections, shown as lists


class Registry:
    """The model of one generated package, with the lookups the runtime needs."""

    def __init__(
        self,
        *,
        package: str,
        project: str,
        env_prefix: str,
        generator: str,
        aggregates: Sequence[AggregateType[Any]],
        commands: Mapping[str, Callable[[Any], Any]],
        triggers: Sequence[AnyTrigger],
        mutations: Sequence[Mutation] = (),
        readers: Sequence[Reader] = (),
    ) -> None:
        self.package = package  # the Python package: `python -m <package>`
        self.project = project  # the model's name, for people
        self.env_prefix = env_prefix  # <PREFIX>_DATABASE and the other settings
        self.generator = generator  # "draftsman-gen X.Y.Z", for messages
        self.aggregates: dict[str, AggregateType[Any]] = {a.name: a for a in aggregates}
        self.commands: dict[str, Callable[[Any], Any]] = dict(commands)
        self.triggers: tuple[AnyTrigger, ...] = tuple(triggers)
        self.mutations: tuple[Mutation, ...] = tuple(mutations)
        self.readers: tuple[Reader, ...] = tuple(readers)
        by_source: dict[str, list[AnyTrigger]] = {}
        for spec in self.triggers:
            by_source.setdefault(spec.source, []).append(spec)
        # Flows of a command, in model order; and the flows each domain event is delivered to.
        self.by_source: dict[str, tuple[AnyTrigger, ...]] = {
            source: tuple(specs) for source, specs in by_source.items()
        }
        self.subscribers: dict[str, tuple[AnyTrigger, ...]] = {
            source: specs for source, specs in self.by_source.items() if source not in commands
        }

    def aggregate(self, name: str) -> AggregateType[Any] | None:
        return self.aggregates.get(name)

    def trigger(self, flow: str, source: str) -> AnyTrigger | None:
        """The trigger of `flow` ("Aggregate.Flow") for `source`, or None."""
        for spec in self.by_source.get(source, ()):
            if spec.flow == flow:
                return spec
        return None


_KEY_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def idempotency_key(*values: Any) -> str:
    """A stable text key from the values of a trigger's idempotency-key fields."""
    return _KEY_ENCODER.encode(values)
