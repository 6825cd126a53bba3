#!/usr/bin/env bash
# Runs two builds of shmq-bench (say, two commits) in alternated rounds on the same rows, so
# that both are measured in the same placements and the same machine state:
#   bench/ab_rounds.sh OLD/shmq-bench NEW/shmq-bench [rounds] [-- shmq-bench options]
# Prints every table row prefixed with "<round> a" or "<round> b". Build each commit in its own
# directory first (e.g. git worktree add /tmp/old COMMIT; cmake -S /tmp/old -B /tmp/old/b -G Ninja
# -DCMAKE_BUILD_TYPE=Release; ninja -C /tmp/old/b shmq-bench).
set -euo pipefail
a=$1 b=$2 rounds=${3:-4}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = "--" ] && shift
options=("$@")
[ ${#options[@]} -gt 0 ] || options=(--suites throughput latency reference --transports "shmq busy-poll" "shmq blocking"
  spsc cache-line "index + data" --sizes 8 64 1024 --latency-sizes 64)
results=$(mktemp -d)
for round in $(seq 1 "$rounds"); do
  for side in a b; do
    binary=$a; [ "$side" = b ] && binary=$b
    "$binary" "${options[@]}" --results "$results/$side-$round" 2>&1 | grep -E '^\| ' | grep -vE '^\| transport|^\|---' |
      sed "s/^/$round $side /"
  done
done
rm -rf "$results"
