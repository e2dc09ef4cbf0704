#!/bin/sh
# The engine's layering, checked on its #include lines (run by make check).
#
# engine/ has one folder per subsystem, ranked from the bottom up:
#   base < cpu < plugin < exec < store < index < index/ivf < index/rabitq < core
# A file may include engine headers of its own folder and of lower folders
# only, spelled with the folder ("store/persist.h"), and no chain of engine
# headers may lead back to where it started. Kernel plugins include no
# engine header at all: they see the public ABI (include/ruvector), their
# own folder and plugins/common only.
#
#   tests/layers.sh             checks the source tree, after checking that
#                               the checker rejects an upward include, a
#                               cycle and an unknown folder
#   tests/layers.sh DIR         checks the engine tree DIR (exit 1 on a fault)
set -u

rank() {
    case $1 in
    base/*) echo 0 ;;
    cpu/*) echo 1 ;;
    plugin/*) echo 2 ;;
    exec/*) echo 3 ;;
    store/*) echo 4 ;;
    index/ivf/*) echo 6 ;;
    index/rabitq/*) echo 7 ;;
    index/*) echo 5 ;;
    core/*) echo 8 ;;
    *) echo -1 ;;
    esac
}

# Prints "file included" for every quoted engine include under dir.
edges() {
    (cd "$1" && find . -name '*.[ch]' | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
            while read -r inc; do
                [ "$inc" = config.h ] || printf '%s %s\n' "$f" "$inc"
            done
    done)
}

check_tree() { # engine dir; prints every fault, returns 1 if any
    dir=$1
    faults=0
    for f in $(cd "$dir" && find . -name '*.[ch]' | sed 's|^\./||' | LC_ALL=C sort); do
        if [ "$(rank "$f")" -lt 0 ]; then
            echo "layers: $f is not in a subsystem folder"
            faults=1
        fi
    done
    list=$(edges "$dir")
    # Direction: nothing includes a higher layer.
    echo "$list" | while read -r f inc; do
        [ -n "$f" ] || continue
        if [ ! -f "$dir/$inc" ]; then
            echo "layers: $f includes \"$inc\", which is no engine header (spell it with its folder)"
            echo fault
            continue
        fi
        rf=$(rank "$f")
        ri=$(rank "$inc")
        if [ "$ri" -gt "$rf" ]; then
            echo "layers: $f (layer ${f%/*}) includes \"$inc\" from the higher layer ${inc%/*}"
            echo fault
        fi
    done >"$tmp/direction"
    grep -v '^fault$' "$tmp/direction"
    grep -q '^fault$' "$tmp/direction" && faults=1
    # Cycles: a depth-first search over header -> header edges.
    echo "$list" | awk '
        NF == 2 { n[$1]++; to[$1, n[$1]] = $2 }
        function visit(v, path,    i, w) {
            state[v] = 1
            for (i = 1; i <= n[v]; i++) {
                w = to[v, i]
                if (state[w] == 1) {
                    print "layers: include cycle: " path " -> " w
                    bad = 1
                } else if (state[w] == 0) {
                    visit(w, path " -> " w)
                }
            }
            state[v] = 2
        }
        END {
            for (e in n) if (!(e in state)) state[e] = 0
            for (e in n) if (state[e] == 0) visit(e, e)
            exit bad
        }' || faults=1
    return $faults
}

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

if [ $# -eq 1 ]; then
    check_tree "$1"
    exit $?
fi

top=${RUV_TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}

# The checker must be able to fail: three small trees with one fault each.
mkbad() { # name; then "file:include" pairs
    d="$tmp/$1"
    shift
    for spec in "$@"; do
        f=${spec%%:*}
        inc=${spec#*:}
        mkdir -p "$d/$(dirname "$f")"
        [ -n "$inc" ] && printf '#include "%s"\n' "$inc" >>"$d/$f"
        touch "$d/$f"
    done
}
mkbad upward base/error.h: store/persist.h:base/error.h base/util.c:store/persist.h
mkbad cycle index/a.h:index/b.h index/b.h:index/c.h index/c.h:index/a.h
mkbad unknown base/error.h: misc.c:base/error.h
mkbad unspelled base/error.h: base/util.h: base/util.c:util.h
for t in upward cycle unknown unspelled; do
    if check_tree "$tmp/$t" >"$tmp/$t.out"; then
        echo "FAIL: the checker accepted a tree with a fault ($t)"
        exit 1
    fi
    echo "self-test ($t): $(head -n 1 "$tmp/$t.out")"
done

status=0
check_tree "$top/engine" || status=1

# Kernel plugins: public headers only (their tests may reach into the engine).
for f in "$top"/plugins/kernel-*/*.[ch] "$top"/plugins/common/*.h; do
    case ${f##*/} in test_*) continue ;; esac
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $inc in
        config.h) continue ;;
        ../common/*.h | */*) ;;
        *) [ -f "${f%/*}/$inc" ] && continue ;; # the plugin's own header
        esac
        case $inc in ../common/*.h) [ -f "$top/plugins/common/${inc#../common/}" ] && continue ;; esac
        echo "layers: ${f#"$top"/} includes \"$inc\" (plugins see include/ruvector, their own folder and plugins/common only)"
        status=1
    done
done

[ $status -eq 0 ] && echo "layers: engine/ and plugins/ follow the layering"
exit $status
