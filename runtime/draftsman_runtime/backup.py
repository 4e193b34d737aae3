"""Backups of aggregate state to blob storage: targets, the file format, and reading it back.

A backup of an aggregate is one gzip file of JSON lines, one line per instance:
`{"key": ..., "version": ..., "fingerprint": ..., "state": {...}}`, named
`<Aggregate>/<YYYYmmddTHHMMSS.ffffffZ>.jsonl.gz` under the target. Names never collide: a
target refuses to overwrite, and the service moves to the next microsecond. The target is a
local folder, or `s3://bucket/prefix` (needs boto3: `pip install 'draftsman-runtime[s3]'`).
A backup is read and checked whole before anything is restored from it.
"""

from __future__ import annotations

import calendar
import gzip
import io
import itertools
import json
import os
import time
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BackupError
from .payload import unicode_problem

DAY = 86_400.0
_STAMP = "%Y%m%dT%H%M%S"
_SUFFIX = ".jsonl.gz"
_MAX_BACKUP_BYTES = 2 * 1024**3  # a backup larger than this unpacked is refused
_MAX_LINE_BYTES = 64 * 1024**2  # and so is one instance's line larger than this
MAX_VERSION = 2**53  # versions beyond this cannot be ours (JSON's safe integers)


class BlobTarget(ABC):
    """Where backups go: put (never overwriting), list, get and delete named blobs."""

    @abstractmethod
    def put(self, name: str, data: bytes) -> None:
        """Store a new blob; FileExistsError when the name is taken."""

    @abstractmethod
    def names(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def get(self, name: str) -> bytes: ...

    @abstractmethod
    def delete(self, name: str) -> None: ...


class LocalTarget(BlobTarget):
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def put(self, name: str, data: bytes) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        try:
            os.link(tmp, path)  # atomic, and never replaces: FileExistsError when taken
        finally:
            tmp.unlink()

    def names(self, prefix: str) -> list[str]:
        folder = self.folder / prefix
        if not folder.is_dir():
            return []
        return sorted(f"{prefix}/{p.name}" for p in folder.iterdir() if p.name.endswith(_SUFFIX))

    def get(self, name: str) -> bytes:
        try:
            return (self.folder / name).read_bytes()
        except OSError as exc:
            raise BackupError(f"cannot read backup {name}: {exc.strerror}") from exc

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)


class S3Target(BlobTarget):
    """s3://bucket/prefix through boto3 (or any client with the same four calls)."""

    def __init__(self, url: str, client: Any = None) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise BackupError(f"{url!r} names no bucket; expected s3://bucket/prefix")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        if client is None:
            try:
                import boto3  # type: ignore[import-not-found, unused-ignore]
            except ImportError as exc:
                raise BackupError(
                    "s3:// targets need boto3: pip install 'draftsman-runtime[s3]'"
                ) from exc
            client = boto3.client("s3")
        self.client = client

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, name: str, data: bytes) -> None:
        try:
            # A conditional write: S3 refuses it when the key exists.
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(name), Body=data, IfNoneMatch="*"
            )
        except Exception as exc:
            if "PreconditionFailed" in repr(exc) or "412" in repr(exc):
                raise FileExistsError(name) from exc
            raise

    def names(self, prefix: str) -> list[str]:
        found: list[str] = []
        token: str | None = None
        strip = len(self.prefix) + 1 if self.prefix else 0
        while True:
            args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._key(prefix) + "/"}
            if token:
                args["ContinuationToken"] = token
            page = self.client.list_objects_v2(**args)
            found += [
                item["Key"][strip:]
                for item in page.get("Contents", [])
                if item["Key"].endswith(_SUFFIX)
            ]
            token = page.get("NextContinuationToken")
            if not token:
                return sorted(found)

    def get(self, name: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
        return body

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))


def target_for(location: str) -> BlobTarget:
    return S3Target(location) if location.startswith("s3://") else LocalTarget(location)


def blob_name(aggregate: str, when: float) -> str:
    """`Aggregate/20261128T231200.123456Z.jsonl.gz` for the moment `when` (UTC)."""
    seconds = int(when)
    micros = round((when - seconds) * 1_000_000)
    if micros == 1_000_000:
        seconds, micros = seconds + 1, 0
    return f"{aggregate}/{time.strftime(_STAMP, time.gmtime(seconds))}.{micros:06d}Z{_SUFFIX}"


def taken_at(name: str) -> float | None:
    """The time a backup was taken, from its name; None for names we did not write."""
    text = name.rsplit("/", 1)[-1].removesuffix(_SUFFIX).removesuffix("Z")
    whole, _, fraction = text.partition(".")
    try:
        seconds = float(calendar.timegm(time.strptime(whole, _STAMP)))
    except ValueError:
        return None
    if fraction and not (fraction.isdigit() and len(fraction) == 6):
        return None
    return seconds + (int(fraction) / 1_000_000 if fraction else 0.0)


def encode(rows: list[dict[str, Any]]) -> bytes:
    lines = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    return gzip.compress(lines.encode("utf-8"), mtime=0)


@dataclass(frozen=True, slots=True)
class Row:
    """One instance in a backup, checked."""

    line: int
    key: str
    version: int
    fingerprint: str
    state: dict[str, Any]


def decode(data: bytes, name: str) -> list[Row]:
    """Every row of a backup, checked; BackupError naming the line of the first problem.

    The file is read line by line as it is unpacked, with a bound on each line and on the
    whole, so a small file that unpacks to gigabytes (a gzip bomb) costs neither memory nor
    much time."""
    rows: list[Row] = []
    keys: set[str] = set()
    unpacked = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            for number in itertools.count(1):
                line = handle.readline(_MAX_LINE_BYTES + 1)
                if not line:
                    return rows
                unpacked += len(line)
                if len(line) > _MAX_LINE_BYTES or unpacked > _MAX_BACKUP_BYTES:
                    raise BackupError(f"backup {name} line {number} is too large to be ours")
                if line.strip():
                    row = _row(line, number, name)
                    if row.key in keys:
                        raise BackupError(
                            f"backup {name} line {number}: key {row.key!r} appears twice"
                        )
                    keys.add(row.key)
                    rows.append(row)
    except (OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"backup {name} is damaged: {exc}") from exc
    return rows


def _row(line: bytes, number: int, name: str) -> Row:
    where = f"backup {name} line {number}"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BackupError(f"{where} is damaged: not UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BackupError(f"{where} is damaged: not JSON ({exc})") from None
    if not isinstance(value, dict) or not {"key", "version", "state"} <= value.keys():
        raise BackupError(f"{where} lacks key, version or state")
    key, version, state = value["key"], value["version"], value["state"]
    if not isinstance(key, str) or not key or unicode_problem(key):
        raise BackupError(f"{where}: key must be a non-empty string")
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < MAX_VERSION:
        raise BackupError(f"{where}: version must be a whole number from 0 to 2**53")
    if not isinstance(state, dict):
        raise BackupError(f"{where}: state must be an object")
    fingerprint = value.get("fingerprint", "")
    if not isinstance(fingerprint, str):
        raise BackupError(f"{where}: fingerprint must be a string")
    return Row(number, key, version, fingerprint, state)
