#!/usr/bin/env bash
# Installs the Debian packages shmq needs to build, test and benchmark, if any is missing.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libboost-dev libspdlog-dev libfmt-dev libcli11-dev libxxhash-dev nlohmann-json3-dev  # build
  libgtest-dev libgmock-dev                                                           # tests
  libbenchmark-dev libzmq3-dev iceoryx libiceoryx-posh-dev libiceoryx-hoofs-dev       # benchmarks and peers
  gnuplot-nox                                                                          # benchmark plots
  clang-14 libclang-rt-14-dev                                                          # fuzzing
)

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
