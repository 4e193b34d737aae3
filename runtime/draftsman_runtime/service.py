"""The service facade: submit commands, read instances, deliver events, and housekeeping.

`Service(registry)` is a generated package's service on the store its environment names
(`<PREFIX>_DATABASE`, SQLite by default); pass `store=` for another one (`:memory:` in tests).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from .backup import DAY, BlobTarget, blob_name, decode, encode, taken_at
from .checks import document_problem
from .config import Settings
from .dispatcher import Dispatcher, DispatchReport
from .errors import BackupError, ConfigError, PayloadError
from .model import AggregateType, Registry
from .payload import decode_json, unicode_problem
from .results import Submission
from .retry import RetryPolicy
from .sqlite import SQLiteEventStore
from .store import Delivery, DeliveryStatus, EventStore, NewDelivery, Snapshot, StoredEvent
from .unit_of_work import UnitOfWork

FUTURE_TOLERANCE = 300.0  # seconds a backup may seem to come from the future (clock skew)
log = logging.getLogger("draftsman_runtime.backup")


class Service:
    """One generated service on one store."""

    def __init__(
        self,
        registry: Registry,
        store: EventStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        settings: Settings | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings or Settings.from_env(registry.env_prefix, registry.package)
        if store is None:
            store = open_store(self.settings)
        self.store = store
        self.clock = clock
        self.retry = retry or self.settings.retry
        self.work = UnitOfWork(registry, store, clock, self.retry)
        self.dispatcher = Dispatcher(registry, self.work, clock, self.retry)

    # -- commands ------------------------------------------------------------------------
    def submit(self, command: str, payload: Any) -> Submission:
        """Check a command payload and run every flow it triggers, each in its own unit of
        work, in model order. Raises PayloadError (nothing stored) when the command is
        unknown or the payload does not fit it."""
        parse = self.registry.commands.get(command)
        if parse is None:
            known = ", ".join(sorted(self.registry.commands)) or "none"
            raise PayloadError(f"unknown command {_shown(command)}; known commands: {known}")
        specs = self.registry.by_source.get(command, ())
        if not specs:
            raise PayloadError(f"command {command!r} triggers no behavior flow")
        parsed = parse(payload)
        return Submission(command, tuple(self.work.run(spec, parsed) for spec in specs))

    def accept(self, command: str, payload: Any) -> str:
        """Check a command payload and store it durably for its flows to run later (by the
        dispatcher); returns the command's correlation id. Raises PayloadError (nothing
        stored) when the command is unknown or the payload does not fit it. The parsed
        command is stored, so defaults and auto-filled values are decided once."""
        parse = self.registry.commands.get(command)
        if parse is None:
            known = ", ".join(sorted(self.registry.commands)) or "none"
            raise PayloadError(f"unknown command {_shown(command)}; known commands: {known}")
        specs = self.registry.by_source.get(command, ())
        if not specs:
            raise PayloadError(f"command {command!r} triggers no behavior flow")
        data = _as_json(parse(payload))
        correlation = str(uuid.uuid4())
        self.store.enqueue(
            [
                NewDelivery(f"command:{correlation}", command, spec.flow, data, "", correlation)
                for spec in specs
            ],
            self.clock(),
        )
        return correlation

    def trace(self, correlation: str) -> list[Delivery]:
        """The flow runs a command accepted by `accept` caused so far, oldest first: all of
        them, unless there are TRACE_LIMIT or more."""
        return self.store.trace(correlation, TRACE_LIMIT)

    def submit_json(self, command: str, text: str | bytes) -> Submission:
        """`submit` for JSON text from a client: size, depth and number limits first."""
        return self.submit(command, decode_json(text, self.settings.max_payload_bytes))

    # -- reading -------------------------------------------------------------------------
    def aggregate(self, name: str) -> AggregateType[Any]:
        agg = self.registry.aggregate(name)
        if agg is None:
            known = ", ".join(sorted(self.registry.aggregates))
            raise PayloadError(f"unknown aggregate {_shown(name)}; known aggregates: {known}")
        return agg

    def show(self, aggregate: str, key: str) -> dict[str, Any] | None:
        """The current document of an instance, or None when the key is unknown."""
        agg = self.aggregate(aggregate)
        _check_key(key)
        return self.work.load(agg, key)

    def history(self, aggregate: str, key: str) -> list[StoredEvent] | None:
        """The stored events of an instance, oldest first; None when the key is unknown."""
        agg = self.aggregate(aggregate)
        _check_key(key)
        aggregate_id = self.store.resolve(agg.name, key)
        return None if aggregate_id is None else self.store.history(agg.name, aggregate_id)

    def seed(self, aggregate: str, key: str, state: dict[str, Any]) -> None:
        """Store `state` as version 0 of a new instance (the given state of a test)."""
        self.work.seed(self.aggregate(aggregate), key, state)

    # -- deliveries ----------------------------------------------------------------------
    def dispatch(self, limit: int = 100) -> DispatchReport:
        """Deliver every domain event that is due to the flows it triggers."""
        return self.dispatcher.run_once(limit)

    def follow(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Deliver as a worker until `stop` is set."""
        self.dispatcher.follow(stop, poll)

    def deliveries(
        self, statuses: Sequence[DeliveryStatus] = ("rejected", "dead"), limit: int = 1000
    ) -> list[Delivery]:
        return self.store.deliveries(statuses, limit)

    def dead_letters(self, limit: int = 1000) -> list[Delivery]:
        return self.store.deliveries(("dead",), limit)

    def redeliver(self, ids: Sequence[int] | None = None) -> list[int]:
        """Make dead (or rejected) deliveries pending again; all dead letters when `ids` is
        None. Returns the ids that will be delivered again."""
        return self.store.redeliver(ids, self.clock())

    # -- housekeeping --------------------------------------------------------------------
    def purge(self) -> dict[str, int]:
        """Apply event TTLs: delete events older than `event-ttl` seconds, but only those a
        snapshot already covers; also expired idempotency records and settled deliveries
        older than the retention. Returns rows deleted per aggregate (and "records")."""
        now = self.clock()
        deleted: dict[str, int] = {}
        for agg in self.registry.aggregates.values():
            if agg.event_ttl >= 0:
                deleted[agg.name] = self.store.purge(agg.name, now - agg.event_ttl, agg.fingerprint)
        retention = self.settings.delivery_retention_days * DAY
        deleted["records"] = self.store.purge_records(now, now - retention)
        return deleted

    def backup(self, target: BlobTarget, force: bool = False) -> dict[str, str]:
        """Back up every instance of each aggregate with backups enabled, unless its last
        backup is younger than the interval (or `force`); delete backups older than the
        retention. Returns aggregate -> name of the backup written, or why it was skipped."""
        now = self.clock()
        report: dict[str, str] = {}
        for name, agg in sorted(self.registry.aggregates.items()):
            if agg.backup_interval_days <= 0:
                continue
            existing = self._backups(target, name, now)
            times = [t for t in (taken_at(n) for n in existing) if t is not None]
            if times and not force and now - max(times) < agg.backup_interval_days * DAY:
                report[name] = "skipped: the last backup is younger than the interval"
            else:
                report[name] = self._write_backup(target, agg, now)
            if agg.backup_ttl_days > 0:
                for old in existing:
                    taken = taken_at(old)
                    if taken is not None and now - taken > agg.backup_ttl_days * DAY:
                        target.delete(old)
        return report

    def _write_backup(self, target: BlobTarget, agg: AggregateType[Any], now: float) -> str:
        rows = []
        for key, aggregate_id in self.store.keys(agg.name):
            document, version = self.work.current(agg, aggregate_id, key)
            rows.append(
                {
                    "key": key,
                    "version": version,
                    "fingerprint": agg.fingerprint,
                    "state": agg.document_to_dict(document),
                }
            )
        data = encode(rows)
        for step in range(1000):  # the next free microsecond: names never collide
            blob = blob_name(agg.name, now + step / 1_000_000)
            try:
                target.put(blob, data)
            except FileExistsError:
                continue
            return blob
        raise BackupError(f"no free backup name for {agg.name} near {blob_name(agg.name, now)}")

    def restore(
        self, target: BlobTarget, aggregate: str, blob: str | None = None
    ) -> tuple[int, int]:
        """Recreate instances from a backup (the latest when `blob` is None). The whole backup
        is read and checked first; then every instance is written in one transaction.
        Instances whose key exists are left alone. Returns (restored, skipped)."""
        agg = self.aggregate(aggregate)
        if blob is None:
            names = self._backups(target, agg.name, self.clock())
            if not names:
                raise BackupError(f"no backups of {agg.name} found")
            blob = names[-1]
        elif taken_at(blob) is None or blob.rpartition("/")[0] != agg.name:
            raise BackupError(
                f"{blob!r} is not a backup of {agg.name}: expected "
                f"{agg.name}/<YYYYmmddTHHMMSS.ffffffZ>.jsonl.gz under the target"
            )
        instances: list[tuple[str, Snapshot]] = []
        for row in decode(target.get(blob), blob):
            try:
                document = agg.document_from_dict(row.state)
                agg.set_key(document, row.key)
                state = agg.document_to_dict(document)
                problem = document_problem(agg, document)
            except Exception as exc:  # noqa: BLE001 - a state the document cannot hold
                problem = repr(exc)
            if problem:
                raise BackupError(
                    f"backup {blob} line {row.line}: the state does not fit {agg.name}: {problem}"
                )
            instances.append((row.key, Snapshot(row.version, agg.fingerprint, state)))
        restored = self.store.restore(agg.name, instances)
        return restored, len(instances) - restored

    @staticmethod
    def _backups(target: BlobTarget, aggregate: str, now: float) -> list[str]:
        """The backups of an aggregate, oldest first, without those dated in the future (a
        clock that ran ahead, or a planted file): they would stop every later backup and be
        restored instead of the real latest one."""
        names = []
        for name in target.names(aggregate):
            taken = taken_at(name)
            if taken is None:
                continue
            if taken > now + FUTURE_TOLERANCE:
                log.warning("ignoring backup %s: it is dated in the future", name)
                continue
            names.append(name)
        return names

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _check_key(key: str) -> None:
    problem = unicode_problem(key)
    if problem or not key:
        raise PayloadError(f"key {_shown(key)}: {problem or 'empty'}")


POSTGRES_SCHEMES = ("postgresql://", "postgres://")
TRACE_LIMIT = 10_000  # flow runs of one trace read at once


def open_store(settings: Settings) -> EventStore:
    """The store `<PREFIX>_DATABASE` names: a PostgreSQL URL, or else a SQLite file."""
    if settings.database.startswith(POSTGRES_SCHEMES):
        try:
            from .postgres import PostgresEventStore
        except ImportError as exc:
            raise ConfigError(
                f"a PostgreSQL database needs the postgres extra ({exc.name} is missing): "
                "pip install 'draftsman-runtime[postgres]'"
            ) from None
        return PostgresEventStore(settings.database)
    return SQLiteEventStore(settings.database, settings.synchronous, settings.busy_timeout)


def _as_json(command: Any) -> dict[str, Any]:
    """A parsed command (a generated dataclass, with ObjectList items as dataclasses) as the
    JSON object its `from_payload` reads back."""
    if dataclasses.is_dataclass(command) and not isinstance(command, type):
        return {f.name: _item_json(getattr(command, f.name)) for f in dataclasses.fields(command)}
    raise TypeError(f"a parsed command should be a dataclass, not {type(command).__name__}")


def _item_json(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_item_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _as_json(value)
    return value


def _shown(text: str) -> str:
    return repr(text.encode("utf-8", "backslashreplace").decode("utf-8"))
