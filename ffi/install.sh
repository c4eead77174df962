#!/bin/sh
# Installs the C ABI under a prefix: the header in PREFIX/include, the
# libraries in PREFIX/lib, and PREFIX/lib/pkgconfig/strata.pc, so that
# `cc $(pkg-config --cflags --libs strata)` works.
#
#   ffi/install.sh [PREFIX [LIBRARY_DIR]]
#
# PREFIX defaults to /usr/local; LIBRARY_DIR, where the built libstrata.so
# and libstrata.a are, to target/release (after
# `cargo build --release -p strata-ffi`).
set -eu
ffi=$(cd "$(dirname "$0")" && pwd)
prefix=${1:-/usr/local}
library_dir=${2:-$ffi/../target/release}
for library in libstrata.so libstrata.a; do
    if [ ! -f "$library_dir/$library" ]; then
        echo "no $library in $library_dir: run cargo build --release -p strata-ffi first" >&2
        exit 1
    fi
done
header="$ffi/include/strata.h"
part() { sed -n "s/^#define STRATA_VERSION_$1 //p" "$header"; }
version="$(part MAJOR).$(part MINOR).$(part PATCH)"
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
cp "$header" "$prefix/include/"
cp "$library_dir/libstrata.so" "$library_dir/libstrata.a" "$prefix/lib/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$ffi/strata.pc.in" \
    > "$prefix/lib/pkgconfig/strata.pc"
echo "installed strata $version under $prefix"
