"""`python -m <package>`: the command line of the generated service."""

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
    assert json.loads(opened.stdout) == {"ok": True, "aggregate": "Account", "key": "NL01BANK0001",
                                         "version": 1, "events": ["AccountOpened"]}
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
        (["submit", "DepositRequested", '{"accountNumber": "NL01BANK0001", "amount": true, "reference": "r"}'],
         2, "DepositRequested.amount: expected a number, got a boolean"),
        (["submit", "DepositRequested", '{"accountNumber": "NL01BANK0001"}'], 2, "required field is missing"),
        (["submit", "Transfer", "{}"], 2, "unknown command 'Transfer'"),
        (["submit", "DepositRequested", f"@{tmp_path / 'missing.json'}"], 2, "No such file"),
        (["show", "Nope", "x"], 2, "unknown aggregate 'Nope'"),
        (["show", "Account", "NL99"], 1, "not found"),
        (["restore", "Cart"], 2, "unknown aggregate 'Cart'"),
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
    assert json.loads(rejected.stdout)["reason"] == "functional"
    history = cli(generated, "banking", "banking", db, "history", "Account", "NL01BANK0001")
    assert len(history.stdout.splitlines()) == 1


def test_dispatch_purge_backup_restore(generated: Path, tmp_path: Path) -> None:
    db = tmp_path / "shop.sqlite3"
    run = lambda *a: cli(generated, "shop", "shop_service", db, *a)
    assert run("submit", "CreateCartRequested", '{"cartId": "c1", "customer": "ada"}').returncode == 0
    # nothing in the shop model subscribes to Cart events, so nothing goes to the outbox
    assert json.loads(run("dispatch").stdout) == {"dispatched": 0}
    assert json.loads(run("purge").stdout)["deleted"]["Cart"] == 0
    backup = run("backup", "--target", str(tmp_path / "b"))
    assert backup.returncode == 0, backup.stderr
    name = json.loads(backup.stdout)["backups"]["Cart"]
    other = tmp_path / "other.sqlite3"
    restored = cli(generated, "shop", "shop_service", other, "restore", "Cart", name,
                   "--target", str(tmp_path / "b"))
    assert json.loads(restored.stdout) == {"restored": 1, "skipped": 0}
    shown = cli(generated, "shop", "shop_service", other, "show", "Cart", "c1")
    assert json.loads(shown.stdout)["customer"] == "ada"
    missing = run("restore", "Cart", "Cart/none.jsonl.gz", "--target", str(tmp_path / "b"))
    assert missing.returncode == 2 and "cannot read backup" in missing.stderr
