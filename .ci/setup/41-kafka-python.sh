#!/usr/bin/env bash
# The Python side of bench/compare.sh over a broker: confluent-kafka (a
# librdkafka producer and consumer), the client of the reference alert
# simulator's approach. fastavro and tansu come from 40-kafka.sh.
# Idempotent: does nothing when the module imports.
set -euo pipefail
python3 -c 'import confluent_kafka' 2>/dev/null \
  || python3 -m pip install --quiet confluent-kafka \
  || python3 -m pip install --quiet --break-system-packages confluent-kafka
python3 -c 'import confluent_kafka'
