#!/bin/sh
# Runs test_model_fetch against model_server.py on 127.0.0.1: one plain
# HTTP server and, when the openssl CLI can make a test CA, one HTTPS server
# whose certificate that CA signs. Skips (77) without python3.
# RUV_TEST_WRAPPER (e.g. "valgrind --error-exitcode=1 ...") runs the binary.
set -u
# The servers are on 127.0.0.1: no proxy may stand in between.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

build=${RUV_TEST_BUILDDIR:-.}
src=${RUV_TEST_SRCDIR:-..}
py=${RUV_TOK_PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || { echo "SKIP: no $py"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ruv-model-fetch.XXXXXX") || exit 1
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM

"$py" "$src/plugins/embed-onnx/tests/model_server.py" make-model "$work/model" || exit 1

# start PORTFILE LOG [CERT KEY]: a server in the background; waits for its port.
start() {
    "$py" "$src/plugins/embed-onnx/tests/model_server.py" serve "$work/model" "$@" &
    pids="$pids $!"
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        [ $i -gt 200 ] && { echo "model_server.py did not start"; exit 1; }
        sleep 0.05
    done
}
start "$work/port" "$work/log"
RUV_TEST_MODEL_URL="http://127.0.0.1:$(cat "$work/port")"
RUV_TEST_MODEL_INDEX="$work/model/index.txt"
RUV_TEST_SERVER_LOG="$work/log"
RUV_TEST_MODEL_SRC="$work/model"
RUV_TEST_TMP="$work"
export RUV_TEST_MODEL_URL RUV_TEST_MODEL_INDEX RUV_TEST_SERVER_LOG RUV_TEST_MODEL_SRC RUV_TEST_TMP

# A test CA and a server certificate for 127.0.0.1 (IP SAN), made fresh.
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ruv-test-ca \
        -keyout "$work/ca.key" -out "$work/ca.pem" >/dev/null 2>&1 &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
        -keyout "$work/srv.key" -out "$work/srv.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$work/ext" &&
    openssl x509 -req -in "$work/srv.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
        -days 2 -extfile "$work/ext" -out "$work/srv.pem" >/dev/null 2>&1; then
    start "$work/tls-port" "$work/tls-log" "$work/srv.pem" "$work/srv.key"
    RUV_TEST_HTTPS_URL="https://127.0.0.1:$(cat "$work/tls-port")"
    RUV_TEST_CA_FILE="$work/ca.pem"
    RUV_TEST_HTTPS_LOG="$work/tls-log"
    export RUV_TEST_HTTPS_URL RUV_TEST_CA_FILE RUV_TEST_HTTPS_LOG
else
    echo "note: openssl could not make a test CA; the HTTPS cases are skipped"
fi

${RUV_TEST_WRAPPER:-} "$build/plugins/embed-onnx/tests/test_model_fetch"
