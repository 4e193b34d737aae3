"""A small model written by hand the way draftsman-gen generates one, for the runtime's tests.

Counter: created with a limit; `Add` adds an amount (idempotent on a reference), rejects
amounts <= 0, and fails technically (a bug on purpose) for the amount 13. Tally: counts the
amounts added to the counter of the same name, from Counter's `Added` event; rejects when
frozen; fails technically while `BROKEN` holds the amount. `Reset` triggers flows in both.
"""
