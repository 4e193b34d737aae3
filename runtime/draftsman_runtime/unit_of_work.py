"""The unit of work: one trigger in, one transaction out.

For every trigger the unit of work computes the business key, then, inside one store
transaction: resolves the key through the keychain and reads the stream's head, checks
create / not-found and idempotency, loads the document (from its cache when the cached
version is the head, else the snapshot plus the later events), runs the behavior flow, and
commits the new events, snapshot, idempotency record, keychain changes and deliveries. A
domain event delivered to a flow is claimed and settled in that same transaction.

A flow on a key this unit of work wrote last skips the lookup: it runs on the cached
document, and the commit itself checks that the key still names the instance at the cached
version (`Commit.checked_key`) and that the idempotency key is new, writing nothing when
either fails. A stale cache (another process wrote the instance) costs one attempt: the
conflict empties the cache and the next attempt looks the key up. A rejection from the cached
document stands only when the store agrees: the flow runs again on what the lookup finds, so
a repeated command is "already processed" (not, say, "insufficient funds"), as without the
cache.
"""

from __future__ import annotations

import json
import logging
import random
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .checks import document_problem
from .errors import (
    ConcurrencyError,
    DamagedDataError,
    DuplicateError,
    FunctionalError,
    KeyTakenError,
    StoreError,
    TechnicalError,
)
from .locate import model_location
from .model import AggregateType, AnyTrigger, FlowState, Registry
from .results import Accepted, Reason, Rejected, Result
from .retry import RetryPolicy, settlement
from .store import Commit, Delivery, EventStore, Lookup, NewDelivery, Settlement, Snapshot

MAX_ATTEMPTS = 4  # the first try plus three retries after a version conflict
CACHE_SIZE = 4096  # documents kept in memory per unit of work, most recently used

log = logging.getLogger("draftsman_runtime.flows")

# aggregate, key (the flow's), key (as the flow left it), id, version, document
_CacheEntry = tuple[AggregateType[Any], str, str, str, int, Any]


class UnitOfWork:
    """Runs triggers against a store; keeps recently written documents in memory.

    The cache never outlives what the store agrees with: a cached document is used only when
    its version is the stream's head (read in the same transaction), or when the events after
    it lead to the head without a gap; otherwise the document is loaded again."""

    def __init__(
        self,
        registry: Registry,
        store: EventStore,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self._cache: OrderedDict[tuple[str, str], tuple[int, Any]] = OrderedDict()
        # (aggregate, business key) -> id, for the documents in the cache: lookups to skip
        self._named: OrderedDict[tuple[str, str], str] = OrderedDict()

    # -- entry points --------------------------------------------------------------------
    def run(self, spec: AnyTrigger, payload: Any) -> Result:
        """Run one flow for one parsed command."""
        started = time.perf_counter()
        result, _settled = self._run(spec, payload, None)
        assert result is not None  # only a delivery can be taken by another dispatcher
        _log(spec.source, result, started)
        return result

    def deliver(
        self, spec: AnyTrigger, payload: Any, delivery: Delivery
    ) -> tuple[Result, Settlement] | None:
        """Run one flow for one delivered domain event, and settle the delivery in the same
        transaction. None when another dispatcher settled the delivery first."""
        started = time.perf_counter()
        result, settled = self._run(spec, payload, delivery)
        if result is None or settled is None:
            return None
        _log(f"{spec.source}#{delivery.id}", result, started)
        return result, settled

    # -- the steps -----------------------------------------------------------------------
    def _run(
        self, spec: AnyTrigger, payload: Any, delivery: Delivery | None
    ) -> tuple[Result | None, Settlement | None]:
        now = self.clock()
        try:
            key = spec.key(payload)
            idem = spec.idempotency_key(payload) if spec.idempotency_key else None
        except FunctionalError as exc:
            return self._settle_alone(spec, _rejected(spec, "functional", str(exc)), delivery, now)
        except Exception as exc:  # noqa: BLE001 - a bug in a key expression stores nothing
            return self._settle_alone(
                spec, _technical(spec, exc, "", "computing the key"), delivery, now
            )
        if not isinstance(key, str) or not key:
            empty = _rejected(spec, "functional", f"{spec.flow}: the business key is empty")
            return self._settle_alone(spec, empty, delivery, now)
        last = ""
        for attempt in range(MAX_ATTEMPTS):
            remember: _CacheEntry | None = None
            try:
                with self.store.exclusive():
                    if delivery is not None:
                        claimed = self.store.claim(delivery.id, now)
                        if claimed is None:
                            return None, None
                        delivery = claimed  # as stored now: its attempts count
                    # Retries never trust the cache: another thread may have refilled it.
                    result, remember = self._attempt(
                        spec, payload, key, idem, now, delivery, cached=attempt == 0
                    )
                    settled = None
                    if delivery is not None:
                        settled = settlement(result, delivery.attempts, self.retry, now)
                        self.store.settle(delivery.id, settled, now)
            except ConcurrencyError as exc:
                last = str(exc)
                self.forget()
                continue
            except DuplicateError:
                result = _rejected(
                    spec, "already-processed", f"{spec.flow}: already processed", key
                )
                break
            except KeyTakenError as exc:
                result = _rejected(spec, "key-taken", str(exc), key)
                break
            if remember is not None:  # only now is the transaction committed
                self._remember(*remember)
            return result, settled
        else:
            message = f"{spec.flow}: gave up after {MAX_ATTEMPTS} conflicting writes ({last})"
            result = _rejected(spec, "conflict", message, key)
        return self._settle_alone(spec, result, delivery, now)

    def _settle_alone(
        self, spec: AnyTrigger, result: Result, delivery: Delivery | None, now: float
    ) -> tuple[Result | None, Settlement | None]:
        """Record the outcome of a delivery whose flow stored nothing, in its own transaction."""
        if delivery is None:
            return result, None
        with self.store.exclusive():
            claimed = self.store.claim(delivery.id, now)
            if claimed is None:
                return None, None
            settled = settlement(result, claimed.attempts, self.retry, now)
            self.store.settle(delivery.id, settled, now)
        return result, settled

    def _attempt(
        self,
        spec: AnyTrigger,
        payload: Any,
        key: str,
        idem: str | None,
        now: float,
        delivery: Delivery | None,
        cached: bool = True,
    ) -> tuple[Result, _CacheEntry | None]:
        agg = spec.aggregate
        known = None if spec.create or not cached else self._known(agg, key)
        if known is not None:
            outcome = self._try(spec, payload, key, idem, now, delivery, known, True)
            if isinstance(outcome[0], Accepted):  # committed: the store agreed
                return outcome
            # A rejection (or a commit without events) from the cache: ask the store.
        found = self.store.lookup(agg.name, key, spec.flow, idem, now)
        return self._try(spec, payload, key, idem, now, delivery, found, False)

    def _try(
        self,
        spec: AnyTrigger,
        payload: Any,
        key: str,
        idem: str | None,
        now: float,
        delivery: Delivery | None,
        found: Lookup,
        checked: bool,
    ) -> tuple[Result, _CacheEntry | None]:
        """Run the flow on what `found` says and commit; `checked`: `found` came from the
        cache, so the commit checks it."""
        agg = spec.aggregate
        if found.processed:
            return (
                _rejected(spec, "already-processed", f"{spec.flow}: already processed", key),
                None,
            )
        aggregate_id = found.aggregate_id
        if spec.create and aggregate_id is not None:
            return (
                _rejected(spec, "already-exists", f"{agg.name} {key!r} already exists", key),
                None,
            )
        if not spec.create and aggregate_id is None:
            return _rejected(spec, "not-found", f"{agg.name} {key!r} not found", key), None
        try:
            if aggregate_id is None:
                aggregate_id = new_id()
                document, version = agg.new_document(key), 0
            else:
                document, version = self._load(agg, aggregate_id, key, found.head)
            flow: FlowState = spec.start(payload, document, key)
            spec.run(flow)
            problem = document_problem(agg, flow.entity)
            if problem:
                raise TechnicalError(f"the {agg.name} document after the flow: {problem}")
        except FunctionalError as exc:
            return _rejected(spec, "functional", str(exc), key), None
        except DamagedDataError as exc:  # this instance is damaged; the others go on
            return _technical(spec, exc, key, "loading the instance"), None
        except StoreError:
            raise  # the store, not the model: the caller reports it
        except Exception as exc:  # noqa: BLE001 - a bug in model code must not store anything
            return _technical(spec, exc, key, "running the flow"), None
        identity = flow.identity
        if not isinstance(identity, str) or not identity:
            return (
                _rejected(spec, "functional", f"{spec.flow}: the new business key is empty", key),
                None,
            )
        events = tuple((e.EVENT_TYPE, e.to_dict()) for e in flow.events)
        if checked and not events:
            # A commit without events leaves the head where it was, so the store's
            # compare-and-set on the head could not tell it from a concurrent one (a key
            # moved without an event, say): such a unit of work looks the key up instead.
            return _LOOK_UP, None
        correlation = delivery.correlation if delivery is not None else ""
        commit = self._commit(spec, aggregate_id, key, identity, version, events, now, correlation)
        if checked:
            commit.checked_key = key
        commit.alone = delivery is None  # a delivery is settled after it, in one transaction
        if idem is not None:
            ttl = spec.idempotency_ttl
            commit.idempotency = (spec.flow, idem, None if ttl < 0 else now + ttl)
        new_version = version + len(events)
        if new_version // agg.snapshot_interval > version // agg.snapshot_interval:
            snapshot = agg.document_to_dict(flow.entity)
            commit.snapshot = Snapshot(new_version, agg.fingerprint, snapshot)
        self.store.commit(commit)
        accepted = Accepted(
            spec.flow, agg.name, identity, new_version, events, flow.entity, agg.document_to_dict
        )
        return accepted, (agg, key, identity, aggregate_id, new_version, flow.entity)

    def _known(self, agg: AggregateType[Any], key: str) -> Lookup | None:
        """What `lookup` would answer for a key whose document is cached, if the cache is
        still true (the commit checks it); None to ask the store."""
        aggregate_id = self._named.get((agg.name, key))
        if aggregate_id is None:
            return None
        cached = self._cache.get((agg.name, aggregate_id))
        if cached is None:
            return None
        return Lookup(aggregate_id, False, cached[0])

    def _commit(
        self,
        spec: AnyTrigger,
        aggregate_id: str,
        key: str,
        identity: str,
        version: int,
        events: tuple[tuple[str, dict[str, Any]], ...],
        now: float,
        correlation: str,
    ) -> Commit:
        agg = spec.aggregate
        commit = Commit(agg.name, aggregate_id, version, recorded=now)
        commit.events = [(new_id(), name, data) for name, data in events]
        subscribers = self.registry.subscribers
        for n, (event_id, name, data) in enumerate(commit.events, start=1):
            for target in subscribers.get(name, ()):
                origin = f"{agg.name} {identity}@{version + n}"
                commit.deliveries.append(
                    NewDelivery(event_id, name, target.flow, data, origin, correlation)
                )
        if spec.create:
            commit.add_keys.append(key)
        if identity != key:  # update-key: the keychain moves, the event log stays attached
            commit.remove_keys.append(key)
            commit.add_keys.append(identity)
        return commit

    # -- documents -----------------------------------------------------------------------
    def _load(
        self, agg: AggregateType[Any], aggregate_id: str, key: str, head: int | None
    ) -> tuple[Any, int]:
        """A private copy of the current document and its version. `head`, when the caller
        read it in this transaction, saves asking the store whether anything changed."""
        cached = self._cache.get((agg.name, aggregate_id))
        if cached is not None:
            version, document = cached
            if version == head:
                copy = agg.clone(document)
                agg.set_key(copy, key)
                return copy, version
            loaded = self.store.load(agg.name, aggregate_id, agg.fingerprint, after=version)
            if loaded.complete:  # nothing purged between the cache and the head
                copy = agg.clone(document)
                return self._replay(agg, copy, loaded.events, key), loaded.head
            del self._cache[(agg.name, aggregate_id)]
        loaded = self.store.load(agg.name, aggregate_id, agg.fingerprint)
        if not loaded.complete:
            raise DamagedDataError(
                f"{agg.name} {key!r}: the store lacks events between version "
                f"{loaded.snapshot_version} and {loaded.head}; the instance cannot be rebuilt"
            )
        try:
            if loaded.snapshot is not None:
                document = agg.document_from_dict(loaded.snapshot)
            else:
                document = agg.new_document(key)
            # Not remembered here: a successful flow remembers its result, which is newer.
            return self._replay(agg, document, loaded.events, key), loaded.head
        except Exception as exc:  # stored data the model cannot apply (or a handler bug)
            raise DamagedDataError(
                f"{agg.name} {key!r} cannot be rebuilt from its stored events: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    @staticmethod
    def _replay(
        agg: AggregateType[Any],
        document: Any,
        events: list[tuple[int, str, dict[str, Any]]],
        key: str,
    ) -> Any:
        for _version, event_type, data in events:
            agg.replay(document, event_type, data)
        # The keychain is the truth about the business key (update-key changes it).
        agg.set_key(document, key)
        return document

    def _remember(
        self,
        agg: AggregateType[Any],
        key: str,
        identity: str,
        aggregate_id: str,
        version: int,
        document: Any,
    ) -> None:
        cache, named = self._cache, self._named
        cache[(agg.name, aggregate_id)] = (version, document)
        cache.move_to_end((agg.name, aggregate_id))
        if len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
        if identity != key:  # update-key: the old key names nothing now
            named.pop((agg.name, key), None)
        named[(agg.name, identity)] = aggregate_id
        named.move_to_end((agg.name, identity))
        if len(named) > CACHE_SIZE:
            named.popitem(last=False)

    def forget(self) -> None:
        """Drop every cached document."""
        self._cache.clear()
        self._named.clear()

    def current(self, agg: AggregateType[Any], aggregate_id: str, key: str) -> tuple[Any, int]:
        """A private copy of an instance's current document, and its version."""
        return self._load(agg, aggregate_id, key, None)

    def load(self, agg: AggregateType[Any], key: str) -> dict[str, Any] | None:
        """The current document of an instance, or None when the key is unknown."""
        aggregate_id = self.store.resolve(agg.name, key)
        if aggregate_id is None:
            return None
        document, _version = self.current(agg, aggregate_id, key)
        return agg.document_to_dict(document)

    def seed(self, agg: AggregateType[Any], key: str, state: dict[str, Any]) -> None:
        """Store a given state as version 0 of a new instance (the generated tests' given)."""
        document = agg.document_from_dict(state)
        agg.set_key(document, key)
        commit = Commit(agg.name, new_id(), 0, add_keys=[key], recorded=self.clock())
        commit.snapshot = Snapshot(0, agg.fingerprint, agg.document_to_dict(document))
        self.store.commit(commit)


# What `_try` answers when a unit of work on a cached document must look its key up instead.
_LOOK_UP = Rejected("", "conflict", "look the key up")


def new_id() -> str:
    """A random 128-bit id as 32 hex digits (instances and events). The random module is
    seeded from the OS and reseeded in every forked child, so ids never repeat across
    processes; it is four times cheaper than os.urandom, and ids need no secrecy."""
    return f"{random.getrandbits(128):032x}"


def _rejected(spec: AnyTrigger, reason: Reason, message: str, key: str = "") -> Rejected:
    return Rejected(spec.flow, reason, message, spec.aggregate.name, key)


def _technical(spec: AnyTrigger, exc: Exception, key: str, doing: str) -> Rejected:
    cause = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    where = model_location(cause.__traceback__)  # a handler that failed while rebuilding
    at = f" at {where}" if where else ""
    message = f"{spec.flow}: technical error{at} while {doing}: {type(exc).__name__}: {exc}"
    detail = "".join(traceback.format_exception(exc))
    return Rejected(spec.flow, "technical-error", message, spec.aggregate.name, key, where, detail)


def _log(source: str, result: Result, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    ms = (time.perf_counter() - started) * 1000
    outcome = "accepted" if isinstance(result, Accepted) else result.reason
    log.info(
        "source=%s flow=%s aggregate=%s key=%s outcome=%s ms=%.2f",
        source,
        result.flow,
        result.aggregate,
        _quote(result.key),
        outcome,
        ms,
    )


def _quote(value: str) -> str:
    """A log-safe value: plain words as they are, anything else as a JSON string."""
    if value and value.isprintable() and " " not in value and '"' not in value:
        return value
    return json.dumps(value)
