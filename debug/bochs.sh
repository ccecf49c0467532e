#!/usr/bin/env bash
# thinvisor in Bochs's internal debugger, with its symbols: `make debug` (debug/debug.mk).
# Both Bochs (3.0 from tests/boot/bochs-build.sh, the default, and Debian's 2.7 with
# --bochs 2.7) are built with the debugger (`bochs --help` lists -rc and -dbglog; no gdbstub,
# which Bochs cannot have at the same time), so this is the way to step through thinvisor
# under VMX. Bochs runs the commands of an rc file before the first instruction: load the symbols (`ldsym global`, "ADDRESS NAME" lines from nm), put a
# breakpoint on --break and continue to it. Then the <bochs:N> prompt reads this terminal:
#   c  s  n  r  u /10  x /4gx ADDR  lb "symbol"  info symbols "prefix"  vmexitbp  q
# (`help` lists all; `vmexitbp` stops at every VM exit, where thinvisor's exit stub runs).
# Ctrl-C breaks into the debugger. thinvisor's log (mirrored to port 0xE9) appears on this
# terminal; COM1 goes to the --serial file (follow it with `tail -f` elsewhere).
#
# usage: debug/bochs.sh --iso ISO --sym SYMFILE [--disk IMG] [--cpus N] [--mem MIB]
#                       [--serial FILE] [--break SYMBOL|""] [--workdir DIR] [--bochs 3.0|2.7]
#                       [--model MODEL]
# --break defaults to kernel_main; "" stops at the reset vector. --model is Bochs's CPU model
# (default corei7_haswell_4770, VMX; ryzen for thinvisor's SVM backend, as the bochs_svm tests). Commands can also come from a
# pipe (the tests do that): Bochs quits at the end of its input.
#
# The machine is the one the boot tests get (tests/boot/bochs-machine.sh, which explains each
# bochsrc line); only the way Bochs runs differs: in the foreground, on this terminal.
set -euo pipefail
# shellcheck source=tests/boot/bochs-machine.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/boot/bochs-machine.sh"

die() { echo "debug/bochs: $*" >&2; exit 2; }
iso='' sym='' disk='' cpus=1 mem=256 serial='' brk=kernel_main workdir='' version=3.0
model=corei7_haswell_4770
while (($#)); do
    (($# >= 2)) || die "$1 needs a value"
    case $1 in
        --iso) iso=$2 ;; --sym) sym=$2 ;; --disk) disk=$2 ;; --cpus) cpus=$2 ;; --mem) mem=$2 ;;
        --serial) serial=$2 ;; --break) brk=$2 ;; --workdir) workdir=$2 ;; --bochs) version=$2 ;;
        --model) model=$2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
    shift 2
done
[[ -f $iso ]] || die "no such ISO: ${iso:-(none given)}"
[[ -f $sym ]] || die "no such symbol file: ${sym:-(none given)} (make build/thinvisor.sym)"
[[ -z $disk || -f $disk ]] || die "no such disk image: $disk"
for n in "$cpus" "$mem"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "--cpus and --mem take positive integers"; done
[[ $brk =~ ^[A-Za-z0-9_.]*$ ]] || die "--break takes a symbol name"
bochs=$(bochs_binary "$version") || die "cannot run Bochs $version (above)"

workdir=${workdir:-$(mktemp -d "${TMPDIR:-/tmp}/debug-bochs.XXXXXX")}
mkdir -p "$workdir"
# bochsrc has no quoting: absolute paths without blanks, commas or quotes.
abs() {
    local p
    p=$(realpath -m -- "$1")
    [[ $p != *[[:space:],\"]* ]] || die "unusable path for bochsrc: $p"
    echo "$p"
}
workdir=$(abs "$workdir")
iso=$(abs "$iso")
sym=$(abs "$sym")
serial=$(abs "${serial:-$workdir/serial.log}")
if [[ -n $disk ]]; then
    disk=$(abs "$disk")
    # Bochs locks its image and a killed session leaves the lock behind; the image is the
    # caller's private copy (make debug copies it), so a lock here is always stale.
    rm -f "$disk.lock"
fi

disks=()
if [[ -n $disk ]]; then disks=("$disk"); fi
{
    bochs_machine_rc "$version" "$mem" "$cpus" "$model" "$iso" \
        "com1: enabled=1, mode=file, dev=$serial" "$workdir/bochs.log" "${disks[@]}"
    # xchg bx, bx in thinvisor or the guest stops in the debugger (a breakpoint in the source).
    echo "magic_break: enabled=1"
} >"$workdir/bochsrc"
{
    echo "ldsym global \"$sym\""
    if [[ -n $brk ]]; then
        echo "lb \"$brk\""
        echo "c"
    fi
} >"$workdir/debug.rc"

echo "debug/bochs: symbols from $sym; COM1 in $serial (tail -f it); Bochs log $workdir/bochs.log"
if [[ -n $brk ]]; then
    echo "debug/bochs: running to $brk, then the debugger is yours (help, c, s, n, r, u, q)"
fi

# 2.7's term display draws the VGA screen into a pty of its own (the debugger keeps this
# terminal): drain it. Bochs names the pty on stderr, which is copied to console.log for that.
# The helpers ignore Ctrl-C, which is meant for Bochs (it breaks into the debugger); so does
# this script while Bochs runs.
: >"$workdir/console.log"
if [[ $version == 2.7 ]]; then bochs_drain_screen "$workdir/console.log"; fi
trap 'kill "${BOCHS_DRAIN_PID:-}" 2>/dev/null || true' EXIT
trap ':' INT
rc=0
# 3.0's debugger takes control only with -debugger; 2.7's always does.
dbg_args=(-rc "$workdir/debug.rc")
if [[ $version == 3.0 ]]; then dbg_args=(-debugger "${dbg_args[@]}"); fi
TERM=vt100 "$bochs" -q -f "$workdir/bochsrc" "${dbg_args[@]}" \
    2> >(trap '' INT; exec tee -a "$workdir/console.log" >&2) || rc=$?
# Bochs exits 1 however it ends ("q" included); its farewell message says why.
msg=$(sed -n '/^Bochs is exiting with the following message:/{n;p;q}' "$workdir/console.log")
echo "debug/bochs: Bochs ended (status $rc)${msg:+: $msg}"
