"""Donation rules, called by the Member.Donate code processor (and a notifier)."""

from . import FunctionalError


def count_copies(flow):
    """Counts the donated copies; every copy needs an id of its own."""
    seen = set()
    for copy in flow.copies:
        if copy.copyId in seen:
            raise FunctionalError(f"Copy {copy.copyId} appears twice in the donation")
        seen.add(copy.copyId)
    if not seen:
        raise FunctionalError("A donation needs at least one copy")
    flow.copyCount = len(seen)


def receipt_lines(flow):
    """Notifier helper: one receipt line per donated copy."""
    flow.lines = [f"{item['copyId']} on shelf {item['shelf']}" for item in flow.copies]
