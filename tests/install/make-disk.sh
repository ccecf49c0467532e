#!/usr/bin/env bash
# Turns the /boot of a staged root (stage.sh, then mkconfig.sh -o ROOT/boot/grub/grub.cfg)
# into a disk image that boots like a machine's disk: grub-mkrescue's GRUB "hybrid" image, an
# ISO 9660 file system whose sector 0 is GRUB's MBR, as tests/linux/build-image.sh makes
# (its README explains the format). A BIOS, or thinvisor chainloading sector 0 at 0000:7C00,
# boots it as hard disk 0x80, and GRUB finds its grub.cfg in /boot/grub on (hd0).
#
# usage: tests/install/make-disk.sh --root DIR --out IMG
set -euo pipefail

die() { echo "make-disk: error: $*" >&2; exit 2; }

root='' out=''
while (($#)); do
    (($# >= 2)) || die "$1 needs a value"
    case $1 in
        --root) root=$2 ;;
        --out) out=$2 ;;
        *) die "unknown argument $1 (usage: make-disk.sh --root DIR --out IMG)" ;;
    esac
    shift 2
done
[[ -n $root && -n $out ]] || die "usage: make-disk.sh --root DIR --out IMG"
[[ -f $root/boot/grub/grub.cfg ]] || die "no $root/boot/grub/grub.cfg (run mkconfig.sh -o first)"

# Only /boot goes on the disk; the staged /etc stays behind, as it would on a separate /boot.
tree=$out.tree
rm -rf "$tree"
mkdir -p "$tree"
cp -r "$root/boot" "$tree/boot"
# Only the BIOS platform, no locales, fonts or themes: the menu never shows.
grub-mkrescue --locales= --fonts= --themes= -o "$out" "$tree" >"$out.mkrescue.log" 2>&1 ||
    { cat "$out.mkrescue.log" >&2; die "grub-mkrescue failed"; }
rm -rf "$tree"
[[ $(od -An -tx1 -j510 -N2 "$out" | tr -d ' ') == 55aa ]] || die "$out: no MBR boot signature"
