#!/bin/sh
# Fetches ONNX Runtime's C API header for building the embed_onnx plugin
# (embed.md §3.4): Debian trixie's libonnxruntime-dev (85 KB; the header at
# API 21), downloaded with apt into a private, git-ignored folder and
# unpacked there. The machine's apt setup is never touched: the sources list,
# the package lists and the cache all live under DEST/apt, and nothing is
# installed (only the header is used: trixie's runtime needs glibc >= 2.38).
#
# Usage: scripts/fetch-ort-header.sh [DEST]     (default: <top>/_deps/onnxruntime)
# Then:  DEST/usr/include/onnxruntime/onnxruntime_c_api.h
# Env:   RUV_ORT_DEB_VERSION (default 1.21.0+dfsg-1), RUV_DEBIAN_MIRROR (default:
#        the first Debian URI of this machine's apt sources, else deb.debian.org).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/_deps/onnxruntime}
version=${RUV_ORT_DEB_VERSION:-1.21.0+dfsg-1}
want_api=21
header=$dest/usr/include/onnxruntime/onnxruntime_c_api.h

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    { echo "fetch-ort-header: needs apt-get and dpkg-deb (Debian or Ubuntu)" >&2; exit 1; }

mirror=${RUV_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
    # deb822 (.sources: "URIs: ...") or one-line ("deb URI suite ...") entries
    # of the machine's own Debian archive, not its security archive.
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian\)/*[[:space:]]*$|\1|p' | head -n 1)
    [ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -n 's|^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*/debian\)/*[[:space:]].*|\2|p' |
        head -n 1)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { echo "fetch-ort-header: $keyring missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

apt=$dest/apt
rm -rf "$apt"
mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
: >"$apt/sources.list"
# A deb822 file is read from sourceparts only, so that folder is ours too.
cat >"$apt/sources.list.d/trixie.sources" <<SRC
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: $keyring
SRC
set -- -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sources.list.d" \
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Acquire::Languages=none" \
    -o "APT::Get::List-Cleanup=false"

echo "fetch-ort-header: trixie lists from $mirror (private: $apt)"
apt-get -q "$@" update >"$apt/update.log" 2>&1 || { cat "$apt/update.log" >&2; exit 1; }
# apt checks the .deb against the signed Release -> Packages SHA-256.
if ! (cd "$apt/debs" && apt-get -q "$@" download "libonnxruntime-dev=$version") >"$apt/download.log" 2>&1; then
    cat "$apt/download.log" >&2
    echo "fetch-ort-header: libonnxruntime-dev=$version not downloadable; trixie has:" >&2
    apt-cache "$@" policy libonnxruntime-dev >&2 || true
    exit 1
fi
deb=$(ls "$apt"/debs/libonnxruntime-dev_*.deb)
rm -rf "$dest/usr"
dpkg-deb -x "$deb" "$dest"
[ -f "$header" ] || { echo "fetch-ort-header: $deb has no onnxruntime_c_api.h" >&2; exit 1; }
api=$(sed -n 's/^#define ORT_API_VERSION \([0-9][0-9]*\).*/\1/p' "$header")
if [ "$api" != "$want_api" ]; then
    echo "fetch-ort-header: $header defines ORT_API_VERSION '${api:-none}', not $want_api" >&2
    exit 1
fi
cc=${CC:-cc}
if command -v "$cc" >/dev/null; then # the header must compile as C on its own
    printf '#include <onnxruntime_c_api.h>\n#if ORT_API_VERSION != %s\n#error API\n#endif\nint x;\n' "$want_api" |
        "$cc" -std=c11 -fsyntax-only -I"$dest/usr/include/onnxruntime" -x c - ||
        { echo "fetch-ort-header: $header does not compile as C11" >&2; exit 1; }
fi
echo "fetch-ort-header: $(basename "$deb") ($(wc -c <"$deb") bytes, sha256 $(sha256sum "$deb" | cut -c1-16)...)"
echo "fetch-ort-header: $header: ORT_API_VERSION $api"
