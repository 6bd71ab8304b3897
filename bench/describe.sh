#!/usr/bin/env bash
# Benchmark: `ciux get revision` against `git describe --always --abbrev=7 --dirty`
# on generated 100,000-commit histories with merges, measured side by side with
# hyperfine, with the commit-graph file `git gc` writes and without it.
# Usage: bench/describe.sh [COMMITS]   (needs hyperfine, python3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
commits=${1:-100000}
cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
ciux="$here/../target/release/ciux"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for case in "near:1000" "far:0"; do
  name=${case%%:*}; every=${case##*:}
  repo="$work/$name"
  git init -q -b main "$repo"
  python3 "$here/make-history.py" "$commits" "$every" | git -C "$repo" fast-import --quiet
  git -C "$repo" checkout -q main
  git -C "$repo" gc -q
  echo "== $name: $commits commits, tag every ${every/#0/(root only)} — $(git -C "$repo" describe --always --abbrev=7 --dirty)"
  [ "$("$ciux" get revision "$repo")" = "$(git -C "$repo" describe --always --abbrev=7 --dirty)" ] || { echo "MISMATCH"; exit 1; }
  hyperfine --warmup 2 --runs 10 -N \
    "git -C $repo describe --always --abbrev=7 --dirty" \
    "$ciux get revision $repo"
  rm "$repo/.git/objects/info/commit-graph"
  echo "-- without the commit-graph file"
  hyperfine --warmup 1 --runs 5 -N \
    "git -C $repo describe --always --abbrev=7 --dirty" \
    "$ciux get revision $repo"
done
