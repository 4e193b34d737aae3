"""The unit of work through the service facade: results, idempotency, errors located in the
model, emitted events checked, several flows per command, and the document cache against
purges and other processes."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import Clock, make_service, open_service
from toy import model
from toy.registry import COUNTER, REGISTRY

from draftsman_runtime import Accepted, PayloadError, Rejected, Service, Settings
from draftsman_runtime.store import Snapshot

HOUR = 3600.0


def create(service: Service, name: str = "a", limit: int = 100) -> None:
    assert service.submit("CreateCounter", {"name": name, "limit": limit}).ok


def test_a_command_runs_every_flow_it_triggers(service: Service) -> None:
    submission = service.submit("CreateCounter", {"name": "a", "limit": 5})
    assert [r.flow for r in submission.results] == ["Counter.Create", "Tally.Open"]
    assert submission.ok and all(isinstance(r, Accepted) for r in submission.results)
    assert service.show("Counter", "a") == {"name": "a", "count": 0, "limit": 5}
    assert service.show("Tally", "a") == {"name": "a", "total": 0, "frozen": False}


def test_the_flows_of_a_command_succeed_or_fail_on_their_own(service: Service) -> None:
    create(service)
    assert service.submit("Reset", {"name": "a", "freeze": True}).ok
    # A counter without a tally: Reset is accepted by Counter.Reset and rejected by Tally.Reset.
    service.store.restore("Counter", [("b", Snapshot(0, COUNTER.fingerprint, {"name": "b"}))])
    reset_b = service.submit("Reset", {"name": "b"})
    counter, tally = reset_b.results
    assert counter.ok and isinstance(tally, Rejected) and tally.reason == "not-found"
    assert not reset_b.ok
    assert reset_b.result("Tally.Reset") is tally
    assert [e.version for e in service.history("Counter", "b") or []] == [1]


def test_same_command_three_times_has_one_effect(service: Service) -> None:
    create(service)
    payload = {"name": "a", "amount": 10, "ref": "r1"}
    results = [service.submit("AddToCounter", payload).results[0] for _ in range(3)]
    assert [r.ok for r in results] == [True, False, False]
    assert {r.reason for r in results[1:] if isinstance(r, Rejected)} == {"already-processed"}
    assert (service.show("Counter", "a") or {})["count"] == 10


def test_idempotency_ttl_expires(service: Service, clock: Clock) -> None:
    create(service)
    payload = {"name": "a", "amount": 1, "ref": "r1"}
    assert service.submit("AddToCounter", payload).ok
    clock.advance(599)
    assert not service.submit("AddToCounter", payload).ok
    clock.advance(2)  # the TTL is 600 seconds
    assert service.submit("AddToCounter", payload).ok


def test_a_functional_error_stores_nothing(service: Service) -> None:
    create(service, limit=5)
    before = service.history("Counter", "a")
    result = service.submit("AddToCounter", {"name": "a", "amount": 6, "ref": "x"}).results[0]
    assert isinstance(result, Rejected)
    assert (result.reason, result.message) == ("functional", "limit 5 exceeded")
    assert service.history("Counter", "a") == before
    # the idempotency key of the rejected command was not recorded either
    assert service.submit("AddToCounter", {"name": "a", "amount": 5, "ref": "x"}).ok


def test_a_bug_in_model_code_is_a_located_technical_error(service: Service) -> None:
    create(service)
    result = service.submit("AddToCounter", {"name": "a", "amount": 13, "ref": "z"}).results[0]
    assert isinstance(result, Rejected) and result.reason == "technical-error"
    assert result.where == "model/Counter/Add.yaml:9"
    assert "at model/Counter/Add.yaml:9" in result.message
    assert "ZeroDivisionError" in result.message and "Traceback" in result.detail
    assert len(service.history("Counter", "a") or []) == 1


def test_an_emitted_event_of_the_wrong_type_is_stopped_before_storing(service: Service) -> None:
    create(service)
    add = REGISTRY.trigger("Counter.Add", "AddToCounter")
    assert add is not None
    mistyped = dataclasses.replace(add, run=model.add_mistyped)
    parsed = model.AddToCounter.from_payload({"name": "a", "amount": 2, "ref": "m"})
    result = service.work.run(mistyped, parsed)
    assert isinstance(result, Rejected) and result.reason == "technical-error"
    assert result.where == "model/Counter/Add.yaml:20"
    assert (
        "emitted Added: field 'amount': expected an integer, got a string ('2')" in result.message
    )
    assert len(service.history("Counter", "a") or []) == 1
    assert service.submit("AddToCounter", {"name": "a", "amount": 2, "ref": "m"}).ok


def test_create_twice_and_missing_instance(service: Service) -> None:
    create(service)
    again = service.submit("CreateCounter", {"name": "a"}).results[0]
    assert isinstance(again, Rejected)
    assert (again.reason, again.message) == ("already-exists", "Counter 'a' already exists")
    missing = service.submit("AddToCounter", {"name": "b", "amount": 1}).results[0]
    assert isinstance(missing, Rejected) and missing.reason == "not-found"


def test_unknown_command_and_bad_payloads_raise_before_anything_runs(service: Service) -> None:
    with pytest.raises(
        PayloadError,
        match="unknown command 'Nope'; known commands: " "AddToCounter, CreateCounter, Reset",
    ):
        service.submit("Nope", {})
    with pytest.raises(PayloadError, match=r"CreateCounter.limit: expected an integer"):
        service.submit("CreateCounter", {"name": "a", "limit": "x"})
    assert service.show("Counter", "a") is None


def test_each_flow_run_is_one_log_line(service: Service, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="draftsman_runtime")
    service.submit("CreateCounter", {"name": "a b", "limit": 3})
    lines = [r.getMessage() for r in caplog.records if r.name == "draftsman_runtime.flows"]
    assert len(lines) == 2
    assert lines[0].startswith(
        "source=CreateCounter flow=Counter.Create aggregate=Counter "
        'key="a b" outcome=accepted ms='
    )
    assert "limit" not in " ".join(lines)  # payloads are never logged


# -- the document cache -------------------------------------------------------------------
def test_a_second_service_on_the_same_file_sees_every_write(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite3")
    clock = Clock()
    one, two = make_service(path, clock), make_service(path, clock)
    create(one)
    for n in range(1, 8):  # alternate writers: each must see the other's writes
        writer = one if n % 2 else two
        assert writer.submit("AddToCounter", {"name": "a", "amount": 1, "ref": f"r{n}"}).ok
    assert (one.show("Counter", "a") or {})["count"] == 7
    assert (two.show("Counter", "a") or {})["count"] == 7
    versions = [e.version for e in one.history("Counter", "a") or []]
    assert versions == list(range(1, 9))


def _counting_lookups(service: Service) -> list[str]:
    """Record the keys `service`'s store is asked to look up."""
    asked: list[str] = []
    store = service.store
    lookup = store.lookup

    def counted(aggregate: str, key: str, *rest: object) -> object:
        asked.append(key)
        return lookup(aggregate, key, *rest)  # type: ignore[arg-type]

    store.lookup = counted  # type: ignore[method-assign]
    return asked


def test_a_key_written_last_skips_the_lookup(service: Service) -> None:
    asked = _counting_lookups(service)
    create(service, limit=5)  # Counter.Create and Tally.Open look the key up
    assert asked == ["a", "a"]
    for _ in range(2):
        result = service.submit("Reset", {"name": "a"})
        assert result.ok and len(result.results) == 2
    assert service.submit("AddToCounter", {"name": "a", "amount": 4, "ref": "r1"}).ok
    assert asked == ["a", "a"]  # the commits checked the key (and the idempotency key) instead
    # Repeated: the flow accepts on the cached document, the commit finds r1 and writes nothing.
    service.submit("Reset", {"name": "a"})
    again = service.submit("AddToCounter", {"name": "a", "amount": 4, "ref": "r1"}).results[0]
    assert isinstance(again, Rejected) and again.reason == "already-processed"
    assert (service.show("Counter", "a") or {})["count"] == 0
    assert service.submit("AddToCounter", {"name": "a", "amount": 4, "ref": "r2"}).ok
    # Repeated where the cached document rejects it (over the limit): the lookup decides.
    again = service.submit("AddToCounter", {"name": "a", "amount": 4, "ref": "r2"}).results[0]
    assert isinstance(again, Rejected) and again.reason == "already-processed", again
    assert asked == ["a", "a", "a"]
    over = service.submit("AddToCounter", {"name": "a", "amount": 4, "ref": "r3"}).results[0]
    assert isinstance(over, Rejected) and over.reason == "functional"
    assert (service.show("Counter", "a") or {})["count"] == 4
    versions = [e.version for e in service.history("Counter", "a") or []]
    assert versions == list(range(1, 7))


def test_two_services_without_lookups_see_each_others_writes(database: str) -> None:
    """Each service's cache goes stale at every other write: the commit's key and version
    check refuses it, and the retry looks the key up, so every write lands exactly once."""
    clock = Clock()
    one, two = open_service(database, clock), open_service(database, clock)
    try:
        create(one)
        assert two.submit("AddToCounter", {"name": "a", "amount": 5, "ref": "x"}).ok
        for n in range(1, 9):  # Reset skips the lookup on a key its service wrote last
            writer = one if n % 2 else two
            result = writer.submit("Reset", {"name": "a"}).results[0]
            assert isinstance(result, Accepted) and result.version == n + 2
        assert (one.show("Counter", "a") or {})["count"] == 0
        assert [e.version for e in two.history("Counter", "a") or []] == list(range(1, 11))
    finally:
        one.close()
        two.close()


def test_threads_of_two_services_on_one_key_never_give_up(database: str) -> None:
    """The review's give-ups: threads share their service's cache, so a retry after a
    conflict must not trust it again (another thread may have refilled it)."""
    clock = Clock()
    services = [open_service(database, clock), open_service(database, clock)]
    try:
        create(services[0])
        results: list[object] = []

        def hammer(service: Service) -> None:
            for _ in range(25):
                results.extend(service.submit("Reset", {"name": "a"}).results)

        threads = [threading.Thread(target=hammer, args=(s,)) for s in services for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        reasons = [r.reason for r in results if isinstance(r, Rejected)]
        assert reasons == [] and len(results) == 2 * 3 * 25 * 2  # Counter.Reset, Tally.Reset
        versions = [e.version for e in services[1].history("Counter", "a") or []]
        assert versions == list(range(1, 2 + 6 * 25))
    finally:
        for service in services:
            service.close()


def test_a_stale_cache_after_a_purge_is_never_used(tmp_path: Path) -> None:
    """The reported case: service A caches the counter at v2; service B on the same file
    moves it to v10 (a snapshot at 10); a purge later deletes v1-v10; then A writes."""
    path = str(tmp_path / "s.sqlite3")
    clock = Clock()
    a, b = make_service(path, clock), make_service(path, clock)
    create(a)
    assert a.submit("AddToCounter", {"name": "a", "amount": 1, "ref": "a1"}).ok  # A caches v2
    for n in range(8):
        assert b.submit("AddToCounter", {"name": "a", "amount": 10, "ref": f"b{n}"}).ok
    head = b.history("Counter", "a") or []
    assert head[-1].version == 10  # Counter snapshots every 5 events: one covers v1-v10
    clock.advance(2 * HOUR)  # past Counter's event-ttl of one hour
    assert b.purge()["Counter"] == 9  # the newest event stays: it holds the head version
    assert [e.version for e in b.history("Counter", "a") or []] == [10]
    result = a.submit("AddToCounter", {"name": "a", "amount": 1, "ref": "a2"}).results[0]
    assert isinstance(result, Accepted) and result.version == 11  # never a reused version
    assert (a.show("Counter", "a") or {})["count"] == 82
    assert (b.show("Counter", "a") or {})["count"] == 82
    assert [e.version for e in a.history("Counter", "a") or []] == [10, 11]


def test_a_flow_that_fails_leaves_the_cache_untouched(service: Service) -> None:
    create(service, limit=5)
    assert service.submit("AddToCounter", {"name": "a", "amount": 4}).ok
    assert not service.submit("AddToCounter", {"name": "a", "amount": 4}).ok  # over the limit
    assert (service.show("Counter", "a") or {})["count"] == 4
    assert service.submit("AddToCounter", {"name": "a", "amount": 1}).ok


def test_seeded_state_is_version_zero(service: Service) -> None:
    service.seed("Counter", "s", {"name": "s", "count": 3, "limit": 9})
    result = service.submit("AddToCounter", {"name": "s", "amount": 2}).results[0]
    assert isinstance(result, Accepted) and result.version == 1
    assert result.document == {"name": "s", "count": 5, "limit": 9}


def test_show_and_history_of_unknown_keys(service: Service) -> None:
    assert service.show("Counter", "nope") is None
    assert service.history("Counter", "nope") is None
    with pytest.raises(
        PayloadError, match="unknown aggregate 'Nope'; known aggregates: " "Counter, Tally"
    ):
        service.show("Nope", "x")
    with pytest.raises(PayloadError, match="unpaired surrogate"):
        service.show("Counter", "\ud800")


def test_an_instance_the_store_cannot_rebuild_is_a_technical_error(tmp_path: Path) -> None:
    """Events missing below the head with no snapshot covering them (damaged data): the flow
    is refused with a technical error, nothing is stored, other instances go on."""
    path = str(tmp_path / "s.sqlite3")
    writer = make_service(path)
    create(writer, "a")
    create(writer, "b")
    for n in range(3):
        assert writer.submit("AddToCounter", {"name": "a", "amount": 1, "ref": f"r{n}"}).ok
    writer.close()
    damaged = sqlite3.connect(path)
    damaged.execute(
        "DELETE FROM events WHERE aggregate = 'Counter' AND version = 2 AND id = "
        "(SELECT id FROM keychain WHERE aggregate = 'Counter' AND key = 'a')"
    )
    damaged.commit()
    fresh = make_service(path)
    result = fresh.submit("AddToCounter", {"name": "a", "amount": 1}).results[0]
    assert isinstance(result, Rejected) and result.reason == "technical-error"
    assert "lacks events between version 0 and 4" in result.message
    assert fresh.submit("AddToCounter", {"name": "b", "amount": 1}).ok


def test_a_document_left_with_a_value_of_the_wrong_type_is_not_stored(service: Service) -> None:
    create(service)
    add = REGISTRY.trigger("Counter.Add", "AddToCounter")
    assert add is not None
    breaking = dataclasses.replace(add, run=model.add_breaking_the_document)
    parsed = model.AddToCounter.from_payload({"name": "a", "amount": 2, "ref": "m"})
    result = service.work.run(breaking, parsed)
    assert isinstance(result, Rejected) and result.reason == "technical-error"
    assert "the Counter document after the flow: field 'limit': integer out of range" in (
        result.message
    )
    assert (service.show("Counter", "a") or {})["limit"] == 100
    assert len(service.history("Counter", "a") or []) == 1


@dataclasses.dataclass(frozen=True)
class _Rename:
    name: str
    new: str

    @classmethod
    def from_payload(cls, data: Any) -> _Rename:
        return cls(name=data["name"], new=data["new"])


@dataclasses.dataclass
class _RenameFlow:
    entity: Any
    identity: str
    new: str
    events: list[Any] = dataclasses.field(default_factory=list)


def _rename(flow: _RenameFlow) -> None:
    flow.identity = flow.new  # update-key without an event (generated flows always emit one)


def test_a_cached_commit_without_events_looks_its_key_up(database: str) -> None:
    """A commit without events leaves the head where it was, so the store's compare-and-set
    cannot tell it from a concurrent one: on a cached key, such a unit of work looks the key
    up (and takes the instance's lock first) instead of trusting the cache."""
    from toy.registry import COUNTER, TRIGGERS

    from draftsman_runtime import Registry, TriggerSpec
    from draftsman_runtime.service import open_store

    rename = TriggerSpec(source="Rename", aggregate=COUNTER, flow="Counter.Rename",
                         model_file="toy/Counter/Rename.yaml", create=False,
                         parse=_Rename.from_payload, key=lambda event: event.name,
                         start=lambda e, d, k: _RenameFlow(entity=d, identity=k, new=e.new),
                         run=_rename)
    registry = Registry(package="toy", project="Toy", env_prefix="TOY", generator="test",
                        aggregates=list(REGISTRY.aggregates.values()),
                        commands={**REGISTRY.commands, "Rename": _Rename.from_payload},
                        triggers=[*TRIGGERS, rename])
    settings = Settings(database=database)
    service = Service(registry, open_store(settings), clock=Clock(), settings=settings)
    try:
        asked = _counting_lookups(service)
        create(service)
        assert asked == ["a", "a"]
        result = service.submit("Rename", {"name": "a", "new": "b"}).results[0]
        assert isinstance(result, Accepted), result
        assert asked == ["a", "a", "a"]  # the cached attempt gave way to a lookup
        assert service.store.keys("Counter") == [("b", service.store.resolve("Counter", "b"))]
    finally:
        service.close()
