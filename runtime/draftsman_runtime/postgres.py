"""The PostgreSQL event store: the same semantics as the SQLite store, for several processes.

Writers do not queue behind a global lock. A commit is one statement that checks the stream's
head and writes only when it is the expected version, and the primary key (aggregate, id,
version) of the events makes two writers at the same head collide: the second one gets a
`ConcurrencyError` and the unit of work runs again. Inside exclusive(), `lookup` first takes
an advisory lock on the instance (`lock_instances`), so units of work on one instance queue
instead of colliding; units of work on different instances never wait for each other. A
delivery is claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, so of several dispatchers
exactly one runs it.

Round trips are what a command costs here, so the store spends as few as it can:
- `lookup` and `load` are one statement each (like the SQLite store's);
- `commit` is one statement (data-modifying CTEs): the head check, the idempotency record,
  the keychain, the events, the deliveries and the snapshot. Each write is guarded by the head
  check (and by the idempotency record), so a conflict or a duplicate writes nothing at all;
- the connection is in autocommit mode. `exclusive()` sends BEGIN only before its first write
  (or claim): reads before it are the same under READ COMMITTED inside a transaction or not,
  since each statement sees what was committed when it started. A unit of work is then
  BEGIN with the instance lock, lookup, load (skipped when the document is cached), commit,
  COMMIT;
- psycopg prepares a statement after it has run a few times.

Event data, snapshots and deliveries are JSON in `text` columns, not `jsonb`: `load` returns
the text as stored, and Python decodes it once, which is about twice as fast as reading
`jsonb` (the server renders it back to text, then psycopg decodes it). `jsonb` would also
change the documents: it reorders keys, and turns a float such as 1e300 into an integer. The
store never queries inside the JSON. Key columns use the "C" collation: byte order, as in
SQLite, whatever the database's locale, and cheaper comparisons in every index.

The schema is created (or migrated) on start under `pg_advisory_xact_lock`, so several
processes may start at once. Its version is in the table `draftsman_schema`. A schema that
holds relations under our names that are not ours, or a newer store schema, is refused with
one sentence and never written to. Every psycopg failure leaves this module as a
`StoreError` sentence that never shows the password. All SQL is parameterized; table names
are constants.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import threading
import uuid
import zlib
from collections.abc import Sequence
from functools import lru_cache
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .errors import ConcurrencyError, DamagedDataError, DuplicateError, KeyTakenError, StoreError
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

SCHEMA_VERSION = 2
STORE_MARK = "draftsman event store"  # the row in draftsman_schema that says the schema is ours
_LOCK_CLASS = 0x44524654  # "DRFT": the advisory lock's first key; the second is the schema's

_TABLES = """
CREATE TABLE keychain (
    aggregate TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    CONSTRAINT keychain_pkey PRIMARY KEY (aggregate, key)
);
{heads}
CREATE TABLE events (
    aggregate TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL,
    event_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    recorded DOUBLE PRECISION NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (aggregate, id, version)
);
CREATE TABLE snapshots (
    aggregate TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL,
    fingerprint TEXT NOT NULL, data TEXT NOT NULL,
    CONSTRAINT snapshots_pkey PRIMARY KEY (aggregate, id)
);
CREATE TABLE idempotency (
    flow TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, expires DOUBLE PRECISION,
    CONSTRAINT idempotency_pkey PRIMARY KEY (flow, key)
);
CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    event_id TEXT COLLATE "C" NOT NULL, event_type TEXT NOT NULL, flow TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL, origin TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
    due DOUBLE PRECISION NOT NULL, created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
    correlation TEXT COLLATE "C" NOT NULL DEFAULT '', instance TEXT NOT NULL DEFAULT '',
    emitted TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT deliveries_pkey PRIMARY KEY (id),
    CONSTRAINT deliveries_event_flow UNIQUE (event_id, flow)
);
CREATE INDEX deliveries_pending ON deliveries (due, id) WHERE status = 'pending';
CREATE INDEX deliveries_status ON deliveries (status, id);
CREATE INDEX deliveries_correlation ON deliveries (correlation, id) WHERE correlation <> '';
CREATE VIEW dead_letters AS
    SELECT id, event_id, event_type, flow, data, origin, attempts, reason, message, detail,
           updated AS parked
    FROM deliveries WHERE status = 'dead';
CREATE TABLE draftsman_schema (
    store TEXT NOT NULL, version INTEGER NOT NULL,
    CONSTRAINT draftsman_schema_pkey PRIMARY KEY (store)
)
"""
# One row per instance: its head version. Every commit moves it with a compare-and-set
# (UPDATE ... WHERE version = expected), which PostgreSQL checks against the row as the last
# writer left it, whatever the statement's snapshot: the commit's guarantee does not depend on
# when its snapshot was taken (see _commit_statement). A head is never negative: the commit's
# way to abort itself is a row that breaks that check.
_HEADS = """CREATE TABLE heads (
    aggregate TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL,
    CONSTRAINT heads_pkey PRIMARY KEY (aggregate, id),
    CONSTRAINT heads_version CHECK (version >= 0)
);"""
_TABLES = _TABLES.replace("{heads}", _HEADS)
# The commit reads the head from its row (one index lookup); 0 for a new instance.
_HEAD_ROW = (
    "h AS (SELECT COALESCE((SELECT version FROM heads WHERE aggregate = %(a)s "
    "AND id = %(i)s), 0) AS v)"
)
# version -> the statements that turn a store of that version into the next one, in place.
_MIGRATIONS: dict[int, str] = {
    # SHARE mode waits for commits in flight and holds off new ones until the heads are in.
    1: "LOCK TABLE events, snapshots IN SHARE MODE;\n"
    + _HEADS
    + """
INSERT INTO heads (aggregate, id, version)
    SELECT aggregate, id, MAX(version) FROM (
        SELECT aggregate, id, version FROM events
        UNION ALL SELECT aggregate, id, version FROM snapshots
    ) AS versions GROUP BY aggregate, id""",
}

# Every relation the schema creates: one of these names held by anything not ours is refused.
_RELATIONS = (
    "draftsman_schema",
    "draftsman_schema_pkey",
    "keychain",
    "keychain_pkey",
    "heads",
    "heads_pkey",
    "events",
    "events_pkey",
    "snapshots",
    "snapshots_pkey",
    "idempotency",
    "idempotency_pkey",
    "deliveries",
    "deliveries_id_seq",
    "deliveries_pkey",
    "deliveries_event_flow",
    "deliveries_pending",
    "deliveries_status",
    "deliveries_correlation",
    "dead_letters",
)
_STORE_TABLES = ("keychain", "events", "snapshots", "idempotency", "deliveries")

# The head of an instance: its newest event's version, else its snapshot's (restored), else 0.
# The newest event is never purged, so the head never goes down.
_HEAD = (
    "COALESCE((SELECT MAX(version) FROM events WHERE aggregate = {a} AND id = {i}), "
    "(SELECT version FROM snapshots WHERE aggregate = {a} AND id = {i}), 0)"
)
_LOOKUP = (
    "SELECT k.id, EXISTS (SELECT FROM idempotency WHERE flow = %s AND key = %s "
    "AND (expires IS NULL OR expires > %s::float8)), "
    + _HEAD.format(a="k.aggregate", i="k.id")
    + " FROM (SELECT %s::text AS aggregate, %s::text AS key) AS wanted "
    "LEFT JOIN keychain AS k ON k.aggregate = wanted.aggregate AND k.key = wanted.key"
)
_LOAD = (
    "SELECT 0, version, fingerprint, data FROM snapshots WHERE aggregate = %(a)s AND id = %(i)s "
    "UNION ALL "
    "SELECT 1, version, type, data FROM events WHERE aggregate = %(a)s AND id = %(i)s "
    "AND version > COALESCE((SELECT version FROM snapshots WHERE aggregate = %(a)s "
    "AND id = %(i)s AND fingerprint = %(f)s), 0) ORDER BY 1, 2"
)
_LOAD_AFTER = (
    "SELECT version, type, data FROM events WHERE aggregate = %s AND id = %s "
    "AND version > %s::int8 ORDER BY version"
)
_DELIVERY_COLUMNS = (
    "id, event_id, event_type, flow, data, origin, status, attempts, due, created, updated, "
    "reason, message, detail, correlation, instance, emitted"
)
_INSERT_DELIVERIES = (
    "INSERT INTO deliveries (event_id, event_type, flow, data, origin, status, attempts, due, "
    "created, updated, correlation) "
    "SELECT x.e, x.t, x.f, x.d, x.o, 'pending', 0, %(now)s::float8, %(now)s::float8, "
    "%(now)s::float8, x.c FROM unnest(%(d_e)s::text[], %(d_t)s::text[], %(d_f)s::text[], "
    "%(d_d)s::text[], %(d_o)s::text[], %(d_c)s::text[]) WITH ORDINALITY AS x(e, t, f, d, o, c, n) "
    "{guard}ORDER BY x.n ON CONFLICT (event_id, flow) DO NOTHING"
)
_INSERT_DELIVERY = (  # one: plain parameters
    "INSERT INTO deliveries (event_id, event_type, flow, data, origin, status, attempts, due, "
    "created, updated, correlation) "
    "SELECT %(d_e)s, %(d_t)s, %(d_f)s, %(d_d)s, %(d_o)s, 'pending', 0, %(now)s::float8, "
    "%(now)s::float8, %(now)s::float8, %(d_c)s {guard}ON CONFLICT (event_id, flow) DO NOTHING"
)
_RESTORE = (
    "WITH wanted AS (SELECT * FROM unnest(%(keys)s::text[], %(ids)s::text[], %(versions)s::int8[], "
    "%(fingerprints)s::text[], %(datas)s::text[]) WITH ORDINALITY "
    "AS w(key, id, version, fingerprint, data, n)), "
    "k AS (INSERT INTO keychain (aggregate, key, id) SELECT %(a)s, key, id FROM wanted "
    "ORDER BY n ON CONFLICT (aggregate, key) DO NOTHING RETURNING id), "
    "h AS (INSERT INTO heads (aggregate, id, version) SELECT %(a)s, w.id, w.version "
    "FROM wanted AS w JOIN k ON k.id = w.id ON CONFLICT (aggregate, id) "
    "DO UPDATE SET version = GREATEST(heads.version, excluded.version)) "
    "INSERT INTO snapshots (aggregate, id, version, fingerprint, data) "
    "SELECT %(a)s, w.id, w.version, w.fingerprint, w.data FROM wanted AS w JOIN k ON k.id = w.id"
)

_BEGIN = b"BEGIN ISOLATION LEVEL READ COMMITTED"
_LOST_STATES = ("57P01", "57P02", "57P03")  # admin shutdown, crash shutdown, cannot connect now
_RETRY_STATES = ("40001", "40P01")  # serialization failure, deadlock: run the unit of work again


def _many(count: int) -> int:
    """A part's shape: 0 (absent), 1 (one row: plain parameters) or 2 (arrays, unnested).
    One row is the usual case, and a list parameter costs psycopg several times a string's."""
    return min(2, count)


@lru_cache(maxsize=256)
def _commit_statement(
    idempotency: bool,
    remove: int,
    add: int,
    events: int,
    deliveries: int,
    snapshot: bool,
    checked: bool,
    lock: bool,
    new_instance: bool,
) -> str:
    """The one statement of a commit with these parts (see `_many`; each shape is prepared).

    From the statement's snapshot, `h` reads the head, `n` (with a checked key) whether the
    keychain still maps that key to this instance, and the idempotency record is looked at:
    `seen` says the commit may go ahead as far as that snapshot knows. Then `u` moves the head
    row from the expected version to the new one (or `c` creates it for a new instance), a
    compare-and-set that PostgreSQL checks against the row as the last writer left it, after
    waiting for a writer still at work: whatever the snapshot's age (it may predate the
    instance's advisory lock, `l`, taken in this statement), two commits at one head never
    both pass. Every write is guarded by `ok`: the head moved, and the idempotency record was
    written (`i`). A commit that `seen` let through but that cannot write (another writer moved
    the head, or took the idempotency key, after the snapshot) aborts the whole statement: `x`
    writes a head row of -1, which breaks `heads_version` (ConcurrencyError; the unit of work
    runs again and sees why). Keys or versions another writer holds are unique violations that
    fail the statement too. It answers the snapshot's head, whether it wrote, and whether the
    key still names the instance."""
    head = "(SELECT v FROM h)"
    parts = [_HEAD_ROW]
    seen = f"{head} = %(expected)s::int8"
    named = "TRUE"
    if checked:
        parts.append(
            "n AS (SELECT EXISTS (SELECT FROM keychain WHERE aggregate = %(a)s "
            "AND key = %(checked)s AND id = %(i)s) AS v)"
        )
        named = "(SELECT v FROM n)"
        seen += f" AND {named}"
    if idempotency:
        seen += (
            " AND NOT EXISTS (SELECT FROM idempotency WHERE flow = %(flow)s AND key = %(ikey)s "
            "AND (expires IS NULL OR expires > %(recorded)s::float8))"
        )
    source = ""
    if lock:  # the advisory lock, before the head row is compared
        parts.append("l AS (SELECT pg_advisory_xact_lock(%(lock)s::int8))")
        source = " FROM l"
    parts.append(
        f"u AS (UPDATE heads SET version = %(new)s::int8{source} WHERE aggregate = %(a)s "
        f"AND id = %(i)s AND version = %(expected)s::int8 AND {seen} RETURNING 1)"
    )
    ok = "EXISTS (SELECT FROM u)"
    if new_instance:  # expected version 0: the head row may not exist yet
        parts.append(
            "c AS (INSERT INTO heads (aggregate, id, version) SELECT %(a)s, %(i)s, "
            f"%(new)s::int8 WHERE {seen} ON CONFLICT (aggregate, id) DO NOTHING RETURNING 1)"
        )
        ok = "(EXISTS (SELECT FROM u) OR EXISTS (SELECT FROM c))"
    if idempotency:
        parts.append(
            "i AS (INSERT INTO idempotency (flow, key, expires) "
            f"SELECT %(flow)s, %(ikey)s, %(expires)s::float8 WHERE {ok} "
            "ON CONFLICT (flow, key) DO UPDATE SET expires = excluded.expires "
            "WHERE idempotency.expires <= %(recorded)s::float8 RETURNING 1)"
        )
        ok += " AND EXISTS (SELECT FROM i)"
    parts.append(
        f"x AS (INSERT INTO heads (aggregate, id, version) SELECT %(a)s, %(i)s, -1 "
        f"WHERE {seen} AND NOT ({ok}))"
    )
    if remove:
        keys = "key = %(remove)s" if remove == 1 else "key = ANY(%(remove)s::text[])"
        parts.append(
            f"r AS (DELETE FROM keychain WHERE aggregate = %(a)s AND {keys} AND {ok} RETURNING 1)"
        )
    if add:
        after = " AND (SELECT count(*) FROM r) >= 0" if remove else ""  # removes come first
        rows = (
            f"SELECT %(a)s, %(add)s, %(i)s WHERE {ok}{after}"
            if add == 1
            else "SELECT %(a)s, x.key, %(i)s FROM unnest(%(add)s::text[]) WITH ORDINALITY "
            f"AS x(key, n) WHERE {ok}{after} ORDER BY x.n"
        )
        parts.append(f"k AS (INSERT INTO keychain (aggregate, key, id) {rows})")
    if events:
        rows = (
            "SELECT %(a)s, %(i)s, %(expected)s::int8 + 1, %(e_i)s, %(e_t)s, %(e_d)s, "
            f"%(recorded)s::float8 WHERE {ok}"
            if events == 1
            else "SELECT %(a)s, %(i)s, %(expected)s::int8 + x.n, x.e, x.t, x.d, "
            "%(recorded)s::float8 FROM unnest(%(e_i)s::text[], %(e_t)s::text[], "
            f"%(e_d)s::text[]) WITH ORDINALITY AS x(e, t, d, n) WHERE {ok}"
        )
        parts.append(
            "e AS (INSERT INTO events (aggregate, id, version, event_id, type, data, recorded) "
            f"{rows})"
        )
    if deliveries:
        statement = _INSERT_DELIVERY if deliveries == 1 else _INSERT_DELIVERIES
        parts.append(
            "d AS ("
            + statement.replace("%(now)s", "%(recorded)s").format(guard=f"WHERE {ok} ")
            + ")"
        )
    if snapshot:
        parts.append(
            "s AS (INSERT INTO snapshots (aggregate, id, version, fingerprint, data) "
            f"SELECT %(a)s, %(i)s, %(s_v)s::int8, %(s_f)s, %(s_d)s WHERE {ok} "
            "ON CONFLICT (aggregate, id) DO UPDATE SET version = excluded.version, "
            "fingerprint = excluded.fingerprint, data = excluded.data)"
        )
    written = "EXISTS (SELECT FROM i)" if idempotency else "TRUE"
    return "WITH " + ", ".join(parts) + f" SELECT {head}, {written}, {named}"


class _Guard:
    """The connection lock, which also (re)connects when the connection is gone and no
    transaction is open, and turns psycopg's errors into StoreError on the way out."""

    __slots__ = ("_store",)

    def __init__(self, store: PostgresEventStore) -> None:
        self._store = store

    def __enter__(self) -> psycopg.Cursor[Any]:
        store = self._store
        store._lock.acquire()
        try:
            return store._cursor()
        except BaseException:
            store._lock.release()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store = self._store
        try:
            if isinstance(exc, psycopg.Error):
                raise store._error(exc) from exc
        finally:
            store._lock.release()


class _Transaction:
    """What exclusive() returns: one transaction on this store's connection, re-entrant within
    the thread that holds the connection lock. BEGIN waits for the first write (see the module
    docstring); an exception rolls everything back. A class rather than a generator-based
    context manager because every command goes through it."""

    __slots__ = ("_depth", "_store")

    def __init__(self, store: PostgresEventStore) -> None:
        self._store = store
        self._depth = 0

    @property
    def outermost(self) -> bool:
        """Not inside another exclusive(): a commit may be the whole transaction."""
        return self._depth == 1

    def __enter__(self) -> None:
        store = self._store
        store._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            store._in_exclusive = True

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        store = self._store
        self._depth -= 1
        try:
            if self._depth == 0:
                store._in_exclusive = False
                broken, store._broken = store._broken, ""
                if store._begun:
                    store._begun = False
                    store._end(exc is None)
                elif broken and exc is None:  # the error was raised, and swallowed
                    raise StoreError(broken)
        finally:
            store._lock.release()


class PostgresEventStore(EventStore):
    """The store in a PostgreSQL database (one connection; `exclusive()` is a transaction).

    `url` is a libpq connection string or URI (postgresql://user:password@host:port/db).
    `schema` is the PostgreSQL schema that holds the tables (created when missing); by default
    the connection's current schema, usually `public`. `connect_timeout` is in seconds.

    `lock_instances`: inside exclusive(), `lookup` first takes a transaction-scoped advisory
    lock on the (aggregate, business key), so units of work on one instance queue, as behind
    SQLite's write lock, instead of all but one failing at commit and running again (which,
    four times in a row on a busy instance, ends in a `conflict` rejection). It also makes a
    second concurrent create of one key see `already-exists`, not `key-taken`. It costs no round
    trip (it travels with the BEGIN). The versions stay the guarantee: a writer without the
    lock is still refused at commit.
    """

    def __init__(
        self,
        url: str,
        schema: str | None = None,
        connect_timeout: float = 10.0,
        lock_instances: bool = True,
    ) -> None:
        self.lock_instances = lock_instances
        self._secrets = _secrets(url)
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise StoreError(
                f"the database URL is not valid: {self._scrub(_first_line(exc))}"
            ) from None
        self.url = _redact(url)  # for people: never the password
        self._url = url
        self.host = str(params.get("host") or os.environ.get("PGHOST") or "localhost")
        self.port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
        self.user = str(params.get("user") or os.environ.get("PGUSER") or _os_user())
        self.database = str(params.get("dbname") or os.environ.get("PGDATABASE") or self.user)
        self.where = f"{self.host}:{self.port}"
        self._options: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in params:
            self._options["connect_timeout"] = max(2, round(connect_timeout))
        if "application_name" not in params:
            self._options["application_name"] = "draftsman-runtime"
        self.schema = schema or ""  # resolved on connecting when not given
        self._lock = threading.RLock()
        self._guard = _Guard(self)
        self._transaction = _Transaction(self)
        self._in_exclusive = False  # inside exclusive(): writes join its transaction
        self._begun = False  # exclusive()'s BEGIN has been sent
        self._broken = ""  # why exclusive()'s transaction died with its connection, if it did
        self._closed = False
        self._conn: psycopg.Connection[Any] | None = None
        self._cur: psycopg.Cursor[Any] | None = None
        with self._lock:
            self._connect()
            try:
                self._prepare_schema(schema)
            except BaseException:
                self._drop_connection()
                raise

    # -- connecting ----------------------------------------------------------------------
    def _connect(self) -> psycopg.Cursor[Any]:
        try:
            conn = psycopg.connect(self._url, **self._options)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from None
        self._conn = conn
        self._cur = cur = conn.cursor()
        if self.schema:  # every statement names tables without a schema: they must be ours
            try:
                cur.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)),
                    prepare=False,
                )
            except psycopg.Error as exc:
                error = self._error(exc)
                self._drop_connection()
                raise error from None
        return cur

    def _cursor(self) -> psycopg.Cursor[Any]:
        """The cursor to run statements with; a lost connection is made again, unless a
        transaction was open on it (that transaction is gone: the caller must know)."""
        cur = self._cur
        if cur is not None and not cur.closed and self._conn is not None and not self._conn.closed:
            return cur
        if self._closed:
            raise StoreError(f"the store at {self.where} is closed")
        if self._broken:  # nothing more of this unit of work: it is gone
            raise StoreError(self._broken)
        if self._begun:
            self._begun = False  # the transaction died with the connection
            self._broken = f"lost the connection to {self.where}: this unit of work was rolled back"
            self._drop_connection()
            raise StoreError(self._broken)
        self._drop_connection()
        return self._connect()

    def _drop_connection(self) -> None:
        conn, self._conn, self._cur = self._conn, None, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass

    def _connect_error(self, exc: psycopg.Error) -> StoreError:
        message = str(exc)
        lowered = message.lower()
        reason = self._scrub(_reason(message))
        where = f"cannot connect to {self.where}"
        if "password authentication failed" in lowered or "no password supplied" in lowered:
            return StoreError(
                f"{where} as {self.user}: password authentication failed (check the user and "
                "the password of the database URL)"
            )
        if re.search(r'database "[^"]*" does not exist', message):
            return StoreError(
                f"{where}: the database {self.database} does not exist (create it, or fix the "
                "database URL)"
            )
        if re.search(r'role "[^"]*" does not exist', message):
            return StoreError(f"{where}: the user {self.user} does not exist")
        if "connection refused" in lowered:
            return StoreError(
                f"{where}: connection refused (is PostgreSQL running there and accepting "
                "TCP/IP connections?)"
            )
        if "timeout expired" in lowered or isinstance(exc, pg_errors.ConnectionTimeout):
            return StoreError(f"{where}: no answer within {self._options.get('connect_timeout')} s")
        if isinstance(exc, psycopg.ProgrammingError):  # libpq refused the connection string
            return StoreError(f"the database URL is not valid: {reason}")
        return StoreError(f"{where}: {reason}")

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                if len(secret) < 4:  # replacing it would maul the sentence: withhold it
                    return "(the details would show the password)"
                text = text.replace(secret, "***")
        return text

    def _error(self, exc: psycopg.Error) -> Exception:
        """One sentence for a failed statement; a conflict to retry is a ConcurrencyError."""
        state = exc.sqlstate or ""
        if state in _RETRY_STATES:
            return ConcurrencyError(f"{self.where}: {_first_line(exc)}")
        reason = self._scrub(_reason(str(exc)))
        conn = self._conn
        if state in _LOST_STATES or conn is None or conn.closed or state.startswith("08"):
            # (A lost connection leaves psycopg's connection closed.)
            message = f"lost the connection to {self.where} ({reason})"
            if self._begun:  # the rest of the unit of work must not run without it
                self._begun = False
                message += ": this unit of work was rolled back"
                self._broken = message
            self._drop_connection()
            return StoreError(message)
        if isinstance(exc, psycopg.DataError) and "NUL" in str(exc):
            return StoreError(f"{self.where}: PostgreSQL cannot store text that contains NUL")
        if state == "42501":
            return StoreError(
                f"{self.where}: {reason} (the user {self.user} needs the privileges to read and "
                f"write the tables of schema {self.schema})"
            )
        if state == "53100":
            return StoreError(f"cannot write to {self.where}: the database server's disk is full")
        if state == "25006":
            return StoreError(f"{self.where} is read-only ({reason})")
        if state == "25P02":
            return StoreError(
                f"{self.where}: the transaction was aborted by an earlier error and is rolled back"
            )
        return StoreError(f"{self.where}: {reason}")

    # -- schema ----------------------------------------------------------------------------
    def _prepare_schema(self, schema: str | None) -> None:
        cur = self._cur
        assert cur is not None
        try:
            if not schema:
                current = cur.execute("SELECT current_schema()").fetchone()
                if current is None or current[0] is None:
                    raise StoreError(
                        f"{self.where}: the search_path of {self.user} names no schema that "
                        "exists; name one (schema=...)"
                    )
                self.schema = str(current[0])
                cur.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)),
                    prepare=False,
                )
            state = self._schema_state(cur)  # read before anything is written
            if state not in ("current", "empty", "upgrade"):
                raise StoreError(state)
            if state == "current":
                return
            cur.execute(_BEGIN, prepare=False)
            try:
                # Another process may be creating it right now: one at a time, then look again.
                lock = zlib.crc32(self.schema.encode()) - 2**31
                cur.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", (_LOCK_CLASS, lock))
                exists = cur.execute(
                    "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = %s)",
                    (self.schema,),
                ).fetchone()
                if not (exists and exists[0]):  # (creating one needs CREATE on the database)
                    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
                state = self._schema_state(cur)
                if state == "empty":
                    self._script(cur, _TABLES)
                    cur.execute(
                        "INSERT INTO draftsman_schema (store, version) VALUES (%s, %s)",
                        (STORE_MARK, SCHEMA_VERSION),
                    )
                elif state == "upgrade":  # in place, in one transaction: all or nothing
                    row = cur.execute(
                        "SELECT version FROM draftsman_schema WHERE store = %s", (STORE_MARK,)
                    ).fetchone()
                    assert row is not None
                    for version in range(int(row[0]), SCHEMA_VERSION):
                        self._script(cur, _MIGRATIONS[version])
                    cur.execute(
                        "UPDATE draftsman_schema SET version = %s WHERE store = %s",
                        (SCHEMA_VERSION, STORE_MARK),
                    )
                elif state != "current":
                    raise StoreError(state)
            except BaseException:
                if self._conn is not None and not self._conn.closed:
                    cur.execute(b"ROLLBACK", prepare=False)
                raise
            cur.execute(b"COMMIT", prepare=False)
        except psycopg.Error as exc:
            raise self._error(exc) from None

    @staticmethod
    def _script(cur: psycopg.Cursor[Any], script: str) -> None:
        for statement in script.split(";\n"):
            if statement.strip():
                cur.execute(statement.encode(), prepare=False)

    def _schema_state(self, cur: psycopg.Cursor[Any]) -> str:
        """'current', 'empty', 'upgrade', or the reason this schema is not ours to use."""
        found = {
            str(row[0])
            for row in cur.execute(
                "SELECT c.relname FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = ANY(%s::text[])",
                (self.schema, list(_RELATIONS)),
            )
        }
        where = f"the schema {self.schema} of database {self.database} at {self.where}"
        if not found:
            return "empty"
        version: int | None = None
        if "draftsman_schema" in found:
            table = sql.Identifier(self.schema, "draftsman_schema")
            try:  # (inside the creating transaction, a failure here aborts it: we refuse)
                row = cur.execute(
                    sql.SQL("SELECT version FROM {} WHERE store = %s").format(table),
                    (STORE_MARK,),
                    prepare=False,
                ).fetchone()
                version = None if row is None else int(row[0])
            except (pg_errors.UndefinedColumn, pg_errors.UndefinedFunction, ValueError, TypeError):
                version = None  # a table of that name, but not ours
        if version is None:
            names = ", ".join(sorted(found)[:5])
            return (
                f"{where} is not a draftsman event store (it holds relations named {names} "
                "that are not ours); refusing to use it"
            )
        if version > SCHEMA_VERSION:
            return (
                f"{where} was written by a newer draftsman-runtime (store schema {version}; this "
                f"runtime reads schema {SCHEMA_VERSION}): upgrade draftsman-runtime"
            )
        if version < 2 and "heads" in found:  # not ours: schema 1 had no such table
            return (
                f"{where} holds a relation named heads that is not the store's, and the upgrade "
                "to store schema 2 would create one; rename it, then start again"
            )
        tables = _STORE_TABLES + (("heads",) if version >= 2 else ())  # heads came in 2
        missing = [table for table in tables if table not in found]
        if missing:
            return (
                f"{where} is a damaged draftsman event store (it lacks the tables "
                f"{', '.join(missing)}); restore it from a backup"
            )
        return "current" if version == SCHEMA_VERSION else "upgrade"

    # -- transactions ----------------------------------------------------------------------
    def exclusive(self) -> _Transaction:
        """One transaction for a whole unit of work (load, run, commit) on this connection.
        There is no global write lock: concurrent writers to one instance conflict at commit
        (ConcurrencyError), and deliveries are claimed with row locks."""
        return self._transaction

    def _write(self, cur: psycopg.Cursor[Any]) -> None:
        """Before a write (or a claim) inside exclusive(): send its BEGIN if not yet sent."""
        if self._in_exclusive and not self._begun:
            cur.execute(_BEGIN, prepare=False)
            self._begun = True

    def _lock_key(self, aggregate: str, key: str) -> int:
        """The advisory lock of an instance, by the business key it is addressed by."""
        digest = hashlib.blake2b(
            f"{self.schema}\0{aggregate}\0{key}".encode("utf-8", "surrogatepass"), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big", signed=True)

    def _lock_instance(self, cur: psycopg.Cursor[Any], aggregate: str, key: str) -> None:
        """Wait for the units of work on this instance that hold its lock (see __init__).
        The lock must be held before the lookup statement starts: a statement that waited
        inside would still read what was committed when it started."""
        lock = self._lock_key(aggregate, key)  # an int made here: safe to inline
        if self._begun:
            cur.execute(b"SELECT pg_advisory_xact_lock(%d)" % lock, prepare=False)
        else:  # one round trip: the simple protocol runs both
            cur.execute(_BEGIN + b"; SELECT pg_advisory_xact_lock(%d)" % lock, prepare=False)
            self._begun = True

    def _end(self, commit: bool) -> None:
        """COMMIT (or ROLLBACK) exclusive()'s transaction; called with the lock held."""
        conn, cur = self._conn, self._cur
        if conn is None or cur is None or conn.closed:
            if commit:  # the error that closed it was raised already, unless it was swallowed
                raise StoreError(
                    f"lost the connection to {self.where}: this unit of work was rolled back"
                )
            return
        failed = conn.info.transaction_status == pq.TransactionStatus.INERROR
        try:
            if commit and not failed:
                cur.execute(b"COMMIT", prepare=False)
                return
            cur.execute(b"ROLLBACK", prepare=False)
        except psycopg.Error as exc:
            error = self._error(exc)
            if not commit:
                return  # already failing: the caller's exception says why
            if isinstance(error, StoreError) and error.args[0].startswith("lost the connection"):
                error = StoreError(
                    f"lost the connection to {self.where} while committing: whether this unit "
                    "of work was stored is unknown"
                )
            raise error from exc
        if commit and failed:  # a statement failed, and its exception was swallowed
            raise StoreError(
                f"{self.where}: a statement of this unit of work failed, so all of it was "
                "rolled back"
            )

    # -- instances -----------------------------------------------------------------------
    def lookup(
        self, aggregate: str, key: str, flow: str, idempotency_key: str | None, now: float
    ) -> Lookup:
        with self._guard as cur:
            if self._in_exclusive and self.lock_instances:
                self._lock_instance(cur, aggregate, key)
            row = cur.execute(
                _LOOKUP, (flow, idempotency_key or "", now, aggregate, key)
            ).fetchone()
        assert row is not None
        aggregate_id = row[0]
        processed = idempotency_key is not None and bool(row[1])
        return Lookup(aggregate_id, processed, None if aggregate_id is None else int(row[2]))

    def _damaged(self, what: str, exc: Exception) -> DamagedDataError:
        return DamagedDataError(
            f"{self.where}: {what} cannot be read ({type(exc).__name__}: {exc}); "
            "restore the instance from a backup"
        )

    def resolve(self, aggregate: str, key: str) -> str | None:
        with self._guard as cur:
            row = cur.execute(
                "SELECT id FROM keychain WHERE aggregate = %s AND key = %s", (aggregate, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def load(
        self, aggregate: str, aggregate_id: str, fingerprint: str, after: int | None = None
    ) -> Loaded:
        with self._guard as cur:
            if after is not None:
                rows = cur.execute(_LOAD_AFTER, (aggregate, aggregate_id, after)).fetchall()
            else:
                rows = cur.execute(
                    _LOAD, {"a": aggregate, "i": aggregate_id, "f": fingerprint}
                ).fetchall()
        try:
            return _loaded(rows, fingerprint, after)
        except (TypeError, ValueError, RecursionError) as exc:
            raise self._damaged(f"the events of {aggregate} {aggregate_id}", exc) from None

    def commit(self, commit: Commit) -> None:
        agg, agg_id, expected = commit.aggregate, commit.aggregate_id, commit.expected_version
        params: dict[str, Any] = {
            "a": agg,
            "i": agg_id,
            "expected": expected,
            "recorded": commit.recorded,
        }
        if commit.idempotency is not None:
            params["flow"], params["ikey"], params["expires"] = commit.idempotency
        removes, adds = len(commit.remove_keys), len(commit.add_keys)
        if removes:
            params["remove"] = commit.remove_keys[0] if removes == 1 else commit.remove_keys
        if adds:
            params["add"] = commit.add_keys[0] if adds == 1 else commit.add_keys
        events = commit.events
        if len(events) == 1:
            ((params["e_i"], params["e_t"], data),) = events
            params["e_d"] = _encode(data)
        elif events:
            params["e_i"] = [e[0] for e in events]
            params["e_t"] = [e[1] for e in events]
            params["e_d"] = [_encode(e[2]) for e in events]
        if commit.deliveries:
            params.update(_delivery_params(commit.deliveries))
        snapshot = commit.snapshot
        if snapshot is not None:
            params["s_v"], params["s_f"] = snapshot.version, snapshot.fingerprint
            params["s_d"] = _encode(snapshot.data)
        statement = _commit_statement(
            commit.idempotency is not None,
            _many(removes),
            _many(adds),
            _many(len(events)),
            _many(len(commit.deliveries)),
            snapshot is not None,
            commit.checked_key is not None,
            commit.checked_key is not None and self._in_exclusive and self.lock_instances,
            expected == 0,
        )
        params["new"] = expected + len(events)
        checked = commit.checked_key
        if checked is not None:
            params["checked"] = checked
            params["lock"] = self._lock_key(agg, checked)  # what `lookup` would have taken
        with self._guard as cur:
            if not (commit.alone and not self._begun and self._transaction.outermost):
                self._write(cur)  # else: the statement is a transaction of its own
            try:
                row = cur.execute(statement, params).fetchone()
            except pg_errors.UniqueViolation as exc:
                raise self._conflict(commit, exc) from exc
            except pg_errors.CheckViolation as exc:
                if exc.diag.constraint_name != "heads_version":
                    raise
                raise ConcurrencyError(
                    f"{agg} {agg_id}: another writer moved the head from version {expected}"
                ) from exc
        assert row is not None
        head, written, named = row
        if head != expected:
            raise ConcurrencyError(f"{agg} {agg_id}: expected version {expected}, found {head}")
        if not named:
            raise ConcurrencyError(f"{agg} {checked!r} no longer names {agg_id}")
        if not written:
            flow, key, _expires = commit.idempotency or ("", "", None)
            raise DuplicateError(f"{flow}: {key} was already processed")

    def _conflict(self, commit: Commit, exc: pg_errors.UniqueViolation) -> Exception:
        """A unique key another writer took between our read and this write."""
        constraint = exc.diag.constraint_name or ""
        agg = commit.aggregate
        if constraint == "keychain_pkey":
            detail = exc.diag.message_detail or ""
            taken = [k for k in commit.add_keys if detail.endswith(f", {k}) already exists.")]
            key = taken[-1] if taken else commit.add_keys[-1] if commit.add_keys else "?"
            return KeyTakenError(f"{agg} {key!r} already exists")
        if constraint == "events_pkey":
            return ConcurrencyError(
                f"{agg} {commit.aggregate_id}: version {commit.expected_version + 1} was written "
                "by another writer"
            )
        if constraint == "idempotency_pkey" and commit.idempotency is not None:
            flow, key, _expires = commit.idempotency
            return DuplicateError(f"{flow}: {key} was already processed")
        # snapshots_pkey (an instance id used twice) or anything else: someone got there first.
        return ConcurrencyError(f"{agg} {commit.aggregate_id}: {_first_line(exc)}")

    def history(self, aggregate: str, aggregate_id: str) -> list[StoredEvent]:
        with self._guard as cur:
            rows = cur.execute(
                "SELECT event_id, type, data, version, recorded FROM events "
                "WHERE aggregate = %s AND id = %s ORDER BY version",
                (aggregate, aggregate_id),
            ).fetchall()
        try:
            return [StoredEvent(r[0], r[1], _decode(r[2]), r[3], r[4]) for r in rows]
        except (TypeError, ValueError, RecursionError) as exc:
            raise self._damaged(f"the events of {aggregate} {aggregate_id}", exc) from None

    def keys(self, aggregate: str) -> list[tuple[str, str]]:
        with self._guard as cur:
            rows = cur.execute(
                "SELECT key, id FROM keychain WHERE aggregate = %s ORDER BY key", (aggregate,)
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    # -- deliveries ----------------------------------------------------------------------
    def enqueue(self, deliveries: Sequence[NewDelivery], now: float) -> None:
        if not deliveries:
            return
        params = _delivery_params(deliveries)
        params["now"] = now
        statement = _INSERT_DELIVERY if len(deliveries) == 1 else _INSERT_DELIVERIES
        with self._guard as cur:
            self._write(cur)
            cur.execute(statement.format(guard=""), params)

    def due(self, now: float, limit: int, after: int = 0) -> list[Delivery]:
        with self._guard as cur:
            rows = cur.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' "
                "AND due <= %s::float8 AND id > %s::int8 ORDER BY id LIMIT %s::int8",
                (now, after, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]

    def claim(self, delivery_id: int, now: float) -> Delivery | None:
        # Locked until this transaction ends; another dispatcher skips it (and gets None)
        # rather than waiting, and once settled it is no longer pending for anyone.
        with self._guard as cur:
            self._write(cur)
            row = cur.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = %s::int8 "
                "AND status = 'pending' AND due <= %s::float8 FOR UPDATE SKIP LOCKED",
                (delivery_id, now),
            ).fetchone()
        return None if row is None else _delivery(row)

    def settle(self, delivery_id: int, settlement: Settlement, now: float) -> None:
        with self._guard as cur:
            self._write(cur)
            cur.execute(
                "UPDATE deliveries SET status = %s, attempts = %s, due = %s::float8, "
                "updated = %s::float8, reason = %s, message = %s, detail = %s, instance = %s, "
                "emitted = %s WHERE id = %s::int8",
                settled_row(settlement, now, delivery_id),
            )

    def deliveries(
        self, statuses: Sequence[DeliveryStatus], limit: int, after: int = 0
    ) -> list[Delivery]:
        with self._guard as cur:
            rows = cur.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE status = ANY(%s::text[]) "
                "AND id > %s::int8 ORDER BY id LIMIT %s::int8",
                (list(statuses), after, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]

    def redeliver(self, ids: Sequence[int] | None, now: float) -> list[int]:
        with self._guard as cur:
            self._write(cur)
            if ids is None:
                rows = cur.execute(
                    "UPDATE deliveries SET status = 'pending', attempts = 0, due = %s::float8, "
                    "updated = %s::float8, reason = '', message = '', detail = '' "
                    "WHERE status = 'dead' RETURNING id",
                    (now, now),
                ).fetchall()
            else:
                rows = cur.execute(
                    "UPDATE deliveries SET status = 'pending', attempts = 0, due = %s::float8, "
                    "updated = %s::float8, reason = '', message = '', detail = '' "
                    "WHERE id = ANY(%s::int8[]) AND status IN ('dead', 'rejected') RETURNING id",
                    (now, now, list(ids)),
                ).fetchall()
        return sorted(int(r[0]) for r in rows)

    def trace(self, correlation: str, limit: int = 1000) -> list[Delivery]:
        with self._guard as cur:
            rows = cur.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE correlation = %s "
                "AND correlation <> '' ORDER BY id LIMIT %s::int8",
                (correlation, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]

    def next_due(self) -> float | None:
        with self._guard as cur:
            row = cur.execute("SELECT MIN(due) FROM deliveries WHERE status = 'pending'").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # -- housekeeping --------------------------------------------------------------------
    def purge(self, aggregate: str, recorded_before: float, fingerprint: str) -> int:
        with self._guard as cur:
            self._write(cur)
            # The newest event of an instance stays, however old: it holds the head version.
            cur.execute(
                "DELETE FROM events WHERE aggregate = %s AND recorded < %s::float8 AND version <= "
                "(SELECT s.version FROM snapshots AS s WHERE s.aggregate = events.aggregate "
                "AND s.id = events.id AND s.fingerprint = %s) AND version < "
                "(SELECT MAX(e.version) FROM events AS e WHERE e.aggregate = events.aggregate "
                "AND e.id = events.id)",
                (aggregate, recorded_before, fingerprint),
            )
            return cur.rowcount

    def purge_records(self, now: float, settled_before: float) -> int:
        with self._guard as cur:
            self._write(cur)
            row = cur.execute(
                "WITH i AS (DELETE FROM idempotency WHERE expires <= %s::float8 RETURNING 1), "
                "d AS (DELETE FROM deliveries WHERE status IN ('done', 'rejected') "
                "AND updated < %s::float8 RETURNING 1) "
                "SELECT (SELECT count(*) FROM i) + (SELECT count(*) FROM d)",
                (now, settled_before),
            ).fetchone()
        return 0 if row is None else int(row[0])

    def restore(self, aggregate: str, instances: Sequence[tuple[str, Snapshot]]) -> int:
        if not instances:
            return 0
        params = {
            "a": aggregate,
            "keys": [key for key, _snapshot in instances],
            "ids": [uuid.uuid4().hex for _instance in instances],
            "versions": [snapshot.version for _key, snapshot in instances],
            "fingerprints": [snapshot.fingerprint for _key, snapshot in instances],
            "datas": [_encode(snapshot.data) for _key, snapshot in instances],
        }
        with self._guard as cur:
            self._write(cur)
            cur.execute(_RESTORE, params)  # one statement: all of it or nothing
            return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop_connection()


def _delivery_params(deliveries: Sequence[NewDelivery]) -> dict[str, Any]:
    if len(deliveries) == 1:
        (d,) = deliveries
        return {
            "d_e": d.event_id,
            "d_t": d.event_type,
            "d_f": d.flow,
            "d_d": _encode(d.data),
            "d_o": d.origin,
            "d_c": d.correlation,
        }
    return {
        "d_e": [d.event_id for d in deliveries],
        "d_t": [d.event_type for d in deliveries],
        "d_f": [d.flow for d in deliveries],
        "d_d": [_encode(d.data) for d in deliveries],
        "d_o": [d.origin for d in deliveries],
        "d_c": [d.correlation for d in deliveries],
    }


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()


def _reason(message: str) -> str:
    """The cause in libpq's message, without its framing ("connection to server at ... failed:",
    "FATAL:") or its hints on further lines."""
    line = (message.strip().splitlines() or [""])[0]
    if "failed: " in line:
        line = line.rsplit("failed: ", 1)[1]
    for prefix in ("FATAL:", "ERROR:"):
        line = line.removeprefix(prefix)
    return line.strip() or message.strip()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "postgres"


def _secrets(url: str) -> list[str]:
    """The password in a URL or connection string, however malformed (libpq's messages about
    a bad URL quote it), in the forms it may appear in a message."""
    found: list[str] = []
    match = re.search(r"://[^/@?#]*?:([^@]*)@", url)
    if match:
        found.append(match.group(1))
    for value in re.findall(r"password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]*)", url):
        found.append(value)
        found.append(value.strip("'"))
    found += [unquote(secret) for secret in found]
    return sorted({secret for secret in found if secret}, key=len, reverse=True)


def _redact(url: str) -> str:
    """The URL without its password, to quote it."""
    if "://" in url:
        try:
            parts = urlsplit(url)
            netloc = parts.netloc
            if "@" in netloc:
                user, _, host = netloc.rpartition("@")
                netloc = f"{user.split(':', 1)[0]}@{host}"
            query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
            return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
        except ValueError:
            return "(a database URL that cannot be read)"
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(a database URL that cannot be read)"
    return make_conninfo("", **{k: v for k, v in params.items() if k != "password"})
