"""The model's named elements outside aggregates: project, lib modules, patterns, commands."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from draftsman_runtime.pattern import Pattern, PatternError

from draftsman_gen import ir
from draftsman_gen.diagnostics import Location
from draftsman_gen.loader import SourceFile, Workspace
from draftsman_gen.naming import default_graphql_name, module_problem, pascal_problem, snake
from draftsman_gen.pyexpr import analyze_code
from draftsman_gen.semantic.aggregates import AggregateDraft
from draftsman_gen.semantic.fields import FieldRules, check_fields
from draftsman_gen.semantic.sink import Sink, file_loc, hint


@dataclass(frozen=True)
class Project:
    name: str
    package: str
    package_loc: ir.Loc
    description: str
    dependencies: tuple[str, ...]


_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-\[\], <>=!~;'\"]*$")


def check_project(sink: Sink, ws: Workspace) -> Project | None:
    files = ws.of_kind("project")
    if not files or not sink.usable(files[0]):
        return None
    source = files[0]
    data = source.data
    name = data["name"]
    ok = sink.name_check(source, name, pascal_problem, ("name",))
    package = data.get("package", snake(name))
    problem = module_problem(package)
    if problem:
        sink.err(source.loc(("package",) if "package" in data else ("name",)), "DG301", f"package name {problem.split(' must')[0]} "
                 "must be a snake_case Python module name")
        ok = False
    where = ("package",) if "package" in data else ("name",)
    package_loc = ir.Loc(source.rel, source.loc(where).line)
    deps = tuple(data.get("dependencies", []))
    for i, dep in enumerate(deps):
        if not _REQUIREMENT.match(dep) or "\n" in dep:
            sink.err(source.loc(("dependencies", i)), "DG302",
                     f"'{dep}' is not a valid pip requirement")
            ok = False
    return Project(name, package, package_loc, data.get("description", ""), deps) if ok else None


def broken_names(broken: frozenset[str]) -> set[str]:
    """Names defined by files that failed: references to them are not reported again."""
    names: set[str] = set()
    for rel in broken:
        parts = Path(rel).parts
        names.add(Path(rel).stem)
        if len(parts) == 4 and parts[0] == "domain":
            names.add(parts[2])
    return names


def _lib_module_problem(name: str) -> str | None:
    if name.startswith("_"):  # lib/__init__.py would be the generated lib package's own
        return f"'{name}': a lib module name must start with a letter"
    return module_problem(name)


def check_lib(sink: Sink, ws: Workspace) -> dict[str, SourceFile]:
    lib: dict[str, SourceFile] = {}
    for source in ws.of_kind("lib"):
        name = source.stem
        if not sink.name_check(source, name, _lib_module_problem):
            continue
        analysis = analyze_code(source.text)
        if analysis.error:
            sink.err(Location(source.rel, analysis.error_line, 1), "DG311", analysis.error)
            continue
        lib[name] = source
    return lib


# -- patterns ------------------------------------------------------------------------------
def check_patterns(sink: Sink, ws: Workspace, broken: set[str]) -> dict[str, ir.Pattern]:
    """Patterns with their {{references}} expanded; names of failed ones join `broken`."""
    raw: dict[str, SourceFile] = {}
    for source in ws.of_kind("pattern"):
        if sink.usable(source) and sink.name_check(source, source.stem, pascal_problem):
            if source.stem in raw:
                sink.err(source.loc(), "DG303", f"duplicate pattern '{source.stem}'")
                continue
            raw[source.stem] = source
    patterns: dict[str, ir.Pattern] = {}
    for name, source in sorted(raw.items()):
        expanded = _expand(sink, name, raw, [], broken)
        if expanded is None:
            broken.add(name)
            continue
        try:
            Pattern(expanded)  # the runtime's linear-time engine: what will run the pattern
        except PatternError as exc:
            sink.err(source.loc(("regex",)), "DG304",
                     f"pattern '{name}' is not a supported regular expression: {exc}")
            broken.add(name)
            continue
        patterns[name] = ir.Pattern(name, expanded, file_loc(source))
    return patterns


def _expand(sink: Sink, name: str, raw: dict[str, SourceFile], stack: list[str],
            broken: set[str]) -> str | None:
    source = raw[name]
    if name in stack:
        cycle = " -> ".join(stack[stack.index(name):] + [name])
        sink.err(source.loc(("regex",)), "DG304", f"patterns refer to each other in a cycle: {cycle}")
        return None
    text: str = source.data["regex"]
    out = []
    pos = 0
    for match in re.finditer(r"\{\{([^{}]*)\}\}", text):
        out.append(text[pos:match.start()])
        pos = match.end()
        ref = match.group(1).strip()
        if ref not in raw:
            if ref not in broken:
                sink.err(source.loc(("regex",)), "DG305", f"unknown pattern '{ref}' in {{{{{ref}}}}}")
            return None
        inner = _expand(sink, ref, raw, stack + [name], broken)
        if inner is None:
            return None
        out.append(f"(?:{without_anchors(inner)})")
    out.append(text[pos:])
    return "".join(out)


def without_anchors(regex: str) -> str:
    """An included pattern loses its `^` and `$`, as in the original: a whole-value pattern
    (`^[0-9]+$`) must still work as a part of another (`NL{{Digits}}`)."""
    regex = regex.removeprefix("^")
    if regex.endswith("$"):
        body = regex[:-1]
        escapes = len(body) - len(body.rstrip("\\"))
        if escapes % 2 == 0:  # `\$` is a literal dollar sign, not an anchor
            regex = body
    return regex


# -- commands ------------------------------------------------------------------------------
def check_commands(sink: Sink, ws: Workspace, rules: FieldRules) -> dict[str, ir.Command]:
    commands: dict[str, ir.Command] = {}
    for source in ws.of_kind("command"):
        if not sink.usable(source):
            continue
        ok = sink.name_check(source, source.stem, pascal_problem)
        namespace_parts = source.parts[1:-1]
        for part in namespace_parts:
            problem = pascal_problem(part)
            if problem:
                sink.err(source.loc(), "DG301", f"command namespace folder {problem}")
                ok = False
        fields = check_fields(sink, rules, source, ("fields",), source.data["fields"], True)
        if ok and source.stem in commands:
            sink.err(source.loc(), "DG303", f"command '{source.stem}' is also defined in "
                     f"{commands[source.stem].loc.file}")
        elif ok and _graphql_names_ok(sink, source):
            data = source.data
            _username_needs_a_caller(sink, source, fields)
            namespace = data.get("graphql-namespace") or "".join(namespace_parts) or "Service"
            commands[source.stem] = ir.Command(
                source.stem, "/".join(namespace_parts), tuple(fields.values()), file_loc(source),
                data.get("description", ""),
                graphql_namespace=namespace,
                graphql_name=data.get("graphql-name") or default_graphql_name(source.stem,
                                                                             namespace),
                access=check_access(sink, source, ()),
                user_must_match=_user_field(sink, source, fields))
    return commands


_GRAPHQL_NAMES = {"graphql-namespace": re.compile(r"[A-Z][A-Za-z0-9]*"),
                  "graphql-name": re.compile(r"[a-z][A-Za-z0-9]*")}


def _graphql_names_ok(sink: Sink, source: SourceFile) -> bool:
    """The schema's patterns, matched whole: JSON Schema's `$` lets a final newline through."""
    ok = True
    for key, pattern in _GRAPHQL_NAMES.items():
        value = source.data.get(key)
        if isinstance(value, str) and not pattern.fullmatch(value):
            sink.err(source.loc((key,)), "DG204",
                     f"{key}: {value!r} does not match '^{pattern.pattern}$'")
            ok = False
    return ok


def _username_needs_a_caller(sink: Sink, source: SourceFile,
                             fields: dict[str, ir.Field]) -> None:
    if source.data.get("authorization") != "anonymous":
        return
    for f in fields.values():
        if f.auto_fill == "username":
            sink.err(source.loc(("authorization",)), "DG335",
                     f"'{f.name}' is filled with the caller's username, but the command allows "
                     "anonymous access (an API key has no username)")


def check_access(sink: Sink, source: SourceFile, path: tuple[str, ...]) -> ir.Access:
    """`authorization` and `role` at `path` (the command, or an aggregate's `queries`)."""
    data: dict[str, object] = source.data
    for key in path:
        data = data.get(key) or {}  # type: ignore[assignment]
    mode = data.get("authorization", "authenticated")
    role = data.get("role", "")
    assert mode in ("anonymous", "authenticated", "role") and isinstance(role, str)  # schema
    if mode == "role" and not role:
        sink.err(source.loc(path + ("authorization",)), "DG335",
                 "`authorization: role` needs `role: <role name>` beside it")
    elif role and mode != "role":
        sink.err(source.loc(path + ("role",)), "DG335",
                 f"`role` only applies with `authorization: role` (here: {mode})")
    return ir.Access(mode, role)


def _user_field(sink: Sink, source: SourceFile, fields: dict[str, ir.Field]) -> str:
    name = source.data.get("user-must-match", "")
    if not name:
        return ""
    where = source.loc(("user-must-match",))
    field = fields.get(name)
    if field is None or field.type != "String":
        known = [f.name for f in fields.values() if f.type == "String"]
        sink.err(where, "DG335", f"user-must-match: '{name}' is not a top-level String field "
                 "of the command" + hint(name, known))
        return ""
    if source.data.get("authorization") == "anonymous":
        sink.err(where, "DG335", "user-must-match needs an authenticated caller, but the "
                 "command allows anonymous access")
        return ""
    return str(name)


@dataclass(frozen=True)
class Symbols:
    """Everything a behavior flow may refer to, complete before any flow is checked."""

    commands: Mapping[str, ir.Command]
    aggregates: Mapping[str, AggregateDraft]
    event_owner: Mapping[str, str]  # domain event -> its aggregate
    expressions: Mapping[str, ir.KeyExpression]
    lib: Mapping[str, SourceFile]
    broken_names: frozenset[str]  # defined in files that failed: not reported again
    declared: frozenset[str]  # attribute names expressions may read

    def source_fields(self, name: str) -> dict[str, ir.Field] | None:
        """The fields of a trigger source (a command or a domain event), or None."""
        if name in self.commands:
            return {f.name: f for f in self.commands[name].fields}
        owner = self.event_owner.get(name)
        if owner is not None:
            return {f.name: f for f in self.aggregates[owner].events[name].fields}
        return None
