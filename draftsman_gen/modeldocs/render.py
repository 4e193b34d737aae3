"""Render a docs page with its Jinja template (templates/docs) and its typed context.

The environment prints only escaped values: `Md` and `Mmd` (escape.py), numbers, and what
its own macros return. A plain str in a `{{ }}` is a bug in the docs generator (free text
that skipped escaping), so it fails the render instead of reaching a page.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import jinja2
from markupsafe import Markup

from draftsman_gen.modeldocs.escape import Md, Mmd
from draftsman_gen.modeldocs.plan import PageFile
from draftsman_gen.resources import resource_dir


class UnescapedText(TypeError):
    """A template printed a value that is not escaped text."""


def _only_escaped(value: object) -> object:
    # Macro results are Markup (the environment autoescapes), built from checked values.
    if isinstance(value, Md | Mmd | Markup) or (type(value) is int):
        return value
    raise UnescapedText(f"a docs template printed {type(value).__name__} {value!r}; "
                        "contexts must hold escaped text (escape.Md or escape.Mmd)")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    # autoescape only to make macro results Markup (so that the check above can tell them
    # from a raw str); every printed value is Md/Mmd, whose __html__ returns it unchanged.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates") / "docs")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=True,
        finalize=_only_escaped,
    )


def render(page: PageFile) -> str:
    fields = {f.name: getattr(page.context, f.name) for f in dataclasses.fields(page.context)}
    text = environment().get_template(page.template).render(**fields)
    # Sections end with a blank line; the page ends with exactly one newline.
    return text.rstrip("\n") + "\n"
