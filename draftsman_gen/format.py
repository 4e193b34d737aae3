"""Stage 4: format generated Python with black, in-process, behind a content-hash cache.

The cache maps sha256(black version, mode, unformatted text) to the formatted text, so a
rebuild with an unchanged model formats nothing and does not even import black.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

LINE_LENGTH = 100
CACHE_ENV = "DRAFTSMAN_GEN_CACHE_DIR"


class FormatError(Exception):
    """Generated code that black cannot parse: a bug in draftsman-gen."""


def default_cache_dir() -> Path:
    if CACHE_ENV in os.environ:
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "draftsman-gen" / "black"


def _black_version() -> str:
    from importlib.metadata import version

    return version("black")


class Formatter:
    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = cache_dir
        self.formatted = 0  # files black actually ran on (cache misses)
        self._version: str | None = None

    def _key(self, text: str) -> str:
        if self._version is None:
            self._version = _black_version()
        seed = f"black {self._version} py311 {LINE_LENGTH}\n"
        return hashlib.sha256((seed + text).encode("utf-8")).hexdigest()

    def format(self, text: str, path: str) -> str:
        key = self._key(text)
        cached = self._read(key)
        if cached is not None:
            return cached
        result = self._run_black(text, path)
        self._write(key, result)
        return result

    def _run_black(self, text: str, path: str) -> str:
        import black

        self.formatted += 1
        from black.mode import TargetVersion

        mode = black.Mode(target_versions={TargetVersion.PY311}, line_length=LINE_LENGTH)
        try:
            return black.format_str(text, mode=mode)
        except Exception as exc:
            raise FormatError(f"{path}: generated code does not parse: {exc}") from exc

    def _read(self, key: str) -> str | None:
        if self.cache_dir is None:
            return None
        try:
            return (self.cache_dir / key[:2] / key).read_text(encoding="utf-8")
        except OSError:
            return None

    def _write(self, key: str, text: str) -> None:
        if self.cache_dir is None:
            return
        folder = self.cache_dir / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a concurrent build never reads half a file.
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, folder / key)
        except OSError:
            pass  # the cache is an optimisation; an unwritable cache only costs time
