#!/bin/sh
# Configures and builds ruvector in build/ (out of tree). Extra arguments go
# to configure. Quiet unless something fails.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${RUV_BUILD_DIR:-$top/build}
# bootstrap when configure or libtool's copied libltdl sources are missing (e.g. a checkout
# updated from before libltdl was included)
{ [ -x "$top/configure" ] && [ -f "$top/libltdl/ltdl.mk" ]; } || (cd "$top" && ./bootstrap >/dev/null)
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --enable-werror "$@" >configure.out 2>&1 || { cat configure.out; exit 1; }
make -j"$(nproc)" >make.out 2>&1 || { cat make.out; exit 1; }
echo "built in $build"
