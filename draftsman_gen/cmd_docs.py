"""`draftsman-gen docs MODEL_DIR --out DIR [--check]`: Markdown and Mermaid docs of a model.

The pages come from the IR alone (draftsman_gen.modeldocs). Writing and checking reuse the
code generator's writer: a manifest lists the pages written, so a later run rewrites only
changed pages, removes its own pages the model no longer has, and never touches a file it did
not write; `--check` writes nothing and reports a diff.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from draftsman_gen.diagnostics import render
from draftsman_gen.modeldocs import document
from draftsman_gen.pipeline import compile_model
from draftsman_gen.writer import MANIFEST, Report, check_tree, read_manifest, write_tree


def run(model_dir: Path, out_dir: Path, check: bool, error_format: str) -> int:
    if out_dir.exists() and not out_dir.is_dir():
        click.echo(f"draftsman-gen: {out_dir} is not a folder", err=True)
        return 2
    if (problem := _foreign(out_dir)) is not None:
        click.echo(f"draftsman-gen: {problem}", err=True)
        return 2
    result = compile_model(model_dir)
    if result.compiled is None:
        sys.stdout.write(render(result.diagnostics, error_format))
        return 1
    label = model_dir.resolve().name
    pages = document(result.compiled.model, result.compiled.names, label)
    return _check(model_dir, out_dir, pages) if check else _write(out_dir, pages)


def _foreign(out_dir: Path) -> str | None:
    """The folder's manifest, if any, must be one of docs: `docs --out generated/bank` would
    otherwise adopt a generated package's manifest and delete the package as orphan pages."""
    manifest, problem = read_manifest(out_dir)
    if problem:
        return problem
    code = sorted(path for path in manifest.files if not path.endswith(".md"))
    if code:
        return (f"{out_dir} holds files `draftsman-gen build` wrote ({code[0]}, ...), not docs; "
                "choose another --out folder")
    return None


def _write(out_dir: Path, pages: dict[str, str]) -> int:
    try:
        report = write_tree(out_dir, pages)
    except OSError as exc:
        click.echo(f"draftsman-gen: cannot write {exc.filename}: {exc.strerror}", err=True)
        return 2
    for problem in report.problems:
        click.echo(f"draftsman-gen: {problem}", err=True)
    if report.problems:
        return 1
    click.echo(f"{out_dir}: {len(report.written)} written, {len(report.unchanged)} unchanged, "
               f"{len(report.removed)} removed", err=True)
    return 0


def _check(model_dir: Path, out_dir: Path, pages: dict[str, str]) -> int:
    report = check_tree(out_dir, pages)
    if not report.problems:
        click.echo(f"{out_dir}: up to date ({len(pages)} pages)", err=True)
        return 0
    sys.stdout.write(report.diff + _orphan_diff(out_dir, pages, report))
    for problem in report.problems:
        click.echo(f"{out_dir}/{problem}", err=True)
    click.echo(f"{out_dir} is stale: run `draftsman-gen docs {model_dir} --out {out_dir}`",
               err=True)
    return 1


def _orphan_diff(out_dir: Path, pages: dict[str, str], report: Report) -> str:
    """The pages a docs run would remove, as deletions (check_tree only names them)."""
    manifest, _problem = read_manifest(out_dir)
    lines: list[str] = []
    for rel in sorted(set(manifest.files) - set(pages) - {MANIFEST}):
        try:
            old = (out_dir / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines.extend(difflib.unified_diff(old.splitlines(keepends=True), [], f"a/{rel}",
                                          "/dev/null"))
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
