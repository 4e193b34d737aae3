#!/usr/bin/env bash
# Re-vendors the offline GraphiQL explorer's assets from the npm registry.
#
# The explorer (draftsman_runtime/explorer) serves GraphiQL from the wheel so that a service's
# /graphql page works without reaching any CDN. To update, change the pinned versions below,
# run this script, check the page renders, and commit the assets together with VERSIONS.txt.
#
# Usage: runtime/scripts/vendor-graphiql.sh   (needs npm and sha256sum)
set -euo pipefail

# Pinned: GraphiQL 3.9's UMD bundle (graphiql.min.js) runs on the React 18 UMD globals with no
# bundler and no import map, and was checked to render offline. A new major changes the bundle
# layout and the page's bootstrap script, so check the page in a browser before bumping.
GRAPHIQL_VERSION=3.9.0
REACT_VERSION=18.3.1
REACT_DOM_VERSION=18.3.1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
assets="$here/../draftsman_runtime/explorer/assets"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `npm pack` fetches the published tarballs only (checked against the registry's integrity
# hashes), without installing dependencies or running any package's install scripts.
(
    cd "$work"
    npm pack --silent "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" \
        "react-dom@$REACT_DOM_VERSION" >/dev/null
    for name in graphiql react react-dom; do
        mkdir "$name"
        tar -xzf "$name"-[0-9]*.tgz -C "$name" --strip-components=1
    done
)

mkdir -p "$assets"
rm -f "$assets"/*.js "$assets"/*.css "$assets"/LICENSE.* "$assets"/VERSIONS.txt
cp "$work/graphiql/graphiql.min.js" "$work/graphiql/graphiql.min.css" "$assets/"
cp "$work/react/umd/react.production.min.js" "$assets/"
cp "$work/react-dom/umd/react-dom.production.min.js" "$assets/"
cp "$work/graphiql/LICENSE" "$assets/LICENSE.graphiql"
cp "$work/react/LICENSE" "$assets/LICENSE.react"
cp "$work/react-dom/LICENSE" "$assets/LICENSE.react-dom"

# The checksum lines are in sha256sum's format, so `sha256sum -c VERSIONS.txt` (run in assets/)
# checks them; the '#' lines are comments it skips. tests/test_explorer.py checks them too.
{
    echo "# Vendored from the npm registry by runtime/scripts/vendor-graphiql.sh; do not edit."
    echo "# package version (from each tarball's package.json)"
    for name in graphiql react react-dom; do
        version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$work/$name/package.json")
        echo "# $name $version"
    done
    echo "# sha256 file"
    cd "$assets"
    sha256sum graphiql.min.js graphiql.min.css react.production.min.js \
        react-dom.production.min.js LICENSE.graphiql LICENSE.react LICENSE.react-dom
} >"$assets/VERSIONS.txt.new"
mv "$assets/VERSIONS.txt.new" "$assets/VERSIONS.txt"

cat "$assets/VERSIONS.txt"
du -ch "$assets"/* | tail -n 1
