#!/usr/bin/env bash
# Speed figures of `ciux bench`, measured side by side in one run (docs/perf.md):
#   1. embedded pipeline, end to end, and its peak memory at two alert counts;
#   2. over a tansu broker on 127.0.0.1: the raw transport ceiling (pre-encoded
#      alerts, no decoding: --raw) and the full pipeline, same alert count;
#   3. the reference simulator's approach in Python (bench/python_baseline.py)
#      against the same broker with the same alerts.
# Needs what .ci/setup/40-kafka.sh installs (tansu, fastavro) and confluent-kafka.
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

cargo build --release --quiet
ciux=target/release/ciux

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

# Real alerts, embedded: each sample replayed cyclically (fresh candidate ids)
# by ciux, and the Python approach (fastavro container per alert) on the very
# same alerts; both timed in wall and CPU seconds (user + sys of the child).
real_n="${REAL_ALERTS:-200000}"
real_py_n="${REAL_PY_ALERTS:-2000}"
reference="${CIUX_REFERENCE:-../shared/reference}"
cpu_json() { # OUT CMD...: run CMD, write {"wall": s, "cpu": s} to OUT
  python3 - "$@" <<'TIME'
import json, resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t = time.monotonic()
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"wall": time.monotonic() - t, "cpu": r.ru_utime + r.ru_stime}, open(out, "w"))
TIME
}
: >"$out/real.tsv"
for sample in ztf_alert_schema_3p3_sample.avro lsst-v11_0/fakeAlert.avro; do
  name="$(basename "$sample" .avro)"
  echo "== real alerts, embedded: $sample, ciux $real_n alerts, Python $real_py_n" >&2
  for round in 1 2 3; do
    cpu_json "$out/real-$name-ciux-$round.json" "$ciux" bench --from "$reference/$sample" --alerts "$real_n" \
      --report "$out/real-$name-$round.json" --quiet
    cpu_json "$out/real-$name-py-$round.json" python3 bench/python_baseline.py --embedded "$reference/$sample" "$real_py_n"
    printf '%s\t%s\n' "$name" "$round" >>"$out/real.tsv"
  done
done
python3 - "$out" "$real_n" "$real_py_n" <<'PY'
import json, os, sys
d, n, pn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print("| real alerts, embedded | round | ciux alerts/s | ciux alerts/CPU-s | peak MB | Python alerts/s | Python alerts/CPU-s | ratio wall | ratio CPU |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for line in open(os.path.join(d, "real.tsv")):
    name, rnd = line.split()
    c = json.load(open(os.path.join(d, "real-%s-ciux-%s.json" % (name, rnd))))
    p = json.load(open(os.path.join(d, "real-%s-py-%s.json" % (name, rnd))))
    rep = json.load(open(os.path.join(d, "real-%s-%s.json" % (name, rnd))))
    assert rep["alerts"]["lost"] == 0 and rep["alerts"]["consumed"] == n, rep["alerts"]
    cw, cc, pw, pc = n / c["wall"], n / c["cpu"], pn / p["wall"], pn / p["cpu"]
    print("| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f× | %.1f× |" % (
        name, rnd, cw, cc, rep["peak_memory_mb"] or 0, pw, pc, cw / pw, cc / pc))
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
