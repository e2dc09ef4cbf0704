#!/bin/sh
# Quick start, step 2: every test. Installs what is missing, then
#   1. builds with -Werror and runs `make check` (unit tests, the kernel
#      matrix, NEON under qemu-aarch64, AVX-512 under SIMDe emulation);
#   2. rebuilds with AddressSanitizer + UndefinedBehaviorSanitizer and runs
#      `make check` again, this time with libtool's libltdl linked into
#      libruvector (--with-included-ltdl, as the Python wheel has it), so
#      both ways of linking libltdl pass the C tests;
#   3. runs the C tests under valgrind (memcheck);
#   4. `make distcheck` (the release tarball builds and passes its tests);
#   5. the Python package: wheels, pytest in a fresh venv, mypy --strict
#      (scripts/python-test.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"
(cd "$top" && ./bootstrap >/dev/null)
status=0
# ONNX Runtime's C header for the embed_onnx plugin's sessions (embed.md
# §3.4): Debian trixie's, into the git-ignored _deps/; configure finds it.
if [ ! -f "$top/_deps/onnxruntime/usr/include/onnxruntime/onnxruntime_c_api.h" ] &&
        ! "$top/scripts/fetch-ort-header.sh"; then
    echo "FAIL: scripts/fetch-ort-header.sh (the embed_onnx plugin builds without sessions)"
    status=1
fi

run_check() { # dir, label, configure args...
    dir=$1; label=$2; shift 2
    echo "== $label ($(date +%T)) =="
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1) ||
        { cat "$dir/configure.out"; return 1; }
    (cd "$dir" && make -j"$(nproc)" >make.out 2>&1) || { cat "$dir/make.out"; return 1; }
    if (cd "$dir" && make -j"$(nproc)" check >check.out 2>&1); then
        grep -E '^(# |PASS|SKIP|XFAIL)' "$dir/check.out" | grep -v '^# XPASS\|^# ERROR\|^# XFAIL' || true
    else
        grep -E '^(# |PASS|SKIP|FAIL|ERROR)' "$dir/check.out" || true
        for log in $(cd "$dir" && grep -l -E '^(FAIL|ERROR)' $(find . -name '*.trs') 2>/dev/null); do
            echo "---- ${log%.trs}.log"; cat "$dir/${log%.trs}.log"
        done
        return 1
    fi
}

run_check "$top/build-check" "make check" || status=1

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_check "$top/build-asan" "make check under ASan+UBSan, included libltdl" \
    --with-included-ltdl CFLAGS="-O1 -g $san" LDFLAGS="$san" || status=1

echo "== valgrind memcheck ($(date +%T)) =="
vg_fail=0
# test_kmeans is left to ASan: under valgrind its GEMM loops take ~10 minutes.
# The feature plugins' tests load their plugins from the build tree;
# test_embed_plugin also opens the onnxruntime wheel's library when python3
# has it. The suppressions cover a false alarm inside the system's dynamic
# loader (plugins/embed-onnx/tests/valgrind.supp), not our code.
b="$top/build-check"
for t in test_errors test_config test_cpu test_topo test_loader test_kernel_slots test_host test_pool test_cancel test_durable \
         test_persist test_dataio test_rabitq test_rabitq_scan test_cal_truth test_cal_ladder test_hostile test_hostile_data test_search_scratch \
         rulake/test_lake_plugin rulake/test_lake_cache rulake/test_lake_evict rulake/test_lake_cachedir \
         rulake/test_lake_async rulake/test_lake_leaves rulake/test_lake_warm rulake/test_lake_local_writes \
         a2a/test_a2a_plugin a2a/test_a2a_client a2a/test_a2a_client_hostile a2a/test_a2a_io a2a/test_a2a_astream a2a/test_a2a_discover a2a/test_a2a_fallback \
         a2a/test_a2a_budget ../plugins/embed-onnx/tests/test_embed_plugin \
         ../plugins/embed-onnx/tests/test_pooling; do
    name=${t##*/}
    [ -x "$b/tests/$t" ] || { echo "SKIP: valgrind $name (not built: no jansson or cmocka)"; continue; }
    if ! (cd "$b" && env RUV_TEST_UNDER_VALGRIND=1 RUVECTOR_PLUGIN_PATH="$b/plugins/kernel-avx2:$b/plugins/kernel-avx512:$b/plugins/kernel-neon:$b/tests/fixtures:$b/plugins/rulake:$b/plugins/a2a:$b/plugins/embed-onnx" \
            RUV_TEST_FIXTURES="$b/tests/fixtures" RUV_TEST_SRCDIR="$top" \
            ./libtool --mode=execute valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --suppressions="$top/plugins/embed-onnx/tests/valgrind.supp" \
            "./tests/$t" >"$b/valgrind-$name.out" 2>&1); then
        echo "FAIL: valgrind $name"; cat "$b/valgrind-$name.out"; vg_fail=1
    else
        echo "PASS: valgrind $name"
    fi
done
# The model registry and download tests; the download test needs its
# loopback servers: model-fetch.sh starts them and runs the binary under
# RUV_TEST_WRAPPER.
if [ -x "$b/plugins/embed-onnx/tests/test_model_registry" ]; then
    if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            "$b/plugins/embed-onnx/tests/test_model_registry" >"$b/valgrind-test_model_registry.out" 2>&1; then
        echo "PASS: valgrind test_model_registry"
    else
        echo "FAIL: valgrind test_model_registry"; cat "$b/valgrind-test_model_registry.out"; vg_fail=1
    fi
fi
if [ -x "$b/plugins/embed-onnx/tests/test_model_fetch" ]; then
    if (cd "$b" && env RUV_TEST_BUILDDIR="$b" RUV_TEST_SRCDIR="$top" \
            RUV_TEST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
            "$top/plugins/embed-onnx/tests/model-fetch.sh" >"$b/valgrind-test_model_fetch.out" 2>&1); then
        echo "PASS: valgrind test_model_fetch"
    else
        echo "FAIL: valgrind test_model_fetch"; cat "$b/valgrind-test_model_fetch.out"; vg_fail=1
    fi
fi
[ $vg_fail -eq 0 ] || status=1

echo "== make distcheck ($(date +%T)) =="
if (cd "$top/build-check" && make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.out 2>&1); then
    grep -E 'archives ready|\.tar\.gz' "$top/build-check/distcheck.out" | head -3
    echo "PASS: distcheck"
else
    tail -60 "$top/build-check/distcheck.out"; echo "FAIL: distcheck"; status=1
fi

echo "== python package ($(date +%T)) =="
"$top/scripts/python-test.sh" || status=1

echo "== done ($(date +%T)) =="
[ $status -eq 0 ] && echo "ALL TESTS PASSED" || echo "SOME TESTS FAILED"
exit $status
