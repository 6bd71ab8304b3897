#!/usr/bin/env bash
# Benchmark `ciux ignite` (see docs/perf.md, section "Ignite").
#
# 1. A workspace of 20 sibling repositories already cloned (each COMMITS commits
#    with merges and tags): `ciux ignite` against `git describe` run once per
#    repository, sequentially. Target: ignite <= 2x the describes.
# 2. Cloning 10 local repositories in parallel with `ciux ignite` against the
#    slowest single `git clone`. Target: <= 1.5x.
#
# Usage: bench/ignite.sh [COMMITS]   (needs hyperfine, python3, git)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
commits=${1:-3000}
cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
ciux="$here/../target/release/ciux"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

# One bare remote with a generated history, copied to make the others.
mkdir -p "$work/remotes" "$work/ws"
git init -q --bare -b main "$work/remotes/template.git"
python3 "$here/make-history.py" "$commits" 500 | git -C "$work/remotes/template.git" fast-import --quiet
git -C "$work/remotes/template.git" gc -q
for i in $(seq -w 1 20); do
  cp -r "$work/remotes/template.git" "$work/remotes/dep$i.git"
done

project() { # project DIR COUNT: a project depending on dep01..depCOUNT, all cloned
  mkdir -p "$1"
  git init -q -b main "$1"
  : > "$1/.ciux.toml"
  for i in $(seq -w 1 "$2"); do
    printf '[[dependencies]]\nurl = "file://%s/remotes/dep%s.git"\nclone = true\n' "$work" "$i" >> "$1/.ciux.toml"
  done
  printf '.ciux.d/\n' > "$1/.gitignore"
  git -C "$1" add -A
  git -C "$1" -c user.name=b -c user.email=b@example.org commit -q -m init
}

echo "== 20 repositories already cloned, $commits commits each"
project "$work/ws/proj" 20
"$ciux" -q ignite "$work/ws/proj"
describe_all="for d in $work/ws/dep* $work/ws/proj; do git -C \$d describe --always --abbrev=7 --dirty >/dev/null; done"
hyperfine --warmup 2 --runs 10 --export-markdown "$work/inplace.md" \
  -n "git describe x21 (sequential)" "$describe_all" \
  -n "ciux ignite (20 deps in place)" "$ciux -q ignite $work/ws/proj"
cat "$work/inplace.md"

echo "== cloning 10 local repositories"
mkdir -p "$work/clone"
project "$work/clone/proj" 10
hyperfine --warmup 1 --runs 5 --export-markdown "$work/clone.md" \
  --prepare "rm -rf $work/clone/dep* $work/single" \
  -n "git clone file:// (one repository)" "git clone -q file://$work/remotes/dep01.git $work/single" \
  -n "git clone path (one repository)" "git clone -q $work/remotes/dep01.git $work/single" \
  -n "ciux ignite (10 clones)" "$ciux -q ignite $work/clone/proj"
cat "$work/clone.md"
