#!/usr/bin/env bash
# The Linux kernel's own x86 selftests (tools/testing/selftests/x86: single-stepping, SYSRET,
# segment and LDT games, sigreturn, FSGSBASE, XSAVE...), built static, 64- and 32-bit, from
# Debian's linux-source package: guest programs no one here wrote, which the Linux guest runs
# natively and on thinvisor so the two can be compared (tests/boot/cases_selftests.sh).
# Built once into a cache outside the clone; prints the folder with the binaries.
#
# usage: tests/linux/selftests-build.sh          build unless cached; print the folder
#        tests/linux/selftests-build.sh --path   print the folder if it is built, else fail
# Environment: THINVISOR_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/thinvisor)
set -euo pipefail

PACKAGE=linux-source-6.1           # the series of Debian's linux-image-amd64 in bookworm
die() { echo "selftests-build: error: $*" >&2; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${THINVISOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thinvisor}
version=$(apt-cache policy "$PACKAGE" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[[ -n $version && $version != "(none)" ]] ||
    die "apt knows no $PACKAGE (run 'apt-get update', or 'make deps')"
dest=$cache/x86-selftests-$version-$(sha256sum "$here/selftests-build.sh" | cut -c1-12)
if [[ -s $dest/list ]]; then
    echo "$dest"
    exit 0
fi
[[ ${1:-} != --path ]] || die "the x86 selftests are not built yet; 'make test' builds them"
for p in gcc-multilib libc6-dev-i386 make xz-utils; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
        die "needs the Debian package $p ('make deps' installs it)"
done

mkdir -p "$cache"
work=$(mktemp -d "$cache/x86-selftests.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$cache/x86-selftests-build.log
echo "selftests-build: building the x86 selftests of $PACKAGE $version (once; log: $log)" >&2
(cd "$work" && apt-get download "$PACKAGE=$version" 2>&1 | grep -v 'unsandboxed as root' >"$log") ||
    true
deb=$(ls "$work"/"$PACKAGE"_*.deb 2>/dev/null) || die "apt-get download $PACKAGE=$version failed (see $log)"
# Only what the x86 selftests build from: a few MB of the 140 MB tarball.
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$PACKAGE.tar.xz" |
    tar -xJ -C "$work" --wildcards "$PACKAGE/tools/testing/selftests/x86/*" \
        "$PACKAGE/tools/testing/selftests/kselftest*" "$PACKAGE/tools/testing/selftests/lib.mk" \
        "$PACKAGE/tools/include/*" "$PACKAGE/arch/x86/include/asm/desc_defs.h" ||
    die "cannot unpack the x86 selftests from $deb"
rm -f "$deb"
mkdir -p "$work/out"
# Static, so the initramfs needs no libc; the system's kernel headers (KHDR_INCLUDES empty).
if ! make -C "$work/$PACKAGE/tools/testing/selftests/x86" OUTPUT="$work/out" \
        EXTRA_CFLAGS=-static KHDR_INCLUDES= >>"$log" 2>&1; then
    grep -E 'error' "$log" | tail -n 5 | sed 's/^/    /' >&2
    die "the x86 selftests did not build (see $log)"
fi
strip "$work"/out/*_32 "$work"/out/*_64
(cd "$work/out" && ls -1 ./*_32 ./*_64 | sed 's|^\./||') >"$work/out/list"
echo "$PACKAGE $version, tools/testing/selftests/x86, static, built $(date -u '+%Y-%m-%d')" \
    >"$work/out/source.txt"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest"
