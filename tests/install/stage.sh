#!/usr/bin/env bash
# Builds a staged root for the install tests: what the Debian package (or `make install`) puts
# on a machine, plus the GRUB settings and an OS, so that mkconfig.sh can run grub-mkconfig on
# it and make-disk.sh can turn its /boot into a bootable disk.
#
# usage: tests/install/stage.sh --root DIR [--with deb|make] [--os linux|tiny|none]
#                               [--grub-default ENTRY] [--defaults FILE|-]
#   --root DIR        made afresh, thinvisor installed into it, then the files below
#   --with            deb (default): build/deb/thinvisor_*_amd64.deb (make deb) installed by
#                     dpkg --root=DIR (tests/install/dpkg-root.sh); make: `make install DESTDIR=DIR`
#   --os              the OS entry before thinvisor's (10_test_os): the Linux guest of
#                     tests/linux (its kernel and initramfs from build/linux, made by
#                     `make linux-guest`), tiny-os.asm, or none (default: tiny)
#   --grub-default    GRUB_DEFAULT in DIR/etc/default/grub (default: thinvisor)
#   --defaults FILE   replaces the installed DIR/etc/default/thinvisor; "-" removes it
#
# DIR/etc/default/grub makes a menu that never waits (timeout 0, hidden) and talks on COM1,
# where the tests read it. DIR/etc/grub.d holds the system's 00_header (grub-common), which
# writes the default and grub-reboot (next_entry) logic as on a real machine, 10_test_os in
# the place of 10_linux, and the installed 42_thinvisor.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
die() { echo "stage: error: $*" >&2; exit 2; }

root='' with=deb os=tiny grub_default=thinvisor defaults=''
while (($#)); do
    (($# >= 2)) || die "$1 needs a value"
    case $1 in
        --root) root=$2 ;;
        --with) with=$2 ;;
        --os) os=$2 ;;
        --grub-default) grub_default=$2 ;;
        --defaults) defaults=$2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
    shift 2
done
[[ -n $root ]] || die "--root is required"
case $os in linux | tiny | none) ;; *) die "--os takes linux, tiny or none" ;; esac
case $with in deb | make) ;; *) die "--with takes deb or make" ;; esac
[[ -f /etc/grub.d/00_header ]] || die "no /etc/grub.d/00_header (Debian package grub-common)"

rm -rf "$root"
mkdir -p "$root"
root=$(cd "$root" && pwd)

# The real installation, into the staged root.
if [[ $with == deb ]]; then
    debs=("$top"/build/deb/thinvisor_*_amd64.deb)
    [[ -f ${debs[0]} && ${#debs[@]} == 1 ]] || die "no single build/deb/thinvisor_*_amd64.deb (make deb)"
    "$here/dpkg-root.sh" "$root" -i "${debs[0]}" >"$root.install.log" 2>&1 ||
        { cat "$root.install.log" >&2; die "dpkg --root=$root -i ${debs[0]} failed"; }
else
    # The outer make's jobserver and level are not this make's business (make test runs the
    # tests from a recipe); -o installs the kernel that is there instead of rebuilding it
    # while tests run (build it first: make).
    [[ -f $top/build/thinvisor.elf ]] || die "no build/thinvisor.elf (make)"
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top" --no-print-directory -o build/thinvisor.elf \
        install DESTDIR="$root" \
        >"$root.install.log" 2>&1 || { cat "$root.install.log" >&2; die "make install DESTDIR=$root failed"; }
fi

mkdir -p "$root/boot/grub"          # GRUB's own folder, where grub.cfg goes
install -m 0755 /etc/grub.d/00_header "$root/etc/grub.d/00_header"
install -m 0755 "$here/10_test_os" "$root/etc/grub.d/10_test_os"
cat >"$root/etc/default/grub" <<EOF
# Written by tests/install/stage.sh: a menu that never waits, on COM1 and the screen.
GRUB_DEFAULT=$grub_default
GRUB_TIMEOUT=0
GRUB_TIMEOUT_STYLE=hidden
GRUB_DISTRIBUTOR="thinvisor test"
GRUB_TERMINAL="serial console"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
EOF

case $os in
    linux)
        kernel=$(find "$top/build/linux" -maxdepth 1 -name 'vmlinuz-*' | head -n1)
        initrd=$top/build/linux/initrd-test.img
        [[ -n $kernel && -f $initrd ]] || die "no Linux guest in build/linux (make linux-guest)"
        cp "$kernel" "$root/boot/vmlinuz"
        cp "$initrd" "$root/boot/initrd.img"
        ;;
    tiny)
        nasm -f bin "$here/tiny-os.asm" -o "$root/boot/tiny-os.bin"
        ;;
esac

if [[ $defaults == - ]]; then
    rm -f "$root/etc/default/thinvisor"
elif [[ -n $defaults ]]; then
    cp "$defaults" "$root/etc/default/thinvisor"
fi
