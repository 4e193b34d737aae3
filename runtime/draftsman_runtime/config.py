"""Settings of a service, from its environment: `<PREFIX>_DATABASE` and friends.

The prefix is the generated package's (BANKING for `banking`), so two services on one
machine never read each other's settings. A bad value is a `ConfigError` naming the
variable; nothing is opened with a setting that could not be read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ConfigError
from .payload import DEFAULT_MAX_BYTES
from .retry import RetryPolicy
from .sqlite import SYNCHRONOUS

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True, slots=True)
class Settings:
    database: str
    synchronous: str = "NORMAL"
    busy_timeout: float = 30.0
    max_payload_bytes: int = DEFAULT_MAX_BYTES
    backup_target: str = "backups"
    log_level: str = "WARNING"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    delivery_retention_days: float = 7.0

    @classmethod
    def from_env(
        cls, prefix: str, package: str, environ: Mapping[str, str] | None = None
    ) -> Settings:
        env = _Env(prefix, os.environ if environ is None else environ)
        return cls(
            database=env.text("DATABASE", f"{package}.sqlite3"),
            synchronous=env.choice("SYNCHRONOUS", "NORMAL", SYNCHRONOUS),
            busy_timeout=env.number("BUSY_TIMEOUT", 30.0, minimum=0.0, maximum=86_400.0),
            max_payload_bytes=int(
                env.number("MAX_PAYLOAD_BYTES", DEFAULT_MAX_BYTES, minimum=2, maximum=2**30)
            ),
            backup_target=env.text("BACKUP_TARGET", "backups"),
            log_level=env.choice("LOG_LEVEL", "WARNING", LOG_LEVELS),
            retry=RetryPolicy(
                max_attempts=int(env.number("DELIVERY_ATTEMPTS", 4, minimum=1, maximum=100)),
                first_delay=env.number("RETRY_DELAY", 1.0, minimum=0.0, maximum=3600.0),
            ),
            delivery_retention_days=env.number(
                "DELIVERY_RETENTION_DAYS", 7.0, minimum=0.0, maximum=36_500.0
            ),
        )


_DOCS = (
    ("DATABASE", "the store: a SQLite file (default <package>.sqlite3) or postgresql://..."),
    ("SYNCHRONOUS", "OFF, NORMAL (default), FULL or EXTRA"),
    ("BUSY_TIMEOUT", "seconds a writer waits for another process's lock (default 30)"),
    ("MAX_PAYLOAD_BYTES", "largest JSON payload accepted (default 1048576)"),
    ("BACKUP_TARGET", "folder or s3://bucket/prefix for backups (default ./backups)"),
    ("LOG_LEVEL", "DEBUG, INFO (one line per flow run), WARNING (default) or ERROR"),
    ("DELIVERY_ATTEMPTS", "attempts per delivery before it is a dead letter (default 4)"),
    ("RETRY_DELAY", "seconds before the first retry of a delivery; x4 per retry (default 1)"),
    ("DELIVERY_RETENTION_DAYS", "days settled deliveries are kept by purge (default 7)"),
)


def setting_docs(prefix: str) -> list[tuple[str, str]]:
    """(variable, meaning) of every setting, for help texts."""
    return [(f"{prefix}_{name}", text) for name, text in _DOCS]


class _Env:
    def __init__(self, prefix: str, environ: Mapping[str, str]) -> None:
        self.prefix = prefix
        self.environ = environ

    def text(self, name: str, default: str) -> str:
        return self.environ.get(f"{self.prefix}_{name}") or default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default).upper()
        if value not in choices:
            raise ConfigError(
                f"{self.prefix}_{name} must be one of {', '.join(choices)}, not {value!r}"
            )
        return value

    def number(self, name: str, default: float, minimum: float, maximum: float) -> float:
        raw = self.environ.get(f"{self.prefix}_{name}")
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{self.prefix}_{name} must be a number, not {raw!r}") from None
        if not minimum <= value <= maximum:  # NaN fails this too
            raise ConfigError(
                f"{self.prefix}_{name} must be between {minimum:g} and {maximum:g}, not {raw!r}"
            )
        return value


def configure_logging(level: str) -> None:
    """Log lines to standard error: time, level, logger and message."""
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
