"""A separate process for the delivery tests: `dispatch`, or `add` commands, on one file.

usage: dispatch_worker.py DATABASE dispatch|step|add [COUNT] [NAME]|spread COUNT SEED
DATABASE is a SQLite file or a postgresql:// URL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from toy.registry import REGISTRY

from draftsman_runtime import Service, Settings
from draftsman_runtime.dispatcher import DispatchReport


def main() -> None:
    database, verb = sys.argv[1], sys.argv[2]
    # a SQLite file or a postgresql:// URL, as <PREFIX>_DATABASE would name it
    service = Service(REGISTRY, settings=Settings(database=database))
    if verb == "dispatch":  # what `python -m <package> dispatch` does
        print("ready", flush=True)
        sys.stdin.readline()  # start together with the other dispatchers
        report = service.dispatch()
        print(json.dumps({"total": report.handled, "skipped": report.skipped}), flush=True)
        return
    if verb == "step":
        # One delivery at a time, with a line after each, so a test can kill it mid-way.
        total = 0
        while batch := service.store.due(service.clock(), 5):
            for delivery in batch:
                report = DispatchReport()
                service.dispatcher.deliver(delivery, report)
                total += report.handled
                print(json.dumps(report.summary()), flush=True)
        print(json.dumps({"total": total}), flush=True)
        return
    if verb == "spread":
        # COUNT commands over the counters c0..c9, each with a reference unique to this process
        count, seed = int(sys.argv[3]), sys.argv[4]
        for n in range(count):
            name = f"c{(n * 7 + len(seed)) % 10}"
            payload = {"name": name, "amount": 1, "ref": f"{seed}-{n}"}
            print(json.dumps([n, service.submit("AddToCounter", payload).ok]), flush=True)
        return
    count, name = int(sys.argv[3]), sys.argv[4]
    for n in range(count):
        result = service.submit("AddToCounter", {"name": name, "amount": 1, "ref": f"{name}-{n}"})
        print(json.dumps([n, result.ok]), flush=True)


if __name__ == "__main__":
    main()
