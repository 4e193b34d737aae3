"""`draftsman-gen docs` (cmd_docs.py, draftsman_gen/modeldocs, templates/docs).

- Golden (sqlc style): every example's whole docs tree is `tests/model_docs/<example>/`, byte
  for byte; UPDATE_GOLDEN=1 (scripts/update-goldens.sh) rewrites it, to be reviewed with git.
- Determinism, `--check` (diffs, missing, edited and orphan pages) and what writing may touch.
- The pages as GitHub reads them (cmarkgfm, GitHub's own cmark): no raw HTML, every link and
  anchor resolves, and free text full of Markdown, HTML and Mermaid syntax reads exactly as
  written in the model, in paragraphs, table cells, code spans and code blocks.
- Every Mermaid diagram of every example (and of the hostile model) is rendered by the real
  mermaid-cli in headless Chromium, and its labels read as written. mermaid-cli comes from
  scripts/install-mermaid.sh. Without it (or without /usr/bin/chromium) these tests are
  skipped, unless DRAFTSMAN_REQUIRE_MERMAID=1 (as in CI), where they fail instead.
- The picture in docs/model-docs.md is the current fulfilment model's diagram.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
import yaml
from cmarkgfm.cmark import Options
from conftest import EXAMPLES, ROOT, update_golden

from draftsman_gen import ir
from draftsman_gen.cmd_docs import run
from draftsman_gen.modeldocs import contexts as cx
from draftsman_gen.modeldocs.escape import NEWLINE_MARK, Md, label, node_id
from draftsman_gen.modeldocs.render import UnescapedText, environment
from draftsman_gen.pipeline import compile_model
from draftsman_gen.writer import MANIFEST

GOLDEN = ROOT / "tests" / "model_docs"
IMAGES = ROOT / "docs" / "images"
PICTURE, PICTURE_SOURCE = IMAGES / "fulfilment-model.png", IMAGES / "fulfilment-model.mmd"
CHROMIUM = Path("/usr/bin/chromium")
FULFILMENT = ROOT / "examples" / "fulfilment"


def docs(model: Path, out: Path, check: bool = False) -> int:
    return run(model, out, check, "text")


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def pages(folder: Path) -> dict[str, str]:
    return {path: text for path, text in tree(folder).items() if path.endswith(".md")}


def written(model: Path, out: Path) -> dict[str, str]:
    assert docs(model, out) == 0
    return pages(out)


# -- golden -------------------------------------------------------------------------------
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_docs_of_every_example_are_the_golden_ones(example: Path, tmp_path: Path) -> None:
    out = tmp_path / example.name
    assert docs(example, out) == 0
    expected = GOLDEN / example.name
    if update_golden():
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
    if not expected.exists():
        pytest.fail(f"{expected} is missing: run scripts/update-goldens.sh and review it")
    actual, golden = tree(out), tree(expected)
    assert sorted(actual) == sorted(golden), "the set of pages differs"
    for path, text in actual.items():
        if text != golden[path]:
            diff = "".join(difflib.unified_diff(golden[path].splitlines(True),
                                                text.splitlines(True), f"golden/{path}", path))
            raise AssertionError(f"{example.name}: {path} differs:\n{diff}")


def test_the_pages_are_the_ones_the_model_has(tmp_path: Path) -> None:
    assert sorted(written(FULFILMENT, tmp_path)) == [
        "Sales/Order.md", "Sales/index.md", "Warehouse/Shipment.md", "Warehouse/index.md",
        "index.md"]


def test_two_runs_in_processes_with_other_hash_seeds_are_byte_identical(tmp_path: Path) -> None:
    """Set and dict orders must not leak into the pages: two processes, two hash seeds."""
    trees = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        script = ("import sys; from pathlib import Path; from draftsman_gen.cmd_docs import run; "
                  f"sys.exit(run(Path({str(FULFILMENT)!r}), Path({str(out)!r}), False, 'text'))")
        subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        trees.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert trees[0] == trees[1] and len(trees[0]) == 6  # five pages and the manifest


# -- writing and --check ------------------------------------------------------------------
def test_check_passes_on_fresh_docs_and_a_second_run_rewrites_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    assert docs(FULFILMENT, out) == 0
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert docs(FULFILMENT, out, check=True) == 0
    assert docs(FULFILMENT, out) == 0
    assert "0 written, 5 unchanged, 0 removed" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps


def test_check_writes_nothing_and_lists_what_is_missing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    assert docs(FULFILMENT, out, check=True) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    for page in ("index.md", "Sales/Order.md", MANIFEST):
        assert f"{out}/{page}: missing" in err
    assert f"is stale: run `draftsman-gen docs {FULFILMENT} --out {out}`" in err


def copy_model(tmp_path: Path, example: Path = FULFILMENT) -> Path:
    model = tmp_path / example.name
    shutil.copytree(example, model)
    return model


def edit_yaml(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_check_fails_with_a_diff_after_a_change_to_the_model(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, out = copy_model(tmp_path), tmp_path / "docs"
    assert docs(model, out) == 0
    edit_yaml(model / "domain/Sales/Order/behavior-flows/MarkShipped.yaml",
              lambda d: d.update(description="Marks the order shipped."))
    capsys.readouterr()
    assert docs(model, out, check=True) == 1
    captured = capsys.readouterr()
    assert "--- a/Sales/Order.md\n+++ b/Sales/Order.md\n" in captured.out
    assert "-Reacts to the Warehouse's ShipmentDispatched domain event.\n" in captured.out
    assert "+Marks the order shipped.\n" in captured.out
    assert f"{out}/Sales/Order.md: differs from what the model generates" in captured.err
    assert docs(model, out) == 0 and docs(model, out, check=True) == 0


def test_check_fails_after_an_edit_to_the_docs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    assert docs(FULFILMENT, out) == 0
    page = out / "Warehouse" / "Shipment.md"
    page.write_text(page.read_text(encoding="utf-8").replace("# Shipment\n", "# Shipments\n"))
    capsys.readouterr()
    assert docs(FULFILMENT, out, check=True) == 1
    captured = capsys.readouterr()
    assert "-# Shipments\n+# Shipment\n" in captured.out
    assert docs(FULFILMENT, out) == 0  # the page is the command's own: rewritten
    assert page.read_text(encoding="utf-8").startswith("# Shipment\n")


def test_a_renamed_subdomain_leaves_orphans_that_check_reports_and_docs_removes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, out = copy_model(tmp_path), tmp_path / "docs"
    assert docs(model, out) == 0
    (out / "notes.md").write_text("mine\n")
    (out / "Warehouse" / "mine.md").write_text("mine too\n")
    (model / "domain" / "Warehouse").rename(model / "domain" / "Logistics")
    capsys.readouterr()
    assert docs(model, out, check=True) == 1
    captured = capsys.readouterr()
    for orphan in ("Warehouse/Shipment.md", "Warehouse/index.md"):
        assert f"{out}/{orphan}: orphan" in captured.err
        assert f"--- a/{orphan}\n+++ /dev/null\n" in captured.out
    assert f"{out}/Logistics/Shipment.md: missing" in captured.err
    assert "notes.md" not in captured.err + captured.out  # not ours: not reported
    assert docs(model, out) == 0
    assert sorted(pages(out)) == ["Logistics/Shipment.md", "Logistics/index.md",
                                  "Sales/Order.md", "Sales/index.md", "Warehouse/mine.md",
                                  "index.md", "notes.md"]
    assert docs(model, out, check=True) == 0


def test_a_page_that_was_not_written_by_docs_is_never_overwritten(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "docs"
    (out / "Sales").mkdir(parents=True)
    (out / "Sales" / "Order.md").write_text("my own notes\n")
    assert docs(FULFILMENT, out) == 1
    assert "exists and was not generated by draftsman-gen; refusing" in capsys.readouterr().err
    assert (out / "Sales" / "Order.md").read_text() == "my own notes\n"
    assert sorted(p.name for p in out.rglob("*")) == ["Order.md", "Sales"]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file.md"
    a_file.write_text("x\n")
    assert docs(FULFILMENT, a_file) == 2
    assert docs(FULFILMENT, a_file, check=True) == 2
    assert f"{a_file} is not a folder" in capsys.readouterr().err
    package = tmp_path / "generated"
    package.mkdir()
    (package / MANIFEST).write_text(json.dumps({"files": {"pyproject.toml": "x"}}))
    assert docs(FULFILMENT, package) == 2
    err = capsys.readouterr().err
    assert "holds files `draftsman-gen build` wrote (pyproject.toml, ...)" in err
    assert sorted(p.name for p in package.iterdir()) == [MANIFEST]


def test_an_invalid_model_prints_its_diagnostics_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, out = copy_model(tmp_path), tmp_path / "docs"
    flow = model / "domain/Sales/Order/behavior-flows/MarkShipped.yaml"
    edit_yaml(flow, lambda d: d["processors"][0]["emit-event"]["mapping"].update(
        carrier="flow.carier"))
    assert run(model, out, False, "json") == 1
    [problem] = json.loads(capsys.readouterr().out)
    assert (problem["file"], problem["code"]) == (flow.relative_to(model).as_posix(), "DG319")
    assert "did you mean 'carrier'" in problem["message"]
    assert not out.exists()
    assert docs(model, out, check=True) == 1


def test_the_command_line_verb(tmp_path: Path) -> None:
    """`draftsman-gen docs` runs cmd_docs.run; click answers usage errors with exit 2."""
    from click.testing import CliRunner

    from draftsman_gen.cli import cli

    assert "docs" in cli.commands, "the docs verb is not registered in draftsman_gen/cli.py"
    out = tmp_path / "docs"

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["docs", *args])
        return result.exit_code, result.output

    assert invoke(str(FULFILMENT), "--out", str(out))[0] == 0
    assert invoke(str(FULFILMENT), "--out", str(out), "--check")[0] == 0
    (out / "index.md").write_text("# stale\n")
    code, output = invoke(str(FULFILMENT), "--out", str(out), "--check")
    assert code == 1 and "-# stale\n+# Fulfilment\n" in output
    assert invoke(str(FULFILMENT), "--out", str(out / "index.md"))[0] == 2
    assert invoke(str(tmp_path / "missing"), "--out", str(out))[0] == 2


# -- the docs read the IR, through escaping templates -------------------------------------
def test_the_docs_read_only_the_ir() -> None:
    """modeldocs renders from the IR (and lower.py's names): it imports no stage that reads
    YAML and nothing of the code generator."""
    allowed = {"ir", "lower", "resources", "modeldocs"}
    for path in sorted((ROOT / "draftsman_gen" / "modeldocs").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("draftsman_gen"):
                parts = (node.module or "").split(".")
                imported = parts[1] if len(parts) > 1 else ""
                names = {a.name for a in node.names}
                ok = imported in allowed or (not imported and names <= {"ir"})
                assert ok, (path, node.module)


def test_a_template_refuses_text_that_skipped_escaping() -> None:
    row = cx.NamedRow(Md("`ok`"), "<script>raw</script>")  # type: ignore[arg-type]
    template = environment().from_string("{{ row.name }} | {{ row.definition }}")
    with pytest.raises(UnescapedText, match="raw"):
        template.render(row=row)
    assert template.render(row=cx.NamedRow(Md("a"), Md("b"))) == "a | b"


# -- the pages as GitHub reads them -------------------------------------------------------
class Html(HTMLParser):
    """What cmark-gfm made of a page: tags, the text of each block and code element, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.blocks: list[str] = []  # the text of each p, li, td, th, h1-h4
        self.codes: list[str] = []  # of each code element, code blocks included
        self.headings: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._open: list[tuple[str, list[str], dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "code", "a"}:
            self._open.append((tag, [], dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            return
        _, parts, attrs = self._open.pop()
        text = "".join(parts)
        for _outer, outer_parts, _attrs in self._open:  # the text belongs to every container
            outer_parts.append(text)
        if tag == "code":
            self.codes.append(text)
        elif tag == "a":
            self.links.append((attrs.get("href") or "", text))
        else:
            self.blocks.append(text)
            if tag.startswith("h"):
                self.headings.append(text)

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)

    def handle_comment(self, data: str) -> None:
        self.tags.add("!--" + data.strip())


def github(markdown: str) -> Html:
    """The page as GitHub renders it (without its sanitizer: raw HTML would show here)."""
    parsed = Html()
    unsafe = Options.CMARK_OPT_UNSAFE
    parsed.feed(cmarkgfm.github_flavored_markdown_to_html(markdown, options=unsafe))
    return parsed


ALLOWED_TAGS = {"h1", "h2", "h3", "p", "em", "code", "a", "ul", "li", "table", "thead", "tbody",
                "tr", "th", "td", "pre"}


def slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def assert_links_resolve(docs_pages: dict[str, str]) -> int:
    anchors = {path: {slug(h) for h in github(text).headings} for path, text in docs_pages.items()}
    count = 0
    for path, text in docs_pages.items():
        for href, shown in github(text).links:
            if href == shown and href.startswith("http"):  # a URL in free text, autolinked
                continue
            target, _, fragment = href.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), target)) \
                if target else path
            assert resolved in docs_pages, f"{path}: link {href} leads nowhere"
            assert not fragment or fragment in anchors[resolved], f"{path}: no anchor {href}"
            count += 1
    return count


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_pages_are_plain_github_markdown_whose_links_all_resolve(example: Path,
                                                                 tmp_path: Path) -> None:
    docs_pages = written(example, tmp_path)
    for path, text in docs_pages.items():
        html = github(text)
        assert html.tags <= ALLOWED_TAGS, (path, html.tags - ALLOWED_TAGS)
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert not [line for line in text.splitlines() if line != line.rstrip()], path
        outside_code = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "CODE", text,
                              flags=re.DOTALL | re.MULTILINE)
        assert "\n\n\n" not in outside_code, path
    assert assert_links_resolve(docs_pages) > 20


# -- hostile free text --------------------------------------------------------------------
NASTY = ('He said "hi" `tick` ``two`` | pipe [link](http://x.test) <script>alert(1)</script> '
         '--> %% %%{init: {"theme": "dark"}}%% #quot; &amp; \\ back *star* _under_ ~strike~ '
         '$x$ # hash\nsecond line\r\n- third\tline \u202e.')
NASTY_KEY = "shipmentKey(event.orderId) + '\"]--> %%{init: {}}%% <b>|`x`#quot;'"
NASTY_REGEX = "(?:[A-Z]{3}|`\\||<b>)-[0-9]{3,6}"


def in_text(value: str) -> str:
    """How escape.text shows free text: one line, invisible controls spelled out."""
    return " ".join(value.replace("\u202e", "\\u202e").split())


def in_code(value: str) -> str:
    """How escape.code shows free text: line breaks as ↵, tabs as spaces."""
    return (value.replace("\u202e", "\\u202e").replace("\r\n", "\n").replace("\n", NEWLINE_MARK)
            .replace("\t", " "))


def nasty_model(root: Path) -> Path:
    """The fulfilment example with hostile free text everywhere the language allows it."""
    model = copy_model(root)
    edit_yaml(model / "draftsman.yaml", lambda d: d.update(description=NASTY))
    edit_yaml(model / "domain/Sales/Order/root.yaml", lambda d: d.update(description="- " + NASTY))

    def command(d: dict[str, Any]) -> None:
        d["description"] = "1. " + NASTY
        d["fields"]["reason"]["default"] = NASTY

    def flow(d: dict[str, Any]) -> None:
        d["description"] = "# " + NASTY
        braced = NASTY.replace("{", "{{").replace("}", "}}")
        d["processors"][0]["validator"]["exception"] = "{flow.orderId}: " + braced
        d["processors"][1:1] = [
            {"validator": {"condition": f"flow.reason != {NASTY!r}", "exception": "x"}},
            {"code": {"inline": f"# ``` and ```` never close the fence\nflow.note = {NASTY!r}\n"}},
        ]
        d["test-cases"][1]["input"]["reason"] = NASTY
        d["test-cases"][1]["expected-error"] = NASTY

    edit_yaml(model / "commands/Sales/CancelOrderRequested.yaml", command)
    edit_yaml(model / "domain/Sales/Order/behavior-flows/CancelOrder.yaml", flow)
    edit_yaml(model / "domain/Warehouse/Shipment/behavior-flows/CancelShipment.yaml",
              lambda d: d["triggers"][0].update({"key-expression": NASTY_KEY}))
    edit_yaml(model / "patterns/Sku.yaml", lambda d: d.update(regex=NASTY_REGEX))
    # A command no flow uses: documented on index.md itself.
    (model / "commands/Sales/PingRequested.yaml").write_text(yaml.safe_dump(
        {"description": NASTY, "fields": {"note": {"type": "String", "default": NASTY}}}))
    return model


@pytest.fixture(scope="module")
def nasty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("nasty")
    model = nasty_model(root)
    return model, written(model, root / "docs")


def ir_of(model: Path) -> ir.Model:
    compiled = compile_model(model).compiled
    assert compiled is not None
    return compiled.model


def test_hostile_text_reads_exactly_as_written(nasty: tuple[Path, dict[str, str]]) -> None:
    model, docs_pages = nasty
    index, order, shipment = (github(docs_pages[p]) for p in
                              ("index.md", "Sales/Order.md", "Warehouse/Shipment.md"))
    # Prose: a paragraph or a cell, never a list, heading, link, emphasis or HTML.
    assert in_text(NASTY) in index.blocks
    assert "- " + in_text(NASTY) in order.blocks
    assert "# " + in_text(NASTY) in order.blocks
    assert "1. " + in_text(NASTY) in index.blocks  # the command table's description cell
    assert "Command PingRequested" in index.headings  # the command no flow uses
    # Code spans in table cells: the whole value, pipes and backticks included.
    [order_ir] = [a for a in ir_of(model).aggregates if a.name == "Order"]
    [flow] = [f for f in order_ir.flows if f.name == "CancelOrder"]
    message, condition, inline = flow.processors[:3]
    assert isinstance(message, ir.Validator) and isinstance(condition, ir.Validator)
    for value in (message.message, condition.condition,
                  json.dumps(NASTY, ensure_ascii=False), NASTY):
        assert in_code(value) in order.codes, value
    [shipment_ir] = [a for a in ir_of(model).aggregates if a.name == "Shipment"]
    [cancel] = [f for f in shipment_ir.flows if f.name == "CancelShipment"]
    assert isinstance(cancel.triggers[0].key, ir.KeyByExpression)
    assert in_code(cancel.triggers[0].key.expression) in shipment.codes
    assert NASTY_REGEX in index.codes and NASTY_REGEX in order.codes
    # A code block: the code exactly, its own fences inside it.
    assert isinstance(inline, ir.InlineCode)
    assert inline.code.replace("\u202e", "\\u202e") in order.codes
    for path, text in docs_pages.items():
        html = github(text)
        assert html.tags <= ALLOWED_TAGS, (path, html.tags - ALLOWED_TAGS)
        assert not [href for href, shown in html.links
                    if href.startswith("http") and href != shown], path
    assert_links_resolve(docs_pages)


MERMAID_ID = r"[a-z]+(?:_[A-Za-z0-9_]+)?"
MERMAID_LINE = re.compile("|".join([
    r"flowchart LR",
    rf"  {MERMAID_ID}(?:\[/\"\"/\]|\(\[\"\"\]\)|>\"\"\]|\[\(\"\"\)\]|\[\"\"\]):::[a-z]+",
    rf"  subgraph {MERMAID_ID}\[\"\"\]",
    r"  end",
    rf"  {MERMAID_ID} (?:-->|-\.->)(?:\|\"\"\|)? {MERMAID_ID}",
    r"  classDef [a-z]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#000(?:,stroke-dasharray:4 3)?",
]))


def test_hostile_text_stays_inside_its_mermaid_label(nasty: tuple[Path, dict[str, str]]) -> None:
    """Every line of every diagram is one of the template's statements once its quoted
    labels are blanked, and every label holds only plain characters and `#NN;` entities."""
    _model, docs_pages = nasty
    diagrams = [d for text in docs_pages.values() for d in mermaid_blocks(text)]
    assert any("shipmentKey(event.orderId) + '#34;#93;--#62;" in d for d in diagrams)
    for diagram in diagrams:
        for line in diagram.splitlines():
            for quoted in re.findall(r'"([^"]*)"', line):
                assert re.fullmatch(r"(?:[A-Za-z0-9 _.,:()'+=/-]|#[0-9]+;)*", quoted), line
            assert MERMAID_LINE.fullmatch(re.sub(r'"[^"]*"', '""', line)), line


# -- Mermaid, rendered --------------------------------------------------------------------
def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


def mermaid_dir() -> Path:
    """Where scripts/install-mermaid.sh installs mermaid-cli."""
    if os.environ.get("DRAFTSMAN_MERMAID_DIR"):
        return Path(os.environ["DRAFTSMAN_MERMAID_DIR"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "draftsman-gen" / "mermaid"


def mermaid_cli() -> list[str]:
    """The mmdc command with its puppeteer configuration, or a skip (a failure where CI
    requires it: a skip there would hide diagrams that do not render)."""
    folder = mermaid_dir()
    mmdc, config = folder / "node_modules" / ".bin" / "mmdc", folder / "puppeteer.json"
    problems = [] if CHROMIUM.exists() else [f"{CHROMIUM} is missing (apt-get install chromium)"]
    if not (mmdc.exists() and config.exists()):
        problems.append(f"mermaid-cli is not in {folder} (bash scripts/install-mermaid.sh)")
    if problems:
        reason = "cannot render Mermaid: " + "; ".join(problems)
        if os.environ.get("DRAFTSMAN_REQUIRE_MERMAID") == "1":
            pytest.fail(reason + " (DRAFTSMAN_REQUIRE_MERMAID=1)")
        pytest.skip(reason)
    return [str(mmdc), "--quiet", "--puppeteerConfigFile", str(config)]


def render_all(diagrams: list[str], folder: Path, extension: str = "svg") -> list[Path]:
    """Renders every diagram in one mmdc run (one browser start): Markdown in, a picture
    per diagram out. mmdc exits non-zero on the first diagram that does not parse."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "diagrams.md"
    source.write_text("".join(f"```mermaid\n{d}```\n\n" for d in diagrams), encoding="utf-8")
    done = subprocess.run([*mermaid_cli(), "--input", str(source), "--output",
                           str(folder / "out.md"), "--outputFormat", extension],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    pictures = [folder / f"out-{n}.{extension}" for n in range(1, len(diagrams) + 1)]
    assert all(p.exists() for p in pictures), sorted(folder.iterdir())
    return pictures


def svg_labels(svg: Path) -> list[str]:
    """The text of every label (Mermaid draws labels as HTML paragraphs in the SVG)."""
    root = ET.parse(svg).getroot()
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in {"script", "iframe"}]
    assert not [k for e in root.iter() for k in e.attrib if k.lower().startswith("on")]
    return ["".join(e.itertext()) for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "p"]


def expected_labels(diagram: str) -> set[str]:
    """The labels a diagram's source declares, decoded as Mermaid decodes `#NN;` entities."""
    quoted = re.findall(r'"([^"]*)"', diagram)
    return {re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), q) for q in quoted}


MODELS = [*EXAMPLES, "nasty"]


@pytest.mark.parametrize("model", MODELS, ids=[m if isinstance(m, str) else m.name
                                               for m in MODELS])
def test_every_diagram_renders_with_mermaid_cli(model: Path | str, tmp_path: Path,
                                                nasty: tuple[Path, dict[str, str]]) -> None:
    mermaid_cli()
    docs_pages = nasty[1] if model == "nasty" else written(Path(model), tmp_path / "docs")
    diagrams = [d for text in docs_pages.values() for d in mermaid_blocks(text)]
    aggregates = [p for p in docs_pages if p != "index.md" and not p.endswith("/index.md")]
    assert len(diagrams) == 1 + len(aggregates)  # the whole model's, and one per aggregate
    for diagram, svg in zip(diagrams, render_all(diagrams, tmp_path / "svg"), strict=True):
        shown = set(svg_labels(svg))
        assert expected_labels(diagram) <= shown, expected_labels(diagram) - shown


HOSTILE_LABELS = [
    NASTY, NASTY_KEY, "end", "subgraph x", "graph TD", ":::command", "click x href 'y'",
    "%%{init: {'securityLevel': 'loose'}}%%", "`markdown string`", "<img src=x onerror=alert(1)>",
    "&lt; &#60; #60; #quot;", 'o--o x--x A-->B', '"]-->evil["x"', "é ü 日本", "x" * 100,
    "/slashes/ (paren) [bracket] {brace} 'quote'", "A & B; C #1",
]


def test_hostile_labels_render_as_written(tmp_path: Path) -> None:
    """escape.label through the template's shapes and Mermaid's parser and renderer."""
    mermaid_cli()
    nodes = tuple(cx.Node(node_id("n", str(i)), label(text), shape) for i, (text, shape) in
                  enumerate(zip(HOSTILE_LABELS, ["command", "flow", "event", "document",
                                                 "aggregate", "external"] * 3, strict=False)))
    edges = tuple(cx.Edge(a.id, b.id, label(text), dashed=i % 2 == 0)
                  for i, (a, b, text) in enumerate(zip(nodes, nodes[1:], HOSTILE_LABELS,
                                                       strict=False)))
    cluster = cx.Cluster(node_id("sd", "end"), label(NASTY), (), (
        cx.Cluster(node_id("agg", "x"), label(NASTY_KEY),
                   (cx.Node(node_id("agg", "y"), label("inside"), "aggregate"),)),))
    markdown = environment().from_string(
        '{% from "macros.md.j2" import mermaid %}{{ mermaid(d) }}').render(
        d=cx.Diagram(nodes, (cluster,), edges))
    [diagram] = mermaid_blocks(markdown)
    [svg] = render_all([diagram], tmp_path)
    shown = svg_labels(svg)
    for text in HOSTILE_LABELS:
        expected = " ".join(text.replace("\u202e", "\\u202e").split())
        if len(expected) > 80:
            expected = expected[:79] + "\u2026"
        assert expected in shown, text


# -- the picture in docs/model-docs.md ----------------------------------------------------
def test_the_picture_in_the_docs_is_the_current_fulfilment_diagram(tmp_path: Path) -> None:
    """docs/images keeps the fulfilment model's diagram as PNG, with the Mermaid source it
    was rendered from; UPDATE_GOLDEN=1 renders it again when the source changed."""
    [diagram] = mermaid_blocks(written(FULFILMENT, tmp_path / "docs")["index.md"])
    if update_golden() and (not PICTURE_SOURCE.exists() or
                            PICTURE_SOURCE.read_text(encoding="utf-8") != diagram):
        folder = tmp_path / "png"
        folder.mkdir()
        (folder / "in.mmd").write_text(diagram, encoding="utf-8")
        done = subprocess.run([*mermaid_cli(), "--input", str(folder / "in.mmd"), "--output",
                               str(PICTURE), "--backgroundColor", "white", "--scale", "2"],
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        PICTURE_SOURCE.write_text(diagram, encoding="utf-8")
    assert PICTURE_SOURCE.read_text(encoding="utf-8") == diagram, \
        "the picture is stale: run scripts/update-goldens.sh"
    png = PICTURE.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert "](images/fulfilment-model.png)" in (ROOT / "docs" / "model-docs.md").read_text(
        encoding="utf-8")


def test_the_excerpt_in_the_docs_is_what_docs_writes(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "model-docs.md").read_text(encoding="utf-8")
    [excerpt] = re.findall(r"^```markdown\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)
    page = written(FULFILMENT, tmp_path)["Sales/Order.md"]
    assert [line for line in excerpt.splitlines() if line and line not in page.splitlines()] == []
