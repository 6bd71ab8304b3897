#!/usr/bin/env bash
# Benchmark: `ciux get revision` against `git describe --always --abbrev=7 --dirty`
# on the same repositories in the same run, with hyperfine timing both commands
# side by side, each case with the commit-graph file `git gc` writes and without.
#
# Cases: two generated histories of COMMITS commits with merges
# (bench/make-history.py): `dense`, an annotated tag every ~200 commits (HEAD 7
# past the last one), and `root`, tagged only at the root (the walk visits every
# commit); then a real repository when REAL_REPO names one (a git directory or a
# work tree, e.g. a bare copy of git's own history): it is cloned with
# `--shared` and checked out, so `--dirty` reads a real work tree.
#
# Usage: bench/describe.sh [COMMITS]     (default 100000; needs hyperfine, python3)
#   ROUNDS=N   hyperfine runs per round and pair of commands (default 3 rounds)
#   REAL_REPO=path   also measure that repository
#   CIUX_BIN=path    measure that binary instead of building the release one
#   KEEP=dir         generate into (and reuse) dir instead of a temporary one
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
commits=${1:-100000}
rounds=${ROUNDS:-3}
if [ -z "${CIUX_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
fi
ciux=${CIUX_BIN:-$here/../target/release/ciux}
if [ -n "${KEEP:-}" ]; then
  work=$KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
results="$work/results.txt"
: > "$results"

# Time both commands side by side, ROUNDS times; print each round's ratios
# of wall time (mean) and of CPU time (user + system).
measure() {
  local label=$1 repo=$2 runs=$3
  local expected actual
  expected=$(git -C "$repo" describe --always --abbrev=7 --dirty)
  actual=$("$ciux" get revision "$repo")
  [ "$actual" = "$expected" ] || { echo "MISMATCH on $label: $actual vs $expected"; exit 1; }
  echo "== $label: $expected"
  for round in $(seq "$rounds"); do
    hyperfine --warmup 2 --runs "$runs" -N --export-json "$work/round.json" --style none \
      "git -C $repo describe --always --abbrev=7 --dirty" \
      "$ciux get revision $repo" > /dev/null
    python3 - "$work/round.json" "$label" "$round" <<'PY' | tee -a "$results"
import json, sys
runs = json.load(open(sys.argv[1]))["results"]
git, ciux = runs
cpu = lambda r: r["user"] + r["system"]
print(f"{sys.argv[2]:<34} round {sys.argv[3]}: git {git['mean']*1e3:7.1f} ms (cpu {cpu(git)*1e3:6.1f})"
      f"  ciux {ciux['mean']*1e3:7.1f} ms (cpu {cpu(ciux)*1e3:6.1f})"
      f"  ratio wall {ciux['mean']/git['mean']:.2f}x  cpu {cpu(ciux)/cpu(git):.2f}x")
PY
  done
}

for case in "dense:200" "root:0"; do
  name=${case%%:*}; every=${case##*:}
  repo="$work/$name"
  if [ ! -d "$repo/.git" ]; then
    git init -q -b main "$repo"
    python3 "$here/make-history.py" "$commits" "$every" | git -C "$repo" fast-import --quiet
    git -C "$repo" checkout -q main
    git -C "$repo" gc -q
  fi
  git -C "$repo" commit-graph write --reachable
  measure "$name, $commits commits, graph" "$repo" 20
  rm -f "$repo/.git/objects/info/commit-graph"
  rm -rf "$repo/.git/objects/info/commit-graphs"
  measure "$name, $commits commits, no graph" "$repo" 10
done

if [ -n "${REAL_REPO:-}" ]; then
  repo="$work/real"
  if [ ! -d "$repo/.git" ]; then
    git clone -q --shared --no-checkout "$REAL_REPO" "$repo"
    git -C "$repo" checkout -q
  fi
  count=$(git -C "$repo" rev-list --count HEAD)
  git -C "$repo" commit-graph write --reachable
  measure "real ($count commits), graph" "$repo" 20
  rm -f "$repo/.git/objects/info/commit-graph"
  rm -rf "$repo/.git/objects/info/commit-graphs"
  measure "real ($count commits), no graph" "$repo" 10
fi
echo "--"
cat "$results"
