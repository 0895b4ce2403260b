#!/usr/bin/env bash
# docs/reference.md must be what docs/gen-reference.sh writes from the plugins'
# option tables, so the reference never drifts from the code.
set -euo pipefail
bin=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
CROSSOVER_DOCS_CHECK=1 "$src/docs/gen-reference.sh" "$bin" "$tmp/reference.md"
if ! diff -u "$src/docs/reference.md" "$tmp/reference.md"; then
  echo "docs/reference.md is stale: run docs/gen-reference.sh build/bin/crossover" >&2
  exit 1
fi
echo "docs/reference.md and the plugin READMEs' option tables are current"
