"""`draftsman-gen breaking MODEL_DIR --against GIT_REF`: what breaks since a git ref.

Compares the model at the ref with the working tree (breaking.py says what breaks stored
data or clients) and reports each change located in the working tree's files.

Exit codes: 0 nothing breaks, 1 something breaks (or a model does not validate), 2 usage (not
a git repository, an unknown ref)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

from draftsman_gen import ir
from draftsman_gen.breaking import Change, compare
from draftsman_gen.diagnostics import Diagnostic, Diagnostics, Location, render
from draftsman_gen.loader import load_workspace
from draftsman_gen.pipeline import compile_model


class _Usage(Exception):
    """A usage problem: one line for the user, exit 2."""


def run(model_dir: Path, ref: str, error_format: str) -> int:
    try:
        with tempfile.TemporaryDirectory(prefix="draftsman-breaking-") as scratch:
            old_dir = _checkout(model_dir, ref, Path(scratch))
            if old_dir is None:
                sys.stderr.write(f"{model_dir} does not exist at {ref}: nothing to break\n")
                return 0
            old = _compiled(old_dir, f"the model at {ref}", error_format)
            new = _compiled(model_dir, "the model", error_format)
            if old is None or new is None:
                return 1
    except _Usage as exc:
        sys.stderr.write(f"draftsman-gen: {exc}\n")
        return 2
    found = _located(model_dir, compare(old, new))
    if found:
        sys.stdout.write(render(found, error_format))
        count = len(found)
        sys.stderr.write(f"{count} breaking change{'s' if count != 1 else ''} against {ref}\n")
        return 1
    if error_format == "json":
        sys.stdout.write("[]\n")
    sys.stderr.write(f"no breaking changes against {ref}\n")
    return 0


def _git(folder: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                              check=False, timeout=120)
    except FileNotFoundError:
        raise _Usage("git is not installed") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _Usage(message[-1] if message else f"git {args[0]} failed")
    return done.stdout


def _checkout(model_dir: Path, ref: str, scratch: Path) -> Path | None:
    """The model folder as it was at `ref`, extracted under `scratch`; None if it was not
    there."""
    try:
        top = Path(_git(model_dir, "rev-parse", "--show-toplevel").decode().strip())
    except _Usage:
        raise _Usage(f"{model_dir} is not in a git repository") from None
    if ref.startswith("-"):
        raise _Usage(f"{ref!r} is not a git ref")
    try:
        commit = _git(top, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}")
    except _Usage:
        raise _Usage(f"{ref!r} is not a commit of {top}") from None
    rel = model_dir.resolve().relative_to(top.resolve()).as_posix()
    sha = commit.decode().strip()
    listed = _git(top, "ls-tree", "-d", "--name-only", sha, "--", rel)
    if rel != "." and not listed.strip():
        return None
    _extract(top, sha, rel, scratch)
    return scratch / rel


def _extract(top: Path, sha: str, rel: str, scratch: Path) -> None:
    """The regular files under `rel` at commit `sha`, written under `scratch` as stored in
    git: not `git archive`, which would leave out `export-ignore` files and run filters.
    Symbolic links and submodules are left out (a model is regular files)."""
    listing = _git(top, "ls-tree", "-r", "-z", "--full-tree", sha, "--", rel)
    blobs: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, blob = meta.decode().split()
        path = PurePosixPath(name.decode("utf-8", "surrogateescape"))
        if kind == "blob" and mode in ("100644", "100755") and ".." not in path.parts:
            blobs.append((blob, str(path)))
    if not blobs:
        return
    done = subprocess.run(["git", "-C", str(top), "cat-file", "--batch"],
                          input=b"".join(f"{blob}\n".encode() for blob, _ in blobs),
                          capture_output=True, check=False, timeout=120)
    if done.returncode != 0:
        raise _Usage(f"git cat-file failed at {sha[:12]}")
    data, at = done.stdout, 0
    for _blob, rel_path in blobs:
        header_end = data.index(b"\n", at)
        size = int(data[at:header_end].split()[2])
        target = scratch / rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[header_end + 1:header_end + 1 + size])
        at = header_end + 1 + size + 1


def _compiled(folder: Path, what: str, error_format: str) -> ir.Model | None:
    result = compile_model(folder)
    if result.compiled is None:
        if what == "the model":
            sys.stdout.write(render(result.diagnostics, error_format))
        count = len(result.diagnostics)
        sys.stderr.write(f"{what} does not validate ({count} problem{'s' if count != 1 else ''}"
                         "): fix it first, then compare\n")
        return None
    return result.compiled.model


def _located(model_dir: Path, changes: list[Change]) -> list[Diagnostic]:
    """Each change at its line and column in the working tree's files."""
    workspace = load_workspace(model_dir, Diagnostics())
    files = {source.rel: source for source in workspace.files}
    found = []
    for change in changes:
        source = files.get(change.file)
        where = source.loc(change.path, key=True) if source else Location(change.file)
        found.append(Diagnostic(where, change.code, change.message))
    return sorted(set(found))
