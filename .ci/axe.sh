#!/usr/bin/env bash
# Installs axe-core (the accessibility rules the browser test runs on every
# page; from the npm registry, pinned) under target/, and prints the path of
# its script: the test injects it into each page.
#
# Usage: export OPCITY_AXE_JS="$(bash .ci/axe.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
version="4.10.3"
dir="target/axe-core"
script="$dir/node_modules/axe-core/axe.min.js"
if ! command -v npm >/dev/null; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2
fi
if [ ! -f "$script" ] || ! grep -q "\"version\": \"$version\"" "$dir/node_modules/axe-core/package.json" 2>/dev/null; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --silent "axe-core@$version" >&2
fi
echo "$PWD/$script"
