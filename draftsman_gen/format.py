"""Stage 5: format generated Python with black, in-process, behind a content-hash cache.

Most generated files are written in black's layout already (templates and layout.py are held
to black by tests): such a file skips black when nothing in it depends on what black would
measure differently (see `may_skip_black`). The rest (model code snippets, lines too long)
go to black. The cache maps sha256(black version, mode, unformatted text) to the formatted
text, so a rebuild with an unchanged model formats nothing and does not even import black.
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
    """The local cache: formatted files under black/, build records under builds/."""
    if CACHE_ENV in os.environ:
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "draftsman-gen"


def _black_version() -> str:
    from importlib.metadata import version

    return version("black")


def may_skip_black(text: str) -> bool:
    """Whether black certainly leaves a file in black's layout unchanged: every line is a
    comment (black never rewraps one), a one-line docstring (never split), or plain ASCII
    (black measures other characters by display width) no longer than the limit."""
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("# "):
            continue
        if not line.isascii():
            return False
        if len(line) > LINE_LENGTH and not _one_line_docstring(stripped):
            return False
    return True


def _one_line_docstring(stripped: str) -> bool:
    return (len(stripped) >= 6 and stripped.startswith('"""') and stripped.endswith('"""')
            and '"""' not in stripped[3:-3] and "\\" not in stripped)


class Formatter:
    def __init__(self, cache_dir: Path | None) -> None:
        self.cache_dir = None if cache_dir is None else cache_dir / "black"
        self.formatted = 0  # files black actually ran on (cache misses)
        self.skipped = 0  # files in black's layout already
        self._version: str | None = None

    def _key(self, text: str) -> str:
        if self._version is None:
            self._version = _black_version()
        seed = f"black {self._version} py311 {LINE_LENGTH}\n"
        return hashlib.sha256((seed + text).encode("utf-8")).hexdigest()

    def format(self, text: str, path: str) -> str:
        return self.format_many({path: text})[path]

    def format_many(self, texts: dict[str, str],
                    stable: frozenset[str] = frozenset()) -> dict[str, str]:
        """Format many files: those in `stable` (written in black's layout) that black would
        certainly keep as they are, then cache hits, then black on the misses, in parallel
        processes when there are enough of them to pay for starting the processes."""
        result: dict[str, str] = {}
        misses: dict[str, tuple[str, str]] = {}
        for path, text in texts.items():
            if path in stable and may_skip_black(text):
                result[path] = text
                self.skipped += 1
                continue
            key = self._key(text)
            cached = self._read(key)
            if cached is None:
                misses[path] = (key, text)
            else:
                result[path] = cached
        jobs = [(path, text) for path, (_key, text) in misses.items()]
        for path, formatted in _run_black_all(jobs):
            self._write(misses[path][0], formatted)
            result[path] = formatted
        self.formatted += len(jobs)
        return result

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


PARALLEL_THRESHOLD = 16  # fewer misses than this are formatted in this process


def _run_black_all(jobs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_THRESHOLD or workers < 2:
        return [_run_black(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    # Largest files first, so no process is left with one big file at the end.
    ordered = sorted(jobs, key=lambda job: -len(job[1]))
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(_run_black, ordered, chunksize=4))
    except (OSError, RuntimeError):  # no process support here: do it ourselves
        return [_run_black(job) for job in jobs]


def _run_black(job: tuple[str, str]) -> tuple[str, str]:
    import black
    from black.mode import TargetVersion

    path, text = job
    mode = black.Mode(target_versions={TargetVersion.PY311}, line_length=LINE_LENGTH)
    try:
        return path, black.format_str(text, mode=mode)
    except Exception as exc:  # black raises several kinds on bad input
        raise FormatError(f"{path}: generated code does not parse: {exc}") from exc
