"""The reference alert simulator's approach in Python, for comparison with
`ciux bench` (see bench-compare.sh): every alert is written as its own fastavro
container and sent with a librdkafka producer (confluent-kafka); a Python
consumer decodes each container with fastavro.

Usage: python_baseline.py BROKERS FEED_TOPIC N SCHEMA.json
FEED_TOPIC holds N schemaless alerts written by `ciux bench --produce-only`,
so both sides send the same alerts. Prints one JSON object of rates.
"""
import io
import json
import sys
import time

import fastavro
from confluent_kafka import Consumer, Producer, TopicPartition

brokers, feed, n, schema_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
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

    # Through the broker. With tansu 0.6, the librdkafka 2.16 consumer of
    # confluent-kafka stalls on batches its own producer wrote (it reads the
    # same alerts written by ciux at full speed), hence the short timeout.
    t = time.monotonic()
    got = read("py-produce", n, decode, timeout=5.0)
    consume_secs = time.monotonic() - t

    # The reference simulator produces, then the broker consumes and decodes:
    # sequential stages, so end to end is bounded by the two rates combined.
    bound = 1.0 / (1.0 / produce_rate + 1.0 / decode_rate)
    print(json.dumps({"alerts": n, "produce_alerts_per_sec": produce_rate,
                      "decode_alerts_per_sec": decode_rate,
                      "end_to_end_bound_alerts_per_sec": bound,
                      "consumed_through_broker": got, "consume_secs": consume_secs}))
