#!/usr/bin/env bash
# Boots the Linux guest's disk natively (no thinvisor: the BIOS boots the disk's MBR) in QEMU
# or Bochs through tests/boot/emu-{qemu,bochs}.sh, and checks what the guest printed:
# "linux-guest: online CPUs: N" with N = --cpus, one "hypervisor signature" line per CPU and
# "linux-guest: done", the run ending by itself through the emulator's exit port.
#
# usage: tests/linux/boot-native.sh --emu qemu|bochs [--disk IMG] [--cpus N] [--mem MIB]
#                                   [--serial FILE] [--timeout S]
# Defaults: build/linux/linux-disk.img, 2 CPUs, 512 MiB, serial log in build/linux/,
# timeout 120 s (QEMU) or 900 s (Bochs). Exit status 0 when every check passed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
emu='' disk=$top/build/linux/linux-disk.img cpus=2 mem=512 serial='' timeout=''
while (($#)); do
    (($# >= 2)) || { echo "boot-native: $1 needs a value" >&2; exit 2; }
    case $1 in
        --emu) emu=$2 ;; --disk) disk=$2 ;; --cpus) cpus=$2 ;; --mem) mem=$2 ;;
        --serial) serial=$2 ;; --timeout) timeout=$2 ;;
        *) echo "boot-native: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
case $emu in
    qemu) timeout=${timeout:-120} ;;
    bochs) timeout=${timeout:-900} ;;
    *) echo "usage: boot-native.sh --emu qemu|bochs [--disk IMG] [--cpus N] [--mem MIB] [--serial FILE] [--timeout S]" >&2
       exit 2 ;;
esac
[[ -f $disk ]] || { echo "boot-native: no disk image $disk (make linux-guest)" >&2; exit 2; }
serial=${serial:-$top/build/linux/serial-native-$emu.log}
mkdir -p "$(dirname "$serial")"

work=$(mktemp -d "${TMPDIR:-/tmp}/linux-native.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A private copy: Bochs locks its disk images and QEMU opens them read-write, so two runs (or a
# rebuild during a run) never share the file.
cp "$disk" "$work/disk.img"
# Both emu scripts insist on a CD-ROM image; this one is blank, and the boot order below makes
# the BIOS boot the hard disk, as it does for thinvisor's guest.
truncate -s 64K "$work/blank.iso"

start=${EPOCHREALTIME/./}
rc=0
if [[ $emu == qemu ]]; then
    # emu-qemu.sh asks for -boot order=dc; the later -boot wins: hard disk only.
    "$top/tests/boot/emu-qemu.sh" --iso "$work/blank.iso" --disk "$work/disk.img" --cpus "$cpus" \
        --mem "$mem" --serial "$serial" --timeout "$timeout" -- -boot order=c || rc=$?
else
    "$top/tests/boot/emu-bochs.sh" --iso "$work/blank.iso" --disk "$work/disk.img" --cpus "$cpus" \
        --mem "$mem" --serial "$serial" --timeout "$timeout" -- "boot: disk" || rc=$?
fi
wall=$(((${EPOCHREALTIME/./} - start) / 100000))
wall=$((wall / 10)).$((wall % 10))

fail=0
check() {   # check DESCRIPTION GREP-PATTERN [COUNT], on the log as tests/boot/serial-text.sh gives it
    local n
    n=$("$top/tests/boot/serial-text.sh" "$serial" | grep -acE "$2" || true)
    if ((n >= ${3:-1})); then echo "  ok: $1"; else echo "  FAIL: $1"; fail=1; fi
}
echo "boot-native: $emu, $cpus CPUs, $mem MiB: emulator status $rc, ${wall}s wall, serial $serial"
if ((rc == 0)); then
    echo "  ok: the guest ended the run"
else
    echo "  FAIL: the run did not end through the exit port"; fail=1
fi
check "init ran" '^linux-guest: init started, uptime [0-9.]+'
check "online CPUs: $cpus" "^linux-guest: online CPUs: $cpus( |$)"
check "a signature line per CPU" '^linux-guest: cpu [0-9]+: hypervisor signature "' "$cpus"
if ((cpus > 1)); then
    check "CPU 1 offline and online again" '^linux-guest: cpu 1 went offline and online again$'
fi
check "tvcheck done" '^linux-guest: done'
echo "  serial tail:"
grep -a -E 'Run /init|^linux-guest:' "$serial" | sed 's/^/    /'
exit "$fail"
