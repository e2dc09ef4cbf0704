#!/bin/sh
# Ctrl-C during `ruvector build` and `ruvector bench`: the command stops in
# the middle of the build (the engine's cancel token, tools/cli_cancel.h),
# says so, exits 130 and leaves no output file and no temporary directory.
# The signal goes out once the build's thread pool has started (a second
# thread appears), so it always lands inside the build; the build is sized
# to take seconds on any machine (k-means over 1,024 lists). No timing is
# asserted. Runs from the top build directory; needs python3 (SKIP without).
set -u
command -v python3 >/dev/null 2>&1 || { echo "python3 not found: SKIP"; exit 77; }
[ -d /proc/self/task ] || { echo "no /proc/PID/task: SKIP"; exit 77; }
R=./tools/ruvector
T=$(mktemp -d /tmp/ruv-int-XXXXXX)
trap 'rm -rf "$T"' EXIT
passes=0
fails=0
check() {
    desc=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $desc"; fails=$((fails + 1)); fi
}
has() { printf '%s' "$1" | grep -q -- "$2"; }

# 5,000 distinct rows repeated 60 times (300,000 x 64 float32, .npy):
# cheap to write without numpy, and as much work for k-means as any data.
python3 - "$T" <<'PY'
import random, struct, sys
random.seed(11)
block = struct.pack("<%df" % (5000 * 64), *[random.gauss(0, 1) for _ in range(5000 * 64)])
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (300000, 64), }"
hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
with open(sys.argv[1] + "/base.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for _ in range(60):
        f.write(block)
    f.flush()
with open(sys.argv[1] + "/q.npy", "wb") as f:
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 64), }"
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + block[:100 * 64 * 4])
PY

# Runs "$@" in the background, sends SIGINT once it has two threads, and
# leaves its exit status in $rc and its stderr in $T/err.
interrupt_when_running() {
    "$@" 2>"$T/err" >/dev/null &
    pid=$!
    i=0
    while [ "$(ls "/proc/$pid/task" 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 6000 ]; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.01
        i=$((i + 1))
    done
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
}

interrupt_when_running $R build "$T/base.npy" -o "$T/out.ruv" --type rabitq --nlist 1024 --threads 2
err=$(cat "$T/err")
check "build: Ctrl-C exits 130" test "$rc" -eq 130
check "build: says it was interrupted and where" has "$err" "interrupted while building from .*canceled during"
check "build: no index file" test ! -e "$T/out.ruv"
check "build: no temporary file beside it" test "$(ls "$T" | grep -v -e '^base.npy$' -e '^q.npy$' -e '^err$' | wc -l)" -eq 0

mkdir "$T/tmp"
TMPDIR="$T/tmp" interrupt_when_running $R bench "$T/base.npy" "$T/q.npy" --type rabitq --nlist 1024 --threads 2
err=$(cat "$T/err")
check "bench: Ctrl-C exits 130" test "$rc" -eq 130
check "bench: says it was interrupted" has "$err" "ruvector bench: interrupted while"
check "bench: temporary directory removed" test "$(ls "$T/tmp" | wc -l)" -eq 0

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
