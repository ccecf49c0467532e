#!/usr/bin/env bash
# Builds the Linux guest's disk, build/linux/linux-disk.img, from Debian packages alone:
# Debian's packaged kernel, a busybox + tvcheck initramfs and GRUB, in a GRUB "hybrid" image
# made by grub-mkrescue. That image is an ISO 9660 file system whose sector 0 is GRUB's hybrid
# MBR (boot_hybrid.img), so a BIOS, or thinvisor chainloading sector 0 at 0000:7C00 with
# DL=0x80, boots it as a hard disk; GRUB then reads the ISO 9660 file system from that disk.
#
# usage: tests/linux/build-image.sh [--out DIR] [--shell|--bench|--suspend|--selftests] [--refresh] [--force]
#   --out DIR   build directory (default build/linux next to the top-level Makefile)
#   --shell     build linux-shell-disk.img instead: "tv.shell" on the kernel command line, so
#               /init leaves a busybox shell on ttyS0 instead of ending the emulator
#   --bench     build linux-bench-disk.img instead: "tv.bench" on the kernel command line, so
#               /init runs tvbench (the TSC at init, a timed workload) first (make bench).
#               Also "indirect_target_selection=off lapic=notscdeadline": Linux makes those two
#               choices from the CPUID hypervisor bit (ITS thunks when a hypervisor may hide
#               an affected CPU; the TSC-deadline errata check is skipped), so natively and
#               under thinvisor it would run different code; pinned, the bench compares the
#               same kernel paths (docs/benchmarks.md, "What is measured")
#   --suspend   build linux-suspend-disk.img instead: "tv.suspend" on the kernel command line, so
#               /init suspends to RAM (ACPI S3, woken by an RTC alarm) 5 times, then checks every
#               CPU and runs a workload after each resume (issue 25); "mem_sleep_default=deep"
#               makes "mem" mean S3, not suspend-to-idle; and "tv.off": then thinctl off
#   --off       build linux-off-disk.img instead: "tv.off maxcpus=1": Linux starts one CPU
#               only, so the others wait for a SIPI in thinvisor when thinctl off runs, and
#               Linux starts CPU 1 natively afterwards
#   --selftests build linux-selftests-disk.img instead: the kernel's x86 selftests in /selftests
#               (tests/linux/selftests-build.sh) and "tv.selftests", so /init runs them and
#               prints a line for each (tests/boot/cases_selftests.sh compares two runs)
#   --selftests-short  the same as linux-selftests-short-disk.img with the tests of
#               tests/linux/selftests-short.list only, for Bochs, which runs them ~30x slower
#   --refresh   ask apt for the current linux-image-amd64 and busybox-static even when .debs
#               are cached (without it a cached .deb is used as is, and no network is needed)
#   --force     rebuild even when the stamp says the image is up to date
#
# Caching: the .debs stay in DIR/debs. The image is rebuilt only when its stamp changes; the
# stamp is a hash of this script, init, tvcheck.c, tvbench.c, tvdma.c, grub.cfg, the variant, the package
# versions used and the versions of the build tools. The kernel version is printed either way.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
thinctl_inputs=("$top/tools/thinctl.c" "$top/abi/status.h" "$top/abi/hypercall.h"
                "$top/abi/exit_reason_names.h" "$top/abi/exit_reason.h")
out=$top/build/linux
variant=test refresh=0 force=0
while (($#)); do
    case $1 in
        --out) (($# >= 2)) || { echo "build-image: --out needs a directory" >&2; exit 2; }
               out=$2; shift ;;
        --shell) variant=shell ;;
        --bench) variant=bench ;;
        --suspend) variant=suspend ;;
        --off) variant=off ;;
        --selftests) variant=selftests ;;
        --selftests-short) variant=selftests-short ;;
        --refresh) refresh=1 ;;
        --force) force=1 ;;
        -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "build-image: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
log() { echo "build-image: $*" >&2; }
die() { echo "build-image: error: $*" >&2; exit 1; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
debs=$out/debs
if [[ $variant == shell ]]; then
    image=$out/linux-shell-disk.img extra_cmdline=tv.shell
elif [[ $variant == bench ]]; then
    image=$out/linux-bench-disk.img extra_cmdline="tv.bench indirect_target_selection=off lapic=notscdeadline"
elif [[ $variant == suspend ]]; then
    image=$out/linux-suspend-disk.img extra_cmdline="tv.suspend tv.off mem_sleep_default=deep"
elif [[ $variant == off ]]; then
    image=$out/linux-off-disk.img extra_cmdline="tv.off maxcpus=1 mem_sleep_default=deep"
elif [[ $variant == selftests* ]]; then
    image=$out/linux-$variant-disk.img extra_cmdline=tv.selftests
    selftests=$("$here/selftests-build.sh") || die "the x86 selftests could not be built"
    # The tests to run, one a line: every built one less selftests-skip.list's, or the
    # short list ('#' starts a comment in both lists).
    selftests_list=$out/linux-$variant.list
    if [[ $variant == selftests ]]; then
        grep -vxF -f <(sed '/^#/d;/^$/d' "$here/selftests-skip.list") "$selftests/list" \
            >"$selftests_list" || die "selftests-skip.list leaves no selftest"
    else
        sed '/^#/d;/^$/d' "$here/selftests-short.list" >"$selftests_list"
    fi
else
    image=$out/linux-disk.img extra_cmdline=
fi

# Two builds at once (make -j linux-guest linux-guest-shell) share the .deb cache and the
# extracted kernel: serialize them.
exec 9>"$out/.lock"
flock 9

# --- Build tools: installed with apt-get only when missing (through sudo when not root). ---
# busybox-static is NOT installed on the host: it would replace the "busybox" package that
# Debian's initramfs-tools uses. Its .deb is downloaded and unpacked like the kernel's.
# dpkg, apt, tar, gzip and flock (util-linux) are part of every Debian system.
need_pkgs=(cpio grub-pc-bin grub-common xorriso mtools gcc libc6-dev binutils)
missing=()
for p in "${need_pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then sudo=()
    elif command -v sudo >/dev/null; then sudo=(sudo)
    else die "need root or sudo to install: ${missing[*]}"; fi
    log "installing missing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || die "apt-get could not install: ${missing[*]}"
fi

# --- Packages: the kernel and busybox-static, as .debs in the cache. ---
mkdir -p "$debs"
# shellcheck source=tests/debs.sh
source "$here/../debs.sh"           # apt_download DIR PKG..., apt_lists_ready PKG
deb_field() { dpkg-deb -f "$1" "$2"; }
# The cached .deb of a package (newest version if several), empty if none.
cached_deb() {
    local f best='' bestv=''
    for f in "$debs/$1"_*.deb; do
        [[ -f $f ]] || continue
        local v
        v=$(deb_field "$f" Version) || continue
        if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$bestv"; then best=$f bestv=$v; fi
    done
    echo "$best"
}
# Keeps only $2 among the cached .debs of package $1 (a --refresh must not grow the cache).
prune_debs() {
    local f
    for f in "$debs/$1"_*.deb; do [[ -f $f && $f != "$2" ]] && rm -f "$f"; done
    return 0
}

meta=$(cached_deb linux-image-amd64)
if [[ -z $meta || $refresh == 1 ]]; then
    apt_lists_ready linux-image-amd64
    log "downloading linux-image-amd64 (the metapackage that names the current kernel)"
    # On failure the cached .debs stay usable (run again without --refresh).
    apt_download "$debs" linux-image-amd64 || die "apt-get download linux-image-amd64 failed"
    meta=$(cached_deb linux-image-amd64)
fi
# Depends: linux-image-6.1.0-NN-amd64 (= 6.1.XXX-N) -- the versioned package with the kernel.
dep=$(deb_field "$meta" Depends)
[[ $dep =~ (linux-image-[0-9][^ ,]*)\ \(=\ ([^\)]+)\) ]] || die "unexpected Depends in $meta: $dep"
kpkg=${BASH_REMATCH[1]} kver=${BASH_REMATCH[2]}
kabi=${kpkg#linux-image-}    # 6.1.0-NN-amd64: the name of /boot/vmlinuz-* in the package
kdeb=$(cached_deb "$kpkg")
if [[ -z $kdeb || $(deb_field "$kdeb" Version) != "$kver" ]]; then
    apt_lists_ready linux-image-amd64
    log "downloading $kpkg $kver (about 70 MB; only the kernel image is used)"
    apt_download "$debs" "$kpkg=$kver" || die "apt-get download $kpkg=$kver failed"
    kdeb=$(cached_deb "$kpkg")
    [[ $(deb_field "$kdeb" Version) == "$kver" ]] || die "downloaded $kpkg is not version $kver"
fi
for f in "$debs"/linux-image-[0-9]*.deb; do [[ -f $f && $f != "$kdeb" ]] && rm -f "$f"; done
prune_debs linux-image-amd64 "$meta"

bbdeb=$(cached_deb busybox-static)
if [[ -z $bbdeb || $refresh == 1 ]]; then
    apt_lists_ready linux-image-amd64
    log "downloading busybox-static"
    apt_download "$debs" busybox-static || die "apt-get download busybox-static failed"
    bbdeb=$(cached_deb busybox-static)
fi
prune_debs busybox-static "$bbdeb"
bbver=$(deb_field "$bbdeb" Version)

# --- Up to date? ---
stamp_file=$image.stamp
stamp=$(
    {
        echo "variant=$variant"
        echo "kernel=$kpkg $kver"
        echo "busybox-static=$bbver"
        [[ $variant != selftests* ]] || cat "$selftests/source.txt" "$selftests_list"
        gcc --version | head -n1
        grub-mkrescue --version
        dpkg-query -W -f='${Package} ${Version}\n' xorriso cpio libc6-dev
        sha256sum "$here/build-image.sh" "$here/init" "$here/tvcheck.c" "$here/tvbench.c" "$here/tvdma.c" "$top/tests/edu_regs.h" "$here/grub.cfg" \
            "${thinctl_inputs[@]}" | cut -d' ' -f1
    } | sha256sum | cut -d' ' -f1
)
kernel_banner() {   # the version string inside the bzImage (setup header: kernel_version)
    local off
    off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
    dd if="$1" bs=1 skip=$((off + 0x200)) count=200 status=none | tr '\0' '\n' | head -n1
}
report() {
    echo "kernel: $kpkg $kver ($(kernel_banner "$out/vmlinuz-$kabi"))"
    echo "image: $image ($(du -k "$image" | cut -f1) KiB on disk, $(stat -c %s "$image") bytes)"
}
if ((!force)) && [[ -f $image && -f $stamp_file && $(<"$stamp_file") == "$stamp" && -f $out/vmlinuz-$kabi ]]; then
    log "up to date: $image"
    touch "$image"   # for make: the image is current even if an input was only touched
    report
    exit 0
fi

# --- Build. ---
work=$out/work-$variant
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# The kernel: only /boot/vmlinuz-* is taken from the package (tar extracts one member, which is
# quicker and smaller than dpkg-deb -x of some 400 MB of modules). Its boot needs no modules:
# the initramfs is the root file system and Debian builds serial 8250, devtmpfs and every
# initramfs decompressor into the kernel. The config is kept next to it for reference.
if [[ ! -f $out/vmlinuz-$kabi ]]; then
    log "extracting vmlinuz-$kabi from $(basename "$kdeb")"
    rm -f "$out"/vmlinuz-* "$out"/config-*
    dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" "./boot/vmlinuz-$kabi" "./boot/config-$kabi"
    mv "$work/boot/config-$kabi" "$out/config-$kabi"
    mv "$work/boot/vmlinuz-$kabi" "$out/vmlinuz-$kabi"
fi

# The AHCI disk driver and what it needs, in the order they load (each one's "depends="):
# /init reads the disk with them where the machine has an AHCI controller (QEMU's q35), so
# that Linux's own disk DMA goes through the IOMMU thinvisor programs there.
disk_modules=(drivers/scsi/scsi_common drivers/scsi/scsi_mod crypto/crct10dif_common
              lib/crc-t10dif lib/crc64 lib/crc64-rocksoft block/t10-pi drivers/scsi/sd_mod
              drivers/ata/libata drivers/ata/libahci drivers/ata/ahci)
module_paths=("${disk_modules[@]/#/./lib/modules/$kabi/kernel/}")
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$work" \
    "${module_paths[@]/%/.ko}" 2>/dev/null || true     # a missing one is named below
for m in "${disk_modules[@]}"; do
    [[ -f $work/lib/modules/$kabi/kernel/$m.ko ]] || die "no $m.ko in $(basename "$kdeb")"
done

# tvcheck and thinctl (tools/thinctl.c, the guest-side tool users install): static, so the
# initramfs needs no libc or loader.
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -s -o "$work/tvcheck" "$here/tvcheck.c"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -s -I"$top" -o "$work/thinctl" "$top/tools/thinctl.c"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -s -o "$work/tvbench" "$here/tvbench.c"
gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -s -I"$top" -o "$work/tvdma" "$here/tvdma.c"

# The initramfs tree: busybox with a link per applet, /init, tvcheck, tvbench, tvdma, empty
# mount points.
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc}
dpkg-deb --fsys-tarfile "$bbdeb" | tar -x -C "$work" ./bin/busybox
install -m 0755 "$work/bin/busybox" "$root/bin/busybox"
# busybox-static runs on the build host too: ask it where each applet belongs.
"$root/bin/busybox" --list-full | while read -r applet; do
    [[ $applet == */* ]] || continue
    [[ -e $root/$applet ]] && continue
    # Relative links (../../bin/busybox from usr/sbin) stay valid inside the initramfs.
    ln -s "$(realpath -m --relative-to="$root/$(dirname "$applet")" "$root/bin/busybox")" "$root/$applet"
done
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$work/tvcheck" "$root/bin/tvcheck"
install -m 0755 "$work/thinctl" "$root/bin/thinctl"
# Users for busybox su: init runs thinctl once as nobody, which must be refused.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
install -m 0755 "$work/tvbench" "$root/bin/tvbench"
install -m 0755 "$work/tvdma" "$root/bin/tvdma"
mkdir -p "$root/modules"
for m in "${disk_modules[@]}"; do
    install -m 0644 "$work/lib/modules/$kabi/kernel/$m.ko" "$root/modules/"
    basename "$m" >>"$root/modules/order"
done
if [[ $variant == selftests* ]]; then
    mkdir -p "$root/selftests"
    while read -r t; do
        [[ -f $selftests/$t ]] || die "no selftest $t was built (tests/linux/selftests-*.list name it)"
        install -m 0755 "$selftests/$t" "$root/selftests/$t"
    done <"$selftests_list"
    install -m 0644 "$selftests_list" "$root/selftests/list"
fi
chmod 1777 "$root/tmp"
# Fixed timestamps keep the archive byte-for-byte repeatable.
find "$root" -exec touch -h -d @0 {} +

# The kernel opens /dev/console before /init runs (and before /init can mount devtmpfs); without
# that node init starts with no stdin/stdout. Making a device node needs root, so instead the
# node is written as a second cpio "newc" archive (the kernel unpacks concatenated archives).
newc_entry() {   # newc_entry NAME MODE RDEVMAJOR RDEVMINOR  (an entry without data)
    local name=$1 mode=$2 major=$3 minor=$4 namesize hdr pad
    namesize=$((${#name} + 1))
    # magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
    # rdevminor, namesize, check
    hdr=$(printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        0 "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$namesize" 0)
    printf '%s%s\0' "$hdr" "$name"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    head -c "$pad" /dev/zero
}
{
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet)
    newc_entry dev/console $((8#020600)) 5 1
    newc_entry TRAILER!!! 0 0 0
} | gzip -9 -n >"$work/initrd.img"

# The ISO tree GRUB boots from.
iso=$work/iso
mkdir -p "$iso/boot/grub"
cp "$out/vmlinuz-$kabi" "$iso/boot/vmlinuz"
cp "$work/initrd.img" "$iso/boot/initrd.img"
sed "s/@EXTRA_CMDLINE@/$extra_cmdline/" "$here/grub.cfg" >"$iso/boot/grub/grub.cfg"
grep -q '@[A-Z_]*@' "$iso/boot/grub/grub.cfg" && die "grub.cfg: placeholder left unfilled"

# A BIOS-only image (-d: GRUB's i386-pc platform alone, even where grub-efi-amd64-bin is
# installed too): hybrid MBR + El Torito, core.img with biosdisk and iso9660. On UEFI the tests
# reach this disk's grub.cfg from thinvisor's own GRUB (tests/boot/lib.sh, make_iso). Locales,
# fonts and themes are left out: the menu never shows.
log "grub-mkrescue (kernel $kabi, initramfs $(stat -c %s "$work/initrd.img") bytes)"
grub-mkrescue -d /usr/lib/grub/i386-pc --locales= --fonts= --themes= -o "$work/disk.img" "$iso" \
    >"$work/grub-mkrescue.log" 2>&1 ||
    { cat "$work/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
# Sector 0 must be a boot sector (0x55AA), or nothing chainloads it.
[[ $(od -An -tx1 -j510 -N2 "$work/disk.img" | tr -d ' ') == 55aa ]] || die "no MBR boot signature in the image"

cp "$work/initrd.img" "$out/initrd-$variant.img"   # kept for inspection (lsinitramfs-like: zcat | cpio -t)
mv "$work/disk.img" "$image"
echo "$stamp" >"$stamp_file"
report
