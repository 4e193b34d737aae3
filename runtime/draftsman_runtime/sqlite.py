"""The embedded default event store: one SQLite file in WAL mode (or `:memory:` for tests).

An instance's head version is its newest event's (or, for an instance restored from a
backup and not written since, its snapshot's). Purge never deletes an instance's newest
event, so the head survives every purge without a table of heads that each commit would
have to write: that write would cost a fifth of a command's time.

The file is marked as ours (`PRAGMA application_id`) and carries its schema version
(`PRAGMA user_version`); a file of another application, of a newer runtime, or of the
runtime that draftsman-gen 0.1 generated into packages is refused with one clear sentence,
never written to. Every SQLite failure leaves this module as a `StoreError` that says what
is wrong with the file (damaged, read-only, locked, missing folder). All SQL is
parameterized; table names are constants.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType

from .errors import (
    ConcurrencyError,
    DamagedDataError,
    DuplicateError,
    KeyTakenError,
    StoreError,
)
from .rows import decode as _decode
from .rows import delivery as _delivery
from .rows import encode as _encode
from .rows import loaded as _loaded
from .rows import settled_row
from .store import (
    Commit,
    Delivery,
    DeliveryStatus,
    EventStore,
    Loaded,
    Lookup,
    NewDelivery,
    Settlement,
    Snapshot,
    StoredEvent,
)

APPLICATION_ID = 0x44524654  # "DRFT": this file is a draftsman store
SCHEMA_VERSION = 2
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
# Pages the write-ahead log grows by before SQLite copies them into the file (its default is
# 1,000). Busy pages (the newest events, idempotency records) are rewritten many times between
# two checkpoints and copied once: ten times the default made W1 12% faster. The log holds up
# to about 40 MB; a process that crashes loses nothing either way.
WAL_AUTOCHECKPOINT = 10_000

_SCHEMA = f"""
CREATE TABLE keychain (
    aggregate TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (aggregate, key)
) WITHOUT ROWID;
CREATE TABLE events (
    aggregate TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, recorded REAL NOT NULL,
    PRIMARY KEY (aggregate, id, version)
) WITHOUT ROWID;
CREATE TABLE snapshots (
    aggregate TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    fingerprint TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (aggregate, id)
) WITHOUT ROWID;
CREATE TABLE idempotency (
    flow TEXT NOT NULL, key TEXT NOT NULL, expires REAL,
    PRIMARY KEY (flow, key)
) WITHOUT ROWID;
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL, event_type TEXT NOT NULL, flow TEXT NOT NULL, data TEXT NOT NULL,
    origin TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, due REAL NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, reason TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
    UNIQUE (event_id, flow)
);
CREATE INDEX deliveries_pending ON deliveries (due, id) WHERE status = 'pending';
CREATE INDEX deliveries_status ON deliveries (status, id);
{{upgrade}}CREATE VIEW dead_letters AS
    SELECT id, event_id, event_type, flow, data, origin, attempts, reason, message, detail,
           updated AS parked
    FROM deliveries WHERE status = 'dead';
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""
# Schema 1 -> 2 (runtime 0.3): deliveries remember the command they descend from (its
# correlation id), the business key they ran on and the events they stored: the trace.
_UPGRADE_1_2 = """
ALTER TABLE deliveries ADD COLUMN correlation TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN emitted TEXT NOT NULL DEFAULT '[]';
CREATE INDEX deliveries_correlation ON deliveries (correlation, id) WHERE correlation != '';
"""
_SCHEMA = _SCHEMA.replace("{upgrade}", _UPGRADE_1_2.lstrip())

# The tables the runtime that draftsman-gen 0.1 copied into each package created.
_LEGACY_TABLES = {"keychain", "events", "snapshots", "idempotency", "deliveries", "outbox"}

# The head of an instance: its newest event's version, else its snapshot's (restored), else 0.
_HEAD = (
    "COALESCE((SELECT MAX(version) FROM events WHERE aggregate = {a} AND id = {i}), "
    "(SELECT version FROM snapshots WHERE aggregate = {a} AND id = {i}), 0)"
)

_SELECT_HEAD = "SELECT " + _HEAD.format(a="?", i="?")
_SELECT_NAMED = "SELECT 1 FROM keychain WHERE aggregate = ? AND key = ? AND id = ?"
_LOOKUP = (
    "SELECT k.id, EXISTS (SELECT 1 FROM idempotency WHERE flow = ? AND key = ? "
    "AND (expires IS NULL OR expires > ?)), " + _HEAD.format(a="k.aggregate", i="k.id") + " "
    "FROM (SELECT ? AS aggregate, ? AS key) AS wanted "
    "LEFT JOIN keychain AS k ON k.aggregate = wanted.aggregate AND k.key = wanted.key"
)
_LOAD_AFTER = (
    "SELECT version, type, data FROM events WHERE aggregate = ? AND id = ? AND version > ? "
    "ORDER BY version"
)
# A cold load is one statement, so snapshot and events come from one consistent view. Rows are
# tagged: 0 the snapshot, 1 an event. Since the newest event is never purged, the head is the
# last event read, or the snapshot's version when no event follows it.
_LOAD = (
    "SELECT 0, version, fingerprint, data FROM snapshots WHERE aggregate = ? AND id = ? "
    "UNION ALL "
    "SELECT 1, version, type, data FROM events WHERE aggregate = ? AND id = ? "
    "AND version > COALESCE((SELECT version FROM snapshots WHERE aggregate = ? "
    "AND id = ? AND fingerprint = ?), 0) ORDER BY 1, 2"
)

_DELIVERY_COLUMNS = (
    "id, event_id, event_type, flow, data, origin, status, attempts, due, created, updated, "
    "reason, message, detail, correlation, instance, emitted"
)

_MEMORY_TEMPLATE: list[sqlite3.Connection] = []  # an empty in-memory store to copy
_TEMPLATE_LOCK = threading.Lock()


def _script(db: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (executescript would commit the open transaction)."""
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _new_memory_database(db: sqlite3.Connection) -> None:
    """Give a new in-memory database the schema by copying a template: twenty times faster
    than running the schema script, which matters for test suites with thousands of stores."""
    with _TEMPLATE_LOCK:
        if not _MEMORY_TEMPLATE:
            template = sqlite3.connect(":memory:", check_same_thread=False)
            template.executescript(_SCHEMA)
            _MEMORY_TEMPLATE.append(template)
        _MEMORY_TEMPLATE[0].backup(db)


class _Guard:
    """The connection lock, which also turns SQLite's errors into StoreError on the way out.

    One object per store, entered around every statement sequence: a class with __enter__ and
    __exit__ costs less than a generator-based context manager on the hot path."""

    __slots__ = ("_lock", "_store")

    def __init__(self, store: SQLiteEventStore) -> None:
        self._lock = threading.RLock()
        self._store = store

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release()
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
            raise self._store.store_error(exc) from exc


class _Transaction:
    """What exclusive() returns: BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception),
    re-entrant within the thread that holds the connection lock. A class rather than a
    generator-based context manager because every command goes through it."""

    __slots__ = ("_depth", "_store")

    def __init__(self, store: SQLiteEventStore) -> None:
        self._store = store
        self._depth = 0

    def __enter__(self) -> None:
        store = self._store
        store._guard.__enter__()
        if self._depth:
            self._depth += 1
            return
        try:
            store._db.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            store._guard.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._depth = 1
        store._in_transaction = True

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store = self._store
        self._depth -= 1
        if self._depth:
            store._guard.__exit__(kind, exc, tb)
            return
        store._in_transaction = False
        store._heads.clear()
        try:
            if exc is not None:
                store._db.execute("ROLLBACK")
            else:
                self._commit(store._db)
        except sqlite3.Error as error:
            store._guard.__exit__(type(error), error, error.__traceback__)
            raise
        store._guard.__exit__(kind, exc, tb)

    @staticmethod
    def _commit(db: sqlite3.Connection) -> None:
        try:
            db.execute("COMMIT")
        except sqlite3.Error:
            if db.in_transaction:  # a failed COMMIT leaves it open
                db.execute("ROLLBACK")
            raise


class SQLiteEventStore(EventStore):
    """The store in one SQLite file (WAL, `synchronous=NORMAL` unless told otherwise).

    `busy_timeout` is how long a writer waits for another process's write lock before the
    store gives up with a StoreError.
    """

    def __init__(self, path: str, synchronous: str = "NORMAL", busy_timeout: float = 30.0) -> None:
        level = synchronous.upper()
        if level not in SYNCHRONOUS:
            raise StoreError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, not {level!r}")
        self.path = path
        self.busy_timeout = busy_timeout
        self._guard = _Guard(self)
        self._transaction = _Transaction(self)
        self._in_transaction = False  # inside exclusive(): statements join its transaction
        self._heads: dict[tuple[str, str], int] = {}  # read under the write lock, until COMMIT
        with self._guard:
            self._db = self._connect()
            try:
                self._configure(level)
            except BaseException:
                self._db.close()
                raise
        self._file_id = (0, 0)  # the file opened (device, inode): see health()
        if path != ":memory:":
            opened = os.stat(path)
            self._file_id = (opened.st_dev, opened.st_ino)

    # -- opening -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout
        )

    def _configure(self, level: str) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        if self.path == ":memory:":
            _new_memory_database(db)
            return
        state = (
            self._schema_state()
        )  # read before anything is written: a foreign file stays as it is
        if state not in ("current", "empty", "upgrade"):
            raise StoreError(state)
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {level}")
        db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
        if state == "current":
            return
        db.execute("BEGIN IMMEDIATE")  # another process may be creating it right now
        try:
            state = self._schema_state()
            if state == "empty":
                _script(db, _SCHEMA)
            elif state == "upgrade":  # in place, in one transaction: all or nothing
                _script(db, _UPGRADE_1_2 + f"PRAGMA user_version = {SCHEMA_VERSION};")
            elif state != "current":
                raise StoreError(state)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _schema_state(self) -> str:
        """'current', 'empty', or the reason this file is not ours to use."""
        db = self._db
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if app_id == APPLICATION_ID:
            if version == SCHEMA_VERSION:
                return "current"
            if version == 1:
                return "upgrade"
            return (
                f"{self.path} was written by a newer draftsman-runtime (store schema {version}; "
                f"this runtime reads schema {SCHEMA_VERSION}): upgrade draftsman-runtime"
            )
        if app_id == 0 and not tables:
            return "empty"
        if app_id == 0 and tables == _LEGACY_TABLES:
            return (
                f"{self.path} was written by the runtime that draftsman-gen 0.1 generated, whose "
                "layout this runtime does not read: move its instances with that service's "
                "`backup --force` and this service's `restore` (docs/runtime.md, Migrating)"
            )
        found = ", ".join(sorted(tables)[:5]) or f"application id {app_id:#x}"
        return f"{self.path} is not a draftsman event store (it holds {found}); refusing to use it"

    def store_error(self, exc: sqlite3.Error) -> StoreError:
        """One sentence about what is wrong with the file, from SQLite's error code."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        path = self.path
        if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or name.startswith("SQLITE_CORRUPT"):
            return StoreError(
                f"{path} is damaged or not a SQLite database ({exc}); restore it from a backup"
            )
        if name.startswith("SQLITE_READONLY"):
            return StoreError(
                f"{path} is read-only ({exc}): the service must be able to write the file "
                "and its folder"
            )
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreError(
                f"{path} is locked by another process; gave up after {self.busy_timeout:g} s"
            )
        if name.startswith("SQLITE_CANTOPEN"):
            return self._cannot_open(exc)
        if name == "SQLITE_FULL":
            return StoreError(f"cannot write {path}: the disk is full")
        return StoreError(f"{path}: {exc}")

    def _cannot_open(self, exc: sqlite3.Error) -> StoreError:
        path = self.path
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            return StoreError(f"cannot open {path}: the folder {folder} does not exist")
        if os.path.exists(path) and not (os.access(path, os.W_OK) and os.access(folder, os.W_OK)):
            return StoreError(
                f"{path} is read-only: the service must be able to write the file and its "
                "folder (SQLite keeps its write-ahead log beside the file)"
            )
        return StoreError(f"cannot open {path}: {exc}")

    # -- transactions ----------------------------------------------------------------------
    def exclusive(self) -> _Transaction:
        """Hold SQLite's write lock for a whole unit of work (load, run, commit), so that
        writers queue instead of conflicting. Reads by other connections go on (WAL)."""
        return self._transaction

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write that happens completely or not at all; inside exclusive() it joins that
        transaction (an exception leaves exclusive() too, which rolls everything back)."""
        with self.exclusive():
            yield self._db

    # -- instances -----------------------------------------------------------------------
    def lookup(
        self, aggregate: str, key: str, flow: str, idempotency_key: str | None, now: float
    ) -> Lookup:
        with self._guard:
            row = self._db.execute(
                _LOOKUP, (flow, idempotency_key or "", now, aggregate, key)
            ).fetchone()
            aggregate_id, head = row[0], row[2]
            if aggregate_id is not None and type(head) is not int:
                raise DamagedDataError(
                    f"{aggregate} {key!r}: the stored version {head!r} is not a number"
                )
            if aggregate_id is not None and self._in_transaction:
                # Under the write lock this head stays current until our commit.
                self._heads[(aggregate, aggregate_id)] = head
        processed = idempotency_key is not None and bool(row[1])
        return Lookup(aggregate_id, processed, None if aggregate_id is None else head)

    def _damaged(self, what: str, exc: Exception) -> DamagedDataError:
        return DamagedDataError(
            f"{self.path}: {what} cannot be read ({type(exc).__name__}: {exc}); "
            "restore the instance from a backup"
        )

    def resolve(self, aggregate: str, key: str) -> str | None:
        with self._guard:
            row = self._db.execute(
                "SELECT id FROM keychain WHERE aggregate = ? AND key = ?", (aggregate, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def load(
        self, aggregate: str, aggregate_id: str, fingerprint: str, after: int | None = None
    ) -> Loaded:
        with self._guard:
            if after is not None:
                rows = self._db.execute(_LOAD_AFTER, (aggregate, aggregate_id, after)).fetchall()
            else:
                rows = self._db.execute(
                    _LOAD, (aggregate, aggregate_id) * 3 + (fingerprint,)
                ).fetchall()
        try:
            return _loaded(rows, fingerprint, after)
        except (TypeError, ValueError, RecursionError) as exc:
            raise self._damaged(f"the events of {aggregate} {aggregate_id}", exc) from None

    def commit(self, commit: Commit) -> None:
        try:
            if self._in_transaction:  # the usual case: inside a unit of work
                with self._guard:
                    self._commit(self._db, commit)
            else:
                with self._write() as db:
                    self._commit(db, commit)
        except sqlite3.IntegrityError as exc:
            # A unique key another writer took between our read and this write.
            raise ConcurrencyError(str(exc)) from exc

    def _commit(self, db: sqlite3.Connection, commit: Commit) -> None:
        agg, agg_id, expected = commit.aggregate, commit.aggregate_id, commit.expected_version
        # Write only at the head: the optimistic concurrency check, and what keeps versions
        # unique after a purge deleted the events that once held them.
        current = self._heads.get((agg, agg_id)) if self._in_transaction else None
        if current is None:
            current = db.execute(_SELECT_HEAD, (agg, agg_id, agg, agg_id)).fetchone()[0]
        if current != expected:
            raise ConcurrencyError(f"{agg} {agg_id}: expected version {expected}, found {current}")
        checked = commit.checked_key
        named = checked is None or db.execute(_SELECT_NAMED, (agg, checked, agg_id)).fetchone()
        if not named:
            raise ConcurrencyError(f"{agg} {checked!r} no longer names {agg_id}")
        if commit.idempotency is not None:
            flow, key, expires = commit.idempotency
            # Insert, or take over a record that has expired; a live record is a duplicate.
            cursor = db.execute(
                "INSERT INTO idempotency (flow, key, expires) VALUES (?, ?, ?) "
                "ON CONFLICT (flow, key) DO UPDATE SET expires = excluded.expires "
                "WHERE idempotency.expires <= ?",
                (flow, key, expires, commit.recorded),
            )
            if cursor.rowcount == 0:
                raise DuplicateError(f"{flow}: {key} was already processed")
        for key in commit.remove_keys:
            db.execute("DELETE FROM keychain WHERE aggregate = ? AND key = ?", (agg, key))
        for key in commit.add_keys:
            try:
                db.execute(
                    "INSERT INTO keychain (aggregate, key, id) VALUES (?, ?, ?)", (agg, key, agg_id)
                )
            except sqlite3.IntegrityError as exc:
                raise KeyTakenError(f"{agg} {key!r} already exists") from exc
        rows = [
            (agg, agg_id, expected + n, event_id, type_, _encode(data), commit.recorded)
            for n, (event_id, type_, data) in enumerate(commit.events, start=1)
        ]
        insert = (
            "INSERT INTO events (aggregate, id, version, event_id, type, data, recorded) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        if len(rows) == 1:
            db.execute(insert, rows[0])
        elif rows:
            db.executemany(insert, rows)
        if commit.deliveries:
            self._insert_deliveries(db, commit.deliveries, commit.recorded)
        if commit.snapshot is not None:
            snapshot = commit.snapshot
            db.execute(
                "INSERT OR REPLACE INTO snapshots (aggregate, id, version, fingerprint, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (agg, agg_id, snapshot.version, snapshot.fingerprint, _encode(snapshot.data)),
            )

    @staticmethod
    def _insert_deliveries(
        db: sqlite3.Connection, deliveries: Sequence[NewDelivery], now: float
    ) -> None:
        db.executemany(
            "INSERT INTO deliveries (event_id, event_type, flow, data, origin, status, attempts, "
            "due, created, updated, correlation) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?) "
            "ON CONFLICT (event_id, flow) DO NOTHING",
            [
                (
                    d.event_id,
                    d.event_type,
                    d.flow,
                    _encode(d.data),
                    d.origin,
                    now,
                    now,
                    now,
                    d.correlation,
                )
                for d in deliveries
            ],
        )

    def history(self, aggregate: str, aggregate_id: str) -> list[StoredEvent]:
        with self._guard:
            rows = self._db.execute(
                "SELECT event_id, type, data, version, recorded FROM events "
                "WHERE aggregate = ? AND id = ? ORDER BY version",
                (aggregate, aggregate_id),
            ).fetchall()
        try:
            return [StoredEvent(r[0], r[1], _decode(r[2]), r[3], r[4]) for r in rows]
        except (TypeError, ValueError, RecursionError) as exc:
            raise self._damaged(f"the events of {aggregate} {aggregate_id}", exc) from None

    def keys(self, aggregate: str) -> list[tuple[str, str]]:
        with self._guard:
            rows = self._db.execute(
                "SELECT key, id FROM keychain WHERE aggregate = ? ORDER BY key", (aggregate,)
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    # -- deliveries ----------------------------------------------------------------------
    def enqueue(self, deliveries: Sequence[NewDelivery], now: float) -> None:
        with self._write() as db:
            self._insert_deliveries(db, deliveries, now)
            # A command is acknowledged once this returns: the file it went to must still be
            # the store's (not deleted or replaced under the running service).
            moved = self._moved()
            if moved:
                raise StoreError(moved)

    def due(self, now: float, limit: int, after: int = 0) -> list[Delivery]:
        with self._guard:
            rows = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries "
                "WHERE status = 'pending' AND due <= ? AND id > ? ORDER BY id LIMIT ?",
                (now, after, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]

    def claim(self, delivery_id: int, now: float) -> Delivery | None:
        # Inside exclusive() the write lock is ours: nobody can settle it before we commit.
        with self._guard:
            row = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries "
                "WHERE id = ? AND status = 'pending' AND due <= ?",
                (delivery_id, now),
            ).fetchone()
        return None if row is None else _delivery(row)

    def settle(self, delivery_id: int, settlement: Settlement, now: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, due = ?, updated = ?, "
                "reason = ?, message = ?, detail = ?, instance = ?, emitted = ? WHERE id = ?",
                settled_row(settlement, now, delivery_id),
            )

    def deliveries(
        self, statuses: Sequence[DeliveryStatus], limit: int, after: int = 0
    ) -> list[Delivery]:
        marks = ", ".join("?" for _ in statuses)
        with self._guard:
            rows = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries "
                f"WHERE status IN ({marks}) AND id > ? ORDER BY id LIMIT ?",
                (*statuses, after, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]

    def redeliver(self, ids: Sequence[int] | None, now: float) -> list[int]:
        with self._write() as db:
            if ids is None:
                rows = db.execute(
                    "UPDATE deliveries SET status = 'pending', attempts = 0, due = ?, updated = ?, "
                    "reason = '', message = '', detail = '' WHERE status = 'dead' RETURNING id",
                    (now, now),
                ).fetchall()
            else:
                rows = [
                    row
                    for i in ids
                    for row in db.execute(
                        "UPDATE deliveries SET status = 'pending', attempts = 0, due = ?, "
                        "updated = ?, reason = '', message = '', detail = '' "
                        "WHERE id = ? AND status IN ('dead', 'rejected') RETURNING id",
                        (now, now, i),
                    ).fetchall()
                ]
        return sorted(int(r[0]) for r in rows)

    def trace(self, correlation: str, limit: int = 1000) -> list[Delivery]:
        with self._guard:
            rows = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE correlation = ? "
                "AND correlation != '' ORDER BY id LIMIT ?",
                (correlation, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]

    def next_due(self) -> float | None:
        with self._guard:
            row = self._db.execute(
                "SELECT MIN(due) FROM deliveries WHERE status = 'pending'"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    # -- housekeeping --------------------------------------------------------------------
    def purge(self, aggregate: str, recorded_before: float, fingerprint: str) -> int:
        with self._write() as db:
            # The newest event of an instance stays, however old: it holds the head version.
            cursor = db.execute(
                "DELETE FROM events WHERE aggregate = ? AND recorded < ? AND version <= "
                "(SELECT s.version FROM snapshots AS s WHERE s.aggregate = events.aggregate "
                "AND s.id = events.id AND s.fingerprint = ?) AND version < "
                "(SELECT MAX(e.version) FROM events AS e WHERE e.aggregate = events.aggregate "
                "AND e.id = events.id)",
                (aggregate, recorded_before, fingerprint),
            )
            return cursor.rowcount

    def purge_records(self, now: float, settled_before: float) -> int:
        with self._write() as db:
            expired = db.execute("DELETE FROM idempotency WHERE expires <= ?", (now,)).rowcount
            settled = db.execute(
                "DELETE FROM deliveries WHERE status IN ('done', 'rejected') AND updated < ?",
                (settled_before,),
            ).rowcount
            return expired + settled

    def restore(self, aggregate: str, instances: Sequence[tuple[str, Snapshot]]) -> int:
        created = 0
        with self._write() as db:
            for key, snapshot in instances:
                if db.execute(
                    "SELECT 1 FROM keychain WHERE aggregate = ? AND key = ?", (aggregate, key)
                ).fetchone():
                    continue
                aggregate_id = uuid.uuid4().hex
                db.execute(
                    "INSERT INTO keychain (aggregate, key, id) VALUES (?, ?, ?)",
                    (aggregate, key, aggregate_id),
                )
                db.execute(
                    "INSERT INTO snapshots (aggregate, id, version, fingerprint, data) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        aggregate,
                        aggregate_id,
                        snapshot.version,
                        snapshot.fingerprint,
                        _encode(snapshot.data),
                    ),
                )
                created += 1
        return created

    def health(self) -> str:
        """Also notices the file being deleted or replaced under a running service: SQLite
        would go on writing to the unlinked file, and everything written would be lost."""
        return super().health() or self._moved()

    def _moved(self) -> str:
        if self.path == ":memory:":
            return ""
        try:
            now = os.stat(self.path)
        except OSError as exc:
            return f"{self.path} is gone ({exc.strerror}); restart the service"
        if (now.st_dev, now.st_ino) != self._file_id:
            return f"{self.path} was replaced by another file; restart the service"
        return ""

    def close(self) -> None:
        with self._guard:
            self._db.close()
