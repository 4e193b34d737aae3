"""The runtime library this generator writes code for: its version facts and its files.

Generated code targets one API version of `draftsman_runtime`; `build --vendor-runtime` copies
the installed runtime package verbatim (never templated) into the output, so a service can
run with no dependency at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RuntimeFacts:
    version: str  # "0.2.0"
    api: int  # the API version generated code is written against
    requirement: str  # the pip requirement of a package that depends on the runtime
    server: tuple[str, ...]  # what the runtime's server needs (its `api` extra)


def runtime_facts() -> RuntimeFacts:
    from draftsman_runtime import version

    return RuntimeFacts(version.__version__, version.API_VERSION, version.requirement(),
                        version.SERVER_REQUIREMENTS)


def runtime_root() -> Path:
    import draftsman_runtime

    return Path(draftsman_runtime.__file__).resolve().parent


def runtime_files() -> dict[str, str]:
    """Relative path -> text of every file of the runtime package (sources, py.typed and the
    explorer's assets)."""
    root = runtime_root()
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        if path.suffix == ".py" or path.name == "py.typed" or path.parent.name == "assets":
            files[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return files
