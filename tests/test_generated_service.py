"""The generated examples on the runtime: cross-aggregate deliveries, a command with two
flows, update-key, snapshots, purge, and what changes when the model changes (a document of
another shape, a fixed flow for dead letters, a mistyped event, FunctionalError in code).

The runtime's own behaviour is tested in runtime/tests against a hand-written model; these
tests run the code draftsman-gen generates."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT
from draftsman_runtime import Rejected, Service, Settings, SQLiteEventStore
from helpers import build

DAY = 86_400.0


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def service(package: str, path: str = ":memory:", clock: Clock | None = None) -> Service:
    registry = importlib.import_module(f"{package}.registry").REGISTRY
    return Service(registry, SQLiteEventStore(path), clock=clock or Clock(),
                   settings=Settings(database=path))


def place(s: Service, order: str) -> None:
    assert s.submit("PlaceOrderRequested", {"orderId": order, "customerId": "C",
                                            "lines": [{"sku": "ABC-123", "quantity": 1}]}).ok


def test_domain_events_reach_the_other_aggregate(generated: Path) -> None:
    s = service("fulfilment")
    place(s, "O-1")
    assert s.show("Shipment", "SHP-O-1") is None
    assert s.dispatch().summary() == {"done": 1, "rejected": 0, "retrying": 0, "dead": 0}
    assert (s.show("Shipment", "SHP-O-1") or {})["skus"] == ["ABC-123"]
    assert s.dispatch().handled == 0
    # and back: the Warehouse's dispatch marks the order shipped
    assert s.submit("DispatchShipmentRequested", {"shipmentId": "SHP-O-1"}).ok
    s.dispatch()
    assert (s.show("Order", "O-1") or {})["status"] == "shipped"


def test_a_missing_target_is_recorded_not_dispatched_silently(generated: Path) -> None:
    s = service("fulfilment")
    s.seed("Shipment", "SHP-O-9", {"shipmentId": "SHP-O-9", "orderId": "O-9"})
    assert s.submit("DispatchShipmentRequested", {"shipmentId": "SHP-O-9"}).ok
    assert s.dispatch().summary()["rejected"] == 1  # there is no order O-9 to mark shipped
    (rejected,) = s.deliveries()
    assert (rejected.flow, rejected.reason, rejected.message) == (
        "Order.MarkShipped", "not-found", "Order 'O-9' not found")


def test_a_command_runs_the_flows_of_both_aggregates(generated: Path) -> None:
    s = service("fulfilment")
    place(s, "O-1")
    s.dispatch()
    submission = s.submit("CancelOrderRequested", {"orderId": "O-1"})
    assert [r.flow for r in submission.results] == ["Order.CancelOrder", "Shipment.CancelShipment"]
    assert submission.ok
    assert (s.show("Order", "O-1") or {})["status"] == "cancelled"
    assert (s.show("Shipment", "SHP-O-1") or {})["cancelled"] is True
    # each flow decides on its own: a dispatched shipment stays, the order is still cancelled
    place(s, "O-2")
    s.dispatch()
    assert s.submit("DispatchShipmentRequested", {"shipmentId": "SHP-O-2"}).ok
    order, shipment = s.submit("CancelOrderRequested", {"orderId": "O-2"}).results
    assert order.ok and isinstance(shipment, Rejected)
    assert shipment.message == "Shipment SHP-O-2 has left the warehouse"


def test_update_key_moves_the_instance(generated: Path) -> None:
    s = service("fulfilment")
    place(s, "O-1")
    place(s, "O-2")
    assert s.submit("RenumberOrderRequested", {"orderId": "O-1", "newOrderId": "O-9"}).ok
    assert s.show("Order", "O-1") is None
    assert (s.show("Order", "O-9") or {})["orderId"] == "O-9"
    assert len(s.history("Order", "O-9") or []) == 3  # the event log moved with the key
    taken = s.submit("RenumberOrderRequested", {"orderId": "O-9", "newOrderId": "O-2"})
    assert isinstance(taken.results[0], Rejected) and taken.results[0].reason == "key-taken"
    assert s.show("Order", "O-9") is not None


def test_snapshot_bounds_the_events_read(generated: Path, tmp_path: Path) -> None:
    s = service("banking", str(tmp_path / "bank.sqlite3"))
    s.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Ada"})
    for i in range(1000):
        assert s.submit("DepositRequested", {"accountNumber": "NL01BANK0001", "amount": 1,
                                             "reference": f"r{i}"}).ok
    agg = s.registry.aggregates["Account"]
    aggregate_id = s.store.resolve("Account", "NL01BANK0001")
    assert aggregate_id is not None
    loaded = s.store.load("Account", aggregate_id, agg.fingerprint)
    assert (loaded.version, loaded.snapshot_version, len(loaded.events)) == (1001, 1000, 1)
    assert (s.show("Account", "NL01BANK0001") or {})["balance"] == 1000.0
    other = s.store.load("Account", aggregate_id, "another-shape")
    assert other.snapshot is None and len(other.events) == 1001


def _copy(tmp_path: Path, example: str) -> Path:
    model = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, model)
    return model


def _run(out: Path, code: str, *args: str) -> Any:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={"PYTHONPATH": str(out)}, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_changed_document_shape_ignores_old_snapshot(generated: Path, tmp_path: Path) -> None:
    """A second version of the model with one more document field, on the same database,
    rebuilds from the events instead of trusting the old snapshot."""
    db = tmp_path / "bank.sqlite3"
    s = service("banking", str(db))
    s.submit("OpenAccountRequested", {"accountNumber": "NL01BANK0001", "owner": "Ada"})
    for i in range(150):
        s.submit("DepositRequested", {"accountNumber": "NL01BANK0001", "amount": 2,
                                      "reference": f"r{i}"})
    s.close()
    model = _copy(tmp_path, "banking")
    root = model / "domain/Banking/Account/root.yaml"
    frozen = "  frozen: {type: Boolean, default: false}\n"
    root.write_text(root.read_text().replace(
        frozen, frozen + "  nickname: {type: String, default: none}\n"))
    out = tmp_path / "v2"
    build(model, out)
    ignored, read, document = _run(out, (
        "import json, sys\n"
        "from draftsman_runtime import SQLiteEventStore\n"
        "import banking\n"
        "s = banking.service(SQLiteEventStore(sys.argv[1]))\n"
        "agg = s.registry.aggregates['Account']\n"
        "i = s.store.resolve('Account', 'NL01BANK0001')\n"
        "l = s.store.load('Account', i, agg.fingerprint)\n"
        "print(json.dumps([l.snapshot is None, len(l.events), s.show('Account', 'NL01BANK0001')]))\n"
    ), str(db))
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
    s.submit("AddItemsRequested", {"cartId": "small", "items": [
        {"sku": "A", "quantity": 1, "unitPrice": 2.0}]})
    before = {k: s.show("Cart", k) for k in ("big", "small")}
    assert s.purge()["Cart"] == 0  # nothing is older than the TTL yet
    clock.now += 31 * DAY
    assert s.purge()["Cart"] == 50
    assert (s.history("Cart", "big") or [])[0].version == 51
    assert len(s.history("Cart", "small") or []) == 2  # no snapshot covers them: kept
    assert {k: s.show("Cart", k) for k in ("big", "small")} == before
    result = s.submit("AddItemsRequested", {"cartId": "big", "items": []}).results[0]
    assert result.ok and result.version == 61  # type: ignore[union-attr]


def test_functional_error_in_lib_code(generated: Path) -> None:
    s = service("shop_service")
    s.submit("CreateCartRequested", {"cartId": "c", "customer": "ada"})
    result = s.submit("AddItemsRequested", {"cartId": "c", "items": [
        {"sku": "A", "quantity": 0, "unitPrice": 1.0}]}).results[0]
    assert isinstance(result, Rejected) and result.reason == "functional"
    assert result.message == "Item A: the quantity must be at least 1, got 0"


# -- models changed for one test ---------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_inline_code_can_raise_functional_error_without_any_validator(tmp_path: Path) -> None:
    model = _copy(tmp_path, "fulfilment")
    flow = model / "domain/Warehouse/Shipment/behavior-flows/PrepareShipment.yaml"
    flow.write_text(flow.read_text().replace("processors:\n", (
        "processors:\n"
        "  - code:\n"
        "      inline: |\n"
        "        if 'BAN-000' in flow.skus:\n"
        "            raise FunctionalError('banned goods')\n"), 1))
    out = tmp_path / "out"
    build(model, out)
    assert "validator" not in flow.read_text()
    outcome = _run(out, (
        "import json\n"
        "from draftsman_runtime import SQLiteEventStore\n"
        "import fulfilment\n"
        "s = fulfilment.service(SQLiteEventStore(':memory:'))\n"
        "s.submit('PlaceOrderRequested', {'orderId': 'O', 'customerId': 'C',\n"
        "         'lines': [{'sku': 'BAN-000', 'quantity': 1}]})\n"
        "print(json.dumps([r.summary() for _d, r, _s in s.dispatch().results]))\n"))
    assert outcome == [{"flow": "Shipment.PrepareShipment", "ok": False, "reason": "functional",
                        "message": "banned goods", "aggregate": "Shipment", "key": "SHP-O"}]


def test_a_mistyped_event_is_a_technical_error_at_the_emit_event(tmp_path: Path) -> None:
    """A value validate cannot type (assigned in a branch: DG329 would catch a plain one) is
    checked when the event is emitted."""
    model = _copy(tmp_path, "banking")
    flow = model / "domain/Banking/Account/behavior-flows/Deposit.yaml"
    text = flow.read_text()
    changed = text.replace("  - emit-event:", (
        "  - code: {inline: \"if flow.amount > 0:\\n    flow.label = str(flow.amount)\\n\"}\n"
        "  - emit-event:"), 1).replace("amount: flow.amount\n", "amount: flow.label\n", 1)
    assert changed.count("flow.label") == 2
    flow.write_text(changed)
    out = tmp_path / "out"
    build(model, out)
    line = next(n for n, x in enumerate(flow.read_text().splitlines(), 1) if "emit-event" in x)
    outcome = _run(out, (
        "import json\n"
        "from draftsman_runtime import SQLiteEventStore\n"
        "import banking\n"
        "s = banking.service(SQLiteEventStore(':memory:'))\n"
        "s.submit('OpenAccountRequested', {'accountNumber': 'NL01BANK0001', 'owner': 'A'})\n"
        "r = s.submit('DepositRequested', {'accountNumber': 'NL01BANK0001', 'amount': 5,\n"
        "                                  'reference': 'r'}).results[0]\n"
        "print(json.dumps([r.reason, r.where, r.message, len(s.history('Account', 'NL01BANK0001'))]))\n"))
    reason, where, message, stored = outcome
    assert (reason, stored) == ("technical-error", 1)
    assert where == f"domain/Banking/Account/behavior-flows/Deposit.yaml:{line}"
    assert "emitted MoneyDeposited: field 'amount': expected a number, got a string ('5.0')" \
        in message


def test_dead_letter_then_fixed_model_then_redeliver(tmp_path: Path) -> None:
    """A bug in the target flow: the delivery is retried, then parked; the developer fixes
    the model, rebuilds, and redelivers; the effect happens once."""
    model = _copy(tmp_path, "fulfilment")
    flow = model / "domain/Warehouse/Shipment/behavior-flows/PrepareShipment.yaml"
    good = flow.read_text()
    flow.write_text(good.replace("processors:\n", (
        "processors:\n"
        "  - code: {inline: \"flow.skus = flow.skus[:1] * (1 // (len(flow.skus) - 1))\"}\n"), 1))
    broken, fixed = tmp_path / "broken", tmp_path / "fixed"
    build(model, broken)
    flow.write_text(good)
    build(model, fixed)
    db = tmp_path / "f.sqlite3"

    def cli(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fulfilment", *args], capture_output=True, text=True,
            env={"PYTHONPATH": str(out), "FULFILMENT_DATABASE": str(db),
                 "FULFILMENT_RETRY_DELAY": "0"}, check=False)

    placed = cli(broken, "submit", "PlaceOrderRequested",
                 '{"orderId": "O-1", "customerId": "C", "lines": [{"sku": "ABC-123", "quantity": 1}]}')
    assert placed.returncode == 0, placed.stderr
    for _attempt in range(4):  # the first try and three retries
        assert cli(broken, "dispatch").returncode == 0
    (dead,) = [json.loads(line) for line in cli(broken, "dead-letters").stdout.splitlines()]
    assert (dead["flow"], dead["attempts"], dead["reason"]) == (
        "Shipment.PrepareShipment", 4, "technical-error")
    assert "PrepareShipment.yaml:11" in dead["message"] and "ZeroDivisionError" in dead["message"]
    assert cli(fixed, "show", "Shipment", "SHP-O-1").returncode == 1
    assert json.loads(cli(fixed, "redeliver", "--all").stdout) == {"redelivered": [dead["id"]]}
    assert json.loads(cli(fixed, "dispatch").stdout)["done"] == 1
    shipment = json.loads(cli(fixed, "show", "Shipment", "SHP-O-1").stdout)
    assert shipment["skus"] == ["ABC-123"]
    assert len(cli(fixed, "history", "Shipment", "SHP-O-1").stdout.splitlines()) == 1


def test_a_runtime_of_another_api_refuses_the_package_in_one_sentence(
    generated: Path, tmp_path: Path
) -> None:
    import draftsman_runtime

    fake = tmp_path / "fake" / "draftsman_runtime"
    shutil.copytree(Path(draftsman_runtime.__file__).parent, fake,
                    ignore=shutil.ignore_patterns("__pycache__"))
    version = fake / "version.py"
    version.write_text(version.read_text().replace('__version__ = "0.3.0"', '__version__ = "1.0.0"')
                       .replace("API_VERSION = 2", "API_VERSION = 3")
                       .replace("SUPPORTED_APIS = frozenset({1, 2})",
                                "SUPPORTED_APIS = frozenset({3})"))
    done = subprocess.run([sys.executable, "-m", "banking", "--help"], capture_output=True,
                          text=True, env={"PYTHONPATH": f"{fake.parent}:{generated / 'banking'}"},
                          check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "draftsman_runtime.version.RuntimeVersionError: banking was generated by draftsman-gen "
        "0.3.0 for draftsman-runtime API 2, but the installed draftsman-runtime 1.0.0 provides "
        "API 3: install 'draftsman-runtime>=0.3,<0.4' or rebuild banking with a matching "
        "draftsman-gen.")


def test_a_package_without_the_runtime_says_what_to_install(generated: Path,
                                                            tmp_path: Path) -> None:
    import draftsman_runtime

    # a Python that sees the generated package but not the runtime: hide it behind an
    # empty module path entry that shadows it with a package that fails to import
    shadow = tmp_path / "shadow" / "draftsman_runtime"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed')\n")
    assert draftsman_runtime.__file__  # the real one is installed in this venv
    done = subprocess.run([sys.executable, "-c", "import banking"], capture_output=True,
                          text=True, env={"PYTHONPATH": f"{shadow.parent}:{generated / 'banking'}"},
                          check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ImportError: banking needs the draftsman-runtime library: "
        "pip install 'draftsman-runtime>=0.3,<0.4'")


def test_vendored_builds_run_in_a_venv_without_the_runtime(tmp_path: Path) -> None:
    """All three examples vendored into one venv that has no draftsman-runtime: each installs,
    imports its own copy of the runtime, and passes its generated tests."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    outs = []
    for example in ("banking", "fulfilment", "shop"):
        out = tmp_path / example
        build(ROOT / "examples" / example, out, "--vendor-runtime")
        outs.append(out)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *map(str, outs), "pytest"],
                   check=True, capture_output=True, timeout=600)
    installed = subprocess.run([python, "-m", "pip", "list", "--format", "freeze"],
                               capture_output=True, text=True, check=True).stdout
    assert "draftsman" not in installed
    missing = subprocess.run([python, "-c", "import draftsman_runtime"], capture_output=True,
                             text=True, check=False)
    assert missing.returncode == 1
    for out in outs:
        tests = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "tests"], cwd=out, capture_output=True, text=True, check=False)
        assert tests.returncode == 0, tests.stdout + tests.stderr
    origin = subprocess.run([python, "-c", ("import shop_service.registry as r, "
                             "draftsman_runtime as d; print(r.Registry.__module__)")],
                            capture_output=True, text=True, check=False, cwd=tmp_path)
    assert origin.returncode == 1  # no top-level draftsman_runtime, even with shop installed
    own = subprocess.run([python, "-c", ("import shop_service.registry as r; "
                          "print(r.Registry.__module__)")], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert own.stdout.strip() == "shop_service._vendor.draftsman_runtime.model"
