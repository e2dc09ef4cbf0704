#!/bin/sh
# Creates a separate virtualenv with the peer libraries that bench/peers/run.py
# compares ruvector against, installed from PyPI, and records their versions.
#
#   bench/peers/setup.sh                 # venv in /tmp/ruvector-peers-venv
#   PEERS_VENV=/some/dir bench/peers/setup.sh
#
# Nothing here touches the repository tree: the venv and the versions file live
# outside it. Pin a version with e.g. PEERS_FAISS="faiss-cpu==1.15.1".
set -eu
venv=${PEERS_VENV:-/tmp/ruvector-peers-venv}
python=${PYTHON:-python3}

pkgs="${PEERS_FAISS:-faiss-cpu} ${PEERS_HNSWLIB:-hnswlib} ${PEERS_USEARCH:-usearch} \
${PEERS_RABITQLIB:-rabitqlib} ${PEERS_RUVECTOR:-ruvector==0.1.4} numpy matplotlib"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
# One package at a time, so that a peer without a wheel for this platform does
# not stop the others from installing; run.py reports a missing peer as such.
failed=""
for p in $pkgs; do
    if ! "$venv/bin/python" -m pip install --quiet "$p"; then
        echo "setup.sh: could not install $p" >&2
        failed="$failed $p"
    fi
done

"$venv/bin/python" - <<'PY' | tee "$venv/peer-versions.txt"
import importlib.metadata as md
import platform
print(f"python {platform.python_version()}")
for dist in ("faiss-cpu", "hnswlib", "usearch", "rabitqlib", "ruvector", "numpy", "matplotlib"):
    try:
        print(f"{dist} {md.version(dist)}")
    except md.PackageNotFoundError:
        print(f"{dist} (not installed)")
PY
echo "venv: $venv (versions in $venv/peer-versions.txt)"
[ -z "$failed" ] || { echo "not installed:$failed" >&2; exit 1; }
