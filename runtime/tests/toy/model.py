# A hand-written stand-in for generated code: documents, events, handlers and flows.
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from draftsman_runtime import FunctionalError, check_event, idempotency_key
from draftsman_runtime.model import FieldSpec

BROKEN: set[int] = set()  # amounts Tally.Count fails on (technically) while listed


# -- Counter -------------------------------------------------------------------------------
@dataclass(slots=True, kw_only=True)
class CounterDocument:
    FIELDS: ClassVar[FieldSpec] = (("name", "String"), ("count", "Int"), ("limit", "Int"))
    name: str = ""
    count: int = 0
    limit: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "limit": self.limit}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CounterDocument:
        return cls(
            name=data.get("name", ""), count=data.get("count", 0), limit=data.get("limit", 0)
        )

    def clone(self) -> CounterDocument:
        return CounterDocument(name=self.name, count=self.count, limit=self.limit)


def new_counter(key: str) -> CounterDocument:
    return CounterDocument(name=key)


def set_counter_key(document: CounterDocument, key: str) -> None:
    document.name = key


@dataclass(frozen=True, slots=True, kw_only=True)
class Created:
    EVENT_TYPE: ClassVar[str] = "Created"
    FIELDS: ClassVar[FieldSpec] = (("name", "String"), ("limit", "Int"))
    name: str
    limit: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "limit": self.limit}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Created:
        return cls(name=data["name"], limit=data["limit"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Added:
    EVENT_TYPE: ClassVar[str] = "Added"
    FIELDS: ClassVar[FieldSpec] = (("name", "String"), ("amount", "Int"))
    name: str
    amount: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "amount": self.amount}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Added:
        return cls(name=data["name"], amount=data["amount"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Zeroed:
    EVENT_TYPE: ClassVar[str] = "Zeroed"
    FIELDS: ClassVar[FieldSpec] = (("name", "String"),)
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Zeroed:
        return cls(name=data["name"])


def apply_created(document: CounterDocument, event: Created) -> None:
    document.name = event.name
    document.limit = event.limit


def apply_added(document: CounterDocument, event: Added) -> None:
    document.count += event.amount


def apply_zeroed(document: CounterDocument, event: Zeroed) -> None:
    document.count = 0


def replay_counter(document: CounterDocument, event_type: str, data: dict[str, Any]) -> None:
    if event_type == "Created":
        apply_created(document, Created.from_dict(data))
        return
    if event_type == "Added":
        apply_added(document, Added.from_dict(data))
        return
    if event_type == "Zeroed":
        apply_zeroed(document, Zeroed.from_dict(data))
        return
    raise ValueError(f"unknown Counter event type {event_type!r}")


# -- Tally ---------------------------------------------------------------------------------
@dataclass(slots=True, kw_only=True)
class TallyDocument:
    FIELDS: ClassVar[FieldSpec] = (("name", "String"), ("total", "Int"), ("frozen", "Boolean"))
    name: str = ""
    total: int = 0
    frozen: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "total": self.total, "frozen": self.frozen}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TallyDocument:
        return cls(
            name=data.get("name", ""), total=data.get("total", 0), frozen=data.get("frozen", False)
        )

    def clone(self) -> TallyDocument:
        return TallyDocument(name=self.name, total=self.total, frozen=self.frozen)


def new_tally(key: str) -> TallyDocument:
    return TallyDocument(name=key)


def set_tally_key(document: TallyDocument, key: str) -> None:
    document.name = key


@dataclass(frozen=True, slots=True, kw_only=True)
class Counted:
    EVENT_TYPE: ClassVar[str] = "Counted"
    FIELDS: ClassVar[FieldSpec] = (("name", "String"), ("amount", "Int"), ("frozen", "Boolean"))
    name: str
    amount: int
    frozen: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "amount": self.amount, "frozen": self.frozen}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counted:
        return cls(name=data["name"], amount=data["amount"], frozen=data.get("frozen", False))


def apply_counted(document: TallyDocument, event: Counted) -> None:
    document.total += event.amount
    document.frozen = event.frozen


def replay_tally(document: TallyDocument, event_type: str, data: dict[str, Any]) -> None:
    if event_type == "Counted":
        apply_counted(document, Counted.from_dict(data))
        return
    raise ValueError(f"unknown Tally event type {event_type!r}")


# -- commands ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCounter:
    name: str
    limit: int

    @classmethod
    def from_payload(cls, data: Any, where: str = "CreateCounter") -> CreateCounter:
        from draftsman_runtime import payload

        data = payload.mapping(data, where)
        payload.no_unknown(data, frozenset(["limit", "name"]), where)
        return cls(
            name=payload.string(data, "name", where),
            limit=payload.integer(data, "limit", where, default=100),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AddToCounter:
    name: str
    amount: int
    ref: str

    @classmethod
    def from_payload(cls, data: Any, where: str = "AddToCounter") -> AddToCounter:
        from draftsman_runtime import payload

        data = payload.mapping(data, where)
        payload.no_unknown(data, frozenset(["amount", "name", "ref"]), where)
        return cls(
            name=payload.string(data, "name", where),
            amount=payload.integer(data, "amount", where),
            ref=payload.string(data, "ref", where, auto_fill=True),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Reset:
    name: str
    freeze: bool

    @classmethod
    def from_payload(cls, data: Any, where: str = "Reset") -> Reset:
        from draftsman_runtime import payload

        data = payload.mapping(data, where)
        payload.no_unknown(data, frozenset(["freeze", "name"]), where)
        return cls(
            name=payload.string(data, "name", where),
            freeze=payload.boolean(data, "freeze", where, default=False),
        )


# -- flows ---------------------------------------------------------------------------------
@dataclass(slots=True, kw_only=True)
class CounterFlow:
    entity: CounterDocument
    identity: str
    events: list[Created | Added | Zeroed] = field(default_factory=list)
    amount: int = 0
    limit: int = 0


def key_of(event: CreateCounter | AddToCounter | Reset | Added) -> str:
    # model/Counter.yaml:1: key-field name
    return event.name


def add_idempotency(event: AddToCounter) -> str:
    return idempotency_key(event.ref)


def start_create(event: CreateCounter, entity: CounterDocument, identity: str) -> CounterFlow:
    return CounterFlow(entity=entity, identity=identity, limit=event.limit)


def start_add(event: AddToCounter, entity: CounterDocument, identity: str) -> CounterFlow:
    return CounterFlow(entity=entity, identity=identity, amount=event.amount)


def start_reset(event: Reset, entity: CounterDocument, identity: str) -> CounterFlow:
    return CounterFlow(entity=entity, identity=identity)


def create(flow: CounterFlow) -> None:
    # model/Counter/Create.yaml:3: emit-event Created
    created = Created(name=flow.identity, limit=flow.limit)
    check_event(created)
    apply_created(flow.entity, created)
    flow.events.append(created)


def _add_code(flow: CounterFlow) -> None:
    # model/Counter/Add.yaml:9: inline code
    if flow.amount == 13:
        flow.amount = 13 // (flow.amount - 13)  # a bug on purpose: ZeroDivisionError


def add(flow: CounterFlow) -> None:
    # model/Counter/Add.yaml:5: validator
    if not (flow.amount > 0):
        raise FunctionalError(f"amount must be positive, got {flow.amount}")
    # model/Counter/Add.yaml:9: code
    _add_code(flow)
    # model/Counter/Add.yaml:12: emit-event Added
    added = Added(name=flow.identity, amount=flow.amount)
    check_event(added)
    apply_added(flow.entity, added)
    flow.events.append(added)
    # model/Counter/Add.yaml:15: validator
    if not (flow.entity.count <= flow.entity.limit):
        raise FunctionalError(f"limit {flow.entity.limit} exceeded")


def add_mistyped(flow: CounterFlow) -> None:
    # model/Counter/Add.yaml:20: emit-event Added
    added = Added(name=flow.identity, amount=str(flow.amount))  # type: ignore[arg-type]
    check_event(added)
    apply_added(flow.entity, added)
    flow.events.append(added)


def reset_counter(flow: CounterFlow) -> None:
    # model/Counter/Reset.yaml:4: emit-event Zeroed
    zeroed = Zeroed(name=flow.identity)
    check_event(zeroed)
    apply_zeroed(flow.entity, zeroed)
    flow.events.append(zeroed)


@dataclass(slots=True, kw_only=True)
class TallyFlow:
    entity: TallyDocument
    identity: str
    events: list[Counted] = field(default_factory=list)
    amount: int = 0
    freeze: bool = False


def start_count(event: Added, entity: TallyDocument, identity: str) -> TallyFlow:
    return TallyFlow(entity=entity, identity=identity, amount=event.amount)


def start_open(event: CreateCounter, entity: TallyDocument, identity: str) -> TallyFlow:
    return TallyFlow(entity=entity, identity=identity)


def start_tally_reset(event: Reset, entity: TallyDocument, identity: str) -> TallyFlow:
    return TallyFlow(entity=entity, identity=identity, freeze=event.freeze)


def open_tally(flow: TallyFlow) -> None:
    # model/Tally/Open.yaml:3: emit-event Counted
    counted = Counted(name=flow.identity, amount=0)
    check_event(counted)
    apply_counted(flow.entity, counted)
    flow.events.append(counted)


def count(flow: TallyFlow) -> None:
    # model/Tally/Count.yaml:4: validator
    if flow.entity.frozen:
        raise FunctionalError(f"tally {flow.identity} is frozen")
    # model/Tally/Count.yaml:7: code
    if flow.amount in BROKEN:
        raise RuntimeError(f"cannot count {flow.amount} today")
    # model/Tally/Count.yaml:10: emit-event Counted
    counted = Counted(name=flow.identity, amount=flow.amount)
    check_event(counted)
    apply_counted(flow.entity, counted)
    flow.events.append(counted)


def reset_tally(flow: TallyFlow) -> None:
    # model/Tally/Reset.yaml:4: emit-event Counted
    counted = Counted(name=flow.identity, amount=-flow.entity.total, frozen=flow.freeze)
    check_event(counted)
    apply_counted(flow.entity, counted)
    flow.events.append(counted)


def add_breaking_the_document(flow: CounterFlow) -> None:
    # model/Counter/Add.yaml:30: code
    flow.entity.limit = 10**30  # a value no Int field may hold
    add(flow)
