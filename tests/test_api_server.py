"""Every example as a real server: `python -m <package> serve` (uvicorn) on 127.0.0.1 and a
free port, driven over HTTP as a client would: mutations, traces (with a cross-aggregate flow
in fulfilment), get/filter with pagination, authorization, errors; and a server killed with
SIGKILL right after it answered a mutation, whose command still runs exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

SECRET = "e2e-secret-" + "x" * 32
API_KEY = "e2e-api-key"


def token(sub: str, *roles: str) -> dict[str, str]:
    claims = {"sub": sub, "roles": list(roles), "exp": time.time() + 600}
    return {"Authorization": "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")}


KEY = {"X-Api-Key": API_KEY}
PACKAGES = {"shop": "shop_service"}  # the examples whose package is not their folder's name


class Server:
    """One `python -m <package> serve` process."""

    def __init__(self, root: Path, package: str, database: Path | str, *args: str) -> None:
        # Port 0: the server binds a free port itself and says which (no race between tests
        # that pick a port, release it and bind it later); its output goes to a file, which
        # never fills up and blocks it as an unread pipe could.
        prefix = package.upper()  # the environment prefix of the package's settings
        env = {**os.environ, "PYTHONPATH": str(root), f"{prefix}_DATABASE": str(database),
               f"{prefix}_JWT_SECRET": SECRET, f"{prefix}_API_KEYS": API_KEY}
        self.log = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", package, "--log-level", "INFO", "serve", "--port", "0", *args],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)  # its own process group: stop() reaches uvicorn's workers
        try:
            self._wait_until_serving()
        except BaseException:
            self.stop(signal.SIGKILL)  # a server that failed to start must not outlive the test
            raise

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server ended: {self.output()}")
            found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", self.output())
            if found:
                self.port = int(found.group(1))
                try:  # with --workers, the workers may still be starting
                    with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:
                        if answer.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError(f"the server did not start within 30 s: {self.output()}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, text: str, headers: dict[str, str] | None = None, **variables: Any) -> Any:
        body = json.dumps({"query": text, "variables": variables}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, method="POST",
            headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return {"status": exc.code, **json.loads(exc.read() or b"{}")}

    def data(self, text: str, headers: dict[str, str] | None = None, **variables: Any) -> Any:
        answer = self.query(text, headers, **variables)
        assert "errors" not in answer, answer
        return answer["data"]

    def wait(self, correlation: str) -> dict[str, Any]:
        trace: dict[str, Any] = self.data(
            "query($c: String!) { wait(correlationId: $c, timeout: 20) { complete runs { flow "
            "trigger key status reason message events { type version data } } } }", KEY,
            c=correlation)["wait"]
        assert trace["complete"], trace
        return trace

    def stop(self, sig: int = signal.SIGTERM) -> None:
        group = self.process.pid  # start_new_session: the group has the server's pid
        if self.process.poll() is None:
            os.killpg(group, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        try:
            os.killpg(group, signal.SIGKILL)  # whatever of the group is left (workers)
        except ProcessLookupError:
            pass
        self.log.close()


@pytest.fixture
def serve(generated: Path, tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def start(example: str, *args: str, database: str = "db.sqlite3") -> Server:
        package = PACKAGES.get(example, example)
        server = Server(generated / example, package, tmp_path / database, *args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


OPEN = ("mutation($i: OpenAccountRequestedInput!) { Banking { openAccount(input: $i) "
        "{ correlationId } } }")
DEPOSIT = ("mutation($i: DepositRequestedInput!) { Banking { deposit(input: $i) "
           "{ correlationId } } }")


def open_account(server: Server, number: str, owner: str = "Ada") -> str:
    answer = server.data(OPEN, token("tom", "teller"),
                         i={"accountNumber": number, "owner": owner, "initialDeposit": 10})
    correlation: str = answer["Banking"]["openAccount"]["correlationId"]
    return correlation


def test_banking_over_http(serve: Any) -> None:
    server = serve("banking")
    trace = server.wait(open_account(server, "NL01BANK0001"))
    [run] = trace["runs"]
    assert (run["flow"], run["status"], run["key"]) == ("Account.OpenAccount", "ACCEPTED",
                                                        "NL01BANK0001")
    assert run["events"][0]["type"] == "AccountOpened"
    deposit = server.data(DEPOSIT, token("ada"), i={"accountNumber": "NL01BANK0001",
                                                     "amount": 5.5, "reference": "r1"})
    server.wait(deposit["Banking"]["deposit"]["correlationId"])
    account = server.data("{ Account { get(key: \"NL01BANK0001\") { owner balance frozen } } }",
                          token("ada"))["Account"]["get"]
    assert account == {"owner": "Ada", "balance": 15.5, "frozen": False}
    # a functional rejection is a trace, not an HTTP error
    again = server.wait(open_account(server, "NL01BANK0001"))
    assert [(r["status"], r["reason"]) for r in again["runs"]] == [("REJECTED", "already-exists")]


def test_banking_pagination_and_filters(serve: Any) -> None:
    server = serve("banking")
    for n, owner in enumerate(["Ada", "Bob", "Ann", "Cyd", "Abe"]):
        server.wait(open_account(server, f"NL0{n}BANK000{n}", owner))
    query = ("query($after: String) { Account { filter(where: {owner: {beginsWith: \"A\"}}, "
             "first: 2, after: $after) { items { owner } cursor } } }")
    owners: list[str] = []
    after = None
    pages = 0
    while True:
        page = server.data(query, token("ada"), after=after)["Account"]["filter"]
        owners += [item["owner"] for item in page["items"]]
        pages += 1
        after = page["cursor"]
        if after is None:
            break
    assert (owners, pages) == (["Ada", "Ann", "Abe"], 2)


def test_banking_refuses_bad_input_and_bad_credentials_storing_nothing(
        serve: Any, generated: Path, tmp_path: Path) -> None:
    server = serve("banking")
    bad = server.query(OPEN, token("tom", "teller"),
                       i={"accountNumber": "not-an-iban", "owner": "Ada"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "accountNumber" in bad["errors"][0]["message"]
    not_teller = server.query(OPEN, token("ada"), i={"accountNumber": "NL01BANK0001",
                                                     "owner": "Ada"})
    assert not_teller["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    no_token = server.query(OPEN, KEY, i={"accountNumber": "NL01BANK0001", "owner": "Ada"})
    assert no_token["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    unknown = server.query(OPEN, token("tom", "teller"),
                           i={"accountNumber": "NL01BANK0001", "owner": "Ada", "pin": 1})
    assert "pin" in unknown["errors"][0]["message"]
    malformed = server.query("mutation { Banking { openAccount(input: {", KEY)
    assert "Syntax Error" in malformed["errors"][0]["message"]
    history = subprocess.run(
        [sys.executable, "-m", "banking", "--database", str(tmp_path / "db.sqlite3"),
         "deliveries", "--status", "pending", "--status", "done"],
        env={**os.environ, "PYTHONPATH": str(generated / "banking")}, capture_output=True,
        text=True, check=True)
    assert history.stdout == ""  # not one command was stored


def test_fulfilment_traces_a_cross_aggregate_flow(serve: Any) -> None:
    server = serve("fulfilment")
    place = ("mutation($i: PlaceOrderRequestedInput!) { Orders { place(input: $i) "
             "{ correlationId } } }")
    order = {"orderId": "O-1", "customerId": "cy", "lines": [{"sku": "ABC-123", "quantity": 2}]}
    refused = server.query(place, token("someone-else"), i=order)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # user-must-match
    correlation = server.data(place, token("cy"), i=order)["Orders"]["place"]["correlationId"]
    trace = server.wait(correlation)
    assert [(r["flow"], r["trigger"], r["status"]) for r in trace["runs"]] == [
        ("Order.PlaceOrder", "PlaceOrderRequested", "ACCEPTED"),
        ("Shipment.PrepareShipment", "OrderPlaced", "ACCEPTED"),
    ]
    assert trace["runs"][1]["key"] == "SHP-O-1"
    got = server.data("{ Order { get(key: \"O-1\") { customerId lineCount } } Shipment { "
                      "get(key: \"SHP-O-1\") { skus } } }", token("cy"))
    assert got == {"Order": {"get": {"customerId": "cy", "lineCount": 1}},
                   "Shipment": {"get": {"skus": ["ABC-123"]}}}
    # one command, two flows, two aggregates
    cancel = server.data("mutation { Sales { cancelOrder(input: {orderId: \"O-1\"}) "
                         "{ correlationId } } }", token("cy"))
    flows = {r["flow"] for r in server.wait(cancel["Sales"]["cancelOrder"]["correlationId"])
             ["runs"]}
    assert {"Order.CancelOrder", "Shipment.CancelShipment"} <= flows


def test_shop_fills_the_username_and_serves_anonymous_readers(serve: Any) -> None:
    server = serve("shop")
    created = server.data("mutation { Shop { createCart(input: {}) { correlationId } } }",
                          token("ada"))
    [run] = server.wait(created["Shop"]["createCart"]["correlationId"])["runs"]
    cart_id = run["key"]  # auto-fill: uuid
    assert len(cart_id) == 36
    add = server.data(
        "mutation($i: AddItemsRequestedInput!) { Shop { addItems(input: $i) { correlationId } } }",
        KEY, i={"cartId": cart_id, "items": [{"sku": "S1", "quantity": 2, "unitPrice": 1.5}]})
    server.wait(add["Shop"]["addItems"]["correlationId"])
    cart = server.data("query($k: String!) { Cart { get(key: $k) { customer total items { sku } } } }",
                       KEY, k=cart_id)["Cart"]["get"]
    assert cart == {"customer": "ada", "total": 3.0, "items": [{"sku": "S1"}]}


def test_a_server_killed_after_answering_loses_nothing_and_runs_it_once(serve: Any,
                                                                        generated: Path,
                                                                        tmp_path: Path) -> None:
    # Without a dispatcher the command can only run after the restart.
    first = serve("banking", "--no-dispatch")
    stored = open_account(first, "NL01BANK0001")
    first.stop(signal.SIGKILL)
    # With one, the kill lands wherever it lands: before, during or after the flow ran.
    correlations = [stored]
    for n in range(2, 5):
        server = serve("banking")
        correlations.append(open_account(server, f"NL0{n}BANK000{n}"))
        server.stop(signal.SIGKILL)
    final = serve("banking")
    for correlation in correlations:
        [run] = final.wait(correlation)["runs"]
        assert run["status"] == "ACCEPTED", run
    env = {**os.environ, "PYTHONPATH": str(generated / "banking")}
    for n in range(1, 5):
        history = subprocess.run(
            [sys.executable, "-m", "banking", "--database", str(tmp_path / "db.sqlite3"),
             "history", "Account", f"NL0{n}BANK000{n}"], env=env, capture_output=True,
            text=True, check=True)
        assert [json.loads(line)["type"] for line in history.stdout.splitlines()] == [
            "AccountOpened"]  # exactly once


def test_serve_refuses_bad_configuration_in_one_line(generated: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(generated / "banking"),
           "BANKING_DATABASE": str(tmp_path / "x.sqlite3"), "BANKING_JWT_SECRET": "short"}
    done = subprocess.run([sys.executable, "-m", "banking", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (
        2, "error: BANKING_JWT_SECRET must be at least 32 characters long\n")
    workers = subprocess.run([sys.executable, "-m", "banking", "serve", "--port", "0",
                              "--workers", "2"], env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert (workers.returncode, workers.stderr) == (done.returncode, done.stderr)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env["BANKING_JWT_SECRET"] = SECRET
        busy = subprocess.run([sys.executable, "-m", "banking", "serve", "--port", str(port)],
                              env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (busy.returncode, busy.stderr) == (
        3, f"error: cannot listen on 127.0.0.1:{port}: the port is in use\n")
    usage = subprocess.run([sys.executable, "-m", "banking", "serve", "--port", "http"],
                           env=env, capture_output=True, text=True, timeout=60, check=False)
    assert usage.returncode == 2 and "not a port number: 'http'" in usage.stderr


def test_several_workers_and_a_separate_dispatcher_run_each_command_once(
        serve: Any, generated: Path, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server = serve("banking", "--workers", "2")
    env = {**os.environ, "PYTHONPATH": str(generated / "banking"),
           "BANKING_DATABASE": str(tmp_path / "db.sqlite3")}
    worker = subprocess.Popen([sys.executable, "-m", "banking", "dispatch", "--follow",
                               "--poll", "0.2"], env=env, stderr=subprocess.PIPE)
    try:
        server.wait(open_account(server, "NL01BANK0001"))
        teller = token("ada")

        def deposit(n: int) -> str:
            answer = server.data(DEPOSIT, teller, i={"accountNumber": "NL01BANK0001",
                                                     "amount": 1.0, "reference": f"r{n}"})
            correlation: str = answer["Banking"]["deposit"]["correlationId"]
            return correlation

        with ThreadPoolExecutor(8) as pool:
            correlations = list(pool.map(deposit, range(40)))
        for correlation in correlations:
            assert [r["status"] for r in server.wait(correlation)["runs"]] == ["ACCEPTED"]
    finally:
        worker.terminate()
        worker.communicate(timeout=30)
    account = server.data("{ Account { get(key: \"NL01BANK0001\") { balance } } }",
                          token("ada"))["Account"]["get"]
    assert account == {"balance": 50.0}  # 10 opening + 40 deposits, each exactly once
    history = subprocess.run([sys.executable, "-m", "banking", "history", "Account",
                              "NL01BANK0001"], env=env, capture_output=True, text=True,
                             check=True)
    versions = [json.loads(line)["version"] for line in history.stdout.splitlines()]
    assert versions == list(range(1, 42))
