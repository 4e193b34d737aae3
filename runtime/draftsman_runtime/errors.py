"""The exceptions of the runtime: what went wrong, in the words a user needs."""

from __future__ import annotations


class FunctionalError(Exception):
    """A business rule said no: a failed validator, or raised on purpose in model code.

    Nothing is stored; the result is `Rejected(reason="functional")` with this message.
    """


class TechnicalError(Exception):
    """Model code broke a promise the model makes (an emitted event of the wrong type)."""


class PayloadError(ValueError):
    """Input that does not fit: wrong type, missing field, bad pattern, too large, not JSON."""


class StoreError(Exception):
    """The store cannot be used: it cannot be opened, is damaged, read-only, locked or foreign."""


class DamagedDataError(StoreError):
    """Stored data this runtime cannot read: one instance (or delivery) is damaged, the rest of
    the store may be fine. A flow on it is a technical error; reading it is a StoreError."""


class ConcurrencyError(Exception):
    """Another writer changed the instance since it was loaded; reload and try again."""


class DuplicateError(Exception):
    """The idempotency key was already recorded by another writer."""


class KeyTakenError(Exception):
    """The business key is already used by another instance of the aggregate."""


class BackupError(Exception):
    """A backup target that cannot be used, or a backup that cannot be read or is damaged."""


class ConfigError(ValueError):
    """A setting in the environment that cannot be used."""
