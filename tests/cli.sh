#!/bin/sh
# The ruvector CLI: info (human and JSON), forcing through the environment,
# and clear failures for bad input. Runs from the top build directory.
set -u
R=./tools/ruvector
fails=0
passes=0
check() { # description, then a command that must succeed
    desc=$1; shift
    if "$@"; then passes=$((passes + 1)); else echo "FAIL: $desc"; fails=$((fails + 1)); fi
}
out=$($R info) ; check "info exits 0" test $? -eq 0
check "info names the kernel" sh -c "printf '%s' \"\$1\" | grep -q '^kernel '" _ "$out"
check "info lists scalar" sh -c "printf '%s' \"\$1\" | grep -q 'scalar .*loaded'" _ "$out"
json=$($R info --json); check "info --json exits 0" test $? -eq 0
check "json has a kernel" sh -c "printf '%s' \"\$1\" | grep -q '\"kernel\":{\"name\":'" _ "$json"
if command -v python3 >/dev/null 2>&1; then
    check "json parses" sh -c "printf '%s' \"\$1\" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"kernel\"][\"name\"]'" _ "$json"
fi
check "json names the topology source" sh -c "printf '%s' \"\$1\" | grep -Eq '\"topology_source\":\"(hwloc [0-9]|sysconf)'" _ "$json"
check "info shows the topology source" sh -c "printf '%s' \"\$1\" | grep -Eq '^topology .*\((hwloc [0-9][^)]*|sysconf)\)$'" _ "$out"
out=$(RUVECTOR_KERNEL=scalar $R info); check "forced scalar" sh -c "printf '%s' \"\$1\" | grep -q '^kernel *scalar (forced by RUVECTOR_KERNEL)'" _ "$out"
err=$(RUVECTOR_KERNEL=bogus $R info 2>&1); rc=$?
check "bogus kernel exits non-zero" test $rc -ne 0
check "bogus kernel message" sh -c "printf '%s' \"\$1\" | grep -q \"RUV_E_NOTFOUND: unknown kernel 'bogus' (from RUVECTOR_KERNEL); known kernels: scalar, avx2, avx512, neon\"" _ "$err"
err=$($R frobnicate 2>&1); rc=$?
check "unknown command exits 2" test $rc -eq 2
check "unknown command named" sh -c "printf '%s' \"\$1\" | grep -q \"unknown command 'frobnicate'\"" _ "$err"
check "--version" sh -c "$R --version | grep -q '^ruvector [0-9]'"
check "--help" sh -c "$R --help | grep -q 'bench-kernels'"
err=$(RUVECTOR_VERBOSE=1 $R info 2>&1 >/dev/null)
check "verbose logs decisions" sh -c "printf '%s' \"\$1\" | grep -q 'ruvector: kernel '" _ "$err"
err=$($R info 2>&1 >/dev/null)
check "silent by default" test -z "$err"
# Plugins are found from where libruvector was loaded: no variable needed
# in the build tree (every kernel plugin is at least considered, none is
# "not-found"), and the report says how the path was found.
built=""
for k in avx2 avx512 neon; do
    [ -f "$RUV_TEST_BUILDDIR/plugins/kernel-$k/$k.la" ] && built="$built $k"
done
if command -v python3 >/dev/null 2>&1 && [ -n "$built" ]; then
    BUILT="$built"; export BUILT
    json=$(env -u RUVECTOR_PLUGIN_PATH $R info --json)
    check "plugins found without RUVECTOR_PLUGIN_PATH" sh -c "printf '%s' \"\$1\" | python3 -c '
import json, sys
d = json.load(sys.stdin)
states = {p[\"name\"]: p[\"state\"] for p in d[\"plugins\"]}
import os
assert all(states[k] != \"not-found\" for k in os.environ[\"BUILT\"].split()), states
pp = d[\"config\"][\"plugin_path\"]
assert pp[\"source\"] == \"default\" and \"build tree\" in pp[\"found\"], pp
'" _ "$json"
fi
echo "$passes passed, $fails failed"
test $fails -eq 0
