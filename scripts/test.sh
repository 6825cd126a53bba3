#!/usr/bin/env bash
# The whole test suite: installs what is missing, then for each configuration (release,
# ASan+UBSan, TSan) builds and runs every test; checks that an installed shmq works from a user's
# project through find_package(shmq); and fuzzes the queue-file reader for 60 s (clang, ASan+UBSan).
#   scripts/test.sh                       everything
#   scripts/test.sh release asan          some configurations only (release, asan, tsan, fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(release asan tsan fuzz)
jobs=$(nproc)
passed=0
failed=0
failures=()
mkdir -p build

for step in "${steps[@]}"; do
  start=$SECONDS
  if [ "$step" = fuzz ]; then
    # Judged by the fuzzer's own verdict line: run.sh prints "fuzz: no finding" only when libFuzzer
    # exited cleanly, and "fuzz: FINDING" otherwise.
    fuzz/run.sh 60 >build/fuzz.log 2>&1 || true
    if grep -q "^fuzz: no finding" build/fuzz.log; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("fuzz: see build/fuzz.log"); tail -n 40 build/fuzz.log; fi
    grep -E "^(fuzz:|stat::number_of_executed_units|#[0-9]+ +DONE)" build/fuzz.log || true
    echo "=== fuzz: $((SECONDS - start)) s" >&2
    continue
  fi
  echo "=== $step: build" >&2
  cmake --preset "$step" >/dev/null
  cmake --build --preset "$step" -j "$jobs"
  echo "=== $step: test" >&2
  # Serial on purpose: the multi-process tests want both cores to themselves.
  ctest --preset "$step" --output-on-failure 2>&1 | tee "build/ctest-$step.log" || true
  while read -r name; do failures+=("$step: $name"); done < <(sed -n '/The following tests FAILED/,$p' "build/ctest-$step.log" | grep -E '^[[:space:]]+[0-9]+ - ' || true)
  summary=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "build/ctest-$step.log" | tail -n 1)
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$summary")
  [ -n "$total" ] || { total=1; bad=1; }
  passed=$((passed + total - bad))
  failed=$((failed + bad))
  echo "=== $step: $((SECONDS - start)) s" >&2

  if [ "$step" = release ]; then
    # The Python module's tests, with the interpreter it was built for (release only: a sanitizer
    # build's module cannot be loaded into a plain python). A failure to run counts as failed.
    echo "=== Python module: pytest" >&2
    python=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' build/release/CMakeCache.txt)
    if [ -n "$python" ] && [ -e build/release/python/shmq.pyi ]; then
      status=0
      SHMQ_BUILD_DIR=$PWD/build/release PYTHONPATH=$PWD/build/release/python \
        "$python" -m pytest -q -p no:cacheprovider python/tests 2>&1 | tee build/pytest-release.log || status=$?
      summary=$(grep -E ' in [0-9.]+s' build/pytest-release.log | tail -n 1 || true)
      ok=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
      bad=0
      for n in $(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | grep -oE '^[0-9]+' || true); do bad=$((bad + n)); done
      if [ "$bad" -eq 0 ] && { [ "$ok" -eq 0 ] || [ "$status" -ne 0 ]; }; then bad=1; fi  # no tests ran, or pytest broke
      passed=$((passed + ok))
      failed=$((failed + bad))
      [ "$bad" -eq 0 ] || failures+=("release: pytest python/tests (see build/pytest-release.log)")
    else
      failed=$((failed + 1))
      failures+=("release: the Python module was not built (python3-dev, pybind11-dev)")
    fi

    echo "=== find_package(shmq) from an installed tree" >&2
    prefix=$PWD/build/install
    rm -rf "$prefix" build/find-package
    cmake --install build/release --prefix "$prefix" >/dev/null
    if cmake -S tests/find_package -B build/find-package -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
       cmake --build build/find-package && ./build/find-package/shmq_user "/dev/shm/shmq-find-package-$$"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      failures+=("release: find_package(shmq)")
    fi
  fi
done

# Repeated last so that whoever reads only the tail of the log sees what failed.
for f in "${failures[@]}"; do echo "FAILED $f"; done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
