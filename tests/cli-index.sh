#!/bin/sh
# ruvector build / search / bench end to end on small generated files, and
# the errors a user meets: wrong dimension, corrupted or missing index file,
# bad options. Runs from the top build directory; needs python3 to write the
# input files (SKIP without it).
set -u
command -v python3 >/dev/null 2>&1 || { echo "python3 not found: SKIP"; exit 77; }
R=./tools/ruvector
T=$(mktemp -d /tmp/ruv-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
passes=0
fails=0
check() {
    desc=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $desc"; fails=$((fails + 1)); fi
}
has() { printf '%s' "$1" | grep -q -- "$2"; }

python3 - "$T" <<'PY'
import random, struct, sys
t = sys.argv[1]
random.seed(7)
def fvecs(path, rows):
    with open(path, "wb") as f:
        for r in rows:
            f.write(struct.pack("<i", len(r)) + struct.pack("<%df" % len(r), *r))
centres = [[random.uniform(-2, 2) for _ in range(32)] for _ in range(8)]
def row():
    c = random.choice(centres)
    return [v + random.gauss(0, 0.4) for v in c]
base = [row() for _ in range(2000)]
fvecs(t + "/base.fvecs", base)
queries = [row() for _ in range(20)]
fvecs(t + "/query.fvecs", queries)
fvecs(t + "/q5.fvecs", queries[:5])
fvecs(t + "/q16.fvecs", [[0.5] * 16 for _ in range(3)])
# another base of the same shape: its ground truth must not pass for base.fvecs
fvecs(t + "/other.fvecs", [row() for _ in range(2000)])
# the same base as .npy (v1.0, little-endian float32)
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2000, 32), }"
hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
with open(t + "/base.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for r in base:
        f.write(struct.pack("<32f", *r))
PY

out=$($R build "$T/base.fvecs" -o "$T/plus.ruv" --type rabitq_plus --nlist 16 2>&1)
check "build exits 0" test $? -eq 0
check "build file exists" test -s "$T/plus.ruv"
check "build reports bytes/vector" has "$out" "B/vector"
check "build says what it chose" has "$out" "plan      IVF nlist 16 (not planned), bits 4 (planned), nprobe"
check "build says how it probes" has "$out" "probing   adaptive: starts at the floor nprobe"
out=$($R info "$T/plus.ruv" 2>&1)
check "info FILE exits 0" test $? -eq 0
check "info FILE shows the calibration" has "$out" "measured on 200 of its own rows (95 % lower bound [01]\\."
check "info FILE names the target" has "$out" "), target 0.95"
check "info FILE prints the curve" has "$out" "curve        recall@10 mean/95% lower bound by nprobe: 1:"
check "info FILE says probing is adaptive" has "$out" "probing      adaptive: starts at the floor nprobe"
check "info FILE names the stop rule" has "$out" "stops when no unprobed list's bound can beat the k-th"
out=$($R build "$T/base.fvecs" -o "$T/small.ruv" --target-recall 0.99 2>&1)
check "small default build is an exact scan" has "$out" "plan      exact scan of the original vectors"
out=$($R build "$T/base.fvecs" -o "$T/codes.ruv" --type rabitq --target-recall 0.9 2>&1)
check "codes-only with a target: fewest bits" has "$out" "bits [1-8] (planned): recall@10 0\.9[0-9]* measured"
check "codes-only with a target: below 8 bits" test "$(printf '%s' "$out" | grep -c 'bits 8 (planned)')" -eq 0
out=$($R build "$T/base.fvecs" -o "$T/codes1.ruv" --type rabitq --target-recall 1 2>&1)
check "codes-only, target out of reach: refused" test $? -ne 0
check "codes-only, target out of reach: says so" has "$out" "codes alone cannot reach recall@10 1"
out=$($R build "$T/base.fvecs" -o "$T/old.ruv" --target-recall 0 2>&1)
check "--target-recall 0: no plan" has "$out" "no recall target"
out=$($R build "$T/base.fvecs" -o "$T/bad.ruv" --target-recall 2 2>&1)
check "--target-recall out of range refused" test $? -ne 0
out=$($R build "$T/base.npy" -o "$T/flat.ruv" --type flat_f32 2>&1)
check "build from .npy" test $? -eq 0
out=$($R search "$T/flat.ruv" "$T/query.fvecs" -k 5 --out "$T/ids.ivecs" 2>&1)
check "search exits 0" test $? -eq 0
check "search wrote 20 rows of 5 ids" test "$(wc -c < "$T/ids.ivecs")" -eq $((20 * (4 + 5 * 4)))
out=$($R bench "$T/base.fvecs" "$T/query.fvecs" --type flat_f32 -k 10 --threads 1 --repeats 1 2>&1)
check "bench flat exits 0" test $? -eq 0
check "bench flat is exact" has "$out" "1.0000    1.0000     1.0000"
json=$($R bench "$T/base.fvecs" "$T/query.fvecs" --type rabitq_plus --nlist 16 --nprobe 16 \
       -k 10 --threads 1 --repeats 1 --json 2>/dev/null)
check "bench --json parses, recall@10 >= 0.9" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
rows = [r for r in d["results"]]
assert rows and all(r["recall@10"] >= 0.9 for r in rows), rows' "$json"

# bench --gt: the ground truth of base.fvecs passes (a flat index is exact);
# that of another base, a file with too few rows and one naming rows that do
# not exist are refused by name before any recall is reported.
$R build "$T/other.fvecs" -o "$T/other.ruv" --type flat_f32 >/dev/null 2>&1
$R search "$T/flat.ruv" "$T/query.fvecs" -k 100 --out "$T/gt.ivecs" >/dev/null 2>&1
$R search "$T/other.ruv" "$T/query.fvecs" -k 100 --out "$T/gt-other.ivecs" >/dev/null 2>&1
$R search "$T/flat.ruv" "$T/q5.fvecs" -k 100 --out "$T/gt-5.ivecs" >/dev/null 2>&1
out=$($R bench "$T/base.fvecs" "$T/query.fvecs" --gt "$T/gt.ivecs" --type flat_f32 --threads 1 \
      --repeats 1 2>&1)
check "bench --gt with the right ground truth exits 0" test $? -eq 0
check "bench --gt with the right ground truth is exact" has "$out" "1.0000    1.0000     1.0000"
err=$($R bench "$T/base.fvecs" "$T/query.fvecs" --gt "$T/gt-other.ivecs" --type flat_f32 \
      --threads 1 --repeats 1 2>&1); rc=$?
check "bench --gt of another base fails" test $rc -eq 1
check "bench --gt of another base: no recall reported" test "$(printf '%s' "$err" | grep -c recall)" -eq 0
check "bench --gt of another base names the file" has "$err" "gt-other.ivecs is not the ground truth of"
check "bench --gt of another base says how much is wrong" has "$err" "entries checked on 16 queries are wrong"
err=$($R bench "$T/base.fvecs" "$T/query.fvecs" --gt "$T/gt-5.ivecs" --type flat_f32 \
      --threads 1 --repeats 1 2>&1); rc=$?
check "bench --gt with one row per query of another file fails" test $rc -eq 1
check "bench --gt row count message" has "$err" "gt-5.ivecs has 5 rows, .*query.fvecs has 20 queries"
head -c $((30 * (4 + 32 * 4))) "$T/base.fvecs" > "$T/base-small.fvecs"
err=$($R bench "$T/base-small.fvecs" "$T/query.fvecs" --gt "$T/gt.ivecs" --type flat_f32 \
      --threads 1 --repeats 1 2>&1); rc=$?
check "bench --gt naming rows past the base fails" test $rc -eq 1
check "bench --gt row past the base message" has "$err" "is not a row of .*base-small.fvecs"

err=$($R search "$T/plus.ruv" "$T/q16.fvecs" 2>&1); rc=$?
check "dimension mismatch fails" test $rc -ne 0
check "dimension mismatch message" has "$err" "has dimension 16, the index .*has 32"
cp "$T/plus.ruv" "$T/bad.ruv"
printf 'X' | dd of="$T/bad.ruv" bs=1 seek=300 conv=notrunc 2>/dev/null
err=$($R search "$T/bad.ruv" "$T/query.fvecs" 2>&1); rc=$?
check "corrupted index fails" test $rc -ne 0
check "corrupted index message names the file" has "$err" "bad.ruv"
head -c 1000 "$T/plus.ruv" > "$T/short.ruv"
err=$($R search "$T/short.ruv" "$T/query.fvecs" 2>&1); rc=$?
check "truncated index fails" test $rc -ne 0
err=$($R search "$T/none.ruv" "$T/query.fvecs" 2>&1); rc=$?
check "missing index fails naming it" has "$err" "none.ruv"
err=$($R build "$T/base.fvecs" -o "$T/x.ruv" --bits 9 2>&1); rc=$?
check "bad --bits is a usage error" test $rc -eq 2
$R build "$T/base.fvecs" -o "$T/r16.ruv" --type rabitq --nlist 16 >/dev/null 2>&1
out=$($R build "$T/base.fvecs" -o "$T/t500.ruv" --type rabitq --nlist 16 --train-size 500 \
      --kmeans-iters 3 2>&1)
check "build with --train-size and --kmeans-iters" test $? -eq 0
check "--train-size changes the k-means sample" test "$(cmp -s "$T/r16.ruv" "$T/t500.ruv"; echo $?)" -ne 0
err=$($R build "$T/base.fvecs" -o "$T/x.ruv" --kmeans-iters many 2>&1); rc=$?
check "bad --kmeans-iters is a usage error" test $rc -eq 2
err=$($R build "$T/base.fvecs" -o "$T/x.ruv" --frobnicate 2>&1); rc=$?
check "unknown option is a usage error" test $rc -eq 2
check "no index left behind by failed builds" test ! -e "$T/x.ruv"
# a FIFO as the index: refused at once (timeout guards the old hang in open)
mkfifo "$T/fifo.ruv"
err=$(timeout 60 $R search "$T/fifo.ruv" "$T/query.fvecs" 2>&1); rc=$?
check "search on a FIFO fails without blocking" test $rc -eq 1
check "search on a FIFO says what it is" has "$err" "not a regular file (a FIFO)"
echo "$passes passed, $fails failed"
test $fails -eq 0
