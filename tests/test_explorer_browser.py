"""The GraphiQL explorer of a generated service, driven in a real headless Chromium.

The banking example is served by `python -m banking serve` (as in test_api_server); the
browser opens GET /graphql, and, as a person would in the page, runs a mutation, follows its
trace with `wait` and reads the account's document, leaving a screenshot of each step in
$DRAFTSMAN_ARTIFACTS (or the test's tmp_path) as explorer-*.png. The page must load
everything from the service itself: any request to another host fails the test.

Needs Debian's chromium (/usr/bin/chromium) and the playwright package (never its own
browser download). Without them the tests are skipped, unless DRAFTSMAN_REQUIRE_BROWSER=1
(as in CI), where they fail instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from test_api_server import Server, token

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, PlaywrightContextManager

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 15_000  # for any one wait in the page

# GraphiQL 3.9's markup: each editor is a CodeMirror 5 instance, reachable from its element.
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_TAB = ".graphiql-editor-tools button:has-text('Headers')"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".graphiql-response .CodeMirror"
EXECUTE = "button.graphiql-execute-button"
DOCS_BUTTON = "button[aria-label='Show Documentation Explorer']"
DOCS = ".graphiql-doc-explorer"

OPEN = ('mutation { Banking { openAccount(input: {accountNumber: "NL01BANK0001", owner: "Ada", '
        "initialDeposit: 10}) { correlationId } } }")
WAIT = ('query { wait(correlationId: "%s", timeout: 20) '
        "{ complete runs { flow status events { type } } } }")
READ = '{ Account { get(key: "NL01BANK0001") { owner balance } } }'


def require_playwright() -> Callable[[], PlaywrightContextManager]:
    """playwright's entry point with Debian's chromium present, or a skip (a failure where CI
    requires the browser: a skip there would hide a broken explorer)."""
    problems = [] if CHROMIUM.exists() else [f"{CHROMIUM} is missing (apt-get install chromium)"]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problems.append("the playwright package is missing (pip install playwright)")
    if problems:
        reason = "no browser to drive the explorer: " + "; ".join(problems)
        if os.environ.get("DRAFTSMAN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (DRAFTSMAN_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with require_playwright()() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def banking(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(generated / "banking", "banking",
                    tmp_path_factory.mktemp("explorer") / "db.sqlite3")
    yield server
    server.stop()


@dataclass
class Explorer:
    """An open explorer page, with every URL it requested and every script error it had."""

    page: Page
    artifacts: Path
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        path = self.artifacts / f"explorer-{name}.png"
        self.page.screenshot(path=str(path))
        assert path.stat().st_size > 10_000, f"{path} is nearly empty"
        return path

    def set_editor(self, selector: str, text: str) -> None:
        self.page.eval_on_selector(selector, "(e, text) => e.CodeMirror.setValue(text)", text)

    def run(self, query: str, headers: dict[str, str], expect: str) -> Any:
        """Types `query` and `headers` into their editors, clicks the run button and returns
        the result pane's JSON once it shows `expect` (a field of this query's answer)."""
        self.set_editor(QUERY_EDITOR, query)
        self.page.click(HEADERS_TAB)
        self.set_editor(HEADERS_EDITOR, json.dumps(headers))
        self.page.click(EXECUTE)
        self.page.wait_for_function(
            "([selector, expect]) => document.querySelector(selector).CodeMirror.getValue()"
            ".includes(expect)", arg=[RESULT, expect], timeout=TIMEOUT_MS)
        answer = json.loads(self.page.eval_on_selector(RESULT, "e => e.CodeMirror.getValue()"))
        assert "errors" not in answer, answer
        return answer["data"]


@pytest.fixture
def explorer(browser: Browser, banking: Server, tmp_path: Path) -> Iterator[Explorer]:
    artifacts = Path(os.environ.get("DRAFTSMAN_ARTIFACTS") or tmp_path)
    artifacts.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    opened = Explorer(page, artifacts)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    # networkidle: the page has also settled its schema fetch, which must not race the
    # first query's answer.
    page.goto(f"{banking.url}/graphql", wait_until="networkidle")
    page.wait_for_selector(QUERY_EDITOR)
    yield opened
    page.close()


def assert_stayed_local(explorer: Explorer, server: Server) -> None:
    strangers = [url for url in explorer.requests if not url.startswith(server.url + "/")]
    assert not strangers, f"the explorer reached beyond the service: {strangers}"
    assert not explorer.errors, explorer.errors


def test_explorer_runs_a_mutation_follows_its_trace_and_reads_the_document(
        explorer: Explorer, banking: Server) -> None:
    assert explorer.page.title() == "Banking API"
    headers = explorer.page.eval_on_selector(HEADERS_EDITOR, "e => e.CodeMirror.getValue()")
    assert json.loads(headers) == {"Authorization": ""}  # a place for the token, no secret
    explorer.shot("1-loaded")

    opened = explorer.run(OPEN, token("tom", "teller"), expect='"correlationId"')
    correlation = opened["Banking"]["openAccount"]["correlationId"]
    explorer.shot("2-mutation")

    trace = explorer.run(WAIT % correlation, token("tom", "teller"), expect='"complete"')
    explorer.shot("3-trace")
    assert trace["wait"] == {"complete": True, "runs": [
        {"flow": "Account.OpenAccount", "status": "ACCEPTED",
         "events": [{"type": "AccountOpened"}]}]}

    document = explorer.run(READ, token("ada"), expect='"balance"')
    explorer.shot("4-document")
    assert document == {"Account": {"get": {"owner": "Ada", "balance": 10.0}}}
    assert_stayed_local(explorer, banking)


def test_explorer_loads_the_schema_into_docs(explorer: Explorer, banking: Server) -> None:
    explorer.page.click(DOCS_BUTTON)
    # Settled: the schema is there, or GraphiQL gave up on it (no spinner any more).
    explorer.page.wait_for_function(
        "selector => { const docs = document.querySelector(selector);"
        " return docs && !docs.querySelector('.graphiql-spinner'); }", arg=DOCS)
    explorer.shot("docs")
    assert "Root Types" in explorer.page.inner_text(DOCS)
    assert_stayed_local(explorer, banking)
