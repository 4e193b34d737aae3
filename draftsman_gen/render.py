"""Stage 4b: render each planned file with its Jinja template and typed context."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import jinja2

from draftsman_gen import layout
from draftsman_gen.plan import OutputFile
from draftsman_gen.resources import resource_dir


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    # Statements whose line breaks depend on their width are laid out as black would.
    env.globals.update(assign=layout.assign, call=layout.call, import_from=layout.import_from,
                       union=layout.union, py=layout.py, code=layout.Code,
                       signature=layout.signature)
    return env


def render(file: OutputFile) -> str:
    if file.text is not None:
        return file.text
    return environment().get_template(file.template).render(**_fields(file.context))


def _fields(context: Any) -> dict[str, Any]:
    """The top-level fields of a context, as template variables (not deep-copied)."""
    return {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
