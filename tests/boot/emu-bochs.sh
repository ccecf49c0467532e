#!/usr/bin/env bash
# Boot an ISO headless in Bochs and capture COM1 to a file (or connect it to a terminal).
# --bochs picks the Bochs: 3.0 (the default, built by tests/boot/bochs-build.sh) or 2.7
# (Debian bookworm's package); tests/boot/bochs-machine.sh says why there are two.
#
# Exit status: 0  the guest wrote "Shutdown" to port 0x8900 (Bochs has no failure-code channel)
#                 or powered the machine off through ACPI
#              3  killed at the timeout
#              5  ended here when the serial log matched --until's REGEX (a guest that never
#                 ends the run itself, such as memtest86+)
#              4  the guest triple-faulted (made fatal here instead of a silent reset/reboot loop)
#              2  usage error; 1 any other emulator failure (the reason goes to stderr)
# Port 0xE9 output and Bochs' own messages land in WORKDIR/console.log, its log in
# WORKDIR/bochs.log. A workdir made here is deleted after success or an interrupt, kept otherwise.
set -euo pipefail
# shellcheck source=tests/boot/bochs-machine.sh
source "$(dirname "${BASH_SOURCE[0]}")/bochs-machine.sh"

usage() {
    cat >&2 <<'EOF'
usage: emu-bochs.sh --iso PATH (--serial OUTFILE | --serial-tty TTY) --timeout SECONDS
                    [--cpus N] [--mem MIB] [--disk IMG]... [--model CPUMODEL] [--workdir DIR]
                    [--bochs 3.0|2.7] [--uefi] [--until REGEX] [-- BOCHSRC-LINE...]
  --serial-tty connects COM1 to a terminal both ways (make run: the caller's own tty).
  --until ends the run (status 5) once the serial log, as tests/boot/serial-text.sh gives
  it, has a line matching REGEX (grep -E); it is looked at once a second (--serial only).
  --uefi boots OVMF (Debian's ovmf, /usr/share/ovmf/OVMF.fd) instead of the Bochs BIOS;
  Bochs 3.0 takes a ROM that large, 2.7 does not.
  --disk may be given up to 3 times; the first is BIOS disk 0x80.
  Lines after -- are appended to the generated bochsrc (later settings win), e.g.
  -- 'display_library: rfb, options="timeout=0"'  for guests that set >8 bpp VBE modes.
EOF
    exit 2
}
die() { echo "emu-bochs: $*" >&2; exit 2; }

iso='' serial='' serial_tty='' timeout='' cpus=1 mem=256 model=corei7_haswell_4770 workdir='' disks=() extra=()
version=3.0 uefi=0 until=''
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
while (($#)); do
    case $1 in
        --) shift; extra=("$@"); break ;;
        --uefi) uefi=1; shift; continue ;;
        --iso|--serial|--serial-tty|--timeout|--cpus|--mem|--disk|--model|--workdir|--bochs|--until)
            (($# >= 2)) || usage
            case $1 in
                --iso) iso=$2 ;; --serial) serial=$2 ;; --serial-tty) serial_tty=$2 ;;
                --timeout) timeout=$2 ;;
                --cpus) cpus=$2 ;; --mem) mem=$2 ;; --disk) disks+=("$2") ;;
                --model) model=$2 ;; --workdir) workdir=$2 ;; --bochs) version=$2 ;;
                --until) until=$2 ;;
            esac
            shift 2 ;;
        *) usage ;;
    esac
done
[[ -n $iso && -n $timeout && (-n $serial || -n $serial_tty) ]] || usage
[[ -z $serial_tty || -c $serial_tty ]] || die "not a terminal device: $serial_tty"
[[ -z $until || -n $serial ]] || die "--until needs --serial"
# A pattern grep cannot read (status 2) would let the run only ever time out.
rc=0; [[ -z $until ]] || "$here/serial-text.sh" /dev/null --has "$until" 2>/dev/null || rc=$?
((rc < 2)) || die "--until: not an extended regular expression: $until"
for n in "$timeout" "$cpus" "$mem"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "--timeout, --cpus and --mem take positive integers"
done
((${#disks[@]} <= 3)) || die "at most 3 disks (the 4th ATA slot holds the CD-ROM)"
[[ -f $iso ]] || die "no such ISO: $iso"
bochs=$(bochs_binary "$version") || die "cannot run Bochs $version (above)"
ovmf=/usr/share/ovmf/OVMF.fd
if ((uefi)); then
    [[ $version != 2.7 ]] || die "--uefi needs Bochs 3.0 (2.7 takes no ROM as large as OVMF)"
    [[ -f $ovmf ]] || die "no $ovmf: install Debian's ovmf (make deps)"
fi

# Bochs creates IMG.lock while it runs and leaves it behind when killed; a stale one makes the
# next run fail with a bare "could not open hard drive image file", so say it plainly here.
for d in "${disks[@]}"; do
    [[ -f $d ]] || die "no such disk image: $d"
    [[ ! -e $d.lock ]] || die "$d.lock exists: another Bochs uses $d, or a killed run left it (remove it)"
done

# bochsrc has no quoting, so paths must be absolute and free of blanks, commas and quotes.
abs() {
    local p
    p=$(realpath -m -- "$1")
    [[ $p != *[[:space:],\"]* ]] || die "unusable path for bochsrc: $p"
    echo "$p"
}
iso=$(abs "$iso")
if [[ -n $serial ]]; then serial=$(abs "$serial"); fi
for i in "${!disks[@]}"; do disks[i]=$(abs "${disks[i]}"); done

pid='' rm_work=0
# shellcheck disable=SC2317  # only reached through the traps
cleanup() {
    # Bochs runs in its own session (setsid below): one kill reaches everything it started.
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        for d in "${disks[@]}"; do rm -f "$d.lock"; done   # ours: Bochs held them until killed
    fi
    if [[ -n ${BOCHS_DRAIN_PID:-} ]]; then kill "$BOCHS_DRAIN_PID" 2>/dev/null || true; fi
    if ((rm_work)); then rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
keep_work() { if ((rm_work)); then rm_work=0; echo "emu-bochs: kept $workdir" >&2; fi; }

if [[ -z $workdir ]]; then
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/emu-bochs.XXXXXX")
    rm_work=1
fi
mkdir -p "$workdir"
workdir=$(abs "$workdir")
rm -f "$workdir/bochs.log" "$workdir/console.log"
if [[ -n $serial ]]; then rm -f "$serial"; fi

# term mode: Bochs puts the terminal in raw mode (signals still on: Ctrl-C reaches us).
if [[ -n $serial_tty ]]; then
    com1="com1: enabled=1, mode=term, dev=$serial_tty"
else
    com1="com1: enabled=1, mode=file, dev=$serial"
fi
{
    bochs_machine_rc "$version" "$mem" "$cpus" "$model" "$iso" "$com1" "$workdir/bochs.log" "${disks[@]}"
    # OVMF's 2 MiB image (code and variables) ends at 4 GiB, as its reset vector needs.
    if ((uefi)); then echo "romimage: file=$ovmf, address=0xffe00000"; fi
    if ((${#extra[@]})); then printf '%s\n' "${extra[@]}"; fi
} >"$workdir/bochsrc"
# Both Bochs are built with the debugger. 2.7's stops before the first instruction: "c"
# continues, and if the debugger gets control again later (a panic, a magic breakpoint) it
# reads stdin, which is /dev/null, so it quits instead of waiting. 3.0's debugger sleeps
# unless -debugger wakes it, and costs no speed then.
rc_args=()
if [[ $version == 2.7 ]]; then
    echo c >"$workdir/cont.rc"
    rc_args=(-rc "$workdir/cont.rc")
fi

start=${EPOCHREALTIME/./}
# TERM (2.7's term display) must name a terminfo entry or curses aborts ("Error opening
# terminal"); Bochs only writes to its own pty, so any entry will do. Only SIGKILL stops Bochs
# reliably: the term display merely logs SIGTERM and turns SIGINT into a Ctrl-C keypress.
TERM=vt100 setsid "$bochs" -q -f "$workdir/bochsrc" "${rc_args[@]}" \
    </dev/null >"$workdir/console.log" 2>&1 &
pid=$!
if [[ $version == 2.7 ]]; then bochs_drain_screen "$workdir/console.log"; fi

deadline=$((start + timeout * 1000000))
looked=$start
while kill -0 "$pid" 2>/dev/null; do
    now=${EPOCHREALTIME/./}
    if ((now >= deadline)); then
        echo "emu-bochs: timeout after ${timeout}s (serial: ${serial:-$serial_tty})" >&2
        keep_work
        exit 3   # the EXIT trap kills Bochs
    fi
    if [[ -n $until ]] && ((now - looked >= 1000000)); then
        looked=$now
        if "$here/serial-text.sh" "$serial" --has "$until"; then
            echo "emu-bochs: the serial log matched /$until/: run ended" >&2
            exit 5   # the EXIT trap kills Bochs
        fi
    fi
    sleep 0.1
done
rc=0
wait "$pid" || rc=$?
pid=''
elapsed=$(((${EPOCHREALTIME/./} - start) / 100000))
elapsed=$((elapsed / 10)).$((elapsed % 10))

# Bochs exits 1 on every path; only its farewell message tells a requested shutdown apart.
msg=$(sed -n '/^Bochs is exiting with the following message:/{n;p;q}' "$workdir/console.log")
if ((rc == 1)) && [[ $msg == *"Shutdown port: shutdown requested"* ]]; then
    echo "emu-bochs: guest shut down after ${elapsed}s" >&2
    exit 0
fi
# An OS's own power-off (ACPI S5, e.g. Linux's poweroff in make run) ends the run as cleanly.
if ((rc == 1)) && [[ $msg == *"ACPI control: soft power off"* ]]; then
    echo "emu-bochs: guest powered off (ACPI) after ${elapsed}s" >&2
    exit 0
fi
if [[ $msg == *"exception with no resolution"* ]]; then
    echo "emu-bochs: guest triple fault after ${elapsed}s: $msg" >&2
    keep_work
    exit 4
fi
echo "emu-bochs: Bochs failed (status $rc) after ${elapsed}s: ${msg:-no message}" >&2
grep -E '^[0-9]{11}[ep]\[' "$workdir/bochs.log" 2>/dev/null | tail -n 5 >&2 || true
if [[ $msg == *"bpp graphics mode not supported"* ]]; then
    echo "emu-bochs: the term display cannot show this mode; try -- 'display_library: rfb, options=\"timeout=0\"'" >&2
fi
keep_work
exit 1
