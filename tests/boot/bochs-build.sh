#!/usr/bin/env bash
# Bochs 3.0, built once from Debian trixie's source package into a cache outside the clone:
# the VMX machine of the boot tests, `make run`, `make debug` and `make bench`.
#
# Why not bookworm's Bochs 2.7: it keeps an INIT pending after the INIT VM exit, so the INIT
# fires again at every VM entry and a guest's AP never runs on the default (wait-for-SIPI)
# path. Upstream fixed that in 2022 ("Fix that the INIT signal remains pending even after
# delivery of VM-exit/#VMEXIT(INIT)"); 3.0 carries the fix. docs/testing.md, "Which Bochs".
#
# usage: tests/boot/bochs-build.sh          build unless cached; print the binary's path
#        tests/boot/bochs-build.sh --path   print the binary's path if it is built, else fail
#                                           with a message that says how to build it
# Environment: THINVISOR_CACHE  the cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/thinvisor)
#              DEBIAN_MIRROR    the Debian mirror (default http://deb.debian.org/debian)
#              BOCHS_JOBS       parallel make jobs (default: the number of CPUs)
#
# Trust: third_party/debian-source.sh fetches the two tarballs, the whole source, checked
# against trixie's index and Debian's archive keyring. Debian's patches are not applied:
# they touch only the BIOS build, the docs and the sample bochsrc.
#
# Ours are (tests/boot/bochs-patches/, each says why): where Bochs 3.0 departs from the SDM
# in a way no hypervisor can work around, the emulated CPU is made to do what the SDM says,
# so that a test failure is thinvisor's. A change of a patch or of the flags below is a new
# cache entry: the entry's name carries a hash of both.
set -euo pipefail

UPSTREAM=3.0
# What thinvisor's tests need of the emulator: 64-bit CPUs with VMX level 2 (EPT, unrestricted
# guest, VPID) and SVM (issue 15), SMP, PCI and the CD-ROM GRUB boots from, the A20 pin,
# memory types (the EPT types follow the MTRRs), AVX/EVEX (XSETBV), the debugger for make
# debug (asleep unless -debugger wakes it: a Linux boot took the same 51 s wall as without
# it; awake it costs about 15%) and nogui for headless runs. No plugins, one
# static binary. --disable-show-ips: with nogui, Bochs prints the IPS from a SIGALRM handler
# that takes the log mutex, and deadlocks when the alarm interrupts another log line (seen
# with Linux as guest).
CONFIGURE_FLAGS=(
    --enable-x86-64 --enable-smp --enable-cpu-level=6 --enable-vmx=2 --enable-svm
    --enable-avx --enable-evex --enable-all-optimizations --enable-repeat-speedups
    --enable-pci --enable-cdrom --enable-a20-pin --enable-memtype
    --enable-debugger --enable-disasm
    --with-nogui --disable-plugins --disable-docbook --disable-show-ips
)
PATCHES=("$(dirname "${BASH_SOURCE[0]}")"/bochs-patches/*.patch)
# The Debian packages each build step needs, as command=package.
BUILD_TOOLS=(g++=g++ make=make xz=xz-utils patch=patch apt-get=apt gpgv=gpgv)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "bochs-build: error: $*" >&2; exit 1; }

cache=${THINVISOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thinvisor}
flags_hash=$( { printf '%s\n' "$UPSTREAM" "${CONFIGURE_FLAGS[@]}"; cat "${PATCHES[@]}"; } |
              sha256sum | cut -c1-12)
dest=$cache/bochs-$UPSTREAM-$flags_hash
binary=$dest/bochs

if [[ -x $binary ]]; then
    echo "$binary"
    exit 0
fi
if [[ ${1:-} == --path ]]; then
    die "Bochs $UPSTREAM is not built yet (looked for $binary); 'make bochs' builds it (make deps does too)"
fi
[[ $# -eq 0 ]] || { echo "usage: $0 [--path]" >&2; exit 2; }

missing=()
for t in "${BUILD_TOOLS[@]}"; do
    command -v "${t%%=*}" >/dev/null || missing+=("${t#*=}")
done
[[ -r $KEYRING ]] || missing+=(debian-archive-keyring)
if ((${#missing[@]})); then
    die "building Bochs $UPSTREAM needs the Debian packages: ${missing[*]} ('make deps' installs them)"
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/bochs-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$cache/bochs-build.log
: >"$log"
echo "bochs-build: building Bochs $UPSTREAM from Debian trixie's source package (a few minutes, once; log: $log)" >&2

# The source package, checked against Debian's keyring (third_party/debian-source.sh).
"$(dirname "${BASH_SOURCE[0]}")/../../third_party/debian-source.sh" trixie bochs "$UPSTREAM" \
    "$work/tarballs" >>"$log" 2>&1 ||
    { tail -n 5 "$log" | sed 's/^/    /' >&2; die "cannot fetch the bochs $UPSTREAM source (see $log)"; }
tarballs=("$work"/tarballs/bochs_*.tar.*)
((${#tarballs[@]} == 2)) || die "expected the orig and debian tarballs of bochs $UPSTREAM (see $log)"
version=$UPSTREAM
for t in "${tarballs[@]}"; do
    [[ $t == *.debian.tar.* ]] && version=$(basename "$t" | sed 's/^bochs_\(.*\)\.debian\.tar\..*/\1/')
done

mkdir -p "$work/src" "$work/build"
for t in "${tarballs[@]}"; do tar -C "$work/src" -xf "$t"; done
src=$(find "$work/src" -mindepth 2 -maxdepth 2 -name configure -printf '%h\n' | head -n 1)
[[ -n $src ]] || die "no configure script in the bochs $version source"
for p in "${PATCHES[@]}"; do
    patch -d "$src" -p1 --forward --quiet <"$p" >>"$log" 2>&1 ||
        die "$(basename "$p") does not apply to bochs $version (see $log)"
done

jobs=${BOCHS_JOBS:-$(nproc)}
if ! (cd "$work/build" && "$src/configure" "${CONFIGURE_FLAGS[@]}" >>"$log" 2>&1); then
    grep -E '^configure: error' "$log" | tail -n 3 | sed 's/^/    /' >&2
    die "Bochs $version: configure failed (a missing build dependency? see $log)"
fi
if ! make -C "$work/build" -j"$jobs" >>"$log" 2>&1; then
    grep -E 'error' "$log" | tail -n 5 | sed 's/^/    /' >&2
    die "Bochs $version: the build failed (see $log)"
fi
help=$("$work/build/bochs" --help 2>&1 || true)
[[ $help == *"-rc filename"* ]] ||
    die "the Bochs $version just built has no debugger (-rc): see $log"

# Into place in one rename, so a half-built cache entry is never taken for a build.
mkdir -p "$work/out"
cp "$work/build/bochs" "$work/out/bochs"
{
    echo "bochs $version, built $(date -u '+%Y-%m-%d %H:%M UTC') by $0"
    echo "source: Debian trixie, $(for t in "${tarballs[@]}"; do basename "$t"; done | paste -sd ' ')"
    echo "patches: $(for p in "${PATCHES[@]}"; do basename "$p"; done | paste -sd ' ')"
    echo "configure ${CONFIGURE_FLAGS[*]}"
} >"$work/out/build-info.txt"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "bochs-build: Bochs $version is in $dest" >&2
echo "$binary"
