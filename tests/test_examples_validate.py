"""Every example model is valid, and together the examples use every construct."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import EXAMPLES

from draftsman_gen import ir
from draftsman_gen.cli import cli
from draftsman_gen.pipeline import compile_model

OPS = {ir.SetOp: "set", ir.AddOp: "add", ir.SubtractOp: "subtract", ir.ExtendOp: "extend",
       ir.ReplaceOp: "replace"}
KINDS = {ir.Validator: "validator", ir.EmitEvent: "emit-event", ir.SetVariable: "set-variable",
         ir.InlineCode: "code", ir.LibCall: "code", ir.UpdateKey: "update-key"}


def test_example_validates(example_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(example_dir)])
    assert result.exit_code == 0, result.stdout
    assert result.stdout == ""


def test_example_files_have_schema_modeline(example_dir: Path) -> None:
    for path in example_dir.rglob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        schema = (path.parent / first.split("=", 1)[1]).resolve()
        assert schema.is_file(), f"{path}: modeline points at missing {schema}"


def test_examples_cover_every_construct() -> None:
    used: set[str] = set()
    for example in EXAMPLES:
        compiled = compile_model(example).compiled
        assert compiled is not None
        model = compiled.model
        used.update("pattern-ref" for c in model.commands for f in c.fields if f.pattern)
        used.update("auto-fill" for c in model.commands for f in c.fields if f.auto_fill)
        used.update("default" for c in model.commands for f in c.fields if f.has_default)
        used.update(f"type:{f.type}" for c in model.commands for f in c.fields)
        used.update("expression" for _ in model.expressions)
        used.update("lib" for _ in model.lib_modules)
        for agg in model.aggregates:
            used.update(f"type:{f.type}" for f in agg.fields)
            used.update("entities" for _ in agg.entities)
            if agg.event_ttl != -1:
                used.add("event-ttl")
            if agg.backup_interval_days:
                used.add("backups")
            for event in agg.events:
                if isinstance(event.handler, ir.HandlerCode):
                    used.add("handler-code")
                else:
                    used.update(f"op:{OPS[type(op)]}" for op in event.handler)
            for flow in agg.flows:
                if flow.create:
                    used.add("create")
                if len(flow.triggers) and any(t.source_kind == "event" for t in flow.triggers):
                    used.add("domain-event-trigger")
                for t in flow.triggers:
                    used.add("key-field" if isinstance(t.key, ir.KeyField) else "key-expression")
                    if t.idempotency_key:
                        used.add("idempotency")
                kinds = [KINDS[type(p)] for p in flow.processors]
                used.update(f"processor:{k}" for k in kinds)
                if "validator" in kinds and "emit-event" in kinds:
                    if kinds.index("validator") < kinds.index("emit-event"):
                        used.add("validator-before-emit")
                    if len(kinds) - 1 - kinds[::-1].index("validator") > kinds.index("emit-event"):
                        used.add("validator-after-emit")
                used.update("code-lib" for p in flow.processors if isinstance(p, ir.LibCall))
                used.update("code-inline" for p in flow.processors
                            if isinstance(p, ir.InlineCode))
                for case in flow.test_cases:
                    used.add("test:error" if case.expected_error else "test:events")
                    if case.state is not None:
                        used.add("test:given-state")
                    if case.expected_state_pk:
                        used.add("test:expected-state")
    wanted = {
        "pattern-ref", "auto-fill", "default", "expression", "lib", "entities", "event-ttl",
        "backups", "handler-code", "create", "domain-event-trigger", "key-field",
        "key-expression", "idempotency", "validator-before-emit", "validator-after-emit",
        "code-lib", "code-inline", "test:error", "test:events", "test:given-state",
        "test:expected-state",
        *(f"type:{t}" for t in ("String", "Int", "Float", "Boolean", "StringList", "ObjectList")),
        *(f"op:{o}" for o in ("set", "add", "subtract", "extend", "replace")),
        *(f"processor:{k}" for k in ("emit-event", "validator", "set-variable", "code", "update-key")),
    }  # fmt: skip
    assert wanted - used == set()
