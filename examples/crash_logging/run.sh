#!/usr/bin/env bash
# Runs the example: shmq-logd ships a spool while the example logs a burst; the example is killed
# with -9 in the middle; the shipped file then holds every line whose spdlog call had returned.
#   examples/crash_logging/run.sh [BUILD_DIR]      (default build/release)
set -euo pipefail
build=${1:-build/release}
work=$(mktemp -d /dev/shm/shmq-crash-logging.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/spool"

"$build/logd/shmq-logd" --spool "$work/spool" --output "$work/app.log" 2>"$work/logd.err" &
logd=$!
"$build/examples/crash_logging/shmq-crash-logging-example" "$work/spool" >"$work/returned" 2>"$work/app.err" &
app=$!
sleep 0.3
kill -9 "$app"
wait "$app" 2>/dev/null || true

# The shipper drains the dead process's queue, reports its end, and removes it.
while compgen -G "$work/spool/*.q" >/dev/null; do sleep 0.05; done
kill -TERM "$logd"
wait "$logd"

returned=$(grep -c '' "$work/returned" || true)   # calls known to have returned (stdout is buffered: a lower bound)
shipped=$(grep -c ' info burst line ' "$work/app.log" || true)
in_order=$(awk '/ info burst line /{ if ($NF != n) { print "no"; exit } n++ } END { print "yes" }' "$work/app.log")
echo "the example returned from at least $returned info() calls before kill -9"
echo "shmq-logd shipped $shipped lines (0, 1, 2, ... in order: $in_order); the last line of the file:"
tail -n 1 "$work/app.log"
if [ "$shipped" -ge "$returned" ] && [ "$in_order" = yes ]; then echo "lost: 0"; else echo "LOST LINES"; exit 1; fi
