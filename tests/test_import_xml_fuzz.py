"""Property: whatever a model.xml holds (any of the format's elements, nested anywhere, with
nasty attribute values), import-xml ends in exit 0 or 1 with located messages, and what it
writes is YAML that `validate` answers with exit 0 or 1: never a traceback."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

from helpers import invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))

TAGS = ["global", "events", "event", "domain", "subdomain", "aggregate", "field",
        "nested-object", "event-handler", "mapping", "nested-mapping", "command", "trigger",
        "processor", "test-case", "input", "state", "expected", "expected-state", "pattern",
        "expression", "dependency", "views", "view", "notifiers", "functional-scenarios", "x"]
ATTRS = ["name", "type", "source", "key-field", "value", "target", "operand", "code", "regex",
         "expression", "input", "default", "pattern", "auto-fill", "business-key", "on",
         "graphql-namespace", "graphql-name", "authorization", "role", "idempotency-key",
         "idempotency-ttl", "event-ttl", "create-command", "ref", "condition", "exception",
         "file", "handler", "key", "strategy", "trigger-event", "domain-event", "pk",
         "expected-processing-status", "username-field", "project-name", "zzz"]
NASTY = ["", "#", "#''", "#global.f(a, 'b')", "|LB|", "self.x = 1|LB|  y", "String", "Int",
         "Float", "StringList", "NestedObject", "ActorEvent", "DomainEvent", "A.B", "true",
         "9" * 400, "1e999", "-1", "24 * 60 ** 99", "{{P}}", "^$", "lib/X.py", "__import__('os')",
         "a" * 300, "\u202e\u0000"[:1], "[1, {\"a\": [", "[]", "{}", "é", "Open", "acc"]

values = st.sampled_from(NASTY) | st.text(max_size=12)


def _clean(text: str) -> str:
    """XML 1.0 cannot hold every character; keep what it can."""
    return "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff")
                   or ("\ue000" <= c <= "\ufffd"))


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    attrs = draw(st.dictionaries(st.sampled_from(ATTRS), values, max_size=5))
    text = "".join(f" {name}={quoteattr(_clean(value))}" for name, value in attrs.items())
    kids = draw(st.lists(elements(depth + 1), max_size=4)) if depth < 5 else []
    body = "".join(kids) or (_clean(draw(st.sampled_from(["", "{}", "[1]", "x"]))))
    return f"<{tag}{text}>{_escape(body) if not kids else body}</{tag}>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(elements(), max_size=6), st.sampled_from(["Bank", "", "my bank", "é"]))
def test_any_model_xml_imports_or_is_refused_cleanly(children: list[str], name: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-import-"))
    try:
        (folder / "model.xml").write_text(
            f'<draftsman project-name={quoteattr(name)} '
            f'xmlns="https://tracepaper.draftsman.io">{"".join(children)}</draftsman>',
            encoding="utf-8",
        )
        out = folder / "out"
        result = invoke("import-xml", str(folder / "model.xml"), "--out", str(out))
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception)
        assert result.exit_code in (0, 1), result.output
        for line in result.stdout.splitlines():
            assert line.startswith("model.xml:"), line
        if result.exit_code == 0:
            checked = invoke("validate", str(out))
            assert checked.exit_code in (0, 1), checked.output
            assert checked.exception is None or isinstance(checked.exception, SystemExit)
        else:
            assert not out.exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


keys = st.text(min_size=1, max_size=8)
leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
documents = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(keys, inner, max_size=4), max_leaves=25)


@settings(max_examples=MAX_EXAMPLES * 10, deadline=None)
@given(st.dictionaries(keys, documents, max_size=6))
def test_what_the_yaml_writer_prints_reads_back_as_it_was(doc: dict[str, object]) -> None:
    import yaml

    from draftsman_gen.importxml.yamlwrite import dump

    assert yaml.safe_load(dump(doc, "../schemas/x.schema.json")) == doc
