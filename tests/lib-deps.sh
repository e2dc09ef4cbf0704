#!/bin/sh
# What libruvector needs from the system at load time. hwloc (and the
# libudev it pulls in) is opened at run time, never linked; with
# --with-included-ltdl, libltdl is linked in too, so libruvector needs no
# library beyond the C runtime: that is what lets the Python wheel carry
# libruvector and the kernel plugins and nothing else. Runs from the top
# build directory.
set -u
lib=engine/.libs/libruvector.so
if ! command -v readelf >/dev/null 2>&1; then echo "readelf not found"; exit 77; fi
[ -f "$lib" ] || { echo "no $lib"; exit 99; }
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "libruvector needs: $(echo $needed)"
fails=0
for dep in $needed; do
    case $dep in
    libhwloc* | libudev*) echo "FAIL: links $dep (hwloc must be opened at run time)"; fails=1 ;;
    libltdl*) [ "$RUV_TEST_INCLUDED_LTDL" = yes ] &&
        { echo "FAIL: links $dep although configured --with-included-ltdl"; fails=1; } ;;
    libc.so* | libm.so* | libdl.so* | libpthread.so* | ld-linux*) ;;
    libasan* | libubsan* | liblsan* | libtsan* | libgcc_s*) ;; # compiler runtime (sanitizer builds)
    *) if [ "$RUV_TEST_INCLUDED_LTDL" = yes ]; then echo "FAIL: unexpected $dep"; fails=1; fi ;;
    esac
done
if [ "$RUV_TEST_INCLUDED_LTDL" = yes ] &&
        readelf --dyn-syms -W "$lib" | awk '$7 != "UND" { print $8 }' | grep -q '^lt_'; then
    echo "FAIL: the included libltdl's lt_* symbols are exported"; fails=1
fi
exit $fails
