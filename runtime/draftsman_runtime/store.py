"""The event store interface: what the runtime asks of any backend, and the values it trades.

Every backend (SQLite here; PostgreSQL next) implements `EventStore` and passes the same
conformance suite (tests/store_conformance.py). The guarantees the runtime rests on:

- an instance's versions are unique and gapless for its whole life: the store keeps each
  stream's head version, which a purge never lowers, and `commit` writes only at the head;
- a commit (events, snapshot, keychain changes, idempotency record, deliveries) is atomic;
- a delivery is claimed and settled inside the transaction of the flow it runs, so it has
  exactly one effect however many dispatchers run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from .errors import StoreError

DeliveryStatus = Literal["pending", "done", "rejected", "dead"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event_id: str
    type: str
    data: dict[str, Any]
    version: int
    recorded: float


@dataclass(slots=True)  # a value (never changed), not frozen: one is made per load
class Loaded:
    """A load: the latest usable snapshot (if any), the events after it, and the head.

    `head` is the stream's version as the store records it. When the events do not lead from
    the snapshot (or from `after`) to the head, something between was purged and the caller
    must not build on this load (see `complete`).
    """

    snapshot: dict[str, Any] | None
    snapshot_version: int
    events: list[tuple[int, str, dict[str, Any]]]  # (version, type, data): lean, loads are hot
    head: int
    migrated: bool = False  # the snapshot has another shape, but purged history leaves no choice

    @property
    def version(self) -> int:
        return self.head

    @property
    def complete(self) -> bool:
        """True when the events continue the snapshot (or `after`) up to the head, no gaps."""
        start, events = self.snapshot_version, self.events
        if not events:
            return start == self.head
        # Versions are unique and ordered, so the ends and the count prove there is no gap.
        return events[0][0] == start + 1 and events[-1][0] == self.head == start + len(events)


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    fingerprint: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A domain event to deliver to one flow of another aggregate."""

    event_id: str
    event_type: str
    flow: str
    data: dict[str, Any]
    origin: str = ""  # "Aggregate key@version" of the instance that emitted it, for people
    correlation: str = ""  # the accepted command this delivery descends from ("" for none)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery as stored, with its outcome so far."""

    id: int
    event_id: str
    event_type: str
    flow: str
    data: Any  # the event's JSON object; None when the stored data is damaged
    origin: str
    status: DeliveryStatus
    attempts: int
    due: float
    created: float
    updated: float
    reason: str = ""
    message: str = ""
    detail: str = ""
    correlation: str = ""
    key: str = ""  # the business key of the instance the flow ran on, once known
    emitted: tuple[Emitted, ...] = ()  # the events the flow stored


@dataclass(frozen=True, slots=True)
class Emitted:
    """An event a delivered flow stored, as its trace shows it."""

    type: str
    version: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Settlement:
    """What became of a delivery attempt."""

    status: DeliveryStatus
    attempts: int
    due: float
    reason: str = ""
    message: str = ""
    detail: str = ""
    key: str = ""
    emitted: tuple[Emitted, ...] = ()


@dataclass(slots=True)
class Commit:
    """Everything one trigger changes, written in one transaction or not at all."""

    aggregate: str
    aggregate_id: str
    expected_version: int
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # id, type, data
    snapshot: Snapshot | None = None
    add_keys: list[str] = field(default_factory=list)
    remove_keys: list[str] = field(default_factory=list)
    idempotency: tuple[str, str, float | None] | None = None  # flow, key, expires
    deliveries: list[NewDelivery] = field(default_factory=list)
    recorded: float = 0.0
    # The business key the caller found this instance by without `lookup` (from its cache):
    # the commit checks that the keychain still maps it here, and is a ConcurrencyError
    # (writing nothing) when it does not. A store that locks instances takes the key's lock
    # as `lookup` would have.
    checked_key: str | None = None
    # Nothing else is written in this unit of work: when nothing was written before it
    # either, a store may run the commit as a transaction of its own (one round trip).
    alone: bool = False


class Lookup(NamedTuple):
    """What the unit of work needs to know before it loads: one round trip where possible.
    (A named tuple: one is made per command, and it is cheaper than a dataclass.)"""

    aggregate_id: str | None  # None: the business key is unknown
    processed: bool  # an unexpired idempotency record exists
    head: int | None  # the stream's head version; None for an unknown key


class EventStore(ABC):
    """The storage interface the runtime uses; nothing else touches the database."""

    def exclusive(self) -> AbstractContextManager[None]:
        """Run a whole unit of work in one transaction, under the backend's write lock if it
        has one. Statements inside join it; an exception rolls all of it back."""
        return nullcontext()

    @abstractmethod
    def lookup(
        self, aggregate: str, key: str, flow: str, idempotency_key: str | None, now: float
    ) -> Lookup:
        """Resolve the business key, check the idempotency record, and read the head."""

    @abstractmethod
    def resolve(self, aggregate: str, key: str) -> str | None:
        """The technical id behind a business key (the keychain), or None."""

    @abstractmethod
    def load(
        self, aggregate: str, aggregate_id: str, fingerprint: str, after: int | None = None
    ) -> Loaded:
        """The latest snapshot whose fingerprint matches plus every later event; or, with
        `after`, only the events after that version (the caller has the state up to it)."""

    @abstractmethod
    def commit(self, commit: Commit) -> None:
        """Write a commit atomically at the stream's head. Raises ConcurrencyError when the
        head is not `expected_version`, DuplicateError, or KeyTakenError."""

    @abstractmethod
    def history(self, aggregate: str, aggregate_id: str) -> list[StoredEvent]:
        """Every stored event of an instance, oldest first."""

    @abstractmethod
    def keys(self, aggregate: str) -> list[tuple[str, str]]:
        """(business key, technical id) of every instance of an aggregate, sorted by key."""

    # -- deliveries ----------------------------------------------------------------------
    @abstractmethod
    def enqueue(self, deliveries: Sequence[NewDelivery], now: float) -> None:
        """Add deliveries outside a commit (tests and tools); one already there is ignored."""

    @abstractmethod
    def due(self, now: float, limit: int, after: int = 0) -> list[Delivery]:
        """Pending deliveries whose time has come and whose id is above `after`, oldest
        first (not yet claimed)."""

    @abstractmethod
    def claim(self, delivery_id: int, now: float) -> Delivery | None:
        """Inside exclusive(): the delivery, if it is still pending and due, locked for this
        transaction; None when another dispatcher settled it first."""

    @abstractmethod
    def settle(self, delivery_id: int, settlement: Settlement, now: float) -> None:
        """Record the outcome of a claimed delivery (inside the same exclusive())."""

    @abstractmethod
    def deliveries(
        self, statuses: Sequence[DeliveryStatus], limit: int, after: int = 0
    ) -> list[Delivery]:
        """Deliveries in the given states with an id above `after`, oldest first."""

    @abstractmethod
    def redeliver(self, ids: Sequence[int] | None, now: float) -> list[int]:
        """Make rejected or dead deliveries pending again (all dead ones when `ids` is None);
        returns the ids that changed."""

    @abstractmethod
    def trace(self, correlation: str, limit: int = 1000) -> list[Delivery]:
        """Every delivery that descends from one accepted command (the command's own flows
        and every event delivery they caused), oldest first."""

    @abstractmethod
    def next_due(self) -> float | None:
        """When the next pending delivery is due, or None when none is pending."""

    # -- housekeeping --------------------------------------------------------------------
    @abstractmethod
    def purge(self, aggregate: str, recorded_before: float, fingerprint: str) -> int:
        """Delete events recorded before the time that a current snapshot covers; return how many.

        An event is only deleted when a snapshot with the current fingerprint and a version at
        or above the event's exists, so an instance's state can always be rebuilt. Heads stay."""

    @abstractmethod
    def purge_records(self, now: float, settled_before: float) -> int:
        """Delete expired idempotency records, and done or rejected deliveries settled before
        `settled_before` (dead letters stay until redelivered); return how many."""

    @abstractmethod
    def restore(self, aggregate: str, instances: Sequence[tuple[str, Snapshot]]) -> int:
        """Create instances from backed-up states, all in one transaction; an instance whose
        key exists is skipped, never overwritten. Returns how many were created."""

    def health(self) -> str:
        """"" when the store can be used now, else why not (for readiness probes)."""
        try:
            self.next_due()
        except StoreError as exc:
            return str(exc)
        return ""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""
