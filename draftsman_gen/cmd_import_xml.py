"""`draftsman-gen import-xml SOURCE --out MODEL_DIR`: a Draftsman XML model into YAML.

Exit codes: 0 imported (the report may hold warnings), 1 the source cannot be imported
(nothing is written), 2 usage (an --out folder that is not empty, without --force)."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from draftsman_gen.diagnostics import Diagnostic, render
from draftsman_gen.importxml.source import gather
from draftsman_gen.importxml.translate import OutFile, translate
from draftsman_gen.importxml.yamlwrite import dump

# What --force replaces in an existing folder; everything else there (.git, README, the
# generated package) is left alone.
MODEL_ENTRIES = ("draftsman.yaml", "commands", "domain", "patterns", "expressions", "lib")

_KINDS = {  # OutFile.schema -> how the summary counts it
    "project": "project", "command": "command", "aggregate": "aggregate",
    "event": "domain event", "behavior-flow": "behavior flow", "pattern": "pattern",
    "expression": "key expression", "": "lib module",
}
_SKIPPED = {
    "view": "view", "projection": "projection", "notifier": "notifier", "scenario": "scenario",
    "scenario-settings": "scenario settings",
    "template": "template", "roles": "roles list", "deleted-event": "deleted event",
    "file-uploaded": "FileUploaded", "processor": "processor of another kind",
    "reactivate-command": "reactivate-command", "role-expression": "ActorEventRole expression",
}
_PLURALS = {"roles list": "roles lists", "scenario settings": "scenario settings", "FileUploaded": "FileUploaded events",
            "processor of another kind": "processors of other kinds",
            "reactivate-command": "reactivate-command settings"}
_WARNINGS = {
    "DG411": "unknown attributes, elements or files",
    "DG412": "values kept as written (marked `import-xml:`)",
    "DG413": "missing library code",
    "DG414": "values changed to fit",
    "DG415": "unresolved elements",
}


def run(source: Path, out: Path, force: bool, error_format: str) -> int:
    if out.exists() and not out.is_dir():
        sys.stderr.write(f"draftsman-gen: --out {out} is a file, not a folder\n")
        return 2
    if _overlap(source, out):
        sys.stderr.write(f"draftsman-gen: --out {out} and the source {source} overlap; write "
                         "the model somewhere else\n")
        return 2
    if out.is_dir() and any(out.iterdir()) and not force:
        sys.stderr.write(f"draftsman-gen: --out {out} is not empty; use --force to replace "
                         f"the model in it ({', '.join(MODEL_ENTRIES)})\n")
        return 2
    gathered = gather(source)
    result = translate(gathered) if not _errors(gathered.diagnostics) else None
    diagnostics = result.diagnostics if result else gathered.diagnostics
    if result is not None:
        diagnostics = diagnostics + _clashes(result.files)
    if _errors(diagnostics) or result is None:
        _report(sorted(set(diagnostics)), error_format)
        errors = len(_errors(diagnostics))
        sys.stderr.write(f"{errors} error{'s' if errors != 1 else ''}: nothing was "
                         "imported\n")
        return 1
    try:
        _write(result.files, out)
    except OSError as exc:
        where = exc.filename or out
        sys.stderr.write(f"draftsman-gen: cannot write {where}: {exc.strerror or exc}; "
                         "nothing was imported\n")
        return 2
    report = sorted(set(diagnostics))
    _report(report, error_format)
    sys.stderr.write(_summary(result.files, result.skipped, report, out))
    return 0


def _overlap(source: Path, out: Path) -> bool:
    """Whether --out holds the source (--force would replace the source's own commands/,
    domain/ and lib/), or lies inside a source repository."""
    here, there = source.resolve(), out.resolve()
    if not source.is_dir():  # model.xml: its folder holds the lib/ it reads
        return there == here.parent or there in here.parents
    return there == here or there in here.parents or here in there.parents


def _errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


# Every part of an output path: element names become file and folder names, so a name such
# as "../x" or "" must never reach the file system.
_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}")


def _clashes(files: list[OutFile]) -> list[Diagnostic]:
    seen: dict[str, OutFile] = {}
    found = []
    for file in files:
        bad = [n for n in file.names if not _SAFE_PART.fullmatch(n) or ".." in n]
        if bad:
            found.append(Diagnostic(file.where, "DG404", f"the name {bad[0]!r} cannot be a "
                                    "file or folder name (letters, digits, _ . and -, not "
                                    "starting with . or -): rename it in the source"))
            continue
        key = file.path.lower()  # a case-insensitive file system would merge them too
        if key in seen:
            found.append(Diagnostic(file.where, "DG404", f"this element and the one at "
                                    f"{seen[key].where} would both be written to {file.path}: "
                                    "rename one in the source"))
            continue
        seen[key] = file
    return found


def _write(files: list[OutFile], out: Path) -> None:
    """Write into a fresh folder beside --out, then move it in: an import that fails
    half-way leaves --out as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-xml-", dir=out.parent))
    try:
        for file in files:
            target = staging / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if file.copy is not None:
                shutil.copyfile(file.copy, target)
            else:
                assert file.doc is not None
                depth = file.path.count("/")
                modeline = f"{'../' * depth}schemas/{file.schema}.schema.json"
                target.write_text(dump(file.doc, modeline), encoding="utf-8")
        out.mkdir(exist_ok=True)
        for name in MODEL_ENTRIES:
            old = out / name
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            elif old.exists() or old.is_symlink():
                old.unlink()
        for entry in sorted(staging.iterdir()):
            entry.rename(out / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _report(diagnostics: list[Diagnostic], error_format: str) -> None:
    if diagnostics or error_format == "json":
        sys.stdout.write(render(diagnostics, error_format))


def _summary(files: list[OutFile], skipped: Counter[str], report: list[Diagnostic],
             out: Path) -> str:
    made = Counter(_KINDS[file.schema] for file in files)
    lines = [f"imported into {out}: " + _counts(made, list(_KINDS.values()))]
    if skipped:
        lines.append("not imported (DG410): " + _counts(
            Counter({_SKIPPED[k]: n for k, n in skipped.items()}), list(_SKIPPED.values())))
    codes = Counter(d.code for d in report)
    warned = [f"{codes[c]} {what} ({c})" for c, what in _WARNINGS.items() if codes[c]]
    if warned:
        lines.append("to check: " + ", ".join(warned))
    lines.append(f"next: draftsman-gen schema --out {out / 'schemas'} (for the modelines), "
                 f"then draftsman-gen validate {out}")
    return "".join(line + "\n" for line in lines)


def _counts(counts: Counter[str], order: list[str]) -> str:
    parts = []
    for kind in dict.fromkeys(order):
        n = counts.get(kind, 0)
        if n:
            parts.append(f"{n} {kind if n == 1 else _PLURALS.get(kind, kind + 's')}")
    return ", ".join(parts) or "nothing"
