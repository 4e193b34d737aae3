"""`draftsman-gen init [DIR] [--name NAME]`: a new model that validates and builds at once.

It writes a project file, one aggregate with its document and business key, a command, a
domain event with its handler, a create flow with two test cases, the JSON Schemas its
modelines point at, a `.gitignore` and a GitHub Actions workflow that runs `check` and the
generated tests. The files are validated before anything is written: a name the model
language refuses is reported, and nothing is written."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

import jinja2

from draftsman_gen import __version__
from draftsman_gen.diagnostics import render
from draftsman_gen.naming import pascal_problem, snake
from draftsman_gen.pipeline import compile_model
from draftsman_gen.resources import resource_dir
from draftsman_gen.schema import schema_texts

# template (in templates/init/) -> the file it becomes; {name} is the project's name
FILES = {
    "draftsman.yaml.j2": "draftsman.yaml",
    "command.yaml.j2": "commands/{name}/RegisterItemRequested.yaml",
    "root.yaml.j2": "domain/{name}/Item/root.yaml",
    "event.yaml.j2": "domain/{name}/Item/events/ItemRegistered.yaml",
    "flow.yaml.j2": "domain/{name}/Item/behavior-flows/RegisterItem.yaml",
    "gitignore.j2": ".gitignore",
    "workflow.yml.j2": ".github/workflows/draftsman.yml",
}


def run(folder: Path, name: str | None, force: bool) -> int:
    if folder.exists() and not folder.is_dir():
        sys.stderr.write(f"draftsman-gen: {folder} is a file, not a folder\n")
        return 2
    if folder.is_dir() and any(folder.iterdir()) and not force:
        sys.stderr.write(f"draftsman-gen: {folder} is not empty; use --force to add a new "
                         "model to it (files of the same name are replaced)\n")
        return 2
    if (folder / "draftsman.yaml").exists():
        sys.stderr.write(f"draftsman-gen: {folder} already holds a model (draftsman.yaml); init "
                         "starts a new one: choose another folder\n")
        return 2
    name = name if name is not None else _name(folder.resolve().name)
    problem = pascal_problem(name)
    if problem:
        sys.stderr.write(f"draftsman-gen: --name {name!r} {problem}\n")
        return 2
    texts = _texts(name)
    blocked = _blocked(folder, texts)
    if blocked:
        sys.stderr.write(f"draftsman-gen: {blocked} is in the way of a file init writes; "
                         "nothing was written\n")
        return 2
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".init-", dir=folder.parent))
    try:
        _write(staging, texts)
        result = compile_model(staging)
        if result.diagnostics:  # e.g. a name that is a reserved word in the generated code
            sys.stdout.write(render(result.diagnostics, "text"))
            sys.stderr.write(f"draftsman-gen: the model named {name!r} would not validate; "
                             "choose another --name (nothing was written)\n")
            return 1
        _write(folder, texts)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    package = snake(name)
    sys.stderr.write(
        f"created the model {name} in {folder}\n"
        f"next: draftsman-gen build {folder} --out {folder / 'generated' / package}\n"
        f"      cd {folder / 'generated' / package} && pip install -e '.[test]' && pytest\n")
    return 0


def _name(folder: str) -> str:
    """A project name from a folder name: `my-shop` -> `MyShop`."""
    words = re.findall(r"[A-Za-z0-9]+", folder)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    return name if name[:1].isalpha() else f"Model{name}"


def _texts(name: str) -> dict[str, str]:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates") / "init")),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    values = {"name": name, "package": snake(name), "version": __version__}
    texts = {path.format(name=name): env.get_template(template).render(**values)
             for template, path in FILES.items()}
    for schema, text in schema_texts().items():
        texts[f"schemas/{schema}"] = text
    return texts


def _blocked(folder: Path, texts: dict[str, str]) -> Path | None:
    """A path in `folder` that is not what writing `texts` needs (a file where a folder must
    go, or a folder where a file must go), if there is one."""
    for rel in texts:
        target = folder / rel
        for parent in [*reversed(target.relative_to(folder).parents)][1:]:
            if (folder / parent).exists() and not (folder / parent).is_dir():
                return folder / parent
        if target.is_dir() or target.is_symlink():
            return target
    return None


def _write(folder: Path, texts: dict[str, str]) -> None:
    for rel, text in texts.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
