"""The SQLite store: the conformance suite in memory and on a file, and what only a file
can go through (another application's file, damage, read-only, a lock held too long)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from store_conformance import StoreConformance

from draftsman_runtime.errors import StoreError
from draftsman_runtime.sqlite import APPLICATION_ID, SCHEMA_VERSION, SQLiteEventStore
from draftsman_runtime.store import Commit, EventStore


class TestSQLiteMemoryStore(StoreConformance):
    def make_store(self) -> EventStore:
        return SQLiteEventStore(":memory:")


class TestSQLiteFileStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.path = tmp_path / "events.sqlite3"

    def make_store(self) -> EventStore:
        return SQLiteEventStore(str(self.path), synchronous="FULL")


def test_a_new_file_is_marked_as_ours_in_wal_mode(tmp_path: Path) -> None:
    SQLiteEventStore(str(tmp_path / "s.sqlite3")).close()
    db = sqlite3.connect(tmp_path / "s.sqlite3")
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    SQLiteEventStore(str(tmp_path / "s.sqlite3")).close()  # and opens again


def test_bad_synchronous_setting_is_refused() -> None:
    with pytest.raises(StoreError, match="synchronous must be one of"):
        SQLiteEventStore(":memory:", synchronous="SOMETIMES")


def _unchanged(path: Path) -> bytes:
    return path.read_bytes()


def test_a_file_of_another_application_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers (name) VALUES ('Ada')")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is not a draftsman event store .it holds customers."):
        SQLiteEventStore(str(path))
    assert path.read_bytes() == before


def test_a_store_of_the_first_generated_runtime_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    for table in ("keychain", "events", "snapshots", "idempotency", "deliveries", "outbox"):
        db.execute(f"CREATE TABLE {table} (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="draftsman-gen 0.1 generated.*backup --force"):
        SQLiteEventStore(str(path))


def test_a_store_of_a_newer_runtime_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    SQLiteEventStore(str(path)).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer draftsman-runtime"):
        SQLiteEventStore(str(path))


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b"\x00" * 5000])
def test_a_file_that_is_not_a_database(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="is damaged or not a SQLite database"):
        SQLiteEventStore(str(path))
    assert path.read_bytes() == content


def test_a_damaged_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite3"
    store = SQLiteEventStore(str(path))
    for n in range(200):
        store.commit(
            Commit(
                "Thing", f"id-{n}", 0, events=[(f"e{n}", "T", {"x": "y" * 200})], add_keys=[f"k{n}"]
            )
        )
    store.close()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 2, len(data), 4096):  # scribble over every page but the first
        data[offset + 100 : offset + 400] = os.urandom(300)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged"):
        store = SQLiteEventStore(str(path))
        for n in range(200):
            store.load("Thing", f"id-{n}", "fp")


def test_a_write_refused_by_sqlite_is_a_read_only_store_error(tmp_path: Path) -> None:
    """SQLite's own read-only answer (query_only gives the same error code as a read-only
    file); the CLI tests use a read-only file system."""
    path = tmp_path / "q.sqlite3"
    store = SQLiteEventStore(str(path))
    store._db.execute("PRAGMA query_only = 1")
    with pytest.raises(StoreError, match="read-only"):
        store.commit(Commit("Thing", "id", 0, events=[("e", "T", {})]))
    store.close()


def test_a_lock_held_too_long_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    SQLiteEventStore(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = SQLiteEventStore(str(path), busy_timeout=0.2)
        with pytest.raises(StoreError, match="locked by another process; gave up after 0.2 s"):
            store.commit(Commit("Thing", "id", 0, events=[("e", "T", {})]))
        assert store.history("Thing", "id") == []  # reads go on beside the writer (WAL)
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_missing_folder_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open .*: the folder .* does not exist"):
        SQLiteEventStore(str(tmp_path / "no" / "such" / "folder" / "x.sqlite3"))


def test_a_schema_1_store_is_upgraded_in_place_keeping_everything(tmp_path: Path) -> None:
    """Runtime 0.2 wrote schema 1: deliveries had no correlation, instance or emitted."""
    from draftsman_runtime.sqlite import _UPGRADE_1_2
    from draftsman_runtime.store import NewDelivery

    path = tmp_path / "old.sqlite3"
    store = SQLiteEventStore(str(path))
    store.commit(Commit("Counter", "id-1", 0, events=[("e1", "Created", {"n": 1})], add_keys=["a"]))
    store.enqueue([NewDelivery("e1", "Created", "Tally.Open", {"n": 1}, "Counter a@1")], 1.0)
    store.close()
    db = sqlite3.connect(path)  # turn it back into schema 1, as 0.2 left it
    db.execute("DROP INDEX deliveries_correlation")
    for column in ("correlation", "instance", "emitted"):
        db.execute(f"ALTER TABLE deliveries DROP COLUMN {column}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    assert "ADD COLUMN correlation" in _UPGRADE_1_2

    upgraded = SQLiteEventStore(str(path))
    try:
        [delivery] = upgraded.deliveries(("pending",), 10)
        assert (delivery.event_type, delivery.flow, delivery.correlation) == (
            "Created",
            "Tally.Open",
            "",
        )
        assert upgraded.resolve("Counter", "a") == "id-1"
        assert len(upgraded.history("Counter", "id-1")) == 1
        version = upgraded._db.execute("PRAGMA user_version").fetchone()[0]
        assert version == SCHEMA_VERSION == 2
    finally:
        upgraded.close()
