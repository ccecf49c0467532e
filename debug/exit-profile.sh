#!/usr/bin/env bash
# Where one VM exit's instructions go: boots ISO in Bochs's debugger (debug/bochs.sh), lets
# --at SYMBOL be reached --skip times (the guest's warm-up, caches filled), then traces the
# next VM exit instruction by instruction, from the first host instruction after the exit
# to the VMRESUME or VMRUN that ends it, and prints the count by function:
#   instructions: N
#   COUNT FUNCTION            (one line each, most first)
# In Bochs every instruction counts one (a REP iteration too), as make bench's figures do;
# the trace itself is in WORKDIR/trace.txt. This is how docs/benchmarks.md's per-exit
# breakdowns were read.
#
# usage: debug/exit-profile.sh --iso ISO --sym SYMFILE [--disk IMG] [--cpus N] [--mem MIB]
#                              [--model MODEL] [--at SYMBOL] [--skip N] [--workdir DIR]
# --model as debug/bochs.sh (ryzen: the SVM backend); --at defaults to the backend's exit
# dispatcher (every exit), --skip to 100; e.g. --at guest_xapic_write for an emulated APIC
# store (emulate_sipi, or SVM with more than one CPU). Exit status 0, 2 for bad arguments or
# no exit traced.
set -euo pipefail

die() { echo "debug/exit-profile: $*" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
iso='' sym='' disk='' cpus=1 mem=256 model=corei7_haswell_4770 at='' skip=100 workdir=''
while (($#)); do
    (($# >= 2)) || die "$1 needs a value"
    case $1 in
        --iso) iso=$2 ;; --sym) sym=$2 ;; --disk) disk=$2 ;; --cpus) cpus=$2 ;; --mem) mem=$2 ;;
        --model) model=$2 ;; --at) at=$2 ;; --skip) skip=$2 ;; --workdir) workdir=$2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
    shift 2
done
[[ $skip =~ ^[0-9]+$ ]] || die "--skip takes a count"
[[ -n $at ]] || { [[ $model == ryzen ]] && at=svm_exit_dispatch || at=vmx_exit_dispatch; }
[[ -f $sym ]] && grep -q " $at\$" "$sym" || die "no symbol $at in ${sym:-(no --sym)}"
workdir=${workdir:-$(mktemp -d "${TMPDIR:-/tmp}/exit-profile.XXXXXX")}
mkdir -p "$workdir"

# The debugger's commands: SKIP more stops at the breakpoint, then a break at the next VM
# exit, traced one step at a time (each step prints the instruction and its function).
{
    for ((i = 0; i < skip; i++)); do echo c; done
    echo "bpd 1"
    echo vmexitbp
    echo c
    echo "trace on"
    echo "s 20000"
    echo q
} >"$workdir/commands"
args=(--iso "$iso" --sym "$sym" --cpus "$cpus" --mem "$mem" --model "$model" --break "$at"
      --workdir "$workdir/bochs")
[[ -z $disk ]] || args+=(--disk "$disk")
"$here/bochs.sh" "${args[@]}" <"$workdir/commands" >"$workdir/session.txt" 2>&1 || true

# CPU 0's traced lines, "(0).[tick] [phys] seg:addr (function+off): instruction ; bytes",
# from the trace's start to the first VM entry.
awk '/^Tracing enabled/ { on = 1 } on' "$workdir/session.txt" |
    sed -nE 's/^\(0\)\.\[[0-9]+\] \[[^]]*\] [0-9a-f]+:[0-9a-f]+ \(([^)]*)\): (.*[^ ]) +;.*$/\1: \2/p' |
    awk '!done { print } / (vmresume|vmrun|vmlaunch)$/ { done = 1 }' >"$workdir/trace.txt"
tail -n 1 "$workdir/trace.txt" | grep -Eq ' (vmresume|vmrun|vmlaunch)$' ||
    die "no VM entry in the trace (did $at run $skip times? see $workdir/session.txt)"
echo "instructions: $(wc -l <"$workdir/trace.txt")"
sed -E 's/\+[0-9a-f]+: .*//; s/: .*//' "$workdir/trace.txt" | sort | uniq -c | sort -rn |
    awk '{ printf "%6d %s\n", $1, $2 }'
