#!/usr/bin/env bash
# Install mermaid-cli (mmdc) for the diagram tests of `draftsman-gen docs`
# (tests/test_model_docs.py), into a cache folder outside the repository, once.
#
# mermaid-cli drives a browser through puppeteer. Its install would download a Chromium of its
# own, which fails on machines that reach only the package registries, so the download is
# skipped and puppeteer is pointed at Debian's chromium instead (apt-get install chromium).
#
# Folder: $DRAFTSMAN_MERMAID_DIR, default ~/.cache/draftsman-gen/mermaid (the tests look there).
# Prints the folder; a second run finds the install and does nothing.
set -euo pipefail
MAJOR=12
DIR=${DRAFTSMAN_MERMAID_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/draftsman-gen/mermaid}
CHROMIUM=${DRAFTSMAN_CHROMIUM:-/usr/bin/chromium}
PACKAGE_JSON="$DIR/node_modules/@mermaid-js/mermaid-cli/package.json"

installed_major() {
  # The major version of the mermaid-cli in $DIR, or nothing.
  [ -f "$PACKAGE_JSON" ] && node -p "require(process.argv[1]).version.split('.')[0]" "$PACKAGE_JSON"
}

if [ ! -x "$CHROMIUM" ]; then
  echo "install-mermaid: $CHROMIUM is missing (apt-get install -y chromium)" >&2
  exit 1
fi
if [ "$(installed_major || true)" != "$MAJOR" ] || [ ! -x "$DIR/node_modules/.bin/mmdc" ]; then
  mkdir -p "$DIR"
  # --prefix keeps node_modules in $DIR, whatever the current folder.
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error \
    "@mermaid-js/mermaid-cli@$MAJOR" >&2
fi
# Rewritten every time: cheap, and it follows a changed $DRAFTSMAN_CHROMIUM.
printf '{"executablePath": "%s", "args": ["--no-sandbox", "--disable-gpu"]}\n' "$CHROMIUM" \
  > "$DIR/puppeteer.json"
echo "$DIR"
