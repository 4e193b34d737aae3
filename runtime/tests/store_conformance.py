"""The conformance suite every EventStore backend must pass (abstract test cases).

Subclass `StoreConformance`, name the subclass Test..., and implement `make_store`. The
SQLite store runs it in memory and on a file (test_store_sqlite.py); the PostgreSQL store
will run the same suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from draftsman_runtime.errors import ConcurrencyError, DuplicateError, KeyTakenError
from draftsman_runtime.store import (
    Commit,
    Emitted,
    EventStore,
    NewDelivery,
    Settlement,
    Snapshot,
)


class StoreConformance:
    def make_store(self) -> EventStore:
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[EventStore]:
        store = self.make_store()
        yield store
        store.close()

    # helpers
    @staticmethod
    def commit(
        store: EventStore,
        agg_id: str = "id-1",
        expected: int = 0,
        n: int = 1,
        keys: list[str] | None = None,
        at: float = 1000.0,
        **extra: Any,
    ) -> None:
        c = Commit("Thing", agg_id, expected, recorded=at, add_keys=list(keys or []), **extra)
        c.events = [
            (f"{agg_id}-e{expected + i}", "Happened", {"n": expected + i}) for i in range(1, n + 1)
        ]
        store.commit(c)

    @staticmethod
    def deliveries(*names: str) -> list[NewDelivery]:
        return [
            NewDelivery(f"ev-{name}", "Happened", "Other.Flow", {"n": name}, "Thing k@1")
            for name in names
        ]

    # keychain
    def test_unknown_key_resolves_to_none(self, store: EventStore) -> None:
        assert store.resolve("Thing", "k") is None

    def test_committed_key_resolves(self, store: EventStore) -> None:
        self.commit(store, keys=["k"])
        assert store.resolve("Thing", "k") == "id-1"
        assert store.keys("Thing") == [("k", "id-1")]

    def test_key_taken_by_another_instance(self, store: EventStore) -> None:
        self.commit(store, "id-1", keys=["k"])
        with pytest.raises(KeyTakenError):
            self.commit(store, "id-2", keys=["k"])
        assert store.history("Thing", "id-2") == []  # nothing of the failed commit is stored

    def test_lookup_gives_id_idempotency_and_head(self, store: EventStore) -> None:
        found = store.lookup("Thing", "k", "Thing.Do", "r1", 1500.0)
        assert (found.aggregate_id, found.processed, found.head) == (None, False, None)
        self.commit(store, keys=["k"], n=2, idempotency=("Thing.Do", "r1", 2000.0))
        found = store.lookup("Thing", "k", "Thing.Do", "r1", 1500.0)
        assert (found.aggregate_id, found.processed, found.head) == ("id-1", True, 2)
        assert store.lookup("Thing", "k", "Thing.Do", "r1", 2500.0).processed is False  # expired
        assert store.lookup("Thing", "k", "Thing.Do", None, 1500.0).processed is False

    def test_rename_key(self, store: EventStore) -> None:
        self.commit(store, keys=["old"])
        self.commit(store, expected=1, keys=["new"], remove_keys=["old"])
        assert store.resolve("Thing", "old") is None
        assert store.resolve("Thing", "new") == "id-1"

    def test_checked_key_commits_while_it_names_the_instance(self, store: EventStore) -> None:
        self.commit(store, keys=["k"])
        with store.exclusive():  # as the unit of work runs it: no lookup before the commit
            self.commit(store, expected=1, checked_key="k")
        assert store.load("Thing", "id-1", "fp").head == 2

    def test_checked_key_that_names_nothing_is_a_conflict(self, store: EventStore) -> None:
        self.commit(store, keys=["k"])
        self.commit(store, "id-2", keys=["other"])
        self.commit(store, expected=1, keys=["new"], remove_keys=["k"])  # k moved away
        for checked in ("k", "other", "never"):
            with pytest.raises(ConcurrencyError, match="no longer names"), store.exclusive():
                self.commit(
                    store,
                    expected=2,
                    checked_key=checked,
                    keys=["x"],
                    deliveries=self.deliveries("a"),
                )
        assert store.load("Thing", "id-1", "fp").head == 2  # nothing of them was written
        assert store.resolve("Thing", "x") is None
        assert store.due(10_000.0, 10) == []

    def test_checked_key_at_a_stale_version_is_a_conflict(self, store: EventStore) -> None:
        self.commit(store, keys=["k"], n=2)
        with pytest.raises(ConcurrencyError, match="expected version 1"):
            self.commit(store, expected=1, checked_key="k")
        assert store.load("Thing", "id-1", "fp").head == 2

    def test_a_commit_alone_is_stored_and_a_failed_one_leaves_nothing(
        self, store: EventStore
    ) -> None:
        self.commit(store, keys=["k"])
        with store.exclusive():  # the unit of work's fast path: one statement, no lookup
            self.commit(store, expected=1, checked_key="k", alone=True)
        with pytest.raises(ConcurrencyError), store.exclusive():
            self.commit(store, expected=1, checked_key="k", alone=True, keys=["x"])
        assert store.load("Thing", "id-1", "fp").head == 2
        assert store.resolve("Thing", "x") is None
        with store.exclusive():  # nothing more happens in this unit of work: still stored
            self.commit(store, expected=2, checked_key="k", alone=True)
        assert store.load("Thing", "id-1", "fp").head == 3

    def test_a_commit_alone_inside_another_unit_joins_it(self, store: EventStore) -> None:
        self.commit(store, keys=["k"])
        with pytest.raises(RuntimeError), store.exclusive():
            with store.exclusive():  # the inner unit of work: nothing written before it
                self.commit(store, expected=1, checked_key="k", alone=True)
            raise RuntimeError("the outer unit of work fails")
        assert store.load("Thing", "id-1", "fp").head == 1  # rolled back with the outer one

    def test_a_commit_alone_after_a_write_joins_its_transaction(self, store: EventStore) -> None:
        self.commit(store, keys=["k"])
        with pytest.raises(RuntimeError), store.exclusive():
            store.enqueue(self.deliveries("a"), 1000.0)
            self.commit(store, expected=1, checked_key="k", alone=True)
            raise RuntimeError("the unit of work fails after its commit")
        assert store.load("Thing", "id-1", "fp").head == 1  # rolled back with the delivery
        assert store.due(10_000.0, 10) == []

    # events, versions and heads
    def test_events_load_in_version_order(self, store: EventStore) -> None:
        self.commit(store, n=3)
        self.commit(store, expected=3, n=2)
        loaded = store.load("Thing", "id-1", "fp")
        assert [e[0] for e in loaded.events] == [1, 2, 3, 4, 5]
        assert [(e[1], e[2]["n"]) for e in loaded.events] == [("Happened", n) for n in range(1, 6)]
        assert loaded.head == 5 and loaded.snapshot is None and loaded.complete

    def test_load_after_a_version(self, store: EventStore) -> None:
        self.commit(store, n=3)
        loaded = store.load("Thing", "id-1", "fp", after=1)
        assert [e[0] for e in loaded.events] == [2, 3] and loaded.head == 3 and loaded.complete
        current = store.load("Thing", "id-1", "fp", after=3)
        assert current.events == [] and current.complete

    def test_stale_expected_version_is_a_conflict(self, store: EventStore) -> None:
        self.commit(store, n=2)
        with pytest.raises(ConcurrencyError):
            self.commit(store, expected=1)
        with pytest.raises(ConcurrencyError):
            self.commit(store, expected=3)
        with pytest.raises(ConcurrencyError):
            self.commit(store, expected=0)  # a second "new" instance with the same id
        assert len(store.history("Thing", "id-1")) == 2

    def test_history_is_complete_and_ordered(self, store: EventStore) -> None:
        self.commit(store, n=2, at=5.0)
        history = store.history("Thing", "id-1")
        assert [(e.version, e.type, e.recorded) for e in history] == [
            (1, "Happened", 5.0),
            (2, "Happened", 5.0),
        ]

    def test_a_commit_without_events_keeps_the_head(self, store: EventStore) -> None:
        self.commit(store, n=2, keys=["k"])
        self.commit(store, expected=2, n=0, idempotency=("Thing.Do", "r9", None))
        found = store.lookup("Thing", "k", "Thing.Do", "r9", 1.0)
        assert (found.processed, found.head) == (True, 2)
        assert store.load("Thing", "id-1", "fp").head == 2

    # idempotency
    def test_duplicate_idempotency_key_writes_nothing(self, store: EventStore) -> None:
        self.commit(store, idempotency=("Thing.Do", "r1", None))
        with pytest.raises(DuplicateError):
            self.commit(store, expected=1, idempotency=("Thing.Do", "r1", None))
        assert len(store.history("Thing", "id-1")) == 1
        assert store.load("Thing", "id-1", "fp").head == 1  # the head did not move either

    def test_expired_idempotency_key_can_be_used_again(self, store: EventStore) -> None:
        self.commit(store, keys=["k"], idempotency=("Thing.Do", "r1", 1500.0))
        self.commit(store, expected=1, at=1600.0, idempotency=("Thing.Do", "r1", None))
        assert store.lookup("Thing", "k", "Thing.Do", "r1", 10_000.0).processed

    # snapshots
    def test_snapshot_skips_covered_events(self, store: EventStore) -> None:
        self.commit(store, n=3, snapshot=Snapshot(3, "fp", {"n": 3}))
        self.commit(store, expected=3, n=1)
        loaded = store.load("Thing", "id-1", "fp")
        assert loaded.snapshot == {"n": 3} and loaded.snapshot_version == 3
        assert [e[0] for e in loaded.events] == [4] and loaded.complete

    def test_snapshot_of_another_shape_is_ignored(self, store: EventStore) -> None:
        self.commit(store, n=3, snapshot=Snapshot(3, "old", {"n": 3}))
        loaded = store.load("Thing", "id-1", "new")
        assert loaded.snapshot is None and len(loaded.events) == 3 and loaded.complete

    # purge
    def test_purge_deletes_only_covered_old_events(self, store: EventStore) -> None:
        self.commit(store, n=3, at=100.0, snapshot=Snapshot(3, "fp", {"n": 3}))
        self.commit(store, expected=3, n=2, at=100.0)
        self.commit(store, "id-2", n=2, at=100.0)  # no snapshot: nothing may go
        assert store.purge("Thing", 200.0, "fp") == 3
        assert [e.version for e in store.history("Thing", "id-1")] == [4, 5]
        assert len(store.history("Thing", "id-2")) == 2
        loaded = store.load("Thing", "id-1", "fp")
        assert loaded.snapshot == {"n": 3} and [e[0] for e in loaded.events] == [4, 5]
        assert loaded.complete

    def test_purge_keeps_young_events_and_other_shapes(self, store: EventStore) -> None:
        self.commit(store, n=3, at=100.0, snapshot=Snapshot(3, "old", {"n": 3}))
        assert store.purge("Thing", 200.0, "new") == 0  # a stale snapshot covers nothing
        assert store.purge("Thing", 50.0, "old") == 0  # not old enough
        assert len(store.history("Thing", "id-1")) == 3

    def test_after_purge_a_snapshot_of_another_shape_is_the_record(self, store: EventStore) -> None:
        self.commit(store, n=3, at=100.0, snapshot=Snapshot(3, "old", {"n": 3}))
        store.purge("Thing", 200.0, "old")
        loaded = store.load("Thing", "id-1", "new")
        assert loaded.snapshot == {"n": 3} and loaded.migrated and loaded.version == 3

    def test_a_purged_stream_keeps_its_head(self, store: EventStore) -> None:
        self.commit(store, n=3, at=100.0, snapshot=Snapshot(3, "fp", {"n": 3}))
        assert store.purge("Thing", 200.0, "fp") in (2, 3)  # a backend may keep the newest
        assert [e.version for e in store.history("Thing", "id-1")] in ([], [3])
        for stale in (0, 1, 2):  # versions once used can never be written again
            with pytest.raises(ConcurrencyError):
                self.commit(store, expected=stale)
        self.commit(store, expected=3)
        assert [e.version for e in store.history("Thing", "id-1")][-1:] == [4]

    def test_load_after_a_purged_version_is_incomplete(self, store: EventStore) -> None:
        """What a long-lived service with a stale cache sees after another purged."""
        self.commit(store, n=2, at=100.0)
        self.commit(store, expected=2, n=3, at=100.0, snapshot=Snapshot(5, "fp", {"n": 5}))
        assert store.purge("Thing", 200.0, "fp") >= 4
        stale = store.load("Thing", "id-1", "fp", after=2)
        assert stale.head == 5 and not stale.complete
        fresh = store.load("Thing", "id-1", "fp")
        assert fresh.snapshot == {"n": 5} and fresh.complete

    # deliveries
    def test_commit_stores_deliveries_pending(self, store: EventStore) -> None:
        self.commit(store, deliveries=self.deliveries("a", "b"), at=10.0)
        due = store.due(10.0, 10)
        assert [(d.event_id, d.flow, d.status, d.attempts, d.origin) for d in due] == [
            ("ev-a", "Other.Flow", "pending", 0, "Thing k@1"),
            ("ev-b", "Other.Flow", "pending", 0, "Thing k@1"),
        ]
        assert due[0].data == {"n": "a"} and due[0].id < due[1].id
        assert store.due(9.0, 10) == []  # not due before it was stored
        assert store.due(10.0, 10, after=due[0].id) == due[1:]
        assert store.next_due() == 10.0

    def test_a_failed_commit_stores_no_delivery(self, store: EventStore) -> None:
        self.commit(store, n=1)
        with pytest.raises(ConcurrencyError):
            self.commit(store, expected=0, deliveries=self.deliveries("x"))
        assert store.due(1e12, 10) == []

    def test_enqueue_ignores_a_delivery_already_there(self, store: EventStore) -> None:
        store.enqueue(self.deliveries("a"), 5.0)
        store.enqueue(self.deliveries("a"), 6.0)
        assert len(store.due(10.0, 10)) == 1

    def test_claim_and_settle(self, store: EventStore) -> None:
        store.enqueue(self.deliveries("a"), 5.0)
        (delivery,) = store.due(5.0, 10)
        with store.exclusive():
            claimed = store.claim(delivery.id, 5.0)
            assert claimed is not None and claimed.event_id == "ev-a"
            store.settle(delivery.id, Settlement("done", 1, 5.0, "accepted"), 6.0)
        with store.exclusive():
            assert store.claim(delivery.id, 7.0) is None  # settled: nobody can run it again
        (done,) = store.deliveries(("done",), 10)
        assert (done.status, done.attempts, done.reason, done.updated) == (
            "done",
            1,
            "accepted",
            6.0,
        )
        assert store.next_due() is None

    def test_a_trace_is_every_delivery_of_one_correlation_with_its_outcome(
        self, store: EventStore
    ) -> None:
        command = [
            NewDelivery("command:c1", "Open", "A.Open", {"k": "x"}, "", "c1"),
            NewDelivery("command:c1", "Open", "B.Open", {"k": "x"}, "", "c1"),
        ]
        store.enqueue(command, 1.0)
        store.enqueue([NewDelivery("command:c2", "Open", "A.Open", {"k": "y"}, "", "c2")], 1.0)
        first, second = store.trace("c1")
        assert (first.flow, second.flow, first.correlation) == ("A.Open", "B.Open", "c1")
        emitted = (Emitted("Opened", 1, {"k": "x"}),)
        with store.exclusive():
            assert store.claim(first.id, 2.0) is not None
            store.settle(
                first.id, Settlement("done", 1, 2.0, "accepted", key="x", emitted=emitted), 2.0
            )
        # the event's delivery to a third flow descends from the same command
        store.commit(
            Commit(
                "A",
                "id-x",
                0,
                events=[("ev-1", "Opened", {"k": "x"})],
                add_keys=["x"],
                deliveries=[NewDelivery("ev-1", "Opened", "C.Count", {"k": "x"}, "A x@1", "c1")],
                recorded=3.0,
            )
        )
        runs = store.trace("c1")
        assert [r.flow for r in runs] == ["A.Open", "B.Open", "C.Count"]
        assert (runs[0].status, runs[0].key, runs[0].emitted) == ("done", "x", emitted)
        assert (runs[1].status, runs[1].emitted) == ("pending", ())
        assert store.trace("") == [] and store.trace("unknown") == []

    def test_a_rolled_back_settlement_leaves_the_delivery_pending(self, store: EventStore) -> None:
        store.enqueue(self.deliveries("a"), 5.0)
        (delivery,) = store.due(5.0, 10)
        with pytest.raises(RuntimeError), store.exclusive():
            store.settle(delivery.id, Settlement("done", 1, 5.0), 5.0)
            raise RuntimeError("crash before the commit")
        assert [d.id for d in store.due(5.0, 10)] == [delivery.id]

    def test_retry_later_then_dead_then_redeliver(self, store: EventStore) -> None:
        store.enqueue(self.deliveries("a", "b"), 5.0)
        first, second = store.due(5.0, 10)
        with store.exclusive():
            store.settle(first.id, Settlement("pending", 1, 65.0, "technical-error", "boom"), 5.0)
            store.settle(second.id, Settlement("rejected", 1, 5.0, "not-found", "gone"), 5.0)
        assert store.due(60.0, 10) == [] and store.next_due() == 65.0
        (retry,) = store.due(65.0, 10)
        assert (retry.attempts, retry.message) == (1, "boom")
        with store.exclusive():
            store.settle(
                first.id, Settlement("dead", 4, 70.0, "technical-error", "boom", "tb"), 70.0
            )
        (dead,) = store.deliveries(("dead",), 10)
        assert (dead.id, dead.detail) == (first.id, "tb")
        assert [d.id for d in store.deliveries(("rejected", "dead"), 10)] == [first.id, second.id]
        assert store.redeliver(None, 80.0) == [first.id]  # all dead letters
        assert store.redeliver([second.id, 999], 80.0) == [second.id]  # rejected, on request
        assert store.redeliver([second.id], 80.0) == []  # already pending again
        again = store.due(80.0, 10)
        assert [(d.id, d.attempts, d.status) for d in again] == [
            (first.id, 0, "pending"),
            (second.id, 0, "pending"),
        ]

    def test_purge_records(self, store: EventStore) -> None:
        self.commit(store, idempotency=("Thing.Do", "r1", 150.0))
        store.enqueue(self.deliveries("a", "b", "c"), 100.0)
        a, b, c = store.due(100.0, 10)
        with store.exclusive():
            store.settle(a.id, Settlement("done", 1, 100.0), 100.0)
            store.settle(b.id, Settlement("dead", 4, 100.0), 100.0)
        assert store.purge_records(200.0, settled_before=150.0) == 2  # the record and `a`
        assert [d.id for d in store.deliveries(("dead",), 10)] == [b.id]  # dead letters stay
        assert [d.id for d in store.due(200.0, 10)] == [c.id]  # pending ones too

    # restore
    def test_restore_creates_instances_and_never_overwrites(self, store: EventStore) -> None:
        self.commit(store, "id-0", keys=["taken"])
        created = store.restore(
            "Thing", [("k", Snapshot(7, "fp", {"n": 7})), ("taken", Snapshot(1, "fp", {"n": 1}))]
        )
        assert created == 1
        aggregate_id = store.resolve("Thing", "k")
        assert aggregate_id is not None
        loaded = store.load("Thing", aggregate_id, "fp")
        assert (loaded.snapshot, loaded.version, loaded.complete) == ({"n": 7}, 7, True)
        assert store.restore("Thing", [("k", Snapshot(1, "fp", {"n": 1}))]) == 0
        assert store.load("Thing", aggregate_id, "fp").snapshot == {"n": 7}
        self.commit(store, aggregate_id, expected=7)  # life goes on from the restored version
        assert [e.version for e in store.history("Thing", aggregate_id)] == [8]
