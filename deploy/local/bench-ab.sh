#!/usr/bin/env bash
# npm run bench:ab -- [BASE_REV]: the loader's span encoder and Native block encoder of BASE_REV (a git
# revision, default HEAD) against the working tree's, both compiled with tsc and run in one process in
# alternating passes (test/bench/support/span-encoder-ab.ts): a before/after of a few per cent that
# separate benchmark processes on this machine cannot show. No services needed.
#   npm run bench:ab                 # uncommitted changes against HEAD
#   npm run bench:ab -- main~3       # the working tree against three commits back
#   ROUNDS=80 npm run bench:ab       # more passes (default 40)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BASE="${1:-HEAD}"
git rev-parse --verify --quiet "$BASE^{commit}" >/dev/null || { echo "bench:ab: no such revision: $BASE" >&2; exit 2; }
[[ -x node_modules/.bin/tsc ]] || npm install --no-audit --no-fund
AB="$ROOT/.cache/bench-ab"
rm -rf "$AB"
mkdir -p "$AB/base-src"
trap 'rm -rf "$AB/base-src"' EXIT

# build SRC OUT: compiled sources in OUT/dist, with what they read at run time beside them (the .proto
# files, the AI dialect presets), as a built install has them
build() {
  local src="$1" out="$2"
  mkdir -p "$out"
  "$ROOT/node_modules/.bin/tsc" -p "$src/tsconfig.build.json" --outDir "$out/dist"
  cp -r "$src/src/otlp/proto" "$out/dist/otlp/"
  cp -r "$src/collector-config" "$out/"
}

git archive "$BASE" package.json src collector-config tsconfig.json tsconfig.build.json | tar -x -C "$AB/base-src"
ln -s "$ROOT/node_modules" "$AB/base-src/node_modules" # types for tsc
echo "bench:ab: building $BASE ($(git rev-parse --short "$BASE")) and the working tree" >&2
build "$AB/base-src" "$AB/base"
build "$ROOT" "$AB/work"
node --import tsx test/bench/support/span-encoder-ab.ts "$BASE@$(git rev-parse --short "$BASE")=$AB/base/dist" "working tree=$AB/work/dist"
