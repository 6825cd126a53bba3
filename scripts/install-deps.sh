#!/usr/bin/env bash
# Installs the Debian packages shmq needs, if any is missing. Needs root (or sudo) only then.
#   scripts/install-deps.sh demo     to build the library and the programs (the demo)
#   scripts/install-deps.sh test     and the tests: GoogleTest, the fuzzer's clang, NATS, Python
#   scripts/install-deps.sh bench    and the benchmark's peers (iceoryx, ZeroMQ, ...) and gnuplot
# Each profile includes the ones above it; the default is test.
set -euo pipefail
profile=${1:-test}

demo=(
  cmake ninja-build g++ pkg-config
  libboost-dev libspdlog-dev libfmt-dev libcli11-dev libxxhash-dev nlohmann-json3-dev libzstd-dev
)
test=(
  libgtest-dev libgmock-dev libbenchmark-dev          # tests and micro-benchmarks
  clang-14 libclang-rt-14-dev                         # fuzzing
  nats-server libnats-dev                             # the NATS bridge and its tests
  pybind11-dev python3-dev python3-pytest mypy        # the Python module, its tests, its stubs checked
  libzmq3-dev iceoryx libiceoryx-posh-dev libiceoryx-hoofs-dev  # the benchmark harness is built and smoke-tested
)
bench=(gnuplot-nox)

case $profile in
  demo) packages=("${demo[@]}") ;;
  test) packages=("${demo[@]}" "${test[@]}") ;;
  bench) packages=("${demo[@]}" "${test[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 [demo|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
