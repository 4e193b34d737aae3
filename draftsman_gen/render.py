"""Stage 3c: render each planned file with its Jinja template (StrictUndefined, no logic)."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from draftsman_gen.context import OutputFile
from draftsman_gen.resources import resource_dir


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(file: OutputFile) -> str:
    if file.text is not None:
        return file.text
    return environment().get_template(file.template).render(**file.context)
