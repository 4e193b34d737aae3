"""Model documentation: Markdown pages with Mermaid diagrams, rendered from the IR alone.

`draftsman-gen docs` (cmd_docs.py) writes them. The pipeline: relations.py (who triggers
whom), plan.py (the pages and their typed contexts, with describe.py for the cells and
diagrams.py for the Mermaid diagrams), render.py (templates/docs). All free text goes
through escape.py; paths.py decides where pages live and how they link.
"""

from __future__ import annotations

from draftsman_gen import ir
from draftsman_gen.lower import Names
from draftsman_gen.modeldocs.plan import plan
from draftsman_gen.modeldocs.render import render


def document(model: ir.Model, names: Names, label: str) -> dict[str, str]:
    """{relative path: Markdown} of the model's docs; `label` names the model in the pages."""
    return {page.path: render(page) for page in plan(model, names, label)}
