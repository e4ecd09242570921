#!/usr/bin/env bash
# `make native`: build FLINT for this CPU, and python-flint against it, inside
# native/ (nothing system-wide except Debian's build tools when run as root).
# The portable python-flint wheel lacks FLINT's fft_small (AVX2) multiplication;
# with it, pi to 10^8 places is several times faster. The engine uses
# native/python when it exists and the wheel otherwise (compute/native.py).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
flint_version=3.6.0
flint_sha256=4307a504622702bf0be6d8969791f7d7ff378645cf2ae3bb5a7a2b56653d97f1
python_flint_version=0.9.0
prefix=$root/native/flint
build=$root/native/build
python=$root/.venv/bin/python

has_avx2() { grep -qw avx2 /proc/cpuinfo; }

tools="gcc make patch autoconf automake libtool m4 pkg-config libgmp-dev libmpfr-dev"
missing=$(for package in $tools; do dpkg -s "$package" >/dev/null 2>&1 || echo "$package"; done)
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Install the build tools first: sudo apt-get install -y" $missing >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

# FLINT's source as Debian ships it, from the Debian mirror this machine's apt uses.
mirror=$(grep -rhoE '^(URIs:|deb)[[:space:]]+[^[:space:]]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
mirror=${mirror%/}
tarball=$build/flint_${flint_version}.orig.tar.gz
mkdir -p "$build"
if ! echo "$flint_sha256  $tarball" | sha256sum -c --status 2>/dev/null; then
    [ -n "$mirror" ] || { echo "No Debian mirror found in /etc/apt; put flint_${flint_version}.orig.tar.gz in $build" >&2; exit 1; }
    curl -fsSL -o "$tarball" "$mirror/pool/main/f/flint/flint_${flint_version}.orig.tar.gz"
    echo "$flint_sha256  $tarball" | sha256sum -c --status || { echo "FLINT tarball checksum mismatch" >&2; exit 1; }
fi

# One change to FLINT (scripts/flint-fft-profile.patch): how fft_small chooses
# the primes and coefficient size of a product. FLINT's score chose products
# that took 17% longer than the best choice on this machine's CPU; the patch's,
# fitted to the time of every choice, 2% (docs/performance.md).
patch_file=$root/scripts/flint-fft-profile.patch
patched_marker=$prefix/fft-profile-$(sha256sum "$patch_file" | cut -c1-16)
if ! grep -qs "Version: $flint_version" "$prefix/lib/pkgconfig/flint.pc" || [ ! -f "$patched_marker" ]; then
    rm -rf "$prefix"
    rm -rf "$build/flint-$flint_version"
    tar -xzf "$tarball" -C "$build"
    cd "$build/flint-$flint_version"
    patch -p1 --quiet < "$patch_file"
    ./bootstrap.sh
    cpu_flags=""
    has_avx2 && cpu_flags="--enable-avx2"
    # The same FLINT version as the portable wheel's, so the only difference
    # is the build: for this CPU, with fft_small. (FLINT 3.1.3 fails to build
    # here with AVX-512 enabled: "asm operand has impossible constraints".)
    ./configure --prefix="$prefix" --disable-static $cpu_flags
    make -j"$(nproc)"
    make install
    touch "$patched_marker"
    cd "$root"
fi

# compute/shared_transforms.c includes one of FLINT's source files, for the
# conversions it keeps static; it compiles against the installed headers.
flint_source=$prefix/source
if [ ! -f "$flint_source/fft_small/mpn_mul.c" ]; then
    mkdir -p "$flint_source/fft_small"
    tar -xzOf "$tarball" "flint-$flint_version/src/fft_small/mpn_mul.c" > "$flint_source/fft_small/mpn_mul.c"
    patch --quiet "$flint_source/fft_small/mpn_mul.c" < "$patch_file"
fi

# The spot check's C kernel (compute/bbp.py loads it when present).
mkdir -p "$root/native/lib"
gcc -O3 -march=native -Wall -shared -fPIC -o "$root/native/lib/libpibbp.so" "$root/compute/bbp_kernel.c" -lm

# The engine's C path (compute/native_pi.py loads it), linked to that FLINT;
# $ORIGIN keeps the link valid if the project folder moves. Built with the
# flags FLINT's configure chose for itself (-O3, and -mavx2 -mfma with AVX2):
# compute/shared_transforms.c compiles fft_small's conversions, whose merges
# take 0.27 s at -O2 against 0.20 s, and whose 8-limb additions GCC cannot
# allocate registers for under -march=native on an AVX-512 CPU ("asm operand
# has impossible constraints"). The flags are kept in native/lib/pinative.cflags
# for the tests that compile against the same sources. (FLINT's inline
# arf_get_mag makes GCC warn of a read out of bounds at -O3, falsely; FLINT
# silences the same warning.)
native_cflags="-O3 -Wno-stringop-overread"
has_avx2 && native_cflags="$native_cflags -mavx2 -mfma"
echo "$native_cflags" > "$root/native/lib/pinative.cflags"
# shellcheck disable=SC2086  # the flags are words
gcc $native_cflags -Wall -shared -fPIC -o "$root/native/lib/libpinative.so" "$root/compute/pi_native.c" \
    -I"$prefix/include" -I"$prefix/include/flint" -I"$flint_source" -L"$prefix/lib" \
    -Wl,-rpath,'$ORIGIN/../flint/lib' -lflint -lgmp -lpthread -lm

# python-flint from its source release, linked to that FLINT (rpath: no LD_LIBRARY_PATH needed;
# no wheel cache: a wheel built against another FLINT would be reused).
rm -rf "$root/native/python"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LDFLAGS="-Wl,-rpath,$prefix/lib" \
    "$python" -m pip install --quiet --no-cache-dir --no-binary python-flint --no-deps \
    --target "$root/native/python" "python-flint==$python_flint_version"
"$python" -c "import sys; sys.path.insert(0, '$root/native/python'); import flint; print('native engine ready: python-flint', flint.__version__, 'on FLINT', flint.__FLINT_VERSION__)"
