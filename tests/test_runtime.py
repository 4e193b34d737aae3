"""The generated runtime: idempotency, fan-out, snapshots, purge, backup and restore."""

from __future__ import annotations

import gzip
import importlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

DAY = 86_400.0


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def service(package: str, path: str = ":memory:", clock: Clock | None = None) -> Any:
    svc = importlib.import_module(f"{package}.service")
    store = importlib.import_module(f"{package}.store")
    cls = next(v for k, v in vars(svc).items() if k.endswith("Service") and k != "Service")
    return cls(store.SQLiteEventStore(path), clock=clock or Clock())


@pytest.fixture
def bank(generated: Path) -> Any:
    s = service("banking")
    assert s.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Ada"}).ok
    return s


def test_same_command_three_times_has_one_effect(bank: Any) -> None:
    payload = {"accountNumber": "NL01BANK0001", "amount": 10, "reference": "r1"}
    results = [bank.submit("DepositRequested", payload) for _ in range(3)]
    assert [r.ok for r in results] == [True, False, False]
    assert {r.reason for r in results[1:]} == {"already-processed"}
    assert bank.show("Account", "NL01BANK0001")["balance"] == 10.0
    assert len(bank.history("Account", "NL01BANK0001")) == 2


def test_idempotency_ttl_expires(generated: Path) -> None:
    clock = Clock()
    s = service("banking", clock=clock)
    s.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Ada"})
    payload = {"accountNumber": "NL01BANK0001", "amount": 10, "reference": "r1"}
    assert s.submit("DepositRequested", payload).ok
    clock.now += 86_399
    assert not s.submit("DepositRequested", payload).ok
    clock.now += 2  # Deposit's idempotency-ttl is 86400 seconds
    assert s.submit("DepositRequested", payload).ok


def test_functional_error_stores_nothing(bank: Any) -> None:
    before = bank.history("Account", "NL01BANK0001")
    result = bank.submit("WithdrawalRequested",
                         {"accountNumber": "NL01BANK0001", "amount": 5, "reference": "w1"})
    assert (result.ok, result.reason) == (False, "functional")
    assert result.message == "Insufficient funds: balance would be -5.0"
    assert bank.history("Account", "NL01BANK0001") == before
    # the idempotency key of the rejected command was not recorded either
    bank.submit("DepositRequested", {"accountNumber": "NL01BANK0001", "amount": 5, "reference": "d"})
    retry = bank.submit("WithdrawalRequested",
                        {"accountNumber": "NL01BANK0001", "amount": 5, "reference": "w1"})
    assert retry.ok


def test_bad_payloads_are_rejected_with_the_field(bank: Any) -> None:
    payload_error = importlib.import_module("banking.payload").PayloadError
    cases = [
        ({"accountNumber": "NL01BANK0001", "amount": "x", "reference": "r"}, "DepositRequested.amount: expected a number"),
        ({"accountNumber": "NL01BANK0001", "reference": "r"}, "DepositRequested.amount: required field is missing"),
        ({"accountNumber": "nope", "amount": 1, "reference": "r"}, "does not match"),
        ({"accountNumber": "NL01BANK0001", "amount": 1, "reference": "r", "x": 1}, "unknown field(s): x"),
        ([1, 2], "expected a JSON object"),
    ]
    for payload, message in cases:
        with pytest.raises(payload_error, match=message.replace("(", r"\(").replace(")", r"\)")):
            bank.submit("DepositRequested", payload)
    with pytest.raises(payload_error, match="unknown command 'Nope'"):
        bank.submit("Nope", {})
    assert len(bank.history("Account", "NL01BANK0001")) == 1


def test_create_twice_and_missing_instance(bank: Any) -> None:
    again = bank.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Bo"})
    assert (again.reason, again.message) == ("already-exists", "Account 'NL01BANK0001' already exists")
    missing = bank.submit("DepositRequested", {"accountNumber": "NL02BANK0002", "amount": 1, "reference": "r"})
    assert missing.reason == "not-found"


def test_domain_event_fan_out_is_deduplicated(generated: Path) -> None:
    s = service("fulfilment")
    placed = s.submit("PlaceOrderRequested", {"orderId": "O-1", "customerId": "C",
                                              "lines": [{"sku": "ABC-123", "quantity": 1}]})
    assert placed.ok
    assert s.show("Shipment", "SHP-O-1") is None
    # Only events another aggregate subscribes to go to the outbox: here OrderPlaced.
    assert s.dispatch() == 1
    assert s.show("Shipment", "SHP-O-1")["skus"] == ["ABC-123"]
    # redeliver everything, as an at-least-once bus may
    s.store._db.execute("UPDATE outbox SET dispatched = 0")
    s.dispatch()
    assert len(s.history("Shipment", "SHP-O-1")) == 1
    # and the reverse direction: Warehouse dispatch marks the order shipped
    assert s.submit("DispatchShipmentRequested", {"shipmentId": "SHP-O-1"}).ok
    s.dispatch()
    assert s.show("Order", "O-1")["status"] == "shipped"


def test_update_key_moves_the_instance(generated: Path) -> None:
    s = service("fulfilment")
    s.submit("PlaceOrderRequested", {"orderId": "O-1", "customerId": "C",
                                     "lines": [{"sku": "ABC-123", "quantity": 1}]})
    s.submit("PlaceOrderRequested", {"orderId": "O-2", "customerId": "C",
                                     "lines": [{"sku": "ABC-123", "quantity": 1}]})
    assert s.submit("RenumberOrderRequested", {"orderId": "O-1", "newOrderId": "O-9"}).ok
    assert s.show("Order", "O-1") is None
    assert s.show("Order", "O-9")["orderId"] == "O-9"
    assert len(s.history("Order", "O-9")) == 3  # the event log moved with the key
    taken = s.submit("RenumberOrderRequested", {"orderId": "O-9", "newOrderId": "O-2"})
    assert taken.reason == "key-taken"
    assert s.show("Order", "O-9") is not None


def test_snapshot_bounds_the_events_read(generated: Path, tmp_path: Path) -> None:
    s = service("banking", str(tmp_path / "bank.sqlite3"))
    s.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Ada"})
    for i in range(999):
        assert s.submit("DepositRequested", {"accountNumber": "NL01BANK0001", "amount": 1,
                                             "reference": f"r{i}"}).ok
    s.submit("DepositRequested", {"accountNumber": "NL01BANK0001", "amount": 1, "reference": "x"})
    agg = importlib.import_module("banking.registry").AGGREGATES["Account"]
    aggregate_id = s.store.resolve("Account", "NL01BANK0001")
    loaded = s.store.load("Account", aggregate_id, agg.fingerprint)
    assert loaded.version == 1001
    assert loaded.snapshot_version == 1000
    assert len(loaded.events) == 1  # not 1001
    assert s.show("Account", "NL01BANK0001")["balance"] == 1000.0
    # a document of another shape ignores the snapshot and replays all events
    other = s.store.load("Account", aggregate_id, "another-shape")
    assert other.snapshot is None and len(other.events) == 1001


def test_changed_document_shape_ignores_old_snapshot(generated: Path, tmp_path: Path) -> None:
    """Build a second version of the model with one more document field; its service, on the
    same database, must rebuild from events instead of trusting the old snapshot."""
    import shutil
    import subprocess
    import sys

    from conftest import ROOT
    from helpers import build

    db = tmp_path / "bank.sqlite3"
    s = service("banking", str(db))
    s.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Ada"})
    for i in range(150):
        s.submit("DepositRequested", {"accountNumber": "NL01BANK0001", "amount": 2, "reference": f"r{i}"})
    s.store.close()
    model = tmp_path / "banking"
    shutil.copytree(ROOT / "examples" / "banking", model)
    root = model / "domain/Banking/Account/root.yaml"
    frozen = "  frozen: {type: Boolean, default: false}\n"
    root.write_text(root.read_text().replace(
        frozen, frozen + "  nickname: {type: String, default: none}\n"))
    out = tmp_path / "v2"
    build(model, out)
    code = (
        "import json, sys\n"
        "from banking.registry import AGGREGATES\n"
        "from banking.service import BankingService\n"
        "from banking.store import SQLiteEventStore\n"
        "s = BankingService(SQLiteEventStore(sys.argv[1]))\n"
        "agg = AGGREGATES['Account']\n"
        "i = s.store.resolve('Account', 'NL01BANK0001')\n"
        "l = s.store.load('Account', i, agg.fingerprint)\n"
        "print(json.dumps([l.snapshot is None, len(l.events), s.show('Account', 'NL01BANK0001')]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(out)}, check=True)
    ignored, read, document = json.loads(run.stdout)
    assert ignored and read == 151
    assert document["balance"] == 300.0 and document["nickname"] == "none"


def test_purge_keeps_every_state(generated: Path) -> None:
    clock = Clock()
    s = service("shop_service", clock=clock)
    for cart in ("big", "small"):
        s.submit("CreateCartRequested", {"cartId": cart, "customer": "ada"})
    for i in range(59):  # 60 events in total: a snapshot at 50 covers events 1..50
        s.submit("AddItemsRequested", {"cartId": "big", "items": [
            {"sku": f"S{i % 7}", "quantity": 1, "unitPrice": 1.0}]})
    s.submit("AddItemsRequested", {"cartId": "small", "items": [{"sku": "A", "quantity": 1, "unitPrice": 2.0}]})
    before = {k: s.show("Cart", k) for k in ("big", "small")}
    assert s.purge()["Cart"] == 0  # nothing is older than the TTL yet
    clock.now += 31 * DAY
    deleted = s.purge()
    assert deleted["Cart"] == 50
    assert s.history("Cart", "big")[0].version == 51
    assert len(s.history("Cart", "small")) == 2  # no snapshot covers them: kept
    assert {k: s.show("Cart", k) for k in ("big", "small")} == before
    assert s.submit("AddItemsRequested", {"cartId": "big", "items": []}).ok


def test_banking_has_no_ttl_so_purge_leaves_it_alone(bank: Any) -> None:
    assert "Account" not in bank.purge()


def test_backup_then_restore_gives_the_same_state(generated: Path, tmp_path: Path) -> None:
    backup = importlib.import_module("shop_service.backup")
    clock = Clock()
    s = service("shop_service", clock=clock)
    for n in range(5):
        s.submit("CreateCartRequested", {"cartId": f"c{n}", "customer": f"u{n}", "tags": ["t"]})
        s.submit("AddItemsRequested", {"cartId": f"c{n}", "items": [
            {"sku": "A", "quantity": n + 1, "unitPrice": 1.5}]})
    s.submit("CheckOutRequested", {"cartId": "c0"})
    target = backup.LocalTarget(tmp_path / "backups")
    report = s.backup(target)
    blob = report["Cart"]
    assert blob.startswith("Cart/") and blob.endswith(".jsonl.gz")
    lines = gzip.decompress((tmp_path / "backups" / blob).read_bytes()).decode().splitlines()
    assert len(lines) == 5 and json.loads(lines[0])["key"] == "c0"

    fresh = service("shop_service", clock=clock)
    assert fresh.restore(target, "Cart") == (5, 0)
    for n in range(5):
        assert fresh.show("Cart", f"c{n}") == s.show("Cart", f"c{n}")
    assert fresh.restore(target, "Cart") == (0, 5)  # existing instances are never overwritten
    assert fresh.submit("AddItemsRequested", {"cartId": "c1", "items": []}).ok
    assert fresh.history("Cart", "c1")[-1].version == 3  # versions continue after the backup


def test_backup_interval_and_retention(generated: Path, tmp_path: Path) -> None:
    backup = importlib.import_module("shop_service.backup")
    clock = Clock()
    s = service("shop_service", clock=clock)
    s.submit("CreateCartRequested", {"cartId": "c", "customer": "u"})
    target = backup.LocalTarget(tmp_path)
    first = s.backup(target)["Cart"]
    clock.now += 3600
    assert s.backup(target)["Cart"].startswith("skipped")  # interval is one day
    assert s.backup(target, force=True)["Cart"] != first
    clock.now += 8 * DAY  # retention is 7 days
    s.backup(target)
    assert len(target.names("Cart")) == 1


def test_s3_target_round_trip_with_a_stub_client(generated: Path) -> None:
    backup = importlib.import_module("shop_service.backup")

    class StubS3:
        def __init__(self) -> None:
            self.objects: dict[tuple[str, str], bytes] = {}

        def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
            self.objects[(Bucket, Key)] = Body

        def list_objects_v2(self, Bucket: str, Prefix: str, **_: Any) -> dict[str, Any]:
            keys = sorted(k for b, k in self.objects if b == Bucket and k.startswith(Prefix))
            return {"Contents": [{"Key": k} for k in keys]}

        def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
            import io
            return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

        def delete_object(self, Bucket: str, Key: str) -> None:
            del self.objects[(Bucket, Key)]

    client = StubS3()
    s = service("shop_service")
    s.submit("CreateCartRequested", {"cartId": "c", "customer": "u"})
    target = backup.S3Target("s3://bucket/shop/prod", client=client)
    blob = s.backup(target)["Cart"]
    assert ("bucket", f"shop/prod/{blob}") in client.objects
    fresh = service("shop_service")
    assert fresh.restore(target, "Cart") == (1, 0)
    assert fresh.show("Cart", "c") == s.show("Cart", "c")


def test_damaged_backup_is_a_clear_error(generated: Path, tmp_path: Path) -> None:
    backup = importlib.import_module("shop_service.backup")
    (tmp_path / "Cart").mkdir()
    (tmp_path / "Cart" / "20260101T000000Z.jsonl.gz").write_bytes(b"not gzip")
    s = service("shop_service")
    with pytest.raises(backup.BackupError, match="is damaged"):
        s.restore(backup.LocalTarget(tmp_path), "Cart")


def test_sqlite_file_passes_integrity_check(generated: Path, tmp_path: Path) -> None:
    s = service("banking", str(tmp_path / "b.sqlite3"))
    s.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Ada"})
    s.store.close()
    db = sqlite3.connect(tmp_path / "b.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_bug_in_model_code_is_a_technical_error_that_stores_nothing(bank: Any) -> None:
    import dataclasses

    registry = importlib.import_module("banking.registry")
    spec = registry.trigger_spec("Account", "Deposit", "DepositRequested")

    def broken(flow: Any) -> None:
        spec.run(flow)  # the real flow emits its event first ...
        raise ZeroDivisionError("division by zero")  # ... then a bug strikes

    payload = spec.parse({"accountNumber": "NL01BANK0001", "amount": 3, "reference": "z"})
    result = bank.run_trigger(dataclasses.replace(spec, run=broken), payload)
    assert (result.ok, result.reason) == (False, "technical-error")
    assert "ZeroDivisionError" in result.message and "Traceback" in result.detail
    assert len(bank.history("Account", "NL01BANK0001")) == 1
    assert bank.submit("DepositRequested", {"accountNumber": "NL01BANK0001", "amount": 3,
                                            "reference": "z"}).ok  # the key was not recorded
