#!/usr/bin/env bash
# Installs what is missing, builds shmq, and runs the sample pair: shmq-producer sends 10 million
# 64-byte messages through a queue in /dev/shm while shmq-consumer receives and verifies them.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target shmq-producer shmq-consumer shmq_tool

queue=/dev/shm/shmq-demo-$$
bin=build/release
producer=
trap '[ -z "$producer" ] || kill "$producer" 2>/dev/null; rm -f "$queue"' EXIT
# The queue exists before either program starts, so they may start in any order: a consumer
# waits for a producer that has not attached yet.
"$bin/tools/shmq" create "$queue" --capacity 4MiB
"$bin/producer/shmq-producer" --queue "$queue" --count 10000000 --size 64 &
producer=$!
"$bin/consumer/shmq-consumer" --queue "$queue" --count 10000000 --verify
wait "$producer"
producer=
