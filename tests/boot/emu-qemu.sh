#!/usr/bin/env bash
# Boot an ISO headless in QEMU (TCG) and capture COM1 to a file.
#
# The guest ends the run by writing a byte V to port 0xf4 (isa-debug-exit; QEMU exits (V<<1)|1).
# Exit status: 0      the guest wrote 0 to port 0xf4
#              10+V   the guest wrote V > 0 (a failure code chosen by the guest)
#              3      killed at the timeout
#              5      ended here when the serial log matched --until's REGEX (a guest that
#                     never ends the run itself, such as memtest86+)
#              4      the guest reset, triple-faulted or powered off (-no-reboot turns these
#                     into a plain QEMU exit 0) without writing to port 0xf4
#              2      usage error; 1 any other emulator failure (its messages go to stderr)
# Port 0xE9 is not captured by default; add -- -debugcon file:PATH to get it.
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: emu-qemu.sh --iso PATH --serial OUTFILE --timeout SECONDS [--cpus N] [--mem MIB]
                   [--disk IMG]... [--qemu-cpu MODEL] [--uefi] [--workdir DIR] [--until REGEX]
                   [-- QEMU-ARG...]
  --disk may be given up to 3 times; the first is BIOS disk 0x80. --qemu-cpu defaults to max.
  --uefi boots OVMF (Debian's ovmf) instead of SeaBIOS, with fresh variables, CD-ROM first.
  --until ends the run (status 5) once the serial log, as tests/boot/serial-text.sh gives
  it, has a line matching REGEX (grep -E); it is looked at once a second.
  Arguments after -- are passed to qemu-system-x86_64 unchanged.
EOF
    exit 2
}
die() { echo "emu-qemu: $*" >&2; exit 2; }

iso='' serial='' timeout='' cpus=1 mem=256 qcpu=max workdir='' disks=() extra=() uefi=0 until=''
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
while (($#)); do
    case $1 in
        --) shift; extra=("$@"); break ;;
        --uefi) uefi=1; shift; continue ;;
        --iso|--serial|--timeout|--cpus|--mem|--disk|--qemu-cpu|--workdir|--until)
            (($# >= 2)) || usage
            case $1 in
                --iso) iso=$2 ;; --serial) serial=$2 ;; --timeout) timeout=$2 ;;
                --cpus) cpus=$2 ;; --mem) mem=$2 ;; --disk) disks+=("$2") ;;
                --qemu-cpu) qcpu=$2 ;; --workdir) workdir=$2 ;; --until) until=$2 ;;
            esac
            shift 2 ;;
        *) usage ;;
    esac
done
[[ -n $iso && -n $serial && -n $timeout ]] || usage
# A pattern grep cannot read (status 2) would let the run only ever time out.
rc=0; [[ -z $until ]] || "$here/serial-text.sh" /dev/null --has "$until" 2>/dev/null || rc=$?
((rc < 2)) || die "--until: not an extended regular expression: $until"
for n in "$timeout" "$cpus" "$mem"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "--timeout, --cpus and --mem take positive integers"
done
((${#disks[@]} <= 3)) || die "at most 3 disks (the 4th IDE slot holds the CD-ROM)"
[[ -f $iso ]] || die "no such ISO: $iso"
for d in "${disks[@]}"; do [[ -f $d ]] || die "no such disk image: $d"; done
# -drive and -serial parse commas and colons; keep paths simple rather than escape them.
for p in "$iso" "$serial" "${disks[@]}"; do [[ $p != *[,:]* ]] || die "path with , or : not supported: $p"; done

pid='' rm_work=0
# shellcheck disable=SC2317  # only reached through the traps
cleanup() {
    # QEMU runs in its own session (setsid below): one kill reaches everything it started.
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if ((rm_work)); then rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

if [[ -z $workdir ]]; then
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/emu-qemu.XXXXXX")
    rm_work=1
fi
mkdir -p "$workdir"
rm -f "$serial"

# IDE index 0,1,3 = disks (BIOS 0x80, 0x81, 0x82), index 2 (secondary master) = the CD-ROM.
drives=()
slots=(0 1 3)
if ((uefi)); then
    # OVMF connects only the devices QEMU gives a bootindex (fw_cfg "bootorder"): the disks
    # get one after the CD-ROM, or the firmware and GRUB never see them.
    buses=(ide.0 ide.0 ide.1) units=(0 1 1)
    for i in "${!disks[@]}"; do
        drives+=(-drive "file=${disks[i]},format=raw,if=none,id=disk$i"
                 -device "ide-hd,drive=disk$i,bus=${buses[i]},unit=${units[i]},bootindex=$((i + 1))")
    done
else
    for i in "${!disks[@]}"; do drives+=(-drive "file=${disks[i]},format=raw,if=ide,index=${slots[i]}"); done
fi
firmware=()
if ((uefi)); then
    [[ -f $OVMF_CODE && -f $OVMF_VARS ]] || die "no OVMF in /usr/share/OVMF (Debian package ovmf; make deps installs it)"
    cp "$OVMF_VARS" "$workdir/ovmf-vars.fd"
    firmware=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
              -drive "if=pflash,format=raw,unit=1,file=$workdir/ovmf-vars.fd")
    # OVMF takes its boot order from bootindex, not -boot: the CD-ROM (thinvisor's GRUB) first.
    drives+=(-drive "file=$iso,format=raw,if=none,id=cd,media=cdrom,readonly=on"
             -device "ide-cd,drive=cd,bus=ide.1,unit=0,bootindex=0")
else
    drives+=(-drive "file=$iso,format=raw,if=ide,index=2,media=cdrom,readonly=on")
fi

# -nodefaults: no NIC, monitor or default serial; the guest gets exactly what is listed. A VGA
# is added back (as Bochs always has one): without it GRUB prints "error: Can't get controller
# info" to the serial log when it loads a multiboot kernel.
args=(-machine pc -cpu "$qcpu" -smp "$cpus" -m "$mem"
      -nodefaults -vga std -display none -no-reboot
      -device "isa-debug-exit,iobase=0xf4,iosize=0x04"
      -serial "file:$serial" "${firmware[@]}"
      "${drives[@]}" -boot order=dc
      "${extra[@]}")

start=${EPOCHREALTIME/./}
setsid qemu-system-x86_64 "${args[@]}" </dev/null >"$workdir/qemu.log" 2>&1 &
pid=$!
deadline=$((start + timeout * 1000000))
looked=$start
while kill -0 "$pid" 2>/dev/null; do
    now=${EPOCHREALTIME/./}
    if ((now >= deadline)); then
        echo "emu-qemu: timeout after ${timeout}s (serial: $serial)" >&2
        exit 3   # the EXIT trap kills QEMU
    fi
    if [[ -n $until ]] && ((now - looked >= 1000000)); then
        looked=$now
        if "$here/serial-text.sh" "$serial" --has "$until"; then
            echo "emu-qemu: the serial log matched /$until/: run ended" >&2
            exit 5   # the EXIT trap kills QEMU
        fi
    fi
    sleep 0.05
done
rc=0
wait "$pid" || rc=$?
pid=''
elapsed=$(((${EPOCHREALTIME/./} - start) / 100000))
elapsed=$((elapsed / 10)).$((elapsed % 10))

# QEMU also exits 1 when it cannot start; then it has printed an error (warnings aside, and
# the lines its intel-iommu prints for each DMA the unit blocks, which tests cause on purpose).
iommu_fault_report=': (vtd_[a-z_]+: detected|Interrupt Mask set|New fault is not recorded)'
if ((rc == 1)) && grep -v ': warning: ' "$workdir/qemu.log" | grep -Ev "$iommu_fault_report" |
        grep -q .; then
    status=1
elif ((rc == 1)); then
    status=0
elif ((rc % 2 == 1)); then
    status=$((10 + (rc >> 1)))
elif ((rc == 0)); then
    status=4
else
    status=1
fi
case $status in
    0) echo "emu-qemu: guest exited after ${elapsed}s" >&2 ;;
    4) echo "emu-qemu: guest reset or powered off after ${elapsed}s without writing to port 0xf4" >&2 ;;
    1) echo "emu-qemu: QEMU failed (status $rc) after ${elapsed}s:" >&2
       tail -n 8 "$workdir/qemu.log" >&2 ;;
    *) echo "emu-qemu: guest reported failure $((status - 10)) after ${elapsed}s" >&2 ;;
esac
exit "$status"
