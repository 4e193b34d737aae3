"""The PostgreSQL store: the conformance suite (a fresh schema per test in one throwaway
cluster per test process), and what only a server goes through: connection failures in one
sentence without the password, a schema created by several processes at once, another
application's tables, a newer schema, two dispatchers claiming one delivery, writers that
collide at commit, a connection lost mid-transaction.

Without PostgreSQL (or psycopg) these tests are skipped, unless DRAFTSMAN_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD
from postgres_cluster import Cluster, _free_port
from store_conformance import StoreConformance

from draftsman_runtime.errors import ConcurrencyError, KeyTakenError, StoreError
from draftsman_runtime.store import Commit, EventStore, NewDelivery, Settlement, Snapshot

try:
    import psycopg

    from draftsman_runtime.postgres import SCHEMA_VERSION, PostgresEventStore
except ImportError:  # the skip below says what is missing
    psycopg = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent
# A lock held by a test's other connection fails the statement instead of hanging the suite.
OPTIONS = "?options=-c%20lock_timeout%3D10s"


@pytest.fixture
def admin(pg: Cluster) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        yield conn


def fresh() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


class TestPostgresStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _cluster(self, pg: Cluster) -> None:
        self.url = pg.url() + OPTIONS

    def make_store(self) -> EventStore:
        return PostgresEventStore(self.url, schema=fresh())


# -- connecting --------------------------------------------------------------------------
def test_an_unreachable_server_is_one_sentence(pg: Cluster) -> None:
    port = _free_port()
    with pytest.raises(StoreError) as caught:
        PostgresEventStore(f"postgresql://alice:{PASSWORD}@127.0.0.1:{port}/alice")
    message = str(caught.value)
    assert message.startswith(f"cannot connect to 127.0.0.1:{port}: connection refused")
    assert "\n" not in message and PASSWORD not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_wrong_password_is_one_sentence_without_the_password(pg: Cluster) -> None:
    with pytest.raises(StoreError) as caught:
        PostgresEventStore(pg.url("alice", "alice", "not-" + PASSWORD))
    message = str(caught.value)
    assert message == (
        f"cannot connect to 127.0.0.1:{pg.port} as alice: password authentication failed "
        "(check the user and the password of the database URL)"
    )
    assert PASSWORD not in message and caught.value.__cause__ is None


def test_the_right_password_works(pg: Cluster) -> None:
    store = PostgresEventStore(pg.url("alice", "alice", PASSWORD))
    try:
        assert store.health() == ""
        assert PASSWORD not in store.url and store.url.startswith("postgresql://alice@")
        assert store.schema == "public"
    finally:
        store.close()


def test_a_missing_database_is_one_sentence(pg: Cluster) -> None:
    with pytest.raises(
        StoreError,
        match="^cannot connect to 127.0.0.1:[0-9]+: the database "
        "nosuchdb does not exist .create it, or fix the database URL.$",
    ):
        PostgresEventStore(pg.url(dbname="nosuchdb"))


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://alice:{PASSWORD} x@127.0.0.1:1/alice",  # libpq quotes the bad part
        f"host=127.0.0.1 password='{PASSWORD}' dbname",
        f"postgresql://alice:{PASSWORD}@127.0.0.1:1/alice?nonsense=1",
    ],
)
def test_a_bad_url_never_shows_the_password(driver: None, url: str) -> None:
    with pytest.raises(StoreError, match="^the database URL is not valid: ") as caught:
        PostgresEventStore(url)
    assert PASSWORD not in str(caught.value) and "\n" not in str(caught.value)


def test_a_lost_connection_rolls_back_the_unit_of_work_and_comes_back(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    store = PostgresEventStore(pg.url(), schema=fresh())
    try:
        pid = store._conn.info.backend_pid  # type: ignore[union-attr]
        with pytest.raises(StoreError) as caught, store.exclusive():
            store.commit(Commit("Thing", "id-1", 0, events=[("e1", "T", {})], add_keys=["k"]))
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            store.commit(Commit("Thing", "id-1", 1, events=[("e2", "T", {})]))
        assert str(caught.value) == (
            f"lost the connection to 127.0.0.1:{pg.port} (terminating connection due to "
            "administrator command): this unit of work was rolled back"
        )
        assert store.history("Thing", "id-1") == []  # reconnected; nothing was kept
        pid = store._conn.info.backend_pid  # type: ignore[union-attr]
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert store.health().startswith(f"lost the connection to 127.0.0.1:{pg.port}")
        assert store.health() == ""  # and back again
        # An error swallowed inside exclusive(): nothing more of that unit of work runs.
        pid = store._conn.info.backend_pid  # type: ignore[union-attr]
        with (
            pytest.raises(StoreError, match="this unit of work was rolled back"),
            store.exclusive(),
        ):
            store.commit(Commit("Thing", "id-1", 0, events=[("e1", "T", {})]))
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(StoreError):
                store.commit(Commit("Thing", "id-1", 1, events=[("e2", "T", {})]))
            with pytest.raises(StoreError, match="rolled back"):
                store.commit(Commit("Thing", "id-2", 0, events=[("e3", "T", {})]))
        assert store.history("Thing", "id-1") == store.history("Thing", "id-2") == []
    finally:
        store.close()
    assert store.health() == f"the store at 127.0.0.1:{pg.port} is closed"


def test_text_that_postgresql_cannot_store_is_a_store_error(pg: Cluster) -> None:
    store = PostgresEventStore(pg.url(), schema=fresh())
    try:
        with pytest.raises(StoreError, match="cannot store text that contains NUL"):
            store.commit(Commit("Thing", "id-1", 0, events=[("e1", "T", {})], add_keys=["a\x00"]))
        assert store.keys("Thing") == []
    finally:
        store.close()


def test_documents_come_back_as_they_were_stored(pg: Cluster) -> None:
    """Why the data is text, not jsonb: jsonb reorders keys and turns 1e300 into an int."""
    store = PostgresEventStore(pg.url(), schema=fresh())
    data = {"zeta": 1e300, "a": 100.0, "mid": [1, "\u00e9\u2603", None], "b": {"y": 1, "x": 2}}
    try:
        store.commit(Commit("Thing", "id-1", 0, events=[("e1", "T", data)]))
        (event,) = store.history("Thing", "id-1")
        assert list(event.data) == list(data) and event.data == data
        assert type(event.data["zeta"]) is float and list(event.data["b"]) == ["y", "x"]
    finally:
        store.close()


# -- the schema ----------------------------------------------------------------------------
def _relations(admin: psycopg.Connection[Any], schema: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(kind))
        for name, kind in admin.execute(
            "SELECT c.relname, c.relkind FROM pg_class AS c JOIN pg_namespace AS n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s ORDER BY 1",
            (schema,),
        )
    ]


_RACER = """
import sys
from draftsman_runtime.postgres import PostgresEventStore
from draftsman_runtime.store import Commit
url, n = sys.argv[1], sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()
store = PostgresEventStore(url)
store.commit(Commit("Thing", "id-" + n, 0, events=[("e" + n, "T", {})], add_keys=["k" + n]))
store.close()
print("done", flush=True)
"""


def test_four_processes_create_the_schema_at_once(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    database = f"race_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE DATABASE {database}")
    url = pg.url(dbname=database)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, url, str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(4)
    ]
    for racer in racers:  # all imported and waiting
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
    for racer in racers:  # then all at once
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outcomes = [racer.communicate(timeout=60) for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * 4, outcomes
    store = PostgresEventStore(url)
    try:
        assert store.keys("Thing") == [(f"k{n}", f"id-{n}") for n in range(4)]
    finally:
        store.close()
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT store, version FROM draftsman_schema").fetchall()
        assert rows == [("draftsman event store", SCHEMA_VERSION)]


def test_another_applications_tables_are_refused_untouched(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    schema = fresh()
    admin.execute(f"CREATE SCHEMA {schema}")
    admin.execute(f"CREATE TABLE {schema}.events (id serial PRIMARY KEY, name text)")
    admin.execute(f"INSERT INTO {schema}.events (name) VALUES ('launch')")
    admin.execute(f"CREATE TABLE {schema}.customers (id int)")
    before = _relations(admin, schema)
    with pytest.raises(StoreError) as caught:
        PostgresEventStore(pg.url(), schema=schema)
    assert str(caught.value) == (
        f"the schema {schema} of database postgres at 127.0.0.1:{pg.port} is not a draftsman "
        "event store (it holds relations named events, events_pkey that are not ours); "
        "refusing to use it"
    )
    assert _relations(admin, schema) == before
    assert admin.execute(f"SELECT name FROM {schema}.events").fetchall() == [("launch",)]


def test_a_table_named_like_ours_but_foreign_is_refused(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    schema = fresh()
    admin.execute(f"CREATE SCHEMA {schema}")
    admin.execute(f"CREATE TABLE {schema}.draftsman_schema (name text)")
    with pytest.raises(StoreError, match="is not a draftsman event store"):
        PostgresEventStore(pg.url(), schema=schema)
    assert _relations(admin, schema) == [("draftsman_schema", "r")]


def test_other_tables_beside_ours_are_fine_and_opening_again_changes_nothing(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    schema = fresh()
    admin.execute(f"CREATE SCHEMA {schema}")
    admin.execute(f"CREATE TABLE {schema}.customers (id int)")
    PostgresEventStore(pg.url(), schema=schema).close()
    created = _relations(admin, schema)
    PostgresEventStore(pg.url(), schema=schema).close()
    assert _relations(admin, schema) == created
    assert ("customers", "r") in created and ("events", "r") in created


def test_a_newer_schema_is_refused_untouched(pg: Cluster, admin: psycopg.Connection[Any]) -> None:
    schema = fresh()
    PostgresEventStore(pg.url(), schema=schema).close()
    admin.execute(f"UPDATE {schema}.draftsman_schema SET version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match=r"newer draftsman-runtime \(store schema 3; this runtime"):
        PostgresEventStore(pg.url(), schema=schema)
    version = admin.execute(f"SELECT version FROM {schema}.draftsman_schema").fetchone()
    assert version == (SCHEMA_VERSION + 1,)


def test_a_schema_1_store_is_upgraded_in_place_with_its_heads(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    """Schema 1 (runtime 0.3.0 before the head rows) had no `heads`: opening it creates them
    from the events and snapshots, once, and writers go on where the instances were."""
    schema = fresh()
    store = PostgresEventStore(pg.url(), schema=schema)
    store.commit(Commit("Thing", "id-1", 0, events=[("e1", "Happened", {}), ("e2", "Happened", {})],
                        add_keys=["k1"], recorded=1.0))
    store.restore("Thing", [("k2", Snapshot(7, "fp", {"n": 1}))])
    store.close()
    admin.execute(f"DROP TABLE {schema}.heads")  # as schema 1 was
    admin.execute(f"UPDATE {schema}.draftsman_schema SET version = 1")
    store = PostgresEventStore(pg.url(), schema=schema)
    try:
        heads = admin.execute(f"SELECT id, version FROM {schema}.heads ORDER BY version").fetchall()
        restored = store.resolve("Thing", "k2")
        assert heads == [("id-1", 2), (restored, 7)]
        assert admin.execute(f"SELECT version FROM {schema}.draftsman_schema").fetchone() == (
            SCHEMA_VERSION,)
        store.commit(Commit("Thing", "id-1", 2, events=[("e3", "Happened", {})], recorded=2.0))
        with pytest.raises(ConcurrencyError):
            store.commit(Commit("Thing", "id-1", 2, events=[("e4", "Happened", {})], recorded=2.0))
        assert [e.version for e in store.history("Thing", "id-1")] == [1, 2, 3]
    finally:
        store.close()


def test_the_upgrade_waits_for_a_commit_in_flight(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    """A schema 1 writer's commit still open when the upgrade starts: the upgrade waits for
    it, so the head row it writes counts that commit's events too."""
    schema = fresh()
    PostgresEventStore(pg.url(), schema=schema).close()
    admin.execute(f"DROP TABLE {schema}.heads")
    admin.execute(f"UPDATE {schema}.draftsman_schema SET version = 1")
    inflight = psycopg.connect(pg.url())
    inflight.execute(f"INSERT INTO {schema}.events VALUES ('Thing', 'id-1', 1, 'e1', 'Happened', "
                     "'{}', 1.0)")
    opened: list[PostgresEventStore] = []
    upgrade = threading.Thread(target=lambda: opened.append(
        PostgresEventStore(pg.url(), schema=schema)))
    upgrade.start()
    time.sleep(0.5)
    assert upgrade.is_alive(), "the upgrade did not wait for the commit in flight"
    inflight.commit()
    inflight.close()
    upgrade.join(20)
    try:
        assert admin.execute(f"SELECT version FROM {schema}.heads").fetchall() == [(1,)]
    finally:
        opened[0].close()


def test_a_foreign_heads_table_stops_the_upgrade_in_one_sentence(
    pg: Cluster, admin: psycopg.Connection[Any]
) -> None:
    schema = fresh()
    PostgresEventStore(pg.url(), schema=schema).close()
    admin.execute(f"DROP TABLE {schema}.heads")
    admin.execute(f"UPDATE {schema}.draftsman_schema SET version = 1")
    admin.execute(f"CREATE TABLE {schema}.heads (id int)")
    with pytest.raises(StoreError, match="holds a relation named heads that is not the store's"):
        PostgresEventStore(pg.url(), schema=schema)
    assert admin.execute(f"SELECT version FROM {schema}.draftsman_schema").fetchone() == (1,)


def test_a_head_row_moved_by_another_writer_aborts_the_whole_commit(pg: Cluster) -> None:
    """What the compare-and-set is for: the commit's snapshot says the head is 2, but another
    transaction holds the head row and moves it to 5 (as a writer that committed after the
    snapshot would, with a purge freeing the versions): the commit waits for that row, finds
    it moved, and writes nothing; it is a conflict."""
    schema = fresh()
    store = PostgresEventStore(pg.url(), schema=schema)
    try:
        store.commit(Commit("Thing", "id-1", 0, events=[("e1", "Happened", {}), ("e2", "Happened", {})],
                            add_keys=["k"], recorded=1.0))
        other = psycopg.connect(pg.url())  # a transaction of its own: holds the row
        other.execute(f"UPDATE {schema}.heads SET version = 5")
        commit = Commit("Thing", "id-1", 2, events=[("e3", "Happened", {})], add_keys=["k2"],
                        idempotency=("Thing.Do", "r1", None), recorded=2.0,
                        deliveries=[NewDelivery("e3", "Happened", "Other.Flow", {}, "Thing k@3")])
        failed: list[BaseException] = []

        def write() -> None:
            try:
                store.commit(commit)
            except ConcurrencyError as exc:
                failed.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.5)  # the commit's statement has started: its snapshot says 2
        assert writer.is_alive(), "the commit did not wait for the head row"
        other.commit()
        writer.join(10)
        other.close()
        assert len(failed) == 1 and "another writer moved the head" in str(failed[0])
        assert [e.version for e in store.history("Thing", "id-1")] == [1, 2]
        assert store.resolve("Thing", "k2") is None
        assert store.lookup("Thing", "k", "Thing.Do", "r1", 3.0).processed is False
        assert store.due(10.0, 10) == []
    finally:
        store.close()


# -- several connections ---------------------------------------------------------------------
@pytest.fixture
def two(pg: Cluster) -> Iterator[tuple[PostgresEventStore, PostgresEventStore]]:
    schema = fresh()
    first = PostgresEventStore(pg.url() + OPTIONS, schema=schema)
    second = PostgresEventStore(pg.url() + OPTIONS, schema=schema)
    yield first, second
    first.close()
    second.close()


def test_a_delivery_claimed_by_one_connection_is_skipped_by_the_other(
    two: tuple[PostgresEventStore, PostgresEventStore],
) -> None:
    first, second = two
    first.enqueue([NewDelivery("ev-a", "Happened", "Other.Flow", {}, "Thing k@1")], 5.0)
    (delivery,) = second.due(5.0, 10)
    with first.exclusive():
        assert first.claim(delivery.id, 5.0) is not None
        started = time.perf_counter()
        with second.exclusive():
            assert second.claim(delivery.id, 5.0) is None  # locked: skipped, not waited for
        assert time.perf_counter() - started < 1.0
        first.settle(delivery.id, Settlement("done", 1, 5.0, "accepted"), 5.0)
    with second.exclusive():
        assert second.claim(delivery.id, 6.0) is None  # settled
    # a claim rolled back leaves it to the next dispatcher
    first.enqueue([NewDelivery("ev-b", "Happened", "Other.Flow", {}, "Thing k@1")], 5.0)
    (other,) = second.due(5.0, 10)
    with pytest.raises(RuntimeError), first.exclusive():
        assert first.claim(other.id, 5.0) is not None
        raise RuntimeError("the dispatcher crashed")
    with second.exclusive():
        assert second.claim(other.id, 5.0) is not None


def _blocked(call: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    """Run `call` in a thread (it waits for the other connection's transaction)."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)  # long enough to be waiting on the first writer's row
    return thread, raised


@pytest.mark.parametrize(
    ("second_commit", "error"),
    [
        (Commit("Thing", "id-1", 0, events=[("e2", "T", {})]), ConcurrencyError),
        (Commit("Thing", "id-2", 0, events=[("e2", "T", {})], add_keys=["k"]), KeyTakenError),
    ],
    ids=["same-version", "same-key"],
)
def test_writers_that_collide_at_commit(
    two: tuple[PostgresEventStore, PostgresEventStore], second_commit: Commit, error: type
) -> None:
    """No global write lock: the second writer waits on the first one's new row, and once the
    first commits, its unique key says what happened."""
    first, second = two
    with first.exclusive():
        first.commit(Commit("Thing", "id-1", 0, events=[("e1", "T", {})], add_keys=["k"]))
        thread, raised = _blocked(lambda: second.commit(second_commit))
        assert thread.is_alive()  # waiting for us
    thread.join(10)
    assert len(raised) == 1 and isinstance(raised[0], error), raised
    assert [e.event_id for e in first.history("Thing", "id-1")] == ["e1"]
    assert second.history("Thing", "id-2") == []


def test_a_writer_whose_rival_rolled_back_goes_ahead(
    two: tuple[PostgresEventStore, PostgresEventStore],
) -> None:
    first, second = two
    with pytest.raises(RuntimeError), first.exclusive():
        first.commit(Commit("Thing", "id-1", 0, events=[("e1", "T", {})], add_keys=["k"]))
        thread, raised = _blocked(
            lambda: second.commit(Commit("Thing", "id-1", 0, events=[("e2", "T", {})]))
        )
        raise RuntimeError("the first writer crashed")
    thread.join(10)
    assert raised == []
    assert [e.event_id for e in first.history("Thing", "id-1")] == ["e2"]


@pytest.mark.parametrize("lock", [True, False], ids=["instance-locks", "versions-only"])
def test_dispatchers_in_threads_run_each_delivery_once(pg: Cluster, lock: bool) -> None:
    """The toy service on one schema, two dispatchers (two connections) at once, all deposits
    on one counter: each is counted exactly once. With instance locks the dispatchers queue
    on the counter and never conflict; with versions only, a loser runs again, and one that
    loses four times in a row is retried later, but nothing is lost or doubled."""
    from conftest import Clock
    from toy.registry import REGISTRY

    from draftsman_runtime import Service, Settings

    schema = fresh()
    clock = Clock()

    def service() -> Service:
        store = PostgresEventStore(pg.url() + OPTIONS, schema=schema, lock_instances=lock)
        return Service(REGISTRY, store, clock=clock, settings=Settings(database="pg"))

    writer = service()
    assert writer.submit("CreateCounter", {"name": "a", "limit": 1000}).ok
    for n in range(30):
        assert writer.submit("AddToCounter", {"name": "a", "amount": 1, "ref": f"r{n}"}).ok
    dispatchers = [service(), service()]
    reports: list[Any] = []
    threads = [
        threading.Thread(target=lambda s=s: reports.append(s.dispatch())) for s in dispatchers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if lock:
        assert sum(r.done for r in reports) == 30 and sum(r.retrying for r in reports) == 0
    while writer.store.next_due() is not None:  # the retries, later
        clock.advance(3600)
        writer.dispatch()
    assert (writer.show("Tally", "a") or {})["total"] == 30
    done = writer.deliveries(("done",), 100)
    assert len(done) == 30 and {d.emitted[0].version for d in done} == set(range(2, 32))
    for svc in (writer, *dispatchers):
        svc.close()


def test_two_creates_of_one_key_at_once(pg: Cluster) -> None:
    """With instance locks the second create waits for the first and then sees it:
    already-exists (without them it would fail at commit: key-taken)."""
    from conftest import Clock
    from toy.registry import REGISTRY

    from draftsman_runtime import Service, Settings

    schema = fresh()
    first, second = (
        Service(
            REGISTRY,
            PostgresEventStore(pg.url() + OPTIONS, schema=schema),
            clock=Clock(),
            settings=Settings(database="pg"),
        )
        for _ in range(2)
    )
    (spec,) = [s for s in REGISTRY.by_source["CreateCounter"] if s.flow == "Counter.Create"]
    payload = REGISTRY.commands["CreateCounter"]({"name": "a", "limit": 10})
    results: list[Any] = []
    with first.store.exclusive():  # the first create commits when this block ends
        assert first.work.run(spec, payload).ok
        thread = threading.Thread(target=lambda: results.append(second.work.run(spec, payload)))
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive()  # waiting for the instance
    thread.join(10)
    assert [r.reason for r in results] == ["already-exists"]
    first.close()
    second.close()


def test_a_commit_with_several_of_everything(pg: Cluster) -> None:
    """Several keys, events and deliveries travel as arrays (one of each as plain values)."""
    store = PostgresEventStore(pg.url(), schema=fresh())
    try:
        deliveries = [NewDelivery(f"ev-{n}", "T", "Other.Flow", {"n": n}, "", "c1") for n in (1, 2)]
        events = [(f"e{n}", "T", {"n": n}) for n in (1, 2, 3)]
        store.commit(Commit("Thing", "id-1", 0, events, None, ["a", "b"], [], None, deliveries))
        assert store.keys("Thing") == [("a", "id-1"), ("b", "id-1")]
        assert [d.event_id for d in store.trace("c1")] == ["ev-1", "ev-2"]
        with pytest.raises(KeyTakenError, match="^Thing 'b' already exists$"):
            store.commit(Commit("Thing", "id-2", 0, events[:1], add_keys=["c", "b"]))
        assert store.resolve("Thing", "c") is None and store.history("Thing", "id-2") == []
        store.commit(Commit("Thing", "id-1", 3, events[:1], None, ["x", "y"], ["a", "b"]))
        assert store.keys("Thing") == [("x", "id-1"), ("y", "id-1")]
        assert [e.version for e in store.history("Thing", "id-1")] == [1, 2, 3, 4]
    finally:
        store.close()


def _lock_waiters(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_cached_command_waiting_for_the_lock_reads_the_head_after_it(pg: Cluster) -> None:
    """The review's lost update: a command on a cached instance waits for the instance's
    lock while its holder writes v3-v5 (a snapshot at 5) and purges v1-v4. Had the command's
    statement read the head before the lock (v2 cached, v3 free again), it would have written
    v3 below the snapshot, and its +100 would be lost; it must write v6."""
    from conftest import START, Clock, open_service
    from toy.registry import COUNTER

    url = pg.url() + OPTIONS
    clock = Clock(START)
    writer, holder = open_service(url, clock), open_service(url, clock)
    try:
        assert writer.submit("CreateCounter", {"name": "a", "limit": 1000}).ok
        assert writer.submit("AddToCounter", {"name": "a", "amount": 1, "ref": "w0"}).ok
        locked, go, outcome = threading.Event(), threading.Event(), {}

        def hold() -> None:
            store = holder.store
            with store.exclusive():
                store.lookup("Counter", "a", "Counter.Add", None, clock())  # the lock
                locked.set()
                go.wait(10)
                for n in range(3):
                    assert holder.submit("AddToCounter", {"name": "a", "amount": 1, "ref": f"h{n}"}).ok
                purged = store.purge("Counter", clock() + 10.0, COUNTER.fingerprint)
                assert purged == 4  # v1-v4: the snapshot at v5 covers them

        def write() -> None:
            outcome["result"] = writer.submit("AddToCounter", {"name": "a", "amount": 100, "ref": "w1"})

        holding = threading.Thread(target=hold)
        holding.start()
        assert locked.wait(10)
        writing = threading.Thread(target=write)
        writing.start()
        deadline = time.time() + 10
        while _lock_waiters(pg.url()) < 1:  # the writer's command waits for the lock
            assert time.time() < deadline, "the command never waited for the instance lock"
            time.sleep(0.02)
        go.set()
        holding.join(20)
        writing.join(20)
        (result,) = outcome["result"].results
        assert result.ok and result.version == 6, result
        assert [e.version for e in holder.history("Counter", "a") or []] == [5, 6]
        assert (open_service(url, clock).show("Counter", "a") or {})["count"] == 104
    finally:
        writer.close()
        holder.close()
