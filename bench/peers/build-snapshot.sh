#!/bin/sh
# Builds a frozen copy of ruvector for benchmarking: the committed tree at
# REV (default HEAD) is exported with `git archive` and built with
# scripts/build.sh, so that concurrent edits and rebuilds of the working
# tree cannot change the binary in the middle of a run. Prints the CLI path;
# the commit is recorded in <dir>/COMMIT, which run.py reports.
#
#   bench/peers/build-snapshot.sh [REV]      # into /tmp/ruvector-peers-src
#   PEERS_SNAPSHOT=/some/dir bench/peers/build-snapshot.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
rev=${1:-HEAD}
dir=${PEERS_SNAPSHOT:-/tmp/ruvector-peers-src}
commit=$(git -C "$top" rev-parse "$rev")
if [ -f "$dir/COMMIT" ] && [ "$(cat "$dir/COMMIT")" = "$commit" ] && [ -x "$dir/build/tools/ruvector" ]; then
    echo "$dir/build/tools/ruvector"
    exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
git -C "$top" archive "$commit" | tar -x -C "$dir"
(cd "$dir" && ./scripts/build.sh >&2)
echo "$commit" >"$dir/COMMIT"
echo "$dir/build/tools/ruvector"
