#!/usr/bin/env bash
# What the read-only `shmq` commands cost a queue in full flight. Runs the sample pair
# (shmq-producer -> shmq-consumer, busy flat out) ROUNDS times alone and ROUNDS times with
# observers, alternating so that drift of the machine hits both alike:
#   watch    `shmq watch --interval 100` for the whole run
#   stat     `shmq stat` started 10 times a second
#   verify   `shmq verify` started 10 times a second (walks every live record)
# and prints each run's messages/s, the medians, and observed/alone as a ratio.
#   bench/observer_cost.sh [BUILD_DIR] [ROUNDS] [MESSAGES] [SIZE]
# Defaults: build/release, 5 rounds, 20 million messages of 64 bytes through a 4 MiB ring.
# Needs a quiet machine: on 2 vCPUs the producer and the consumer take a core each, so any
# other load shows up in both columns.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/release}
rounds=${2:-5}
count=${3:-20000000}
size=${4:-64}
producer=$build/producer/shmq-producer
consumer=$build/consumer/shmq-consumer
tool=$build/tools/shmq
for b in "$producer" "$consumer" "$tool"; do
  [ -x "$b" ] || { echo "observer_cost.sh: $b is missing: build the release preset first" >&2; exit 2; }
done

queue=/dev/shm/shmq-observer-cost-$$
observers=()
stop_observers() {
  local p
  for p in "${observers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${observers[@]}"; do wait "$p" 2>/dev/null || true; done
  observers=()
}
trap 'stop_observers; rm -f "$queue"' EXIT

# One run; prints the consumer's messages/s.
run_once() {
  local observed=$1
  rm -f "$queue"
  "$tool" create "$queue" --capacity 4MiB >/dev/null
  if [ "$observed" = yes ]; then
    "$tool" watch "$queue" --interval 100 >/dev/null 2>&1 &
    observers+=($!)
    (while :; do "$tool" stat "$queue" >/dev/null 2>&1; sleep 0.1; done) &
    observers+=($!)
    (while :; do "$tool" verify "$queue" >/dev/null 2>&1; sleep 0.1; done) &
    observers+=($!)
  fi
  "$producer" --queue "$queue" --count "$count" --size "$size" 2>/dev/null &
  local pid=$!
  local json
  json=$("$consumer" --queue "$queue" --count "$count" --json 2>/dev/null | tail -n 1)
  wait "$pid"
  stop_observers
  sed -E 's/.*"messages_per_second":([0-9.e+]+).*/\1/' <<<"$json"
}

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

alone=()
observed=()
for ((i = 1; i <= rounds; i++)); do
  alone+=("$(run_once no)")
  observed+=("$(run_once yes)")
  printf 'round %d: alone %.3g msg/s, observed %.3g msg/s\n' "$i" "${alone[-1]}" "${observed[-1]}"
done
a=$(printf '%s\n' "${alone[@]}" | median)
o=$(printf '%s\n' "${observed[@]}" | median)
printf '%s messages of %s B, %d rounds each: median alone %.3g msg/s, observed %.3g msg/s, observed/alone %.3f\n' \
  "$count" "$size" "$rounds" "$a" "$o" "$(awk -v a="$a" -v o="$o" 'BEGIN {print o / a}')"
