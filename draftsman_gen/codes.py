"""Every diagnostic code and what it means: the documentation's table is generated from here.

A code is a promise to users (CI scripts match on them), so codes are never renumbered or
reused; `python -m draftsman_gen.codes` prints the table docs/model-language.md holds.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    "DG101": (
        "file cannot be read: not UTF-8, binary, too large (1 MB) or expands to too many values"
    ),
    "DG102": "invalid YAML (syntax, nesting too deep)",
    "DG103": "duplicate key, or a key that is not a plain string",
    "DG104": "empty file, or a file whose top level is not a mapping",
    "DG105": "YAML file outside the model layout",
    "DG106": "missing draftsman.yaml",
    "DG201": "missing required key",
    "DG202": "unknown key (lists the keys allowed there)",
    "DG203": "wrong type of value",
    "DG204": (
        "invalid value (not one of the allowed values, out of range, empty, two processor kinds in one item)"
    ),
    "DG301": "name breaks the naming rules",
    "DG302": "invalid pip requirement in `dependencies`",
    "DG303": "duplicate name",
    "DG304": (
        "pattern outside the supported (linear-time) syntax, or patterns include each other in a cycle"
    ),
    "DG305": "unknown pattern",
    "DG306": (
        "field definition problem (ObjectList nesting, `fields` on a scalar, pattern or auto-fill on a non-String)"
    ),
    "DG307": (
        "default value of the wrong type (or a number that is not finite) or not matching its pattern"
    ),
    "DG308": "events or flows in a folder without root.yaml",
    "DG309": (
        "reserved name: a name the generated code uses itself (a module, an import, a builtin), a Python keyword, or a package name that is taken"
    ),
    "DG310": (
        "two model names become the same Python name (a module, class, function or test file)"
    ),
    "DG311": "Python in an expression, code or lib module does not parse",
    "DG312": "a name or attribute starting with `_` in an expression",
    "DG313": "unknown name in an expression",
    "DG314": "business key is not a field",
    "DG315": "business key or key field is not a String",
    "DG316": "unknown field of a command or event",
    "DG317": "unknown document field",
    "DG318": "handler operation does not fit the field types",
    "DG319": "`flow.x` is not a flow variable",
    "DG320": "flow without emit-event",
    "DG321": "unknown trigger source, or an event of the flow's own aggregate",
    "DG322": (
        "trigger key problem (`key-field` and `key-expression` both or neither; TTL without key)"
    ),
    "DG323": "key expression called with the wrong number of arguments",
    "DG324": "bad placeholder in a validator message",
    "DG325": "emit-event of an unknown event or of another aggregate's event",
    "DG326": "emit-event leaves an event field unmapped",
    "DG327": "code processor without `inline` or `file` + `handler`",
    "DG328": "lib module or function not found, or the function does not take one parameter",
    "DG329": "emit-event value whose type is certain and does not fit the event field",
    "DG330": "test case trigger-event does not trigger the flow",
    "DG331": "test case expects an event the flow never emits",
    "DG332": "test case expects nothing, or both an error and events",
    "DG333": (
        "test case value of the wrong type (or a number that is not finite), unknown or missing field"
    ),
    "DG334": (
        "a construct outside the expression grammar (lambda, `:=`, an unlisted call or method, an attribute the model does not declare, `**` with a non-literal exponent, bytes, bit operators)"
    ),
    "DG335": (
        "API authorization problem: `role` without `authorization: role` (or the reverse), "
        "`user-must-match` naming no top-level String field, or with anonymous access, or "
        "`auto-fill: username` with anonymous access"
    ),
    # import-xml (errors stop the import; warnings are its report)
    "DG401": "XML file cannot be read: malformed, binary, not decodable, or too large (8 MB)",
    "DG402": "XML refused: a DTD, entity declaration or external reference (entity expansion "
    "attacks; Draftsman files never have one)",
    "DG403": "not a Draftsman model: no config.xml or model.xml, wrong root element, or a "
    "foreign XML namespace",
    "DG404": "an element's name cannot be a file name (empty, `/`, `..`), or two elements "
    "would be written to one file (duplicate names)",
    "DG410": "warning: element not imported, because this language has no such thing (views, "
    "projections, notifiers, scenarios, templates, roles, deleted events, FileUploaded, "
    "other processor kinds, soft delete)",
    "DG411": "warning: unknown attribute, element or file, not imported",
    "DG412": "warning: value kept as written (and marked `import-xml:` in the YAML) because it "
    "cannot be translated with certainty",
    "DG413": "warning: a library module or function that code refers to is missing (no stub "
    "is written)",
    "DG414": "warning: value changed to fit this language (a name's case, a dotted namespace, "
    "an implicit field declared, an older attribute read in its newer form)",
    "DG415": "warning: unresolved element (an orphan event handler, a domain event of no "
    "aggregate, a duplicate handler, an aggregate without root)",
    # breaking (changes against an earlier version of the model; docs/breaking.md)
    "DG501": "aggregate removed: its stored instances can no longer be read",
    "DG502": "domain event removed or renamed: stored events of it can no longer be replayed",
    "DG503": "domain event field removed or renamed: stored events keep it, nothing reads it",
    "DG504": "domain event field given another type: stored values are of the old type",
    "DG505": "business key (of an aggregate or an entity collection) changed",
    "DG506": "domain event field required without a default: stored events lack it",
    "DG507": "command removed, or its mutation renamed: clients calling it fail",
    "DG508": "document field or entity collection removed or retyped: API readers fail",
    "DG509": "command input made stricter: a field removed, retyped, newly required, or given "
    "another pattern",
    "DG510": "command access made stricter: another authorization, role or user-must-match",
}


def markdown_table() -> str:
    rows = "".join(f"| {code} | {meaning} |\n" for code, meaning in CODES.items())
    return "| code | meaning |\n|---|---|\n" + rows


if __name__ == "__main__":
    print(markdown_table(), end="")
