"""Scoring rules."""

from . import FunctionalError

LIMIT = 100


def bonus(flow):
    if flow.points > LIMIT:
        raise FunctionalError(f"{flow.points} points is more than the limit of {LIMIT}")
    flow.bonus = 10 if flow.points >= 50 else 0
