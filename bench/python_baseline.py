"""The reference alert simulator's approach in Python, for comparison with
`ciux bench` (see bench-compare.sh): every alert is written as its own fastavro
container and sent with a librdkafka producer (confluent-kafka); a Python
consumer decodes each container with fastavro.

Usage: python_baseline.py BROKERS FEED_TOPIC CONTAINER_TOPIC N SCHEMA.json
       python_baseline.py --embedded ARCHIVE.avro N
The second form is the in-process side: the real alerts of ARCHIVE, each
written as a one-alert container, read back and cut on the fields ciux reads,
N times in all; it prints alerts/s of wall and of CPU time.
FEED_TOPIC holds N schemaless alerts written by `ciux bench --produce-only`, so
both sides send the same alerts; CONTAINER_TOPIC the same alerts as one-alert
container files (`--container`), the format this approach sends, for the
consumer to read. Prints one JSON object of rates.
"""
import io
import json
import sys
import time

import fastavro

def embedded(path, n):
    reader = fastavro.reader(open(path, "rb"))
    schema, alerts = reader.writer_schema, list(reader)
    kept = 0
    wall, cpu = time.monotonic(), time.process_time()
    for i in range(n):
        buf = io.BytesIO()
        fastavro.writer(buf, schema, [alerts[i % len(alerts)]])
        for a in fastavro.reader(io.BytesIO(buf.getvalue())):
            c = a.get("candidate") or a.get("diaSource") or {}
            kept += (c.get("rb") or c.get("reliability") or 1.0) >= 0.55
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    print(json.dumps({"alerts": n, "alerts_per_sec": n / wall, "alerts_per_cpu_sec": n / cpu,
                      "kept": kept}))


if len(sys.argv) > 1 and sys.argv[1] == "--embedded":
    embedded(sys.argv[2], int(sys.argv[3]))
    sys.exit(0)

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402

brokers, feed, containers_topic = sys.argv[1], sys.argv[2], sys.argv[3]
n, schema_path = int(sys.argv[4]), sys.argv[5]
schema = fastavro.parse_schema(json.load(open(schema_path)))


def consumer(group):
    return Consumer({"bootstrap.servers": brokers, "group.id": group,
                     "enable.auto.commit": False, "fetch.max.bytes": 52428800})


def read(topic, count, handle, timeout=60.0):
    c = consumer("py-" + topic)
    c.assign([TopicPartition(topic, 0, 0)])
    got, last = 0, time.monotonic()
    while got < count and time.monotonic() - last < timeout:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        handle(m.value())
        got, last = got + 1, time.monotonic()
    c.close()
    return got


def produce(topic, alerts):
    p = Producer({"bootstrap.servers": brokers, "linger.ms": 5, "message.max.bytes": 10000000})
    for alert in alerts:
        buf = io.BytesIO()
        fastavro.writer(buf, schema, [alert])
        while True:
            try:
                p.produce(topic, buf.getvalue())
                break
            except BufferError:
                p.poll(0.01)
        p.poll(0)
    p.flush(60)


def decode(value):
    for _ in fastavro.reader(io.BytesIO(value)):
        pass


if __name__ == "__main__":
    datums = []
    read(feed, n, datums.append)
    alerts = [fastavro.schemaless_reader(io.BytesIO(d), schema) for d in datums]
    assert len(alerts) == n, f"read {len(alerts)} of {n} feed alerts"

    t = time.monotonic()
    produce("py-produce", alerts)
    produce_rate = n / (time.monotonic() - t)

    # Decoding alone, in process: the consumer side can go no faster.
    containers = []
    for alert in alerts:
        buf = io.BytesIO()
        fastavro.writer(buf, schema, [alert])
        containers.append(buf.getvalue())
    t = time.monotonic()
    for c in containers:
        decode(c)
    decode_rate = n / (time.monotonic() - t)

    # Consume and decode through the broker. The containers are read from the
    # topic ciux wrote: with tansu 0.6, confluent-kafka's consumer (librdkafka
    # 2.16) stalls on batches written by its own producer.
    t = time.monotonic()
    got = read(containers_topic, n, decode)
    consume_rate = got / (time.monotonic() - t)

    # The reference simulator produces, then the broker consumes and decodes.
    end_to_end = 1.0 / (1.0 / produce_rate + 1.0 / consume_rate)
    print(json.dumps({"alerts": n, "produce_alerts_per_sec": produce_rate,
                      "decode_alerts_per_sec": decode_rate,
                      "consume_decode_alerts_per_sec": consume_rate, "consumed": got,
                      "end_to_end_alerts_per_sec": end_to_end}))
