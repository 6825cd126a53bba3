#!/usr/bin/env bash
# The whole test suite: installs what is missing, then for each configuration (release,
# ASan+UBSan, TSan) builds and runs every test, then checks that an installed shmq works from a
# user's project through find_package(shmq).
#   tools/test.sh                 all three configurations
#   tools/test.sh release         just one
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release asan tsan)
jobs=$(nproc)

for preset in "${presets[@]}"; do
  echo "=== $preset: build" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== $preset: test" >&2
  # Serial on purpose: the multi-process tests want both cores to themselves.
  ctest --preset "$preset"
done

if [[ " ${presets[*]} " == *" release "* ]]; then
  echo "=== find_package(shmq) from an installed tree" >&2
  prefix=$PWD/build/install
  rm -rf "$prefix" build/find-package
  cmake --install build/release --prefix "$prefix" >/dev/null
  cmake -S tests/find_package -B build/find-package -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build build/find-package
  ./build/find-package/shmq_user /dev/shm/shmq-find-package-$$
  echo "find_package test: 1 passed, 0 failed"
fi
