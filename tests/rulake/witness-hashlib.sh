#!/bin/sh
# make check: the C witnesses against Python's hashlib (skips without python3).
command -v python3 >/dev/null 2>&1 || { echo "python3 not found"; exit 77; }
here=$(dirname "$0")
exec python3 "${RUV_TEST_SRCDIR:-$here/../..}/tests/rulake/witness_hashlib.py" \
    "${RUV_TEST_BUILDDIR:-.}/tests/rulake/witness_cli" 400
