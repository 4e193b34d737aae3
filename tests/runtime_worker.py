"""A separate process that submits deposits to a generated service (banking or the ledger
test model), or purges it in a loop.

usage: runtime_worker.py PACKAGE DATABASE deposit WORKER COUNT ACCOUNTS SEED
       runtime_worker.py PACKAGE DATABASE purge SECONDS
`deposit` prints one JSON line per command: [reference, account, amount, "ok" or the reason];
`purge` prints the number of events it deleted in all.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
import time

from draftsman_runtime import Service, Settings, SQLiteEventStore


def account(n: int) -> str:
    return f"NL01BANK{n:04d}"


def main() -> None:
    package, database, verb = sys.argv[1:4]
    registry = importlib.import_module(f"{package}.registry").REGISTRY
    service = Service(registry, SQLiteEventStore(database), settings=Settings(database))
    if verb == "purge":
        deleted, stop = 0, time.monotonic() + float(sys.argv[4])
        while time.monotonic() < stop:
            deleted += sum(v for k, v in service.purge().items() if k != "records")
            time.sleep(0.05)
        print(json.dumps({"deleted": deleted}), flush=True)
        return
    worker, count, accounts, seed = sys.argv[4:8]
    rng = random.Random(int(seed))
    for i in range(int(count)):
        number = account(rng.randrange(int(accounts)))
        amount = rng.randint(1, 100)
        reference = f"{worker}-{i}"
        submission = service.submit("DepositRequested", {
            "accountNumber": number, "amount": amount, "reference": reference})
        result = submission.results[0]
        print(json.dumps([reference, number, amount, "ok" if result.ok else result.reason]),
              flush=True)
    print(json.dumps(["done"]), flush=True)


if __name__ == "__main__":
    main()
