"""Serves the GraphiQL explorer from files shipped in the wheel, so it works with no CDN.

ariadne's own explorers load GraphiQL from a CDN when the page opens: that fails on an offline
or locked-down network, and lets a third party's script run on the page where people paste
API keys and tokens. `OfflineGraphiQL` renders the same kind of page from the vendored files in
`assets/` (GraphiQL 3.9 and React 18, see assets/VERSIONS.txt and
scripts/vendor-graphiql.sh), and `asset_routes` serves those files:

    graphql = GraphQL(schema, explorer=OfflineGraphiQL("orders"))
    app = Starlette(routes=[
        *asset_routes(),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ])
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from ariadne.explorer import Explorer
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["ASSETS_PREFIX", "ASSET_FILES", "OfflineGraphiQL", "asset_routes"]

ASSETS_PREFIX = "/graphql/assets"

# In the order the page loads them: GraphiQL's UMD bundle reads the React globals.
SCRIPTS = ("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js")
STYLESHEETS = ("graphiql.min.css",)
ASSET_FILES = SCRIPTS + STYLESHEETS

# Set explicitly: mimetypes reads the host's tables (and the Windows registry), which have
# served .js as text/plain, and browsers refuse to run a script of that type under nosniff.
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
TEXT = "text/plain; charset=utf-8"  # the LICENSE files and VERSIONS.txt

# Asset URLs carry a hash of the file (`?v=...`), so a new runtime version gets new URLs and
# the old copies can be cached for a year; a URL without it must be revalidated each time.
VERSIONED_CACHE = "public, max-age=31536000, immutable"
UNVERSIONED_CACHE = "no-cache"


class OfflineGraphiQL(Explorer):
    """GraphiQL from local assets: `title` names the page (the service's name), `graphql_url`
    is where queries go (by default the page's own path, as ariadne serves the explorer on a
    GET of the GraphQL URL), `assets_prefix` is where `asset_routes` is mounted,
    `default_query` and `default_headers` (a JSON object as text) prefill the editors."""

    def __init__(
        self,
        title: str = "GraphQL",
        *,
        graphql_url: str | None = None,
        assets_prefix: str = ASSETS_PREFIX,
        default_query: str | None = None,
        default_headers: str | None = None,
    ) -> None:
        prefix = _check_prefix(assets_prefix)
        config = {
            "url": graphql_url,
            "defaultQuery": default_query,
            "defaultHeaders": default_headers,
        }
        self.page = _render_page(title, prefix, config)

    def html(self, request: Any) -> str:
        # The page depends on nothing in the request, so it is rendered once.
        return self.page


def asset_routes(prefix: str = ASSETS_PREFIX) -> list[BaseRoute]:
    """The routes that serve the vendored files under `prefix` (give the explorer the same)."""
    return [Mount(_check_prefix(prefix), app=_AssetFiles(directory=assets_dir()), name="graphiql")]


def assets_dir() -> Path:
    # StaticFiles needs a real directory: the wheel installs the package unzipped, so the
    # resource path is one.
    return Path(str(files(__name__) / "assets"))


@cache
def asset_version(name: str) -> str:
    """A short content hash of an asset, for its URL (computed once per process)."""
    return hashlib.sha256((assets_dir() / name).read_bytes()).hexdigest()[:16]


def _check_prefix(prefix: str) -> str:
    # Only a path on this server: a full URL would bring back the CDN this module avoids.
    if not prefix.startswith("/") or prefix.startswith("//"):
        raise ValueError(f"the assets prefix must be a path starting with '/', not {prefix!r}")
    return prefix.rstrip("/")


def _asset_url(prefix: str, name: str) -> str:
    return html.escape(f"{prefix}/{name}?v={asset_version(name)}", quote=True)


def _script_json(value: object) -> str:
    """JSON that is safe inside <script>: no `</script>`, `<!--` or line separators."""
    text = json.dumps(value, ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _render_page(title: str, prefix: str, config: dict[str, str | None]) -> str:
    links = "\n".join(
        f'    <link rel="stylesheet" href="{_asset_url(prefix, name)}" />' for name in STYLESHEETS
    )
    scripts = "\n".join(
        f'    <script src="{_asset_url(prefix, name)}"></script>' for name in SCRIPTS
    )
    return _PAGE.format(
        title=html.escape(title, quote=True),
        links=links,
        scripts=scripts,
        config=_script_json({k: v for k, v in config.items() if v is not None}),
    )


# `{{`/`}}` are literal braces (str.format). GraphiQL's own props:
# - headers editor on and its tab open, since the API needs an X-Api-Key or a bearer token;
# - shouldPersistHeaders false, so those secrets stay out of the browser's localStorage.
_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{title}</title>
    <style>
      body {{ margin: 0; }}
      #graphiql {{ height: 100vh; }}
      .loading {{
        height: 100%; display: flex; align-items: center; justify-content: center;
        font: 2rem sans-serif;
      }}
    </style>
{links}
  </head>
  <body>
    <div id="graphiql"><div class="loading">Loading {title}…</div></div>
    <noscript>The GraphQL explorer needs JavaScript.</noscript>
{scripts}
    <script>
      const config = {config};
      const fetcher = GraphiQL.createFetcher({{
        url: config.url ?? window.location.pathname,
      }});
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {{
          fetcher,
          defaultQuery: config.defaultQuery,
          defaultHeaders: config.defaultHeaders,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: false,
          defaultEditorToolsVisibility: "headers",
        }}),
      );
    </script>
  </body>
</html>
"""


class _AssetFiles(StaticFiles):
    """StaticFiles with fixed content types and cache headers (ETags come from StaticFiles)."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = _cache_control(scope)
        if response.status_code != 304:  # a 304 has no body, so no type
            suffix = Path(full_path).suffix
            response.headers["content-type"] = CONTENT_TYPES.get(suffix, TEXT)
        return response


def _cache_control(scope: Scope) -> str:
    query = scope.get("query_string", b"")
    return VERSIONED_CACHE if query.startswith(b"v=") or b"&v=" in query else UNVERSIONED_CACHE
