"""`python -m <package>`: the command line of a generated service, end to end (the runtime's
CLI is tested in detail in runtime/tests/test_cli.py with a hand-written model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def cli(generated: Path, example: str, package: str, db: Path, *args: str,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(generated / example),
           f"{package.upper()}_DATABASE": str(db)}
    return subprocess.run([sys.executable, "-m", package, *args], input=stdin, env=env,
                          capture_output=True, text=True, check=False, cwd=db.parent)


def test_submit_show_history(generated: Path, tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    opened = cli(generated, "banking", "banking", db, "submit", "OpenAccountRequested",
                 '{"accountNumber": "NL01BANK0001", "owner": "Ada"}')
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout) == {"ok": True, "command": "OpenAccountRequested", "flows": [
        {"flow": "Account.OpenAccount", "ok": True, "aggregate": "Account",
         "key": "NL01BANK0001", "version": 1, "events": ["AccountOpened"]}]}
    payload = tmp_path / "deposit.json"
    payload.write_text('{"accountNumber": "NL01BANK0001", "amount": 5, "reference": "f"}')
    assert cli(generated, "banking", "banking", db, "submit", "DepositRequested",
               f"@{payload}").returncode == 0
    piped = cli(generated, "banking", "banking", db, "submit", "DepositRequested",
                stdin='{"accountNumber": "NL01BANK0001", "amount": 2, "reference": "s"}')
    assert piped.returncode == 0, piped.stderr
    shown = cli(generated, "banking", "banking", db, "show", "Account", "NL01BANK0001")
    assert json.loads(shown.stdout)["balance"] == 7.0
    history = cli(generated, "banking", "banking", db, "history", "Account", "NL01BANK0001")
    assert [json.loads(line)["type"] for line in history.stdout.splitlines()] == [
        "AccountOpened", "MoneyDeposited", "MoneyDeposited"]


def test_errors_are_clear_and_store_nothing(generated: Path, tmp_path: Path) -> None:
    db = tmp_path / "bank.sqlite3"
    cli(generated, "banking", "banking", db, "submit", "OpenAccountRequested",
        '{"accountNumber": "NL01BANK0001", "owner": "Ada"}')
    cases = [
        (["submit", "DepositRequested", "{not json"], 2, "payload is not valid JSON"),
        (["submit", "DepositRequested",
          '{"accountNumber": "NL01BANK0001", "amount": true, "reference": "r"}'],
         2, "DepositRequested.amount: expected a number, got a boolean"),
        (["submit", "DepositRequested",
          '{"accountNumber": "NL01BANK0001", "amount": 1' + "0" * 400 + ', "reference": "r"}'],
         2, "payload has a number of 401 digits"),
        (["submit", "DepositRequested",
          '{"accountNumber": "' + "A" * 10_000 + '", "amount": 1, "reference": "r"}'],
         2, "does not match"),  # the pattern answers at once: matching is linear
        (["submit", "DepositRequested", '{"accountNumber": "NL01BANK0001"}'], 2,
         "required field is missing"),
        (["submit", "Transfer", "{}"], 2, "unknown command 'Transfer'"),
        (["show", "Nope", "x"], 2, "unknown aggregate 'Nope'"),
        (["show", "Account", "NL99"], 1, "not found"),
        (["history", "Account", "NL99"], 1, "not found"),
        (["frobnicate"], 2, "invalid choice"),
    ]
    for args, code, message in cases:
        result = cli(generated, "banking", "banking", db, *args)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    rejected = cli(generated, "banking", "banking", db, "submit", "WithdrawalRequested",
                   '{"accountNumber": "NL01BANK0001", "amount": 1, "reference": "w"}')
    assert rejected.returncode == 1
    assert json.loads(rejected.stdout)["flows"][0]["reason"] == "functional"
    history = cli(generated, "banking", "banking", db, "history", "Account", "NL01BANK0001")
    assert len(history.stdout.splitlines()) == 1


def test_dispatch_between_aggregates(generated: Path, tmp_path: Path) -> None:
    db = tmp_path / "f.sqlite3"
    run = lambda *a: cli(generated, "fulfilment", "fulfilment", db, *a)
    placed = run("submit", "PlaceOrderRequested",
                 '{"orderId": "O-1", "customerId": "C", "lines": [{"sku": "ABC-123", "quantity": 1}]}')
    assert placed.returncode == 0, placed.stderr
    assert json.loads(run("dispatch").stdout) == {"done": 1, "rejected": 0, "retrying": 0,
                                                  "dead": 0}
    assert json.loads(run("show", "Shipment", "SHP-O-1").stdout)["orderId"] == "O-1"
    cancelled = run("submit", "CancelOrderRequested", '{"orderId": "O-1"}')
    assert [f["flow"] for f in json.loads(cancelled.stdout)["flows"]] == [
        "Order.CancelOrder", "Shipment.CancelShipment"]
    assert run("deliveries").stdout == "" and run("dead-letters").stdout == ""


def test_help_is_the_packages_own(generated: Path, tmp_path: Path) -> None:
    result = cli(generated, "shop", "shop_service", tmp_path / "x.sqlite3", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m shop_service")
    assert "Shop: an event-sourced service generated by draftsman-gen 0.3.0" in result.stdout
    assert "SHOP_SERVICE_DATABASE" in result.stdout
