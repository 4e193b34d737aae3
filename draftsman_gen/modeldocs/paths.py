"""Where each page lives, the anchors of its headings, and relative links between them.

`index.md` at the top, `<Subdomain>/index.md` and `<Subdomain>/<Aggregate>.md` below it.
Model names start with a capital, so `index.md` never meets a model name on a case-sensitive
file system. Anchors are the ones GitHub derives from the heading text: headings carry their
kind (`### Flow Deposit`), so a flow, an event and a section of one page never share one.
"""

from __future__ import annotations

import posixpath
from typing import Literal

from draftsman_gen import ir
from draftsman_gen.modeldocs.escape import Md, link, name, text

INDEX = "index.md"
Kind = Literal["command", "event", "flow", "entity"]
HEADING = {"command": "Command", "event": "Event", "flow": "Flow", "entity": "Entity"}


def subdomain_page(subdomain: str) -> str:
    return f"{subdomain}/{INDEX}"


def aggregate_page(agg: ir.Aggregate) -> str:
    return f"{agg.subdomain}/{agg.name}.md"


def heading(kind: Kind, model_name: str) -> Md:
    """A heading's text; its anchor is `anchor(kind, model_name)` (names are letters and
    digits, so escaping changes nothing GitHub's anchor would see)."""
    return Md(f"{HEADING[kind]} {text(model_name)}")


def anchor(kind: Kind, model_name: str) -> str:
    """GitHub's anchor of `heading(kind, model_name)`: lower case, spaces as hyphens."""
    return f"{kind}-{model_name.lower()}"


def href(page: str, target: str, fragment: str = "") -> str:
    """A link from `page` to `target` (both relative to the docs folder), with an anchor."""
    if target == page:
        path = ""
    else:
        path = posixpath.relpath(target, posixpath.dirname(page) or ".")
    return path + (f"#{fragment}" if fragment else "")


def to(page: str, target: str, kind: Kind, model_name: str, label: Md | None = None) -> Md:
    """A link to a heading of a page: the name as code, unless the label is given."""
    return link(label or name(model_name), href(page, target, anchor(kind, model_name)))


def to_page(page: str, target: str, label: Md) -> Md:
    """A link to a page; on that page itself, just the label."""
    return label if target == page else link(label, href(page, target))
