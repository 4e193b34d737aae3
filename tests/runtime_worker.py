"""A separate process that submits deposits to the generated banking service.

usage: runtime_worker.py DATABASE WORKER COUNT ACCOUNTS SEED
Prints one JSON line per command: [reference, account, amount, reason or "ok"].
"""

from __future__ import annotations

import json
import random
import sys

from banking.service import BankingService
from banking.store import SQLiteEventStore


def main() -> None:
    database, worker, count, accounts, seed = sys.argv[1:6]
    rng = random.Random(int(seed))
    service = BankingService(SQLiteEventStore(database))
    for i in range(int(count)):
        account = f"NL01BANK{rng.randrange(int(accounts)):04d}"
        amount = rng.randint(1, 100)
        reference = f"{worker}-{i}"
        result = service.submit("DepositRequested", {
            "accountNumber": account, "amount": amount, "reference": reference})
        print(json.dumps([reference, account, amount, "ok" if result.ok else result.reason]),
              flush=True)
    print(json.dumps(["done"]), flush=True)


if __name__ == "__main__":
    main()
