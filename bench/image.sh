#!/usr/bin/env bash
# Benchmark: `ciux get image --check` on a COMMITS-commit source-change window
# whose registry repository holds 1,000 tags, against
# `git log -1 --first-parent --format=%H -- src` on the same repository; the
# registry's own log counts the requests. Then ten image checks at once against
# one. Usage: bench/image.sh [COMMITS]
# (needs hyperfine, python3, curl, and .ci/setup/10-registry.sh's packages;
# CIUX_BIN=path skips the release build and measures that binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
commits=${1:-100000}
if [ -z "${CIUX_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
fi
ciux=${CIUX_BIN:-$here/../target/release/ciux}
work=$(mktemp -d)
registry_pid=
cleanup() { if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

# A registry on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
addr=127.0.0.1:$port
cat > "$work/config.yml" <<YAML
version: 0.1
log: {level: info, formatter: text}
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: $addr}
YAML
docker-registry serve "$work/config.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -sf "http://$addr/v2/" >/dev/null && break; sleep 0.1; done

# The repository: a window of $commits commits.
repo="$work/demo"
git init -q -b main "$repo"
python3 "$here/make-window.py" "$commits" | git -C "$repo" fast-import --quiet
git -C "$repo" checkout -q main
git -C "$repo" gc -q
printf 'project = "demo"\nregistry = "%s/astro"\nsource_paths = ["src"]\n' "$addr" > "$repo/.ciux.toml"
git -C "$repo" add .ciux.toml
git -C "$repo" -c user.name=A -c user.email=a@example.org commit -q -m config

# 1,000 tags: 999 versions of commits outside the window's history, and the
# version of the window's oldest commit (v1.0.0) — the hardest one to find.
layout="$work/layout"
mkdir -p "$layout/blobs/sha256"
python3 - "$layout" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(d, "blobs/sha256", h), "wb").write(b)
    return "sha256:" + h, len(b)
layer = put(bytes(1024))
config = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [layer[0]]}}).encode())
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config[0], "size": config[1]},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer[0], "size": layer[1]}]}).encode()
m = put(manifest)
open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
open(os.path.join(d, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m[0], "size": m[1],
     "annotations": {"org.opencontainers.image.ref.name": "v1.0.0"}}]}))
PY
skopeo copy -q --dest-tls-verify=false "oci:$layout:v1.0.0" "docker://$addr/astro/demo:v1.0.0"
for base in astro/base0 astro/base1 astro/base2 astro/base3 astro/base4 astro/base5 astro/base6 astro/base7 astro/base8 astro/base9; do
  skopeo copy -q --dest-tls-verify=false "oci:$layout:v1.0.0" "docker://$addr/$base:1.0"
done
manifest=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$addr/v2/astro/demo/manifests/v1.0.0")
python3 - "$addr" "$manifest" <<'PY'
import sys, urllib.request
addr, manifest = sys.argv[1], sys.argv[2].encode()
for i in range(999):
    tag = f"v0.{i // 100}.{i % 100}-{i + 1}-g{i:07x}"
    req = urllib.request.Request(f"http://{addr}/v2/astro/demo/manifests/{tag}", data=manifest, method="PUT",
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    urllib.request.urlopen(req).read()
PY
tags=$(curl -sf "http://$addr/v2/astro/demo/tags/list" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tags"]))')

before=$(grep -c 'response completed.*astro/demo' "$work/registry.log" || true)
out=$("$ciux" get image --check --env "$repo")
after=$(grep -c 'response completed.*astro/demo' "$work/registry.log" || true)
echo "== $commits-commit window, $tags tags in the registry repository"
echo "$out"
echo "registry requests for one check: $((after - before))"
grep -q "CIUX_BUILD=false" <<<"$out" || { echo "expected the image to be found"; exit 1; }

hyperfine --warmup 2 --runs 10 -N --export-markdown "$work/window.md" \
  "git -C $repo log -1 --first-parent --format=%H -- src" \
  "$ciux get image --check $repo"
cat "$work/window.md"

# Ten image dependencies (build inputs, checked concurrently) against one.
small="$work/small"
git init -q -b main "$small"
one="$work/one.toml"; ten="$work/ten.toml"
printf 'project = "demo"\nregistry = "%s/astro"\nsource_paths = ["src"]\n' "$addr" | tee "$one" > "$ten"
printf '[[dependencies]]\nimage = "%s/astro/base0:1.0"\nbuild_input = true\n' "$addr" >> "$one"
for i in $(seq 0 9); do printf '[[dependencies]]\nimage = "%s/astro/base%s:1.0"\nbuild_input = true\n' "$addr" "$i" >> "$ten"; done
mkdir -p "$small/one" "$small/ten"
for n in one ten; do
  git init -q -b main "$small/$n"
  cp "$work/$n.toml" "$small/$n/.ciux.toml"
  mkdir -p "$small/$n/src" && echo x > "$small/$n/src/main.c"
  git -C "$small/$n" add -A
  git -C "$small/$n" -c user.name=A -c user.email=a@example.org commit -q -m init
done
hyperfine --warmup 2 --runs 20 -N --export-markdown "$work/deps.md" \
  "$ciux get image --check $small/one" \
  "$ciux get image --check $small/ten"
cat "$work/deps.md"

# The registry's own throughput, for scale: one HEAD against ten in parallel
# from a client that is already running (no process start-up).
python3 - "$addr" <<'PY'
import http.client, sys, threading, time
host, port = sys.argv[1].split(":")
def head(i):
    c = http.client.HTTPConnection(host, int(port))
    c.request("HEAD", f"/v2/astro/base{i}/manifests/1.0",
              headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    c.getresponse().read()
    c.close()
for n in (1, 10):
    best = []
    for _ in range(30):
        t = time.perf_counter()
        threads = [threading.Thread(target=head, args=(i,)) for i in range(n)]
        [x.start() for x in threads]
        [x.join() for x in threads]
        best.append(time.perf_counter() - t)
    best.sort()
    print(f"registry alone, {n} HEAD(s) in parallel: median {best[len(best) // 2] * 1000:.1f} ms")
PY
