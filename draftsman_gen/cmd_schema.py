"""`draftsman-gen schema`: publish the JSON Schemas."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from draftsman_gen.schema import schema_texts


def run(out_dir: Path | None, kind: str | None) -> int:
    texts = schema_texts()
    if kind is not None:
        texts = {f"{kind}.schema.json": texts[f"{kind}.schema.json"]}
    if out_dir is None:
        if kind is not None:
            sys.stdout.write(next(iter(texts.values())))
        else:
            for name, text in texts.items():
                sys.stdout.write(f"# {name}\n{text}")
        return 0
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (out_dir / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"draftsman-gen: cannot write schemas to {out_dir}: {exc.strerror}", err=True)
        return 2
    click.echo(f"wrote {len(texts)} schema file(s) to {out_dir}", err=True)
    return 0
