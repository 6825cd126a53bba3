#!/usr/bin/env bash
# Installs what is missing, builds shmq, and runs the sample pair: shmq-producer sends 10 million
# 64-byte messages through a queue in /dev/shm while shmq-consumer receives and verifies them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh demo
# Its own build folder, without tests and benchmarks: the demo needs none of their packages.
bin=build/demo
cmake -S . -B "$bin" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHMQ_BUILD_TESTS=OFF -DSHMQ_BUILD_BENCH=OFF >/dev/null
cmake --build "$bin" -j "$(nproc)" --target shmq-producer shmq-consumer shmq_tool

queue=/dev/shm/shmq-demo-$$
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
