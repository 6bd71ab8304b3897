#!/usr/bin/env bash
# Speed figures of `ciux bench`, measured side by side in one run (docs/perf.md):
#   1. embedded pipeline, end to end, and its peak memory at two alert counts;
#   2. over a tansu broker on 127.0.0.1: the raw transport ceiling (pre-encoded
#      alerts, no decoding: --raw) and the full pipeline, same alert count;
#   3. the reference simulator's approach in Python (bench/python_baseline.py)
#      against the same broker with the same alerts;
#   4. real ZTF alerts over the broker: raw ceiling, full pipeline and Python
#      on the same alerts (BROKER_REAL_ONLY=1 runs this part alone).
# Needs what .ci/setup/40-kafka.sh (tansu, fastavro) and 41-kafka-python.sh
# (confluent-kafka) install.
# Usage: bench/compare.sh [KAFKA_ALERTS] [PYTHON_ALERTS] [EMBEDDED_ALERTS]
set -euo pipefail
cd "$(dirname "$0")/.."
kafka_n="${1:-20000}"
python_n="${2:-2000}"
embedded_n="${3:-1000000}"
tansu="${CIUX_TANSU:-/opt/ciux-test/bin/tansu}"
out=target/bench-compare
mkdir -p "$out"
python3 -c 'import fastavro, confluent_kafka' 2>/dev/null \
  || python3 -m pip install --quiet fastavro confluent-kafka \
  || python3 -m pip install --quiet --break-system-packages fastavro confluent-kafka

# CIUX_BIN: a ciux release binary already built (else build one here).
ciux="${CIUX_BIN:-}"
if [ -z "$ciux" ]; then
  cargo build --release --quiet
  ciux=target/release/ciux
fi

broker_pid=""
start_broker() {
  stop_broker
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$tansu" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ >"$out/tansu.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  brokers="127.0.0.1:$port"
}
stop_broker() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  broker_pid=""
}
trap stop_broker EXIT

# Real alerts over the broker: the reference ZTF alert replayed cyclically
# (fresh candidate ids), the raw transport ceiling of those very bytes
# (`--raw --from`: sent and counted, not decoded) against the full pipeline,
# and the Python approach (fastavro container per alert, confluent-kafka
# producer and consumer) on the same alerts. Rounds interleave the runs, each
# on a fresh broker, so that the machine's load hits all of them alike.
real_broker() {
  local n="${REAL_KAFKA_ALERTS:-20000}" pn="${REAL_KAFKA_PY_ALERTS:-2000}" rounds="${ROUNDS:-3}"
  local sample="${CIUX_REFERENCE:-../shared/reference}/ztf_alert_schema_3p3_sample.avro"
  python3 -c 'import fastavro, json, sys; print(json.dumps(fastavro.reader(open(sys.argv[1], "rb")).writer_schema))' \
    "$sample" >"$out/ztf-schema.json"
  echo "== real alerts over tansu: $n alerts (Python: $pn), $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for round in $(seq "$rounds"); do
    start_broker
    "$ciux" bench --brokers "$brokers" --topic raw --raw --from "$sample" --alerts "$n" \
      --report "$out/real-kafka-raw-$round.json" --quiet
    start_broker
    "$ciux" bench --brokers "$brokers" --topic full --from "$sample" --alerts "$n" \
      --report "$out/real-kafka-full-$round.json" --quiet
    start_broker
    "$ciux" bench --brokers "$brokers" --topic pyfeed --produce-only --from "$sample" --alerts "$pn" --quiet
    "$ciux" bench --brokers "$brokers" --topic pycontainers --produce-only --container --from "$sample" \
      --alerts "$pn" --quiet
    python3 bench/python_baseline.py "$brokers" pyfeed pycontainers "$pn" "$out/ztf-schema.json" \
      >"$out/real-kafka-python-$round.json"
    "$ciux" bench --brokers "$brokers" --topic same --from "$sample" --alerts "$pn" \
      --report "$out/real-kafka-same-$round.json" --quiet
    stop_broker
  done
  echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  python3 - "$out" "$n" "$rounds" <<'PY'
import json, os, sys
d, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda name: json.load(open(os.path.join(d, name)))
print("| real ZTF alerts over tansu | raw ceiling alerts/s | full pipeline alerts/s | full / raw | lost | ciux, Python's alerts | Python end to end | ciux / Python |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for r in range(1, rounds + 1):
    raw, full = load("real-kafka-raw-%d.json" % r), load("real-kafka-full-%d.json" % r)
    same, py = load("real-kafka-same-%d.json" % r), load("real-kafka-python-%d.json" % r)
    for rep in (raw, full):
        assert rep["alerts"]["consumed"] == n and rep["alerts"]["lost"] == 0, rep["alerts"]
    assert full["alerts"]["undecodable"] == 0 and full["topics"]["full.unknown"] == n, full["topics"]
    rr, fr = raw["throughput"]["alerts_per_sec"], full["throughput"]["alerts_per_sec"]
    sr, pr = same["throughput"]["alerts_per_sec"], py["end_to_end_alerts_per_sec"]
    print("| round %d | %.0f | %.0f | %.0f%% | %d | %.0f | %.0f | %.1f× |" % (
        r, rr, fr, 100 * fr / rr, full["alerts"]["lost"], sr, pr, sr / pr))
PY
}
if [ -n "${BROKER_REAL_ONLY:-}" ]; then
  real_broker
  exit 0
fi

# Real alerts, embedded: each sample (the four ZTF alerts, the LSST v11
# sample) and a file of generated LSST v11 alerts replayed cyclically (fresh
# candidate ids) by ciux, and the Python approach (fastavro container per
# alert) on the very same alerts; both timed in wall and CPU seconds (user +
# sys of the child), ROUNDS times, interleaved. Then ciux generating LSST v11
# alerts in the run (no file).
real_n="${REAL_ALERTS:-200000}"
real_py_n="${REAL_PY_ALERTS:-2000}"
rounds="${ROUNDS:-3}"
reference="${CIUX_REFERENCE:-../shared/reference}"
cpu_json() { # OUT CMD...: run CMD, write {"wall": s, "cpu": s} to OUT
  python3 - "$@" <<'TIME'
import json, resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t = time.monotonic()
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"wall": time.monotonic() - t, "cpu": r.ru_utime + r.ru_stime,
           "load": __import__("os").getloadavg()[0]}, open(out, "w"))
TIME
}
"$ciux" bench --survey lsst --alerts "$real_py_n" --write "$out/lsst-generated.avro" --quiet
: >"$out/real.tsv"
for sample in "$reference/ztf_alert_schema_3p3_sample.avro" "$reference/ztf/1628364324215010017.avro" \
  "$reference/ztf/template_schema_ZTF_3p1.avro" "$reference/ztf/ztf_public_20190903.schema.avro" \
  "$reference/lsst-v11_0/fakeAlert.avro" "$out/lsst-generated.avro"; do
  name="$(basename "$sample" .avro)"
  echo "== real alerts, embedded: $sample, ciux $real_n alerts, Python $real_py_n" >&2
  for round in $(seq "$rounds"); do
    cpu_json "$out/real-$name-ciux-$round.json" "$ciux" bench --from "$sample" --alerts "$real_n" \
      --report "$out/real-$name-$round.json" --quiet
    # Python's own timing of its loop: its start-up and reading the file are not counted.
    python3 bench/python_baseline.py --embedded "$sample" "$real_py_n" >"$out/real-$name-py-$round.json"
    printf '%s\t%s\n' "$name" "$round" >>"$out/real.tsv"
  done
done
echo "== generated LSST v11 alerts, embedded, generated in the run: $real_n alerts" >&2
for round in $(seq "$rounds"); do
  cpu_json "$out/gen-lsst-ciux-$round.json" "$ciux" bench --survey lsst --alerts "$real_n" \
    --report "$out/gen-lsst-$round.json" --quiet
done
python3 - "$out" "$real_n" "$real_py_n" "$rounds" <<'PY'
import json, os, sys
d, n, pn, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
load = lambda *p: json.load(open(os.path.join(d, *p)))
print("| alerts, embedded | round | ciux alerts/s | ciux alerts/CPU-s | peak MB | Python alerts/s | Python alerts/CPU-s | ratio wall | ratio CPU | load avg |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for line in open(os.path.join(d, "real.tsv")):
    name, rnd = line.split()
    c = load("real-%s-ciux-%s.json" % (name, rnd))
    p = load("real-%s-py-%s.json" % (name, rnd))
    rep = load("real-%s-%s.json" % (name, rnd))
    assert rep["alerts"]["lost"] == 0 and rep["alerts"]["consumed"] == n, rep["alerts"]
    cw, cc, pw, pc = n / c["wall"], n / c["cpu"], p["alerts_per_sec"], p["alerts_per_cpu_sec"]
    print("| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f× | %.1f× | %.1f |" % (
        name, rnd, cw, cc, rep["peak_memory_mb"] or 0, pw, pc, cw / pw, cc / pc, c["load"]))
for rnd in range(1, rounds + 1):
    c, rep = load("gen-lsst-ciux-%d.json" % rnd), load("gen-lsst-%d.json" % rnd)
    assert rep["alerts"]["lost"] == 0 and rep["alerts"]["consumed"] == n, rep["alerts"]
    print("| LSST v11 generated in the run | %d | %.0f | %.0f | %.0f | | | | | %.1f |" % (
        rnd, n / c["wall"], n / c["cpu"], rep["peak_memory_mb"] or 0, c["load"]))
PY
[ -n "${REAL_ONLY:-}" ] && exit 0

echo "== embedded, $embedded_n alerts and a tenth of it" >&2
"$ciux" bench --alerts "$((embedded_n / 10))" --report "$out/embedded-small.json" --quiet
"$ciux" bench --alerts "$embedded_n" --report "$out/embedded.json" --quiet

# A fresh broker per phase: tansu's memory storage keeps every message.
echo "== tansu: raw transport ceiling, $kafka_n alerts" >&2
start_broker
"$ciux" bench --brokers "$brokers" --topic raw --raw --alerts "$kafka_n" --report "$out/kafka-raw.json" --quiet
echo "== tansu: full pipeline, $kafka_n alerts" >&2
start_broker
"$ciux" bench --brokers "$brokers" --topic full --alerts "$kafka_n" --report "$out/kafka-full.json" --quiet
echo "== tansu: Python approach, $python_n alerts" >&2
start_broker
"$ciux" bench --brokers "$brokers" --topic pyfeed --produce-only --alerts "$python_n" --quiet
"$ciux" bench --brokers "$brokers" --topic pycontainers --produce-only --container --alerts "$python_n" --quiet
"$ciux" bench --schema >"$out/schema.json"
python3 bench/python_baseline.py "$brokers" pyfeed pycontainers "$python_n" "$out/schema.json" >"$out/python.json"
echo "== same alerts through ciux on that broker" >&2
"$ciux" bench --brokers "$brokers" --topic same --alerts "$python_n" --report "$out/kafka-same.json" --quiet
stop_broker
real_broker

python3 - "$out" <<'PY'
import json, sys, os
d = sys.argv[1]
r = {k: json.load(open(os.path.join(d, k + ".json"))) for k in
     ["embedded-small", "embedded", "kafka-raw", "kafka-full", "kafka-same", "python"]}
e2e = lambda k: r[k]["throughput"]["alerts_per_sec"]
py = r["python"]
rows = [
    ("embedded, %d alerts" % r["embedded"]["alerts"]["produced"], e2e("embedded"), r["embedded"]),
    ("embedded, %d alerts" % r["embedded-small"]["alerts"]["produced"], e2e("embedded-small"), r["embedded-small"]),
    ("tansu, raw transport (--raw)", e2e("kafka-raw"), r["kafka-raw"]),
    ("tansu, full pipeline", e2e("kafka-full"), r["kafka-full"]),
    ("tansu, full pipeline, %d alerts" % py["alerts"], e2e("kafka-same"), r["kafka-same"]),
]
print("| run | alerts/s end to end | produced alerts/s | p50 / p99 ms | lost | peak MB |")
print("| --- | --- | --- | --- | --- | --- |")
for name, v, rep in rows:
    l = rep["latency_ms"]
    print("| %s | %.0f | %.0f | %.1f / %.1f | %d | %.0f |" % (
        name, v, rep["throughput"]["produce_alerts_per_sec"], l["p50"], l["p99"],
        rep["alerts"]["lost"], rep["peak_memory_mb"] or 0))
print("| Python: fastavro container per alert + confluent-kafka, %d alerts | %.0f | %.0f | | | |" % (
    py["alerts"], py["end_to_end_alerts_per_sec"], py["produce_alerts_per_sec"]))
print()
print("- Python consume + decode through the broker: %.0f alerts/s (%d alerts)" % (py["consume_decode_alerts_per_sec"], py["consumed"]))
print("- Python fastavro decode of one container per alert, in process: %.0f alerts/s" % py["decode_alerts_per_sec"])
print("- full pipeline / raw transport ceiling: %.0f%%" % (100 * e2e("kafka-full") / e2e("kafka-raw")))
print("- ciux / Python, end to end, same alerts and broker: %.1f×" % (e2e("kafka-same") / py["end_to_end_alerts_per_sec"]))
PY
