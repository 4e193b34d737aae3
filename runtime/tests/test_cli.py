"""`python -m <package>`: the service command line, run as a real process (the toy model).

Every error is one line on standard error with a documented exit code, never a traceback,
and stores nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_service, toy_env
from postgres_cluster import Cluster


def run(
    db: Path, *args: str, stdin: str | bytes | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "toy", *args]
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(
        argv,
        input=data,
        env=toy_env(TOY_DATABASE=str(db), **env),
        capture_output=True,
        check=False,
        cwd=db.parent,
        timeout=120,
    )
    return subprocess.CompletedProcess(
        argv, done.returncode, done.stdout.decode(), done.stderr.decode("utf-8", "replace")
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "toy.sqlite3"
    ok(run(path, "submit", "CreateCounter", '{"name": "a", "limit": 50}'))
    return path


def events(db: Path) -> int:
    return int(sqlite3.connect(db).execute("SELECT COUNT(*) FROM events").fetchone()[0])


def test_submit_answers_per_flow(db: Path, tmp_path: Path) -> None:
    created = ok(run(db, "submit", "CreateCounter", '{"name": "b"}'))
    assert json.loads(created.stdout) == {
        "ok": True,
        "command": "CreateCounter",
        "flows": [
            {
                "flow": "Counter.Create",
                "ok": True,
                "aggregate": "Counter",
                "key": "b",
                "version": 1,
                "events": ["Created"],
            },
            {
                "flow": "Tally.Open",
                "ok": True,
                "aggregate": "Tally",
                "key": "b",
                "version": 1,
                "events": ["Counted"],
            },
        ],
    }
    payload = tmp_path / "add.json"
    payload.write_text('{"name": "b", "amount": 2}')
    ok(run(db, "submit", "AddToCounter", f"@{payload}"))
    ok(run(db, "submit", "AddToCounter", stdin='{"name": "b", "amount": 3}'))
    assert json.loads(ok(run(db, "show", "Counter", "b")).stdout)["count"] == 5
    history = ok(run(db, "history", "Counter", "b")).stdout.splitlines()
    assert [json.loads(line)["type"] for line in history] == ["Created", "Added", "Added"]
    rejected = run(db, "submit", "AddToCounter", '{"name": "b", "amount": 0}')
    assert rejected.returncode == 1
    flow = json.loads(rejected.stdout)["flows"][0]
    assert (flow["reason"], flow["message"]) == ("functional", "amount must be positive, got 0")


@pytest.mark.parametrize(
    ("args", "stdin", "env", "message"),
    [
        (["submit", "AddToCounter", "{not json"], None, {}, "payload is not valid JSON"),
        (
            ["submit", "AddToCounter", '{"name": "a", "amount": 1' + "0" * 400 + "}"],
            None,
            {},
            "payload has a number of 401 digits",
        ),
        (
            ["submit", "AddToCounter", '{"name": "a", "amount": ' + "7" * 5000 + "}"],
            None,
            {},
            "payload has a number of 5000 digits",
        ),
        (["submit", "AddToCounter"], "[" * 200_000 + "]" * 200_000, {}, "nested more than 32"),
        (
            ["submit", "AddToCounter", '{"name": "\\ud800", "amount": 1}'],
            None,
            {},
            "AddToCounter.name: contains an unpaired surrogate (U+D800)",
        ),
        (
            ["submit", "AddToCounter", '{"name": "a", "amount": "' + "x" * 3000 + '"}'],
            None,
            {"TOY_MAX_PAYLOAD_BYTES": "1000"},
            "the limit is 1,000",
        ),
        (
            ["submit", "AddToCounter", '{"name": "a", "amount": true}'],
            None,
            {},
            "AddToCounter.amount: expected an integer, got a boolean",
        ),
        (["submit", "Transfer", "{}"], None, {}, "unknown command 'Transfer'"),
        (["submit", "AddToCounter", "@missing.json"], None, {}, "No such file or directory"),
        (["show", "Nope", "x"], None, {}, "unknown aggregate 'Nope'"),
        (["frobnicate"], None, {}, "invalid choice: 'frobnicate'"),
        (["redeliver"], None, {}, "redeliver needs delivery ids or --all"),
        (["dispatch", "--follow", "--poll", "0"], None, {}, "must be between 0 and 86400"),
        (
            ["show", "Counter", "a"],
            None,
            {"TOY_SYNCHRONOUS": "SOMETIMES"},
            "TOY_SYNCHRONOUS must be one of OFF, NORMAL, FULL, EXTRA, not 'SOMETIMES'",
        ),
        (
            ["show", "Counter", "a"],
            None,
            {"TOY_BUSY_TIMEOUT": "soon"},
            "TOY_BUSY_TIMEOUT must be a number, not 'soon'",
        ),
        (["restore", "Counter", "--target", "nowhere"], None, {}, "no backups of Counter found"),
        (["restore", "Counter", "../../etc/passwd"], None, {}, "is not a backup of Counter"),
        (
            ["submit", "AddToCounter", '{"name": "a", "amount": 1, "name": "b"}'],
            None,
            {},
            "payload has the key 'name' twice in one object",
        ),
        (["submit", "AddToCounter", "@/dev/zero"], None, {}, "payload is 1,048,577 bytes"),
        (["redeliver", "99999999999999999999"], None, {}, "not a delivery id"),
        (["redeliver", "-1"], None, {}, "not a delivery id"),
        (
            ["show", "Counter", "a"],
            None,
            {"TOY_BUSY_TIMEOUT": "3000000"},
            "TOY_BUSY_TIMEOUT must be between 0 and 86400, not '3000000'",
        ),
        (
            ["show", "Counter", "a"],
            None,
            {"TOY_DELIVERY_ATTEMPTS": "1000"},
            "TOY_DELIVERY_ATTEMPTS must be between 1 and 100",
        ),
        (
            ["show", "Counter", "a"],
            None,
            {"TOY_RETRY_DELAY": "nan"},
            "TOY_RETRY_DELAY must be between 0 and 3600, not 'nan'",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_stores_nothing(
    db: Path, args: list[str], stdin: str | None, env: dict[str, str], message: str
) -> None:
    before = events(db)
    result = run(db, *args, stdin=stdin, **env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()  # usage errors print the usage lines first
    assert lines[-1].startswith("error: ") and sum(x.startswith("error") for x in lines) == 1
    assert events(db) == before


def test_a_payload_file_that_is_not_utf8(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"name": "a\xff", "amount": 1}')
    result = run(db, "submit", "AddToCounter", f"@{bad}")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "error: payload is not UTF-8 (byte 11)",
    )


def test_arguments_that_are_not_utf8(db: Path) -> None:
    argv = [sys.executable, "-m", "toy", "show", "Counter", os.fsdecode(b"\xff\xfe")]
    result = subprocess.run(
        argv, env=toy_env(TOY_DATABASE=str(db)), capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "is not valid UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_not_found_is_exit_1_for_show_and_history(db: Path) -> None:
    for verb in ("show", "history"):
        result = run(db, verb, "Counter", "nope")
        assert (result.returncode, result.stderr.strip()) == (1, "error: Counter 'nope' not found")


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    path = tmp_path / "many.sqlite3"
    service = make_service(str(path))
    assert service.submit("CreateCounter", {"name": "a", "limit": 10**6}).ok
    for n in range(3000):  # far more output than a pipe holds
        assert service.submit("AddToCounter", {"name": "a", "amount": 1, "ref": f"r{n}"}).ok
    service.close()
    shell = f"{sys.executable} -m toy history Counter a | head -1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell],
        env=toy_env(TOY_DATABASE=str(path)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(result.stdout)["version"] == 1
    assert result.stderr == "" and result.returncode == 0


# -- a store that cannot be used: exit 3 -------------------------------------------------------
def test_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database" * 200)
    result = run(path, "show", "Counter", "a")
    assert result.returncode == 3
    assert "is damaged or not a SQLite database" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE orders (id)").connection.commit()
    result = run(path, "submit", "CreateCounter", '{"name": "x"}')
    assert result.returncode == 3 and "is not a draftsman event store" in result.stderr


def test_a_lock_held_too_long(db: Path) -> None:
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run(
            db, "submit", "AddToCounter", '{"name": "a", "amount": 1}', TOY_BUSY_TIMEOUT="0.3"
        )
    finally:
        holder.execute("ROLLBACK")
    assert result.returncode == 3
    assert result.stderr.strip().endswith("is locked by another process; gave up after 0.3 s")
    assert events(db) == 2


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on a read-only file system (root ignores file permissions)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        yield folder
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_store(read_only_dir: Path) -> None:
    path = read_only_dir / "toy.sqlite3"
    ok(run(path, "submit", "CreateCounter", '{"name": "a"}'))
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(read_only_dir)], check=True)
    else:
        path.chmod(0o444)
        read_only_dir.chmod(0o555)
    try:
        result = run(path, "submit", "AddToCounter", '{"name": "a", "amount": 1}')
    finally:
        if os.geteuid() != 0:
            read_only_dir.chmod(0o755)
    assert result.returncode == 3, result.stderr
    assert "is read-only" in result.stderr and "Traceback" not in result.stderr


# -- deliveries --------------------------------------------------------------------------------
def test_dispatch_lists_and_redelivers(db: Path) -> None:
    ok(run(db, "submit", "Reset", '{"name": "a", "freeze": true}'))
    ok(run(db, "submit", "AddToCounter", '{"name": "a", "amount": 2}'))
    assert json.loads(ok(run(db, "dispatch")).stdout) == {
        "done": 0,
        "rejected": 1,
        "retrying": 0,
        "dead": 0,
    }
    (line,) = ok(run(db, "deliveries")).stdout.splitlines()
    rejected = json.loads(line)
    assert (rejected["status"], rejected["reason"], rejected["flow"]) == (
        "rejected",
        "functional",
        "Tally.Count",
    )
    assert ok(run(db, "dead-letters")).stdout == ""
    again = ok(run(db, "redeliver", str(rejected["id"])))
    assert json.loads(again.stdout) == {"redelivered": [rejected["id"]]}
    missing = run(db, "redeliver", "999")
    assert missing.returncode == 1 and "no dead or rejected delivery with id 999" in missing.stderr
    statuses = ok(run(db, "deliveries", "--status", "pending", "--status", "done")).stdout
    assert [json.loads(x)["status"] for x in statuses.splitlines()] == ["pending"]


def test_dispatch_follow_is_a_worker_that_stops_on_sigterm(db: Path) -> None:
    env = toy_env(TOY_DATABASE=str(db), TOY_LOG_LEVEL="INFO")
    worker = subprocess.Popen(
        [sys.executable, "-m", "toy", "dispatch", "--follow", "--poll", "0.1"],
        env=env,
        cwd=db.parent,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ok(run(db, "submit", "AddToCounter", '{"name": "a", "amount": 4}'))
        deadline = time.monotonic() + 30
        while json.loads(ok(run(db, "show", "Tally", "a")).stdout)["total"] != 4:
            assert time.monotonic() < deadline, "the worker never delivered"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "source=Added#1 flow=Tally.Count aggregate=Tally key=a outcome=accepted" in err


def test_log_level_info_logs_each_flow_run(db: Path) -> None:
    result = ok(
        run(
            db,
            "--log-level",
            "INFO",
            "submit",
            "AddToCounter",
            '{"name": "a", "amount": 1, "ref": "secret-ref"}',
        )
    )
    (line,) = result.stderr.splitlines()
    assert "INFO draftsman_runtime.flows: source=AddToCounter flow=Counter.Add" in line
    assert "secret-ref" not in line


def test_backup_and_restore(db: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    written = json.loads(ok(run(db, "backup", "--target", str(backups))).stdout)
    name = written["backups"]["Counter"]
    other = tmp_path / "other.sqlite3"
    restored = ok(run(other, "restore", "Counter", name, "--target", str(backups)))
    assert json.loads(restored.stdout) == {"restored": 1, "skipped": 0}
    assert json.loads(ok(run(other, "show", "Counter", "a")).stdout)["limit"] == 50
    (backups / name).write_bytes(b"damaged")
    broken = run(other, "restore", "Counter", name, "--target", str(backups))
    assert broken.returncode == 2 and "is damaged" in broken.stderr


def test_help_names_the_settings() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "toy", "--help"],
        env=toy_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "TOY_DATABASE" in result.stdout and "TOY_DELIVERY_ATTEMPTS" in result.stdout
    assert result.stdout.startswith("usage: python -m toy")


def test_a_closed_standard_input(db: Path) -> None:
    argv = [sys.executable, "-m", "toy", "submit", "AddToCounter", "-"]
    result = subprocess.run(
        f"{' '.join(argv)} <&-",
        shell=True,
        capture_output=True,
        text=True,
        env=toy_env(TOY_DATABASE=str(db)),
        check=False,
    )
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "error: no payload: standard input is closed",
    )


def test_an_answer_that_cannot_be_written_is_not_called_bad_input(db: Path) -> None:
    argv = [sys.executable, "-m", "toy", "submit", "CreateCounter", '\'{"name": "z"}\'']
    result = subprocess.run(
        f"{' '.join(argv)} > /dev/full",
        shell=True,
        capture_output=True,
        text=True,
        env=toy_env(TOY_DATABASE=str(db)),
        check=False,
    )
    assert result.returncode == 3
    assert "the answer could not be written to standard output" in result.stderr
    assert "what was asked was done" in result.stderr
    assert json.loads(ok(run(db, "show", "Counter", "z")).stdout)["name"] == "z"


def test_damaged_stored_data(db: Path) -> None:
    """An event that is not JSON: reading the instance is exit 3 (damaged), a command on it is
    a technical error, other instances go on; a damaged delivery is parked, not a blockage."""
    ok(run(db, "submit", "CreateCounter", '{"name": "b"}'))
    ok(run(db, "submit", "AddToCounter", '{"name": "a", "amount": 1}'))
    ok(run(db, "submit", "AddToCounter", '{"name": "b", "amount": 1}'))
    con = sqlite3.connect(db)
    con.execute(
        "UPDATE events SET data = 'not json{' WHERE type = 'Added' AND id = "
        "(SELECT id FROM keychain WHERE aggregate = 'Counter' AND key = 'a')"
    )
    con.execute("UPDATE deliveries SET data = 'garbage' WHERE id = 1")
    con.commit()
    for verb in ("show", "history"):
        broken = run(db, verb, "Counter", "a")
        assert broken.returncode == 3 and "cannot be read" in broken.stderr, broken.stderr
        assert "Traceback" not in broken.stderr
    refused = run(db, "submit", "AddToCounter", '{"name": "a", "amount": 1}')
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["flows"][0]["reason"] == "technical-error"
    ok(run(db, "submit", "AddToCounter", '{"name": "b", "amount": 1}'))
    assert json.loads(ok(run(db, "dispatch")).stdout) == {
        "done": 2,
        "rejected": 0,
        "retrying": 0,
        "dead": 1,
    }
    (dead,) = [json.loads(x) for x in ok(run(db, "dead-letters")).stdout.splitlines()]
    assert (dead["id"], dead["reason"]) == (1, "bad-event")


def test_token_mints_what_the_server_accepts(db: Path) -> None:
    import jwt

    from draftsman_runtime.auth import AuthSettings, authenticate

    secret = "t" * 40
    minted = ok(run(db, "token", "--sub", "ada", "--role", "admin", TOY_JWT_SECRET=secret))
    text = minted.stdout.strip()
    assert jwt.decode(text, secret, algorithms=["HS256"])["roles"] == ["admin"]
    caller = authenticate(
        AuthSettings(jwt_key=secret, jwt_algorithm="HS256"), {"authorization": f"Bearer {text}"}
    )
    assert (caller.username, caller.roles) == ("ada", frozenset({"admin"}))
    unset = run(db, "token", "--sub", "ada")
    assert (unset.returncode, unset.stderr) == (
        2,
        "error: token signs with TOY_JWT_SECRET, which is not set\n",
    )


@pytest.mark.parametrize("verb", [["show", "Counter", "a"], ["serve", "--port", "0"]])
def test_a_postgresql_that_cannot_be_used_is_one_line(
    pg: Cluster, tmp_path: Path, verb: list[str]
) -> None:
    from conftest import PASSWORD

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    cases = {
        f"postgresql://postgres@127.0.0.1:{closed_port}/postgres": "connection refused",
        pg.url("alice", "alice", "wrong-password"): "password authentication failed",
        pg.url(dbname="nosuchdb"): "the database nosuchdb does not exist",
    }
    for url, reason in cases.items():
        done = subprocess.run(
            [sys.executable, "-m", "toy", *verb],
            env=toy_env(TOY_DATABASE=url),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 3, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith("error: cannot use the store: ") and reason in line, line
        assert "wrong-password" not in done.stderr and PASSWORD not in done.stderr
