#!/usr/bin/env bash
# Benchmark `ciux check` on a workspace of N repositories: a project with N-1
# `clone = true` siblings, each cloned from its own bare remote, each with
# COMMITS commits over FILES files and an annotated tag every 100 commits.
#
#   bench/check_workspace.sh              # N=20 COMMITS=1000 FILES=1000
#   N=50 COMMITS=5000 bench/check_workspace.sh
#
# Prints the timing (hyperfine when installed, else a loop with `date`) and
# the check's own summary line. Needs git and bash; builds with --release.
# OTHER=/path/to/another/ciux times that binary too, on the same workspace;
# CIUX_BIN=path skips the release build and measures that binary.
set -euo pipefail
N=${N:-20}
COMMITS=${COMMITS:-1000}
FILES=${FILES:-1000}
RUNS=${RUNS:-30}
cd "$(dirname "$0")/.."
if [ -z "${CIUX_BIN:-}" ]; then
  cargo build --release --quiet
fi
bin=${CIUX_BIN:-$PWD/target/release/ciux}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# A fast-import stream: one commit adding FILES files, then COMMITS-1 commits
# changing one file each; an annotated tag v0.<k>.0 every 100 commits.
stream() {
  local config=$1 t=1704067200 i
  printf 'commit refs/heads/main\nmark :1\ncommitter B <b@example.org> %d +0000\ndata 7\ninitial\n' "$t"
  printf 'M 644 inline .ciux.toml\ndata %d\n%s\n' "$(( ${#config} + 1 ))" "$config"
  for ((i = 0; i < FILES; i++)); do
    printf 'M 644 inline src/f%d.txt\ndata 12\n%11d\n' "$i" "$i"
  done
  for ((i = 2; i <= COMMITS; i++)); do
    printf 'commit refs/heads/main\nmark :%d\ncommitter B <b@example.org> %d +0000\ndata 6\nchange\nfrom :%d\n' "$i" "$((t + i * 60))" "$((i - 1))"
    printf 'M 644 inline src/f%d.txt\ndata 12\n%11d\n' "$((i % FILES))" "$i"
    if ((i % 100 == 0)); then
      printf 'tag v0.%d.0\nfrom :%d\ntagger B <b@example.org> %d +0000\ndata 8\nrelease\n' "$((i / 100))" "$i" "$((t + i * 60))"
    fi
  done
}

echo "building a workspace of $N repositories ($COMMITS commits, $FILES files each) in $work" >&2
deps=""
for ((r = 1; r < N; r++)); do
  deps+=$'\n[[dependencies]]\n'"url = \"file://$work/remotes/dep$r.git\""$'\nclone = true\n'
done
for ((r = 0; r < N; r++)); do
  if ((r == 0)); then name=proj config="source_paths = [\"src\"]$deps"; else name=dep$r config=""; fi
  git init -q --bare -b main "$work/remotes/$name.git"
  stream "$config" | git -C "$work/remotes/$name.git" fast-import --quiet
  git clone -q "$work/remotes/$name.git" "$work/ws/$name"
done

cd "$work/ws/proj"
"$bin" check | tail -n 1
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 3 --runs "$RUNS" --shell=none "$bin check" ${OTHER:+"$OTHER check"}
else
  start=$(date +%s%N)
  for ((i = 0; i < RUNS; i++)); do "$bin" check >/dev/null; done
  echo "mean: $(( ($(date +%s%N) - start) / RUNS / 1000000 )) ms over $RUNS runs"
fi
