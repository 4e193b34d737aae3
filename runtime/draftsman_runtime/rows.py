"""Rows as the SQL stores keep them, turned into the store's values: shared by the SQLite and
the PostgreSQL backend, which store the same columns (JSON as text) in the same order."""

from __future__ import annotations

import json
from typing import Any

from .store import Delivery, Emitted, Loaded, Settlement

decode = json.JSONDecoder().decode  # json.loads without its per-call checks: loads are hot
encode = json.JSONEncoder(ensure_ascii=False).encode


def loaded(rows: list[Any], fingerprint: str, after: int | None = None) -> Loaded:
    """A load's rows: with `after`, the (version, type, data) of the events after it; else
    the tagged rows of the one-statement load (0 the snapshot, 1 an event)."""
    if after is not None:
        events = [(v, t, decode(d)) for v, t, d in rows]
        # The newest event is never purged: the last one read is the head.
        return Loaded(None, after, events, events[-1][0] if events else after)
    snapshot_row = rows[0] if rows and rows[0][0] == 0 else None
    events = [(v, t, decode(d)) for _kind, v, t, d in (rows[1:] if snapshot_row else rows)]
    if snapshot_row is None:
        return Loaded(None, 0, events, events[-1][0] if events else 0)
    _kind, version, snapshot_fingerprint, data = snapshot_row
    head = max(version, events[-1][0]) if events else version
    if snapshot_fingerprint == fingerprint:
        return Loaded(decode(data), version, events, head)
    # A snapshot of another shape is ignored while the full history exists; once events were
    # purged (the first one left is not version 1) it is the only record of them, read leniently.
    if events and events[0][0] == 1:
        return Loaded(None, 0, events, head)
    later = [event for event in events if event[0] > version]
    return Loaded(decode(data), version, later, head, migrated=True)


def delivery(row: Any) -> Delivery:
    try:
        data = decode(row[4])
    except (TypeError, ValueError, RecursionError):
        data = None  # damaged: the dispatcher parks it as a dead letter (bad-event)
    return Delivery(
        id=int(row[0]),
        event_id=row[1],
        event_type=row[2],
        flow=row[3],
        data=data,
        origin=row[5],
        status=row[6],
        attempts=int(row[7]),
        due=float(row[8]),
        created=float(row[9]),
        updated=float(row[10]),
        reason=row[11],
        message=row[12],
        detail=row[13],
        correlation=row[14],
        key=row[15],
        emitted=emitted(row[16]),
    )


def emitted(text: str) -> tuple[Emitted, ...]:
    try:
        return tuple(Emitted(str(t), int(v), d) for t, v, d in decode(text))
    except (TypeError, ValueError, RecursionError):
        return ()  # damaged: the trace shows no events rather than failing


def settled_row(settlement: Settlement, now: float, delivery_id: int) -> tuple[Any, ...]:
    """The parameters of both stores' `UPDATE deliveries SET status, attempts, due, updated,
    reason, message, detail, instance, emitted WHERE id`."""
    emitted = encode([[e.type, e.version, e.data] for e in settlement.emitted])
    return (
        settlement.status,
        settlement.attempts,
        settlement.due,
        now,
        settlement.reason,
        settlement.message,
        settlement.detail,
        settlement.key,
        emitted,
        delivery_id,
    )
