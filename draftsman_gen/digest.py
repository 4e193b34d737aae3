"""A fingerprint of everything a build's output depends on, for the no-change fast path.

The output of `build` is a pure function of: the model files and the model folder's name,
draftsman-gen's version and code, templates and schemas, black's version and the Python
version (expressions may be re-printed by `ast`). After a build or a successful check, the
digest is recorded in the local cache, keyed by the output folder. When it matches next time
and every generated file still has the hash the manifest records, the output is up to date
without loading, rendering or formatting anything. The record lives in the cache, not in the
output, because it depends on this machine's tools: the committed output must not.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from draftsman_gen import __version__
from draftsman_gen.loader import model_files
from draftsman_gen.resources import resource_dir


def _tool_identity() -> bytes:
    from importlib.metadata import version

    parts = [f"draftsman-gen {__version__}", f"black {version('black')}",
             f"python {sys.version_info[0]}.{sys.version_info[1]}"]
    digest = hashlib.sha256("\n".join(parts).encode())
    # The generator's own code too: a development build changes it without a new version; and
    # the runtime's, which a vendored build copies and whose version the output names.
    from draftsman_gen.vendor import runtime_root

    folders = [resource_dir("templates"), resource_dir("schemas"), Path(__file__).parent,
               runtime_root()]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".j2", ".json", ".py"):
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.digest()


def model_digest(model_dir: Path, label: str, vendor_runtime: bool = False) -> str:
    digest = hashlib.sha256(_tool_identity())
    digest.update(label.encode() + (b"\0vendored\0" if vendor_runtime else b"\0"))
    for rel in model_files(model_dir):
        digest.update(rel.encode() + b"\0")
        try:
            digest.update(hashlib.sha256((model_dir / rel).read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record_path(cache_dir: Path, out: Path) -> Path:
    key = hashlib.sha256(str(out.resolve()).encode()).hexdigest()
    return cache_dir / "builds" / key


def recall(cache_dir: Path | None, out: Path) -> str | None:
    """The digest recorded for an output folder by the last build or check, if any."""
    if cache_dir is None:
        return None
    try:
        return _record_path(cache_dir, out).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def remember(cache_dir: Path | None, out: Path, digest: str) -> None:
    if cache_dir is None:
        return
    path = _record_path(cache_dir, out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(digest, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # only costs a full build next time
