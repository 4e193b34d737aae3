"""Stage 3: decide every Python name and output path of a model once, and prove them distinct.

Model names are PascalCase or camelCase; generated Python needs modules, classes, functions
and files, several of them derived from one model name (`Deposit` is the flow function
`deposit`, the class `DepositFlow` and the file `tests/test_account_deposit.py`). Two
different model names can give one Python name (`Order` + `LineAdd` and `OrderLine` + `Add`
both give `test_order_line_add`), and a model name can give a name the generated code needs
for itself (an aggregate `Registry` is the package's `registry` module). Every name is
therefore entered into the namespace it lives in (a folder, or one generated module) with
where it comes from; a second entry of one name is a located diagnostic, DG309 when the name
belongs to the generated code, DG310 when two model elements meet. The back end only reads
the names decided here.
"""

from __future__ import annotations

import ast
import keyword
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from draftsman_gen import ir
from draftsman_gen.diagnostics import Diagnostics, Location
from draftsman_gen.grammar import BUILTINS
from draftsman_gen.naming import snake

VENDOR = "_vendor"  # <package>/_vendor/draftsman_runtime holds a vendored runtime

# What the generated code defines or imports itself, per namespace, and what each name is.
def _taken(description: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, description)


MODULE = "a module of the generated package"
IMPORT = "a name the generated module imports"
OWN = "a name the generated module defines"
BUILTIN = "a builtin that expressions call"
FUTURE = _taken("bound by `from __future__ import annotations`", "annotations")
PACKAGE_ENTRIES = {**_taken(MODULE, "__init__", "__main__", "commands", "expressions",
                            "registry", "lib", VENDOR),
                   **_taken("a name the package's __init__.py defines", "require", "service",
                            "REGISTRY")}
# The tests folder, the tools, and what a generated service or its tests import: a package of
# one of these names would shadow it (`python -m pytest` would run the service's CLI).
RESERVED_PACKAGES = frozenset({
    "tests", "draftsman_runtime", "draftsman_gen", "pytest", "hypothesis", "starlette",
    "uvicorn", "ariadne", "graphql", "jwt", "boto3", "botocore", "psycopg", "psycopg_pool",
    "anyio", "httpx",
})
DOCUMENT_NAMES = {**FUTURE, **_taken(IMPORT, "dataclass", "field", "Any", "ClassVar", "Entities",
                                     "FieldSpec"),
                  **_taken(OWN, "BUSINESS_KEY", "FINGERPRINT", "new_document", "set_key")}
EVENTS_NAMES = {**FUTURE, **_taken(IMPORT, "dataclass", "field", "Any", "ClassVar", "FieldSpec")}
HANDLERS_NAMES = {**FUTURE, **_taken(IMPORT, "Any", "FunctionalError"), **_taken(OWN, "replay")}
# Flows and key expressions call builtins: a flow function `len` would hide the builtin.
FLOWS_NAMES = {**FUTURE, **_taken(IMPORT, "dataclass", "field", "Any", "FunctionalError",
                                  "check_event", "idempotency_key"),
               **_taken(BUILTIN, "isinstance", *sorted(BUILTINS))}
EXPRESSIONS_NAMES = {**FUTURE, **_taken(IMPORT, "Any"), **_taken(BUILTIN, *sorted(BUILTINS))}
COMMANDS_NAMES = {**FUTURE, **_taken(IMPORT, "dataclass", "Any", "payload", "Pattern")}
TEST_NAMES = {**FUTURE, **_taken(IMPORT, "Flow", "FlowCase", "REGISTRY"), **_taken(OWN, "FLOW")}
TEST_FOLDER = _taken("the test package's __init__.py", "__init__.py")
# The types every generated schema.graphql defines (and GraphQL's own scalars).
GRAPHQL_TYPES = _taken("a type of every generated GraphQL schema", "Query", "Mutation",
                       "String", "Int", "Float", "Boolean", "ID", "JSON", "Accepted", "Trace",
                       "FlowRun", "RunStatus", "EmittedEvent", "StringFilter", "IntFilter",
                       "FloatFilter", "BooleanFilter")
GRAPHQL_QUERY_FIELDS = _taken("a query of every generated GraphQL schema", "trace", "wait")


@dataclass(frozen=True)
class AggregateNames:
    module: str  # account: the aggregate's subpackage
    folder: str  # <package>/account
    constant: str  # ACCOUNT: its AggregateType in the registry
    document: str  # AccountDocument
    union: str  # AccountEvent: the union of its event classes
    entities: Mapping[str, str]  # entity collection -> item class


@dataclass(frozen=True)
class TriggerNames:
    key: str  # deposit_key_from_deposit_requested
    start: str
    idempotency: str


@dataclass(frozen=True)
class CaseNames:
    test: str  # test_pays_in
    replay: str  # test_pays_in_replay


@dataclass(frozen=True)
class FlowNames:
    function: str  # deposit
    class_name: str  # DepositFlow: the flow's variables
    test_path: str  # tests/test_account_deposit.py
    triggers: Mapping[str, TriggerNames]  # by trigger source
    code: Mapping[int, str]  # index of an inline code processor -> its function
    cases: Mapping[str, CaseNames]  # by test case name


@dataclass(frozen=True)
class GraphqlNames:
    """The types and fields of the generated schema.graphql."""

    namespaces: Mapping[str, str]  # mutation namespace -> its type: BankingMutations
    inputs: Mapping[str, str]  # command -> OpenAccountRequestedInput
    input_items: Mapping[tuple[str, str], str]  # (command, ObjectList field) -> input type
    documents: Mapping[str, str]  # aggregate -> Account
    entities: Mapping[tuple[str, str], str]  # (aggregate, entity collection) -> AccountLine
    filters: Mapping[str, str]  # aggregate -> AccountFilter
    pages: Mapping[str, str]  # aggregate -> AccountPage
    readers: Mapping[str, str]  # aggregate -> AccountQueries: the type of Query.Account


@dataclass(frozen=True)
class Names:
    """Every name of the generated package that comes from the model."""

    package: str
    aggregates: Mapping[str, AggregateNames]
    flows: Mapping[tuple[str, str], FlowNames]  # (aggregate, flow)
    handlers: Mapping[str, str]  # event -> apply_deposited
    locals: Mapping[str, str]  # event -> deposited_event (the variable a flow builds it in)
    items: Mapping[tuple[str, str], str]  # (command or event, ObjectList field) -> item class
    patterns: Mapping[str, str]  # pattern -> PATTERN_IBAN
    graphql: GraphqlNames

    def flow(self, agg: ir.Aggregate, flow: ir.Flow) -> FlowNames:
        return self.flows[(agg.name, flow.name)]


def cap(name: str) -> str:
    return name[:1].upper() + name[1:]


def lower(model: ir.Model, diags: Diagnostics) -> Names | None:
    """The names of `model`'s generated code; None (with diagnostics) when two collide."""
    start = len(diags)
    names = _decide(model)
    _check(model, names, diags)
    return names if len(diags) == start else None


# -- deciding ----------------------------------------------------------------------------------
def _decide(model: ir.Model) -> Names:
    pkg = model.package
    aggregates = {}
    flows = {}
    for agg in model.aggregates:
        module = snake(agg.name)
        aggregates[agg.name] = AggregateNames(
            module=module, folder=f"{pkg}/{module}", constant=module.upper(),
            document=agg.name + "Document", union=agg.name + "Event",
            entities={e.name: agg.name + cap(e.name) + "Item" for e in agg.entities})
        for flow in agg.flows:
            flows[(agg.name, flow.name)] = _flow_names(module, flow)
    events = [e for agg in model.aggregates for e in agg.events]
    items = {(c.name, f.name): c.name + cap(f.name) + "Item"
             for c in model.commands for f in c.fields if f.type == "ObjectList"}
    items |= {(e.name, f.name): e.name + cap(f.name) + "Item"
              for e in events for f in e.fields if f.type == "ObjectList"}
    return Names(
        package=pkg, aggregates=aggregates, flows=flows,
        handlers={e.name: f"apply_{snake(e.name)}" for e in events},
        locals={e.name: f"{snake(e.name)}_event" for e in events},
        items=items,
        patterns={p.name: "PATTERN_" + snake(p.name).upper() for p in model.patterns},
        graphql=_graphql_names(model))


def _graphql_names(model: ir.Model) -> GraphqlNames:
    aggs = model.aggregates
    return GraphqlNames(
        namespaces={c.graphql_namespace: c.graphql_namespace + "Mutations"
                    for c in model.commands},
        inputs={c.name: c.name + "Input" for c in model.commands},
        input_items={(c.name, f.name): c.name + cap(f.name) + "Input"
                     for c in model.commands for f in c.fields if f.type == "ObjectList"},
        documents={a.name: a.name for a in aggs},
        entities={(a.name, e.name): a.name + cap(e.name) + "Item"
                  for a in aggs for e in a.entities},
        filters={a.name: a.name + "Filter" for a in aggs},
        pages={a.name: a.name + "Page" for a in aggs},
        readers={a.name: a.name + "Queries" for a in aggs})


def _flow_names(module: str, flow: ir.Flow) -> FlowNames:
    function = snake(flow.name)
    triggers = {}
    for trig in flow.triggers:
        source = snake(trig.source)
        triggers[trig.source] = TriggerNames(
            key=f"{function}_key_from_{source}", start=f"{function}_start_from_{source}",
            idempotency=f"{function}_idempotency_from_{source}")
    code = {index: f"_{function}_code_{index}"
            for index, proc in enumerate(flow.processors, start=1)
            if isinstance(proc, ir.InlineCode)}
    cases = {case.name: CaseNames(f"test_{snake(case.name)}", f"test_{snake(case.name)}_replay")
             for case in flow.test_cases}
    return FlowNames(function=function, class_name=flow.name + "Flow",
                     test_path=f"tests/test_{module}_{function}.py", triggers=triggers,
                     code=code, cases=cases)


# -- checking ------------------------------------------------------------------------------
class _Namespace:
    """One folder or module of the generated code: each name in it once."""

    def __init__(self, where: str, report: _Report, fixed: Mapping[str, str],
                 python: bool = True) -> None:
        self.where = where
        self.report = report
        self.python = python  # Python's keywords are taken (GraphQL has none)
        # name -> (what gives it, where that is defined); None: the generated code's own
        self.entries: dict[str, tuple[str, ir.Loc | None]] = {
            name: (description, None) for name, description in fixed.items()}

    def add(self, name: str, what: str, loc: ir.Loc) -> bool:
        """Enter `name`, which `what` (a model element, defined at `loc`) gives; False when
        it clashes (reported)."""
        if self.python and keyword.iskeyword(name):
            self.report(loc, name, "DG309", f"{what} would be '{name}' in {self.where}, which is "
                        "a Python keyword; choose another name")
            return False
        if name not in self.entries:
            self.entries[name] = (what, loc)
            return True
        other, other_loc = self.entries[name]
        if other_loc is None:
            self.report(loc, name, "DG309", f"{what} would be '{name}' in {self.where}, which "
                        f"is {other}; choose another name")
            return False
        if other != what:
            self.report(loc, other_loc, "DG310", f"{what} and {other} ({other_loc}) both become "
                        f"'{name}' in {self.where}; rename one of them")
            return False
        return True


class _Report:
    """Reports one clash once, though it shows in several modules: a reserved name at one
    place, or two model elements (a flow's function and its test module) meeting."""

    def __init__(self, diags: Diagnostics) -> None:
        self.diags = diags
        self.seen: set[tuple[ir.Loc, str | ir.Loc]] = set()

    def __call__(self, loc: ir.Loc, key: str | ir.Loc, code: str, message: str) -> None:
        if (loc, key) not in self.seen:
            self.seen.add((loc, key))
            self.diags.error(Location(loc.file, loc.line, 1), code, message)


def _check(model: ir.Model, names: Names, diags: Diagnostics) -> None:
    pkg = model.package
    report = _Report(diags)
    if pkg in RESERVED_PACKAGES or pkg in sys.stdlib_module_names:
        report(model.package_loc, pkg, "DG309", f"the package name '{pkg}' is taken (by "
               "Python's standard library, the runtime, a library the service uses, or the tests "
               "folder); set another "
               "'package' in draftsman.yaml")
    package = _Namespace(f"the package folder {pkg}/", report, PACKAGE_ENTRIES)
    tests = _Namespace("the tests/ folder", report, TEST_FOLDER)
    commands = _Namespace(f"{pkg}/commands.py", report, COMMANDS_NAMES)
    expressions = _Namespace(f"{pkg}/expressions.py", report, EXPRESSIONS_NAMES)
    for pattern in model.patterns:
        commands.add(names.patterns[pattern.name], f"pattern {pattern.name}", pattern.loc)
    for command in model.commands:
        commands.add(command.name, f"command {command.name}", command.loc)
        for f in command.fields:
            if (command.name, f.name) in names.items:
                commands.add(names.items[(command.name, f.name)],
                             f"the items of {command.name}.{f.name}", command.loc)
    for expr in model.expressions:
        expressions.add(expr.name, f"key expression {expr.name}", expr.loc)
    _check_graphql(model, names.graphql, report)
    for agg in model.aggregates:
        an = names.aggregates[agg.name]
        package.add(an.module, f"aggregate {agg.name}", agg.loc)
        clashed = _check_aggregate(model, names, agg, report)
        for flow in agg.flows:
            if flow.name in clashed:
                continue  # its other names derive from the one that clashed: one message
            fn = names.flow(agg, flow)
            tests.add(fn.test_path.removeprefix("tests/"),
                      f"the tests of flow {agg.name}.{flow.name}", flow.loc)
            module = _Namespace(fn.test_path, report, TEST_NAMES)
            for case in flow.test_cases:
                case_names = fn.cases[case.name]
                module.add(case_names.test, f"test case {case.name}", case.loc)
                module.add(case_names.replay, f"the replay test of {case.name}", case.loc)


def _check_graphql(model: ir.Model, gn: GraphqlNames, report: _Report) -> None:
    types = _Namespace("the GraphQL schema", report, GRAPHQL_TYPES, python=False)
    query = _Namespace("the GraphQL Query type", report, GRAPHQL_QUERY_FIELDS, python=False)
    namespaces: dict[str, _Namespace] = {}
    for command in model.commands:
        ns = command.graphql_namespace
        what = f"command {command.name}"
        if ns not in namespaces:
            namespaces[ns] = _Namespace(f"the GraphQL mutation namespace {ns}", report, {},
                                        python=False)
            types.add(gn.namespaces[ns], f"the mutation namespace {ns}", command.loc)
        namespaces[ns].add(command.graphql_name, what, command.loc)
        types.add(gn.inputs[command.name], f"the input of {what}", command.loc)
        for f in command.fields:
            if (command.name, f.name) in gn.input_items:
                types.add(gn.input_items[(command.name, f.name)],
                          f"the items of {command.name}.{f.name}", command.loc)
    for agg in model.aggregates:
        what = f"aggregate {agg.name}"
        query.add(agg.name, what, agg.loc)
        for name in (gn.documents, gn.filters, gn.pages, gn.readers):
            types.add(name[agg.name], what, agg.loc)
        for e in agg.entities:
            types.add(gn.entities[(agg.name, e.name)], f"entity {agg.name}.{e.name}", agg.loc)


def _check_aggregate(model: ir.Model, names: Names, agg: ir.Aggregate,
                     report: _Report) -> set[str]:
    """Check the modules of one aggregate; the flows whose function name clashed."""
    an = names.aggregates[agg.name]
    document = _Namespace(f"{an.folder}/document.py", report, DOCUMENT_NAMES)
    events = _Namespace(f"{an.folder}/events.py", report, EVENTS_NAMES)
    handlers = _Namespace(f"{an.folder}/handlers.py", report, HANDLERS_NAMES)
    flows = _Namespace(f"{an.folder}/flows.py", report, FLOWS_NAMES)
    document.add(an.document, f"the document of {agg.name}", agg.loc)
    handlers.add(an.document, f"the document of {agg.name}", agg.loc)
    flows.add(an.document, f"the document of {agg.name}", agg.loc)
    for entity in agg.entities:
        what = f"the items of entity {agg.name}.{entity.name}"
        document.add(an.entities[entity.name], what, agg.loc)
        handlers.add(an.entities[entity.name], what, agg.loc)
    if agg.events:
        events.add(an.union, f"the event union of {agg.name}", agg.loc)
        flows.add(an.union, f"the event union of {agg.name}", agg.loc)
    for event in agg.events:
        events.add(event.name, f"event {event.name}", event.loc)
        handlers.add(event.name, f"event {event.name}", event.loc)
        handlers.add(names.handlers[event.name], f"the handler of {event.name}", event.loc)
        for f in event.fields:
            if (event.name, f.name) in names.items:
                events.add(names.items[(event.name, f.name)],
                           f"the items of {event.name}.{f.name}", event.loc)
    return _check_flows(model, names, agg, flows)


def _check_flows(model: ir.Model, names: Names, agg: ir.Aggregate,
                 flows: _Namespace) -> set[str]:
    """flows.py: the flows' own names, and everything it imports. Names derived from a flow's
    function name are not checked when that one clashed."""
    owners = {e.name: e for a in model.aggregates for e in a.events}
    lib = {m.name: m for m in model.lib_modules}
    expressions = {e.name: e for e in model.expressions}
    called: set[str] = set()
    clashed: set[str] = set()
    for flow in agg.flows:
        called |= called_names(flow_expressions(flow), set(expressions))
        fn = names.flow(agg, flow)
        if not flows.add(fn.function, f"flow {flow.name}", flow.loc):
            clashed.add(flow.name)
            continue
        flows.add(fn.class_name, f"the variables class of flow {flow.name}", flow.loc)
        for code_function in fn.code.values():
            flows.add(code_function, f"inline code of flow {flow.name}", flow.loc)
        for trig in flow.triggers:
            tn = fn.triggers[trig.source]
            flows.add(trig.source, f"trigger source {trig.source}", trig.loc)
            flows.add(tn.key, f"the key function of {flow.name} for {trig.source}", trig.loc)
            flows.add(tn.start, f"the start function of {flow.name} for {trig.source}", trig.loc)
            if trig.idempotency_key:
                flows.add(tn.idempotency, f"the idempotency function of {flow.name} for "
                          f"{trig.source}", trig.loc)
        for proc in flow.processors:
            match proc:
                case ir.EmitEvent(event=event):
                    flows.add(event, f"event {event}", owners[event].loc)
                    flows.add(names.handlers[event], f"the handler of {event}", owners[event].loc)
                    for f in owners[event].fields:
                        if (event, f.name) in names.items:
                            flows.add(names.items[(event, f.name)],
                                      f"the items of {event}.{f.name}", owners[event].loc)
                case ir.LibCall(module=module):
                    flows.add(module, f"lib module {module}", lib[module].loc)
                case ir.Validator() | ir.SetVariable() | ir.InlineCode() | ir.UpdateKey():
                    pass
    for name in sorted(called):
        flows.add(name, f"key expression {name}", expressions[name].loc)
    return clashed


def flow_expressions(flow: ir.Flow) -> list[str]:
    """Every expression of a flow that its generated module evaluates."""
    texts: list[str] = []
    for trig in flow.triggers:
        if isinstance(trig.key, ir.KeyByExpression):
            texts.append(trig.key.expression)
        texts += [m.expression for m in trig.mappings if isinstance(m, ir.MapExpression)]
    for proc in flow.processors:
        match proc:
            case ir.Validator(condition=text) | ir.SetVariable(expression=text) | ir.UpdateKey(
                expression=text
            ):
                texts.append(text)
            case ir.EmitEvent(assignments=assignments):
                texts += [a.expression for a in assignments]
            case ir.InlineCode() | ir.LibCall():
                pass
    return texts


def called_names(expressions: list[str], candidates: set[str]) -> set[str]:
    """The names among `candidates` (key expressions) that the expressions call."""
    found: set[str] = set()
    for text in expressions:
        for node in ast.walk(ast.parse(text, mode="eval")):
            if isinstance(node, ast.Name) and node.id in candidates:
                found.add(node.id)
    return found
