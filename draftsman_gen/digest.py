"""A fingerprint of everything a build's output depends on, for the no-change fast path.

The output of `build` is a pure function of: the model files and the model folder's name,
draftsman-gen's version and code, templates and schemas, black's version and the Python
version (expressions may be re-printed by `ast`). When the manifest of the output folder records the
same digest and every generated file still has the content hash the manifest records, the
output is up to date without loading, rendering or formatting anything.
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
    # The generator's own code too: a development build changes it without a new version.
    folders = [resource_dir("templates"), resource_dir("schemas"), Path(__file__).parent]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".j2", ".json", ".py"):
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.digest()


def model_digest(model_dir: Path, label: str) -> str:
    digest = hashlib.sha256(_tool_identity())
    digest.update(label.encode() + b"\0")
    for rel in model_files(model_dir):
        digest.update(rel.encode() + b"\0")
        try:
            digest.update(hashlib.sha256((model_dir / rel).read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
