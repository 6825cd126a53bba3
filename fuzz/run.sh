#!/usr/bin/env bash
# Builds the libFuzzer target with clang 14 (ASan+UBSan) in build/fuzz and runs it for N seconds
# (default 60) on a copy of the seed corpus. Exits non-zero on a finding (crash-*, leak-*,
# timeout-* or oom-* files are left in build/fuzz/findings).
#   fuzz/run.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=build/fuzz

if ! command -v clang++-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "=== installing clang-14 and libclang-rt-14-dev" >&2
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq clang-14 libclang-rt-14-dev
fi

echo "=== configure and build $build" >&2
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSHMQ_BUILD_FUZZ=ON -DSHMQ_BUILD_TESTS=OFF -DSHMQ_BUILD_BENCH=OFF -DSHMQ_BUILD_PROGRAMS=OFF -DSHMQ_INSTALL=OFF \
  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" \
  >/dev/null
cmake --build "$build" -j "${SHMQ_FUZZ_JOBS:-2}" --target shmq_queue_image_fuzzer

work=$build/run
rm -rf "$work"
mkdir -p "$work/corpus" "$build/findings"
cp fuzz/corpus/* "$work/corpus/"

echo "=== fuzzing for ${seconds}s" >&2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
"$build/fuzz/shmq_queue_image_fuzzer" "$work/corpus" -max_len=40000 -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/findings/" 2>&1 | tee "$build/fuzz.log" || status=$?
# The fuzzer's private queue files (/dev/shm/shmq-fuzz-<pid>) of processes that are gone.
for f in /dev/shm/shmq-fuzz-*; do
  [ -e "$f" ] || continue
  kill -0 "${f##*-}" 2>/dev/null || rm -f "$f"
done
if [ "$status" -ne 0 ]; then
  echo "fuzz: FINDING (exit $status); artifacts in $build/findings, log in $build/fuzz.log" >&2
  exit 1
fi
echo "fuzz: no finding in ${seconds}s" >&2
