#!/usr/bin/env bash
# thinvisor in QEMU under gdb: `make debug EMU=qemu` (or EMU=kvm) (debug/debug.mk).
# QEMU starts stopped (-S) with its gdbstub on 127.0.0.1:PORT; gdb loads thinvisor's ELF (its
# DWARF: source lines, types, locals), attaches, puts a hardware breakpoint on --break and
# continues to it. QEMU's TCG has no VMX but emulates AMD-V, so this is for everything before
# the launch and for the SVM backend (svm/); EMU=kvm (--kvm) runs under KVM with nested VMX
# or nested SVM where the host has it (docs/testing.md, "QEMU with KVM"). Use hbreak rather than break before thinvisor runs:
# GRUB loads the image after gdb attaches, and thinvisor then copies itself to its region.
# Ctrl-C in gdb stops the machine; quitting gdb ends QEMU. COM1 goes to the --serial file.
#
# usage: debug/qemu-gdb.sh --iso ISO --elf ELF [--disk IMG] [--cpus N] [--mem MIB]
#                          [--serial FILE] [--break SYMBOL|""] [--port N] [--kvm] [-- GDB-ARG...]
# --break defaults to kernel_main, --port to 1234. GDB-ARGs go to gdb after the attach
# commands (the tests use -batch -ex ...).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
die() { echo "debug/qemu-gdb: $*" >&2; exit 2; }
iso='' elf='' disk='' cpus=1 mem=256 serial='' brk=kernel_main port=1234 kvm=0 gdb_args=()
while (($#)); do
    case $1 in
        --) shift; gdb_args=("$@"); break ;;
        --kvm) kvm=1; shift; continue ;;
    esac
    (($# >= 2)) || die "$1 needs a value"
    case $1 in
        --iso) iso=$2 ;; --elf) elf=$2 ;; --disk) disk=$2 ;; --cpus) cpus=$2 ;; --mem) mem=$2 ;;
        --serial) serial=$2 ;; --break) brk=$2 ;; --port) port=$2 ;;
        *) die "unknown argument $1 (see the header of $0)" ;;
    esac
    shift 2
done
[[ -f $iso ]] || die "no such ISO: ${iso:-(none given)}"
[[ -f $elf ]] || die "no such ELF: ${elf:-(none given)}"
if [[ ! $port =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then die "--port takes a TCP port number"; fi
[[ $brk =~ ^[A-Za-z0-9_.]*$ ]] || die "--break takes a symbol name"
command -v gdb >/dev/null || die "no gdb (Debian package gdb: make deps)"
serial=${serial:-$(mktemp "${TMPDIR:-/tmp}/debug-qemu-serial.XXXXXX")}

# Is something listening on 127.0.0.1:PORT? Read from /proc/net/tcp rather than by connecting:
# QEMU resumes a stopped machine when a gdb connection closes.
listening() {
    local hex
    hex=$(printf '0100007F:%04X' "$port")
    awk -v a="$hex" '$2 == a && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}
listening && die "127.0.0.1:$port is already in use (another debug session?); choose --port"

qemu_args=(--iso "$iso" --cpus "$cpus" --mem "$mem" --serial "$serial" --timeout 86400)
[[ -z $disk ]] || qemu_args+=(--disk "$disk")
extra=(-S -gdb "tcp:127.0.0.1:$port")
if ((kvm)); then
    # shellcheck disable=SC2054  # one word: QEMU's -cpu value
    qemu_args+=(--qemu-cpu "host,+$(grep -qw svm /proc/cpuinfo && echo svm || echo vmx)")
    extra+=(-enable-kvm)
fi
# In the background, QEMU (in emu-qemu.sh's own session) does not see Ctrl-C, which is gdb's.
"$top/tests/boot/emu-qemu.sh" "${qemu_args[@]}" -- "${extra[@]}" >"$serial.emu.log" 2>&1 &
emu=$!
trap 'kill "$emu" 2>/dev/null || true; wait "$emu" 2>/dev/null || true' EXIT
for _ in {1..100}; do
    listening && break
    kill -0 "$emu" 2>/dev/null || { cat "$serial.emu.log" >&2; die "QEMU did not start"; }
    sleep 0.1
done
listening || die "QEMU's gdbstub does not listen on 127.0.0.1:$port"

echo "debug/qemu-gdb: QEMU waits on 127.0.0.1:$port; COM1 in $serial (tail -f it)"
cmds=(-ex "set confirm off" -ex "target remote 127.0.0.1:$port")
[[ -z $brk ]] || cmds+=(-ex "hbreak $brk" -ex continue)
trap ':' INT
rc=0
gdb -q "$elf" "${cmds[@]}" "${gdb_args[@]}" || rc=$?
exit "$rc"
