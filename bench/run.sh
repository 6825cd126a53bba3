#!/usr/bin/env bash
# Runs the whole benchmark matrix in one command:
#   bench/run.sh            the full run (about 15-25 minutes; quiet the machine first)
#   bench/run.sh --smoke    a tiny run in seconds (the figures mean nothing)
# Other arguments go to shmq-bench (bench/run.sh --transports shmq,pipe --suites latency ...).
#
# It installs the peers' Debian packages when they are missing (as root), builds shmq-bench in
# Release mode, raises the POSIX message-queue size limit for the run when it may (restoring it
# afterwards), runs the harness, and draws the plots with gnuplot.
# Environment: SHMQ_BENCH_BUILD (build dir, default build-bench-run/), SHMQ_BENCH_RESULTS
# (results dir, default <build>/bench-results), SHMQ_BENCH_DISK_DIR (sequential-write reference,
# default the build dir).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${SHMQ_BENCH_BUILD:-$root/build-bench-run}
results=${SHMQ_BENCH_RESULTS:-$build/bench-results}
disk_dir=${SHMQ_BENCH_DISK_DIR:-$build}

install_missing_packages() {
  local packages=(g++ cmake ninja-build pkg-config libboost-dev libspdlog-dev libxxhash-dev libcli11-dev
                  nlohmann-json3-dev libbenchmark-dev libzmq3-dev iceoryx libiceoryx-posh-dev
                  libiceoryx-hoofs-dev gnuplot-nox)
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "run.sh: missing packages (their rows will be unavailable): ${missing[*]}" >&2
    return 0
  fi
  echo "run.sh: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    echo "run.sh: apt-get failed; the rows of what is missing will be unavailable" >&2
}

# POSIX message queues: msgsize_max (8192) is too small for 64 KiB messages and msg_max (10) makes
# a queue ten messages deep. Raise both for the run when this process may (root), and put the old
# values back on exit. RLIMIT_MSGQUEUE still bounds the depth; the harness notes the depth it got.
raised_limits=()
raise_limit() {  # file value
  local file=$1 value=$2 old
  [[ -w $file ]] || return 0
  old=$(cat "$file")
  if ((old < value)) && echo "$value" >"$file" 2>/dev/null; then
    raised_limits+=("$file=$old")
    echo "run.sh: $file raised from $old to $value for the run" >&2
  fi
}
restore_limits() {
  local entry
  for entry in "${raised_limits[@]}"; do echo "${entry#*=}" >"${entry%%=*}" || true; done
}

install_missing_packages
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSHMQ_BUILD_TESTS=OFF -DSHMQ_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target shmq-bench >&2

mkdir -p "$results" "$disk_dir"
trap restore_limits EXIT
raise_limit /proc/sys/fs/mqueue/msgsize_max 65536
raise_limit /proc/sys/fs/mqueue/msg_max 4096
status=0
"$build/bench/shmq-bench" --results "$results" --disk-dir "$disk_dir" "$@" || status=$?

if command -v gnuplot >/dev/null && [[ -d $results/latest ]]; then
  gnuplot -e "dir='$results/latest'" "$here/plot.gnuplot" && echo "Plots: $results/latest/*.png"
else
  echo "run.sh: gnuplot not found (Debian gnuplot-nox): no plots" >&2
fi
exit "$status"
