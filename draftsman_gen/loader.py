"""Stage 1: find the model files and load YAML into plain values plus a position table.

Every value keeps the line and column it came from, so later stages can point at the exact
spot in the model. Nothing here raises to the caller: problems become diagnostics.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from draftsman_gen.diagnostics import Diagnostics, Location

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 200_000
PROJECT_FILE = "draftsman.yaml"

Path_ = tuple[str | int, ...]


@dataclass
class SourceFile:
    """One loaded model file: its kind, name parts, data and where each value sits."""

    rel: str
    kind: str
    data: Any = None
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    text: str = ""

    def loc(self, path: Path_ = (), key: bool = False) -> Location:
        """The location of the value at `path` (or of its key), else of its nearest parent."""
        table = self.key_positions if key else self.positions
        if path in table:
            line, col = table[path]
            return Location(self.rel, line, col)
        while path:
            path = path[:-1]
            if path in self.positions:
                line, col = self.positions[path]
                return Location(self.rel, line, col)
        return Location(self.rel, 1, 1)

    @functools.cached_property
    def stem(self) -> str:
        return Path(self.rel).stem

    @functools.cached_property
    def parts(self) -> tuple[str, ...]:
        return Path(self.rel).parts


@dataclass
class Workspace:
    """All files of a model directory, loaded."""

    root: Path
    files: list[SourceFile] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # files that could not be loaded

    def of_kind(self, kind: str) -> list[SourceFile]:
        return [f for f in self.files if f.kind == kind]


def classify(rel: str) -> str | None:
    """The file kind for a path relative to the model directory, or None if unexpected."""
    parts = Path(rel).parts
    suffix = Path(rel).suffix
    if suffix == ".py":
        return "lib" if len(parts) == 2 and parts[0] == "lib" else None
    if rel == PROJECT_FILE:
        return "project"
    if parts[0] == "commands" and len(parts) >= 2:
        return "command"
    if parts[0] == "patterns" and len(parts) == 2:
        return "pattern"
    if parts[0] == "expressions" and len(parts) == 2:
        return "expression"
    if parts[0] == "domain":
        if len(parts) == 4 and parts[3] in ("root.yaml", "root.yml"):
            return "aggregate"
        if len(parts) == 5 and parts[3] == "events":
            return "event"
        if len(parts) == 5 and parts[3] == "behavior-flows":
            return "behavior-flow"
    return None


EXPECTED_LAYOUT = (
    "expected draftsman.yaml, commands/**/<Name>.yaml, domain/<Subdomain>/<Aggregate>/root.yaml, "
    ".../events/<Name>.yaml, .../behavior-flows/<Name>.yaml, patterns/<Name>.yaml, "
    "expressions/<Name>.yaml or lib/<module>.py"
)


def _walk(root: Path) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        # Hidden folders (.git, editor state) are never part of a model.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            yield full.relative_to(root).as_posix()


def model_files(root: Path) -> list[str]:
    """Every file of a model folder that the loader reads or reports, sorted."""
    return [rel for rel in _walk(root) if Path(rel).suffix in (".yaml", ".yml", ".py")]


def load_workspace(root: Path, diags: Diagnostics) -> Workspace:
    ws = Workspace(root=root)
    if not (root / PROJECT_FILE).is_file():
        # Most likely the wrong folder: say so, instead of calling every file out of place.
        diags.error(Location(PROJECT_FILE), "DG106", _missing_project(root))
        return ws
    seen_project = False
    for rel in model_files(root):
        suffix = Path(rel).suffix
        kind = classify(rel)
        if kind is None:
            if suffix == ".py" and Path(rel).parts[0] != "lib":
                continue
            diags.error(Location(rel), "DG105", f"unexpected model file; {EXPECTED_LAYOUT}")
            continue
        source = SourceFile(rel=rel, kind=kind)
        text = _read_text(root / rel, source, diags)
        if text is None:
            ws.failed.add(rel)
            continue
        source.text = text
        if kind == "lib":
            ws.files.append(source)
            continue
        if kind == "project":
            seen_project = True
        if _parse_yaml(source, text, diags):
            ws.files.append(source)
        else:
            ws.failed.add(rel)
    if not seen_project:
        diags.error(Location(PROJECT_FILE), "DG106", "missing project file draftsman.yaml")
    return ws


def _missing_project(root: Path) -> str:
    message = ("missing project file draftsman.yaml: this folder is not a model folder (one "
               "holds draftsman.yaml, commands/, domain/ ...)")
    for pattern in ("*/draftsman.yaml", "*/*/draftsman.yaml"):
        found = sorted(p.parent for p in root.glob(pattern) if not p.parent.name.startswith("."))
        if found:
            near = found[0].relative_to(root).as_posix()
            return message + f"; {near}/ holds one: did you mean that folder?"
    for parent in list(root.resolve().parents)[:3]:
        if (parent / PROJECT_FILE).is_file():
            up = os.path.relpath(parent, root.resolve())
            return message + f"; {up} holds one: did you mean that folder?"
    return message


def _read_text(path: Path, source: SourceFile, diags: Diagnostics) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            diags.error(
                source.loc(),
                "DG101",
                f"file is too large ({size} bytes; the limit is {MAX_FILE_BYTES})",
            )
            return None
        raw = path.read_bytes()
    except OSError as exc:
        diags.error(source.loc(), "DG101", f"cannot read file: {exc.strerror}")
        return None
    if b"\x00" in raw:
        diags.error(source.loc(), "DG101", "file is binary, expected UTF-8 text")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diags.error(Location(source.rel, line, 1), "DG101", "file is not valid UTF-8")
        return None


class _TooBig(Exception):
    pass


class _BadScalar(Exception):
    """A scalar YAML cannot turn into a value: a tag it does not know, or a value its tag
    refuses (`!!int abc`, `!!timestamp 2020-13-45`), or a numeral longer than any model needs."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(message)
        self.location = location
        self.message = message


YAML_TAG = "tag:yaml.org,2002:"
MAX_DIGITS = 40  # a numeral longer than this is refused before Python converts it


def _parse_yaml(source: SourceFile, text: str, diags: Diagnostics) -> bool:
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        diags.error(Location(source.rel, line, col), "DG102", f"invalid YAML: {problem}")
        return False
    except yaml.YAMLError as exc:
        diags.error(source.loc(), "DG102", f"invalid YAML: {exc}")
        return False
    except RecursionError:
        diags.error(source.loc(), "DG102", "invalid YAML: nesting is too deep")
        return False
    if node is None:
        diags.error(source.loc(), "DG104", "file is empty; expected a mapping of keys")
        return False
    if not isinstance(node, yaml.MappingNode):
        diags.error(
            _mark(source, node), "DG104", "expected a mapping of keys at the top of the file"
        )
        return False
    counter = [0]
    try:
        source.data = _convert(node, (), source, diags, counter)
    except _TooBig:
        diags.error(source.loc(), "DG101", f"file expands to more than {MAX_NODES} values")
        return False
    except RecursionError:
        diags.error(source.loc(), "DG102", "invalid YAML: nesting is too deep")
        return False
    except _BadScalar as exc:
        diags.error(exc.location, "DG102", f"invalid YAML: {exc.message}")
        return False
    return True


def _scalar(node: yaml.Node, source: SourceFile) -> Any:
    tag = str(node.tag)
    if tag == YAML_TAG + "str":
        return str(node.value)  # most scalars: no constructor needed
    if not tag.startswith(YAML_TAG):
        raise _BadScalar(_mark(source, node), f"unknown tag {tag!r}; model files hold plain "
                         "YAML values")
    text = str(node.value)
    if tag in (YAML_TAG + "int", YAML_TAG + "float") and len(text) > MAX_DIGITS:
        raise _BadScalar(_mark(source, node), f"a number of {len(text)} characters; numbers "
                         f"in a model have at most {MAX_DIGITS}")
    try:
        return _scalar_constructor.construct_object(node, deep=True)
    except (ValueError, KeyError, TypeError, OverflowError, yaml.YAMLError):
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise _BadScalar(_mark(source, node), f"{shown!r} is not a valid "
                         f"!!{tag.removeprefix(YAML_TAG)}") from None
    finally:
        _scalar_constructor.constructed_objects.clear()


def _mark(source: SourceFile, node: yaml.Node) -> Location:
    return Location(source.rel, node.start_mark.line + 1, node.start_mark.column + 1)


_scalar_constructor = yaml.SafeLoader("")
# libyaml's parser when PyYAML has it (ten times faster), else the pure-Python one; both give
# nodes with line and column marks.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _convert(
    node: yaml.Node, path: Path_, source: SourceFile, diags: Diagnostics, counter: list[int]
) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _TooBig
    source.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                diags.error(_mark(source, key_node), "DG103", "keys must be plain strings")
                continue
            key = str(key_node.value)
            if key in result:
                diags.error(_mark(source, key_node), "DG103", f"duplicate key '{key}'")
                continue
            source.key_positions[path + (key,)] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = _convert(value_node, path + (key,), source, diags, counter)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, path + (i,), source, diags, counter) for i, item in enumerate(node.value)
        ]
    value = _scalar(node, source)
    if isinstance(value, bytes | bytearray) or not isinstance(
        value, str | int | float | bool | type(None)
    ):
        # Dates, binary and other YAML-only types have no JSON equivalent: keep their text so
        # the schema reports a precise "expected X" instead of us guessing.
        return str(node.value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(node.value)
    return value
