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
import multiprocessing as mp
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


def consume_process(topic, count, out):
    out.put(read(topic, count, decode))


if __name__ == "__main__":
    datums = []
    read(feed, n, datums.append)
    alerts = [fastavro.schemaless_reader(io.BytesIO(d), schema) for d in datums]
    assert len(alerts) == n, f"read {len(alerts)} of {n} feed alerts"

    t = time.monotonic()
    produce("py-produce", alerts)
    produce_rate = n / (time.monotonic() - t)

    t = time.monotonic()
    got = read("py-produce", n, decode)
    consume_rate = got / (time.monotonic() - t)

    # End to end: a consumer process decoding while the producer sends.
    out = mp.Queue()
    proc = mp.Process(target=consume_process, args=("py-e2e", n, out))
    t = time.monotonic()
    proc.start()
    produce("py-e2e", alerts)
    e2e_got = out.get()
    e2e_rate = e2e_got / (time.monotonic() - t)
    proc.join()

    print(json.dumps({"alerts": n, "produce_alerts_per_sec": produce_rate,
                      "consume_decode_alerts_per_sec": consume_rate,
                      "end_to_end_alerts_per_sec": e2e_rate, "end_to_end_consumed": e2e_got}))
