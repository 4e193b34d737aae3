"""A generated service on PostgreSQL, as production runs it: `<PREFIX>_DATABASE` names a
postgresql:// URL, and the same package serves its API, runs cross-aggregate flows in its
dispatcher and answers its command line. The store itself is tested in the runtime
(runtime/tests/test_store_postgres.py and every toy-model test on both backends).

Without PostgreSQL these tests are skipped, unless DRAFTSMAN_REQUIRE_POSTGRES=1 (CI)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from test_api_server import Server, token

sys.path.insert(0, str(ROOT / "runtime" / "tests"))
from postgres_cluster import Cluster, find_bindir, running_cluster


@pytest.fixture(scope="module")
def pg() -> Iterator[Cluster]:
    bindir = find_bindir()
    missing = "PostgreSQL is not installed (apt-get install postgresql)"
    if bindir is None or not _has_psycopg():
        if os.environ.get("DRAFTSMAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{missing} or psycopg is missing, and DRAFTSMAN_REQUIRE_POSTGRES=1")
        pytest.skip(f"{missing}, or psycopg is missing")
    assert bindir is not None
    with running_cluster(bindir) as cluster:
        yield cluster


def _has_psycopg() -> bool:
    import importlib.util

    return importlib.util.find_spec("psycopg") is not None


def new_database(cluster: Cluster) -> str:
    import psycopg

    name = f"svc_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return cluster.url(dbname=name)


def test_fulfilment_serves_and_runs_its_cross_aggregate_flow_on_postgresql(
        pg: Cluster, generated: Path) -> None:
    url = new_database(pg)
    server = Server(generated / "fulfilment", "fulfilment", url)
    try:
        place = ("mutation($i: PlaceOrderRequestedInput!) { Orders { place(input: $i) "
                 "{ correlationId } } }")
        order = {"orderId": "O-7", "customerId": "cy", "lines": [{"sku": "ABC-123", "quantity": 1}]}
        correlation = server.data(place, token("cy"), i=order)["Orders"]["place"]["correlationId"]
        runs = server.wait(correlation)["runs"]
        assert [(r["flow"], r["status"]) for r in runs] == [
            ("Order.PlaceOrder", "ACCEPTED"), ("Shipment.PrepareShipment", "ACCEPTED")]
        placed = [event["type"] for event in runs[0]["events"]]
        assert server.data("{ Shipment { get(key: \"SHP-O-7\") { skus } } }", token("cy"))[
            "Shipment"]["get"] == {"skus": ["ABC-123"]}
    finally:
        server.stop()
    # the command line reads the same database
    done = subprocess.run([sys.executable, "-m", "fulfilment", "history", "Order", "O-7"],
                          env={**os.environ, "PYTHONPATH": str(generated / "fulfilment"),
                               "FULFILMENT_DATABASE": url},
                          capture_output=True, text=True, check=True)
    history = [json.loads(line)["type"] for line in done.stdout.splitlines()]
    assert history == placed and history[0] == "OrderPlaced"


def test_a_server_killed_after_answering_loses_nothing_on_postgresql(
        pg: Cluster, generated: Path) -> None:
    url = new_database(pg)
    first = Server(generated / "banking", "banking", url, "--no-dispatch")
    teller = token("tom", "teller")
    opened = first.data(
        "mutation { Banking { openAccount(input: {accountNumber: \"NL01BANK0001\", "
        "owner: \"Ada\"}) { correlationId } } }", teller)["Banking"]["openAccount"]
    first.stop(signal.SIGKILL)
    second = Server(generated / "banking", "banking", url)
    try:
        [run] = second.wait(opened["correlationId"])["runs"]
        assert run["status"] == "ACCEPTED"
    finally:
        second.stop()
