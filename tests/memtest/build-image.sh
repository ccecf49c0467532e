#!/usr/bin/env bash
# Builds build/memtest/memtest-disk.img: memtest86+ (Debian's package, its BIOS and EFI
# images) behind GRUB, in a hybrid image made by grub-mkrescue that boots from its MBR like a
# hard disk, or through its EFI GRUB under UEFI (as tests/linux/build-image.sh's Linux disk),
# so thinvisor chainloads it as it does any disk. A guest no one here wrote: it starts every
# CPU itself and writes and reads all the memory the guest's E820 map offers.
#
# usage: tests/memtest/build-image.sh [--out DIR]
# The .deb stays in DIR/debs (one download, then no network); the image is rebuilt when its
# stamp (this script, grub.cfg, the package's version, grub-mkrescue's) changes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$here/../../build/memtest
while (($#)); do
    case $1 in
        --out) (($# >= 2)) || { echo "memtest-image: --out needs a directory" >&2; exit 2; }
               out=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "memtest-image: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
log() { echo "memtest-image: $*" >&2; }
die() { echo "memtest-image: error: $*" >&2; exit 1; }

mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
image=$out/memtest-disk.img
exec 9>"$out/.lock"
flock 9

# shellcheck source=tests/debs.sh
source "$here/../debs.sh"           # apt_download DIR PKG..., apt_lists_ready PKG
if ! compgen -G "$out/debs/memtest86+_*.deb" >/dev/null; then
    apt_lists_ready memtest86+
    apt_download "$out/debs" memtest86+ || die "apt-get download memtest86+ failed"
fi
deb=$(compgen -G "$out/debs/memtest86+_*.deb" | sort -V | tail -1)   # the newest, when several

stamp=$( { sha256sum "$0" "$here/grub.cfg"; basename "$deb"; grub-mkrescue --version; } | sha256sum)
if [[ -f $image && -f $image.stamp && $(<"$image.stamp") == "$stamp" ]]; then
    touch "$image"                       # newer than what make saw change, so make is done
    echo "memtest-image: $image is up to date ($(basename "$deb"))" >&2
    exit 0
fi

work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/pkg"
mkdir -p "$work/iso/boot/grub"
for f in memtest86+x64.bin memtest86+x64.efi; do
    [[ -f $work/pkg/boot/$f ]] || die "$(basename "$deb") has no boot/$f"
    cp "$work/pkg/boot/$f" "$work/iso/boot/"
done
cp "$here/grub.cfg" "$work/iso/boot/grub/grub.cfg"
grub-mkrescue -o "$image.tmp" "$work/iso" 2>"$work/grub-mkrescue.log" ||
    { cat "$work/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
mv "$image.tmp" "$image"
echo "$stamp" >"$image.stamp"
echo "memtest-image: $image ($(basename "$deb"))" >&2
