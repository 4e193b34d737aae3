"""A synthetic model for generator benchmarks: N aggregates, each with 10 events, 10 flows
(one command each) and 20 test cases.

usage: python bench/synthetic.py N OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

EVENTS = 10
FLOWS = 10


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_model(n: int, root: Path) -> None:
    write(root, "draftsman.yaml", f"name: Synthetic{n}\npackage: synthetic{n}\n")
    write(root, "patterns/Code.yaml", 'regex: "[A-Z]{2}-[0-9]+"\n')
    for a in range(n):
        agg = f"Thing{a:03d}"
        base = f"domain/Area{a % 10}/{agg}"
        write(root, f"{base}/root.yaml", (
            "business-key: code\n"
            "fields:\n  code: String\n  name: String\n  total: Float\n  count: Int\n"
            "  active: {type: Boolean, default: true}\n  tags: StringList\n"
            "  note: String\n  level: Int\n"
        ))
        for e in range(EVENTS):
            op = ("set", "add", "subtract")[e % 3]
            target = {"set": "name", "add": "total", "subtract": "total"}[op]
            source = "name" if op == "set" else "amount"
            write(root, f"{base}/events/{agg}Changed{e}.yaml", (
                "fields:\n  code: String\n  name: String\n  amount: Float\n  level: Int\n"
                "handler:\n  mapping:\n"
                f"    {target}: {{{op}: {source}}}\n    level: {{set: level}}\n"
            ))
        for f in range(FLOWS):
            command = f"{agg}Do{f}Requested"
            write(root, f"commands/Area{a % 10}/{command}.yaml", (
                "fields:\n  code: {type: String, pattern: Code}\n  name: String\n  amount: Float\n"
                "  level: {type: Int, default: 1}\n  requestId: {type: String, auto-fill: uuid}\n"
            ))
            create = f == 0
            state = "" if create else "    state: {code: AB-1, name: old, total: 10.0}\n"
            write(root, f"{base}/behavior-flows/{agg}Do{f}.yaml", (
                f"create-command: {'true' if create else 'false'}\n"
                "triggers:\n"
                f"  - source: {command}\n    key-field: code\n"
                "    idempotency-key: [requestId]\n"
                "processors:\n"
                "  - validator:\n      condition: \"flow.amount >= 0\"\n"
                "      exception: \"Amount must not be negative, got {flow.amount}\"\n"
                "  - set-variable: {name: label, expression: \"flow.name.strip().title()\"}\n"
                f"  - emit-event:\n      ref: {agg}Changed{f}\n"
                "      mapping: {code: flow.code, name: flow.label, amount: flow.amount, level: flow.level}\n"
                "  - validator:\n      condition: \"flow.entity.total < 1000000\"\n"
                "      exception: \"Total too large: {flow.entity.total}\"\n"
                "test-cases:\n"
                "  - name: Works\n"
                f"    trigger-event: {command}\n{state}"
                "    input: {code: AB-1, name: ' new ', amount: 5, requestId: r1}\n"
                f"    expected: [{{event: {agg}Changed{f}, fields: {{name: New, amount: 5.0}}}}]\n"
                "    expected-state: {pk: AB-1, state: {level: 1}}\n"
                "  - name: NegativeIsRejected\n"
                f"    trigger-event: {command}\n{state}"
                "    input: {code: AB-1, name: x, amount: -1, requestId: r2}\n"
                "    expected-error: must not be negative\n"
            ))


if __name__ == "__main__":
    make_model(int(sys.argv[1]), Path(sys.argv[2]))
