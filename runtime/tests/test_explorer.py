"""The offline GraphiQL explorer: a page that loads only local assets, the routes that serve
them, and the wheel that ships them. (That the page renders in a browser was checked by hand
with headless Chromium; see scripts/vendor-graphiql.sh to update the assets.)"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ariadne import QueryType, make_executable_schema
from ariadne.asgi import GraphQL
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from draftsman_runtime.explorer import ASSET_FILES, OfflineGraphiQL, asset_routes, assets_dir

RUNTIME = Path(__file__).resolve().parents[1]
HOSTILE = "</script><script>alert(1)</script>"
CDN_HOSTS = ("unpkg", "jsdelivr", "esm.sh", "cdnjs", "googleapis", "gstatic", "cloudflare")
LICENSES = ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom")


class Page(HTMLParser):
    """The parts of the page that matter here: URLs it loads, scripts, the title."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0
        self.title = ""
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self._in_title = tag == "title"
        self.urls += [v for k, v in attrs if k in ("src", "href") and v is not None]

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def page(**kwargs: str) -> str:
    return OfflineGraphiQL(**kwargs).html(None)


def test_the_page_loads_every_asset_from_the_local_prefix_and_nothing_else() -> None:
    text = page(title="orders")
    parsed = Page(text)
    assert sorted(url.split("?")[0] for url in parsed.urls) == sorted(
        f"/graphql/assets/{name}" for name in ASSET_FILES
    )
    assert all(url.startswith("/") and not url.startswith("//") for url in parsed.urls)
    assert "http://" not in text and "https://" not in text
    assert "url(" not in text  # no font or image from anywhere
    assert not [host for host in CDN_HOSTS if host in text]


def test_the_assets_prefix_is_configurable_but_must_be_a_local_path() -> None:
    parsed = Page(page(assets_prefix="/api/explorer/"))
    assert all(url.startswith("/api/explorer/") for url in parsed.urls)
    for bad in ("https://cdn.example/graphiql", "//cdn.example/graphiql", "assets"):
        with pytest.raises(ValueError, match="must be a path"):
            OfflineGraphiQL(assets_prefix=bad)
        with pytest.raises(ValueError, match="must be a path"):
            asset_routes(bad)


def test_the_page_wires_the_fetcher_and_a_headers_editor_that_does_not_persist() -> None:
    text = page(graphql_url="/api/graphql", default_headers='{"X-Api-Key": ""}')
    assert "GraphiQL.createFetcher({" in text
    assert '"url": "/api/graphql"' in text
    assert "isHeadersEditorEnabled: true" in text
    assert "shouldPersistHeaders: false" in text
    assert '"defaultHeaders": "{\\"X-Api-Key\\": \\"\\"}"' in text
    assert "window.location.pathname" in page()  # no URL given: the page's own path


def test_a_hostile_title_query_or_header_text_cannot_break_out_of_its_place() -> None:
    text = page(title=HOSTILE, default_query=HOSTILE, default_headers=HOSTILE)
    parsed = Page(text)
    assert parsed.title == HOSTILE  # shown as text
    assert parsed.scripts == 4  # React, ReactDOM, GraphiQL and the bootstrap: none injected
    assert text.count("</script>") == 4
    assert "alert(1)</script>" not in text and "<script>alert" not in text


def assets_client(prefix: str = "/graphql/assets") -> TestClient:
    return TestClient(Starlette(routes=asset_routes(prefix)))


def test_every_asset_the_page_names_is_served_with_its_type_and_a_long_cache() -> None:
    client = assets_client()
    for url in Page(page()).urls:
        response = client.get(url)
        name = url.split("?")[0].rsplit("/", 1)[1]
        assert response.status_code == 200, url
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8"
        assert response.content and response.content == (assets_dir() / name).read_bytes()
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_an_unversioned_url_is_revalidated_and_an_unchanged_asset_is_not_sent_again() -> None:
    client = assets_client("/x")
    first = client.get("/x/graphiql.min.js")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/x/graphiql.min.js", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content


def test_the_licenses_are_served_as_text_and_unknown_files_are_not_found() -> None:
    client = assets_client()
    for name in LICENSES:
        response = client.get(f"/graphql/assets/{name}")
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "MIT License" in response.text
    assert client.get("/graphql/assets/nothing.js").status_code == 404
    assert client.get("/graphql/assets/").status_code == 404  # no directory listing


def test_ariadne_serves_the_page_on_a_get_of_the_graphql_url_next_to_the_assets() -> None:
    query = QueryType()
    query.set_field("hello", lambda *_: "world")
    schema = make_executable_schema("type Query { hello: String! }", query)
    graphql = GraphQL(schema, explorer=OfflineGraphiQL("orders"))
    app = Starlette(routes=[*asset_routes(), Route("/graphql", graphql, methods=["GET", "POST"])])
    client = TestClient(app)
    html = client.get("/graphql", headers={"accept": "text/html"})
    assert html.status_code == 200 and "<title>orders</title>" in html.text
    assert all(client.get(url).status_code == 200 for url in Page(html.text).urls)
    answer = client.post("/graphql", json={"query": "{ hello }"})
    assert answer.json() == {"data": {"hello": "world"}}


def test_versions_lists_the_packages_and_the_sha256_of_every_vendored_file() -> None:
    text = (assets_dir() / "VERSIONS.txt").read_text()
    assert re.search(r"^# graphiql 3\.\d+\.\d+$", text, re.MULTILINE)
    assert re.search(r"^# react 18\.\d+\.\d+$", text, re.MULTILINE)
    assert re.search(r"^# react-dom 18\.\d+\.\d+$", text, re.MULTILINE)
    lines = [line.split("  ") for line in text.splitlines() if not line.startswith("#")]
    sums = {name: digest for digest, name in lines}
    assert sorted(sums) == sorted(ASSET_FILES + LICENSES)
    for name, digest in sums.items():
        assert hashlib.sha256((assets_dir() / name).read_bytes()).hexdigest() == digest, name


def test_the_wheel_ships_the_explorer_and_its_assets(tmp_path: Path) -> None:
    # A copy, so that the build leaves no build/ or egg-info in the checkout.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(RUNTIME / name, source / name)
    junk = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(RUNTIME / "draftsman_runtime", source / "draftsman_runtime", ignore=junk)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source]
    built = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("draftsman_runtime-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = {name: archive.getinfo(name).file_size for name in names}
    assert "draftsman_runtime/explorer/__init__.py" in names
    for name in (*ASSET_FILES, *LICENSES, "VERSIONS.txt"):
        path = f"draftsman_runtime/explorer/assets/{name}"
        assert shipped.get(path) == (assets_dir() / name).stat().st_size, path
