# shellcheck shell=bash
# The machine every Bochs run of thinvisor gets: the boot tests (tests/boot/emu-bochs.sh),
# `make run EMU=bochs` through it, and `make debug` (debug/bochs.sh). Sourced, not run.
#
# bochs_machine_rc MEM_MIB CPUS MODEL ISO COM1_LINE LOGFILE [DISK...]
# prints the bochsrc lines; the caller appends its own (later settings win). Paths must be
# absolute and free of blanks, commas and quotes: bochsrc has no quoting.
bochs_machine_rc() {
    local mem=$1 cpus=$2 model=$3 iso=$4 com1=$5 log=$6
    shift 6
    local slots=(ata0-master ata0-slave ata1-slave) i=0 disk   # ata1-master is the CD-ROM
    # "megs:" stops at 2048 (the most Bochs allocates); guest RAM above that is file-backed.
    echo "memory: guest=$mem, host=$((mem < 2048 ? mem : 2048))"
    echo "romimage: file=/usr/share/bochs/BIOS-bochs-latest"
    echo "vgaromimage: file=/usr/share/vgabios/vgabios.bin"
    # No clock: line: the default is sync=none, the fastest mode. Emulated time then advances
    # with the instruction count (ips instructions = 1 emulated s) and when every CPU halts Bochs
    # jumps to the next timer event instead of sleeping. The GRUB test ISO took ~3x longer with
    # sync=realtime and ~8x with slowdown. ips stays at its default 4M: this host executes
    # ~50-70M/s, so guest timeouts pass quickly; 1M gained nothing, 50M was 2-4x slower.
    # reset_on_triple_fault=0: a triple fault ends the run (emu-bochs.sh: exit 4) instead of
    # rebooting the ISO in a loop until the timeout.
    echo "cpu: model=$model, count=$cpus, reset_on_triple_fault=0"
    # Debian's Bochs has no "nogui". Built with the debugger, its term display draws into a
    # private pty it opens itself, so the caller's terminal is never touched and no `script`
    # wrapper is needed; the caller only has to drain that pty. It cannot show >8 bpp VBE
    # modes (Bochs panics); use the rfb display for such guests (emu-bochs.sh's usage).
    echo "display_library: term"
    echo "boot: cdrom"
    # Without this Bochs emulates an empty 1.44M drive and GRUB spends ~8 s probing it.
    echo "floppya: type=none"
    for disk in "$@"; do
        echo "${slots[i]}: type=disk, path=$disk, mode=flat"
        i=$((i + 1))
    done
    echo "ata1-master: type=cdrom, path=$iso, status=inserted"
    echo "$com1"
    echo "port_e9_hack: enabled=1"
    echo "log: $log"
    echo "mouse: enabled=0"
    # The speaker's default ALSA backend spams errors on a machine without sound.
    echo "speaker: enabled=0"
    echo "sound: driver=dummy"
}
