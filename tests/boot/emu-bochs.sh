#!/usr/bin/env bash
# Boot an ISO headless in Bochs 2.7 (Debian build) and capture COM1 to a file.
#
# Exit status: 0  the guest wrote "Shutdown" to port 0x8900 (Bochs has no failure-code channel)
#              3  killed at the timeout
#              4  the guest triple-faulted (made fatal here instead of a silent reset/reboot loop)
#              2  usage error; 1 any other emulator failure (the log tail goes to stderr)
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: emu-bochs.sh --iso PATH --serial OUTFILE --timeout SECONDS [--cpus N] [--mem MIB]
                    [--disk IMG]... [--model CPUMODEL] [--workdir DIR] [-- BOCHSRC-LINE...]
  --disk may be given up to 3 times; the first is BIOS disk 0x80.
  Lines after -- are appended to the generated bochsrc (later settings win).
EOF
    exit 2
}
die() { echo "emu-bochs: $*" >&2; exit 2; }

iso='' serial='' timeout='' cpus=1 mem=256 model=corei7_haswell_4770 workdir='' disks=() extra=()
while (($#)); do
    case $1 in
        --) shift; extra=("$@"); break ;;
        --iso|--serial|--timeout|--cpus|--mem|--disk|--model|--workdir)
            (($# >= 2)) || usage
            case $1 in
                --iso) iso=$2 ;; --serial) serial=$2 ;; --timeout) timeout=$2 ;;
                --cpus) cpus=$2 ;; --mem) mem=$2 ;; --disk) disks+=("$2") ;;
                --model) model=$2 ;; --workdir) workdir=$2 ;;
            esac
            shift 2 ;;
        *) usage ;;
    esac
done
[[ -n $iso && -n $serial && -n $timeout ]] || usage
[[ $timeout =~ ^[0-9]+$ && $cpus =~ ^[0-9]+$ && $mem =~ ^[0-9]+$ ]] || die "--timeout, --cpus, --mem take integers"
((${#disks[@]} <= 3)) || die "at most 3 disks (the 4th ATA slot holds the CD-ROM)"
[[ -f $iso ]] || die "no such ISO: $iso"

# Bochs creates IMG.lock while it runs and leaves it behind when killed; a stale one makes the
# next run fail with a bare "could not open hard drive image file", so say it plainly here.
for d in "${disks[@]}"; do
    [[ -f $d ]] || die "no such disk image: $d"
    [[ ! -e $d.lock ]] || die "$d.lock exists: another Bochs uses $d, or a killed run left it (remove it)"
done

# bochsrc has no quoting, so paths must be absolute and free of blanks and commas.
abs() { local p; p=$(realpath -m -- "$1"); [[ $p != *[[:space:],\"]* ]] || die "unusable path: $p"; echo "$p"; }
iso=$(abs "$iso")
serial=$(abs "$serial")
for i in "${!disks[@]}"; do disks[i]=$(abs "${disks[i]}"); done

keep_work=1
if [[ -z $workdir ]]; then
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/emu-bochs.XXXXXX")
    keep_work=0
fi
mkdir -p "$workdir"
workdir=$(abs "$workdir")
rm -f "$serial" "$workdir/bochs.log" "$workdir/console.log"

ata_slots=(ata0-master ata0-slave ata1-slave)   # ata1-master is the CD-ROM
{
    # "megs:" stops at 2048 (Bochs' host allocation limit); guest RAM above it is file-backed.
    echo "memory: guest=$mem, host=$((mem < 2048 ? mem : 2048))"
    echo "romimage: file=/usr/share/bochs/BIOS-bochs-latest"
    echo "vgaromimage: file=/usr/share/vgabios/vgabios.bin"
    # clock: left at its default, sync=none: emulated time advances by instruction count (ips
    # instructions = 1 emulated second) and all-CPUs-HLT skips straight to the next timer event,
    # so the emulator never sleeps. sync=realtime/slowdown were slower here for the same guest
    # time. ips only scales emulated time against instructions; the default (4M) is well below the
    # ~70 MIPS this host reaches, so guest timeouts expire quickly in wall time.
    # reset_on_triple_fault=0: a triple fault panics (-> exit 4) instead of rebooting the ISO
    # in a loop until the timeout.
    echo "cpu: model=$model, count=$cpus, reset_on_triple_fault=0"
    # Debian's Bochs has no "nogui". Its term display (built with the debugger) draws into a
    # private pty it opens itself, so the caller's terminal is never touched and no `script`
    # wrapper is needed; we only have to drain that pty (see below).
    echo "display_library: term"
    echo "boot: cdrom"
    # Without this Bochs emulates an empty 1.44M drive and GRUB spends ~8 s probing it.
    echo "floppya: type=none"
    for i in "${!disks[@]}"; do echo "${ata_slots[i]}: type=disk, path=${disks[i]}, mode=flat"; done
    echo "ata1-master: type=cdrom, path=$iso, status=inserted"
    echo "com1: enabled=1, mode=file, dev=$serial"
    echo "port_e9_hack: enabled=1"
    echo "log: $workdir/bochs.log"
    echo "mouse: enabled=0"
    # The speaker's default ALSA backend spams errors on a machine without sound.
    echo "speaker: enabled=0"
    echo "sound: driver=dummy"
    printf '%s\n' "${extra[@]}"
} >"$workdir/bochsrc"
# The built-in debugger stops before the first instruction; "c" continues. When the debugger
# regains control later (e.g. a panic) it reads stdin, which is /dev/null, so it quits at once.
echo c >"$workdir/cont.rc"

pid='' drain=''
cleanup() {
    # Own session (setsid below): one kill reaches every process Bochs started.
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        for d in "${disks[@]}"; do rm -f "$d.lock"; done   # ours: Bochs held it until killed
    fi
    [[ -z $drain ]] || kill "$drain" 2>/dev/null || true
    drain=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

start=${EPOCHREALTIME/./}
# TERM must name a terminfo entry or curses aborts ("Error opening terminal"); Bochs only talks
# to its own pty, so any entry will do. SIGKILL is needed to stop it: the term display catches
# SIGTERM/SIGINT/SIGHUP and ignores them.
TERM=vt100 setsid bochs -q -f "$workdir/bochsrc" -rc "$workdir/cont.rc" \
    </dev/null >"$workdir/console.log" 2>&1 &
pid=$!

# Nobody reads the private pty, so after some 64 KiB of screen updates Bochs blocks forever in
# write(). Its name is printed at startup; read and discard everything written to it.
(
    for _ in {1..100}; do
        pts=$(sed -n 's/^Bochs connected to screen "\(.*\)"$/\1/p' "$workdir/console.log")
        [[ -z $pts ]] || exec cat "$pts" >/dev/null 2>&1
        sleep 0.1
    done
) &
drain=$!

deadline=$((start + timeout * 1000000))
while kill -0 "$pid" 2>/dev/null; do
    if ((${EPOCHREALTIME/./} >= deadline)); then
        cleanup
        echo "emu-bochs: timeout after ${timeout}s (serial: $serial, work: $workdir)" >&2
        exit 3
    fi
    sleep 0.1
done
rc=0
wait "$pid" || rc=$?
pid=
elapsed=$(((${EPOCHREALTIME/./} - start) / 100000))
elapsed=$((elapsed / 10)).$((elapsed % 10))

# Every exit path of Bochs returns 1; only the console message tells a requested shutdown apart.
if ((rc == 1)) && grep -q "Shutdown port: shutdown requested" "$workdir/console.log"; then
    echo "emu-bochs: guest shut down after ${elapsed}s" >&2
    ((keep_work)) || rm -rf "$workdir"
    exit 0
fi
if grep -q "exception with no resolution" "$workdir/console.log"; then
    echo "emu-bochs: guest triple fault after ${elapsed}s (work: $workdir)" >&2
    grep -h -m1 "exception with no resolution" "$workdir/console.log" >&2
    exit 4
fi
echo "emu-bochs: Bochs failed (status $rc) after ${elapsed}s (work: $workdir):" >&2
sed -n '/^Bochs is exiting with the following message:/{n;p}' "$workdir/console.log" >&2
grep -E '^[0-9]{11}[ep]\[' "$workdir/bochs.log" 2>/dev/null | tail -n 5 >&2 || true
exit 1
