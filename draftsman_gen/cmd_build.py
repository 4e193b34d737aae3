"""`draftsman-gen build MODEL_DIR --out DIR` and `draftsman-gen check ...`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from draftsman_gen.diagnostics import render
from draftsman_gen.digest import model_digest, recall, remember
from draftsman_gen.format import FormatError, Formatter, default_cache_dir
from draftsman_gen.pipeline import compile_model
from draftsman_gen.writer import check_tree, up_to_date, vendored, write_tree


def _generate(model_dir: Path, label: str, error_format: str,
              use_cache: bool, vendor: bool) -> dict[str, str] | int:
    result = compile_model(model_dir)
    if result.compiled is None:
        sys.stdout.write(render(result.diagnostics, error_format))
        return 1
    from draftsman_gen.generate import generate

    formatter = Formatter(_cache(use_cache))
    try:
        return generate(result.compiled, label, formatter, vendor)
    except FormatError as exc:
        click.echo(f"draftsman-gen: internal error: {exc}", err=True)
        return 3


def _cache(use_cache: bool) -> Path | None:
    return default_cache_dir() if use_cache else None


def _current_or_generated(model_dir: Path, out: Path, error_format: str, use_cache: bool,
                          full: bool, vendor: bool | None) -> tuple[str, dict[str, str]] | int:
    """The model digest and the generated files, or an exit code: 0 when the output is known
    to be current (unless `full`), 1 or 3 when generation failed. `vendor` None: vendor the
    runtime when the output already holds a vendored copy."""
    label = model_dir.resolve().name
    if vendor is None:
        vendor = vendored(out)
    digest = model_digest(model_dir, label, vendor)
    recorded = recall(_cache(use_cache), out)
    if not full and (count := up_to_date(out, digest, recorded)) is not None:
        click.echo(f"{out}: up to date ({count} files; model and generator unchanged)", err=True)
        return 0
    files = _generate(model_dir, label, error_format, use_cache, vendor)
    return files if isinstance(files, int) else (digest, files)


def build(model_dir: Path, out: Path, error_format: str, use_cache: bool, full: bool,
          vendor: bool | None = None) -> int:
    if out.exists() and not out.is_dir():
        click.echo(f"draftsman-gen: {out} is not a folder", err=True)
        return 2
    result = _current_or_generated(model_dir, out, error_format, use_cache, full, vendor)
    if isinstance(result, int):
        return result
    digest, files = result
    try:
        report = write_tree(out, files)
    except OSError as exc:
        click.echo(f"draftsman-gen: cannot write {exc.filename}: {exc.strerror}", err=True)
        return 2
    for problem in report.problems:
        click.echo(f"draftsman-gen: {problem}", err=True)
    if report.problems:
        return 1
    remember(_cache(use_cache), out, digest)
    click.echo(f"{out}: {len(report.written)} written, {len(report.unchanged)} unchanged, "
               f"{len(report.removed)} removed", err=True)
    return 0


def check(model_dir: Path, out: Path, error_format: str, use_cache: bool, full: bool,
          vendor: bool | None = None) -> int:
    result = _current_or_generated(model_dir, out, error_format, use_cache, full, vendor)
    if isinstance(result, int):
        return result
    digest, files = result
    report = check_tree(out, files)
    if not report.problems:
        remember(_cache(use_cache), out, digest)
        click.echo(f"{out}: up to date ({len(files)} files)", err=True)
        return 0
    sys.stdout.write(report.diff)
    for problem in report.problems:
        click.echo(f"{out}/{problem}", err=True)
    click.echo(f"{out} is stale: run `draftsman-gen build {model_dir} --out {out}`", err=True)
    return 1
