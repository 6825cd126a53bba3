#!/usr/bin/env bash
# Installs what is missing, builds shmq, and runs the sample pair: shmq-producer sends 10 million
# 64-byte messages through a queue in /dev/shm while shmq-consumer receives and verifies them.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target shmq-producer shmq-consumer

queue=/dev/shm/shmq-demo-$$
trap 'rm -f "$queue"' EXIT
bin=build/release
"$bin/producer/shmq-producer" --queue "$queue" --create --capacity 4MiB --count 10000000 --size 64 &
producer=$!
"$bin/consumer/shmq-consumer" --queue "$queue" --count 10000000 --verify
wait "$producer"
