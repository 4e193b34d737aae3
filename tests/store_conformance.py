"""The conformance suite every EventStore backend must pass (abstract test cases).

Subclass `StoreConformance`, name the subclass Test..., and implement `make_store` (and
`store_module`, the generated `store` module the backend belongs to). The SQLite store of the
generated package runs it in test_store_sqlite.py; a DynamoDB backend will run the same suite.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest


class StoreConformance:
    store_module: ModuleType

    def make_store(self) -> Any:
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Any:
        store = self.make_store()
        yield store
        store.close()

    # helpers
    def commit(self, store: Any, agg_id: str = "id-1", expected: int = 0, n: int = 1,
               keys: list[str] | None = None, at: float = 1000.0, **extra: Any) -> None:
        m = self.store_module
        c = m.Commit("Thing", agg_id, expected, recorded=at, add_keys=list(keys or []), **extra)
        c.events = [(f"{agg_id}-e{expected + i}", "Happened", {"n": expected + i})
                    for i in range(1, n + 1)]
        store.commit(c)

    # keychain
    def test_unknown_key_resolves_to_none(self, store: Any) -> None:
        assert store.resolve("Thing", "k") is None

    def test_committed_key_resolves(self, store: Any) -> None:
        self.commit(store, keys=["k"])
        assert store.resolve("Thing", "k") == "id-1"
        assert store.keys("Thing") == [("k", "id-1")]

    def test_key_taken_by_another_instance(self, store: Any) -> None:
        self.commit(store, "id-1", keys=["k"])
        with pytest.raises(self.store_module.KeyTakenError):
            self.commit(store, "id-2", keys=["k"])
        assert store.history("Thing", "id-2") == []  # nothing of the failed commit is stored

    def test_lookup_gives_id_idempotency_and_version(self, store: Any) -> None:
        assert store.lookup("Thing", "k", "Thing.Do", "r1", 1500.0)[:2] == (None, False)
        self.commit(store, keys=["k"], n=2, idempotency=("Thing.Do", "r1", 2000.0))
        aggregate_id, processed, version = store.lookup("Thing", "k", "Thing.Do", "r1", 1500.0)
        assert (aggregate_id, processed) == ("id-1", True)
        assert version in (2, None)  # None: a backend that cannot tell cheaply
        assert store.lookup("Thing", "k", "Thing.Do", "r1", 2500.0)[1] is False  # expired
        assert store.lookup("Thing", "k", "Thing.Do", None, 1500.0)[1] is False

    def test_rename_key(self, store: Any) -> None:
        self.commit(store, keys=["old"])
        self.commit(store, expected=1, keys=["new"], remove_keys=["old"])
        assert store.resolve("Thing", "old") is None
        assert store.resolve("Thing", "new") == "id-1"

    # events and versions
    def test_events_load_in_version_order(self, store: Any) -> None:
        self.commit(store, n=3)
        self.commit(store, expected=3, n=2)
        loaded = store.load("Thing", "id-1", "fp")
        assert [e[0] for e in loaded.events] == [1, 2, 3, 4, 5]
        assert [(e[1], e[2]["n"]) for e in loaded.events] == [("Happened", n) for n in range(1, 6)]
        assert loaded.version == 5 and loaded.snapshot is None

    def test_stale_expected_version_is_a_conflict(self, store: Any) -> None:
        self.commit(store, n=2)
        with pytest.raises(self.store_module.ConcurrencyError):
            self.commit(store, expected=1)
        with pytest.raises(self.store_module.ConcurrencyError):
            self.commit(store, expected=3)
        assert len(store.history("Thing", "id-1")) == 2

    def test_history_is_complete_and_ordered(self, store: Any) -> None:
        self.commit(store, n=2, at=5.0)
        history = store.history("Thing", "id-1")
        assert [(e.version, e.type, e.recorded) for e in history] == [
            (1, "Happened", 5.0), (2, "Happened", 5.0)]

    # idempotency and deliveries
    def test_idempotency_record_and_expiry(self, store: Any) -> None:
        self.commit(store, idempotency=("Thing.Do", "r1", 2000.0))
        assert store.is_processed("Thing.Do", "r1", 1500.0)
        assert not store.is_processed("Thing.Do", "r1", 2000.0)
        assert not store.is_processed("Thing.Do", "r2", 1500.0)

    def test_duplicate_idempotency_key_writes_nothing(self, store: Any) -> None:
        self.commit(store, idempotency=("Thing.Do", "r1", None))
        with pytest.raises(self.store_module.DuplicateError):
            self.commit(store, expected=1, idempotency=("Thing.Do", "r1", None))
        assert len(store.history("Thing", "id-1")) == 1

    def test_expired_idempotency_key_can_be_used_again(self, store: Any) -> None:
        self.commit(store, idempotency=("Thing.Do", "r1", 1500.0))
        self.commit(store, expected=1, at=1600.0, idempotency=("Thing.Do", "r1", None))
        assert store.is_processed("Thing.Do", "r1", 10_000.0)

    def test_delivery_is_recorded_once(self, store: Any) -> None:
        self.commit(store, delivery=("ev-1", "Thing.Do"))
        assert store.is_delivered("ev-1", "Thing.Do")
        assert not store.is_delivered("ev-1", "Other.Flow")
        with pytest.raises(self.store_module.DuplicateError):
            self.commit(store, expected=1, delivery=("ev-1", "Thing.Do"))

    # snapshots
    def test_snapshot_skips_covered_events(self, store: Any) -> None:
        m = self.store_module
        self.commit(store, n=3, snapshot=m.Snapshot(3, "fp", {"n": 3}))
        self.commit(store, expected=3, n=1)
        loaded = store.load("Thing", "id-1", "fp")
        assert loaded.snapshot == {"n": 3} and loaded.snapshot_version == 3
        assert [e[0] for e in loaded.events] == [4]

    def test_snapshot_of_another_shape_is_ignored(self, store: Any) -> None:
        m = self.store_module
        self.commit(store, n=3, snapshot=m.Snapshot(3, "old", {"n": 3}))
        loaded = store.load("Thing", "id-1", "new")
        assert loaded.snapshot is None and len(loaded.events) == 3

    # outbox
    def test_outbox_until_dispatched(self, store: Any) -> None:
        self.commit(store, n=2, outbox=frozenset({"Happened"}))
        rows = store.outbox(10)
        assert [(r[1], r[2]) for r in rows] == [("id-1-e1", "Happened"), ("id-1-e2", "Happened")]
        store.mark_dispatched([rows[0][0]])
        assert [r[1] for r in store.outbox(10)] == ["id-1-e2"]

    # purge
    def test_purge_deletes_only_covered_old_events(self, store: Any) -> None:
        m = self.store_module
        self.commit(store, n=3, at=100.0, snapshot=m.Snapshot(3, "fp", {"n": 3}))
        self.commit(store, expected=3, n=2, at=100.0)
        self.commit(store, "id-2", n=2, at=100.0)  # no snapshot: nothing may go
        assert store.purge("Thing", 200.0, "fp") == 3
        assert [e.version for e in store.history("Thing", "id-1")] == [4, 5]
        assert len(store.history("Thing", "id-2")) == 2
        loaded = store.load("Thing", "id-1", "fp")
        assert loaded.snapshot == {"n": 3} and [e[0] for e in loaded.events] == [4, 5]

    def test_purge_keeps_young_events_and_other_shapes(self, store: Any) -> None:
        m = self.store_module
        self.commit(store, n=3, at=100.0, snapshot=m.Snapshot(3, "old", {"n": 3}))
        assert store.purge("Thing", 200.0, "new") == 0  # a stale snapshot covers nothing
        assert store.purge("Thing", 50.0, "old") == 0  # not old enough
        assert len(store.history("Thing", "id-1")) == 3

    def test_after_purge_a_snapshot_of_another_shape_is_the_record(self, store: Any) -> None:
        m = self.store_module
        self.commit(store, n=3, at=100.0, snapshot=m.Snapshot(3, "old", {"n": 3}))
        store.purge("Thing", 200.0, "old")
        loaded = store.load("Thing", "id-1", "new")
        assert loaded.snapshot == {"n": 3} and loaded.migrated and loaded.version == 3

    def test_commit_after_everything_was_purged_continues_the_version(self, store: Any) -> None:
        m = self.store_module
        self.commit(store, n=3, at=100.0, snapshot=m.Snapshot(3, "fp", {"n": 3}))
        store.purge("Thing", 200.0, "fp")
        with pytest.raises(m.ConcurrencyError):
            self.commit(store, expected=0)
        self.commit(store, expected=3)
        assert [e.version for e in store.history("Thing", "id-1")] == [4]

    def test_only_published_types_reach_the_outbox(self, store: Any) -> None:
        self.commit(store, n=2, outbox=frozenset({"Other"}))
        assert store.outbox(10) == []

    def test_purge_records(self, store: Any) -> None:
        self.commit(store, idempotency=("Thing.Do", "r1", 150.0), outbox=frozenset({"Happened"}))
        store.mark_dispatched([r[0] for r in store.outbox(10)])
        assert store.purge_records(200.0) == 2
        assert store.outbox(10) == []

    # restore
    def test_restore_creates_instance_and_never_overwrites(self, store: Any) -> None:
        m = self.store_module
        assert store.restore("Thing", "k", m.Snapshot(7, "fp", {"n": 7}))
        aggregate_id = store.resolve("Thing", "k")
        loaded = store.load("Thing", aggregate_id, "fp")
        assert (loaded.snapshot, loaded.version) == ({"n": 7}, 7)
        assert not store.restore("Thing", "k", m.Snapshot(1, "fp", {"n": 1}))
        assert store.load("Thing", aggregate_id, "fp").snapshot == {"n": 7}
        self.commit(store, aggregate_id, expected=7)  # life goes on from the restored version
