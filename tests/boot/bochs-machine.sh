# shellcheck shell=bash
# The machine every Bochs run of thinvisor gets: the boot tests (tests/boot/emu-bochs.sh),
# `make run EMU=bochs` through it, and `make debug` (debug/bochs.sh). Sourced, not run.
#
# Two Bochs: 3.0, built from Debian trixie's source by tests/boot/bochs-build.sh (the default:
# the guest's INIT and SIPI work as VM exits there), and bookworm's packaged 2.7 (a second
# VMX implementation, which keeps an INIT pending after the INIT VM exit; docs/testing.md,
# "Which Bochs"). The machine is the same in both; only the display and the sound lines differ.

# bochs_binary VERSION: the path of that Bochs, or a message saying how to get it (status 1).
bochs_binary() {
    case $1 in
        3.0) "$(dirname "${BASH_SOURCE[0]}")/bochs-build.sh" --path ;;
        2.7) if [[ -x /usr/bin/bochs ]]; then echo /usr/bin/bochs; else   # Debian's package
                 echo "no bochs 2.7 (Debian packages bochs, bochsbios, vgabios, bochs-term: make deps)" >&2
                 return 1
             fi ;;
        *) echo "unknown Bochs version '$1': 3.0 or 2.7" >&2; return 1 ;;
    esac
}

# bochs_machine_rc VERSION MEM_MIB CPUS MODEL ISO COM1_LINE LOGFILE [DISK...]
# prints the bochsrc lines; the caller appends its own (later settings win). Paths must be
# absolute and free of blanks, commas and quotes: bochsrc has no quoting.
bochs_machine_rc() {
    local version=$1 mem=$2 cpus=$3 model=$4 iso=$5 com1=$6 log=$7
    shift 7
    local slots=(ata0-master ata0-slave ata1-slave) i=0 disk   # ata1-master is the CD-ROM
    # "megs:" stops at 2048 (the most Bochs allocates); guest RAM above that is file-backed.
    echo "memory: guest=$mem, host=$((mem < 2048 ? mem : 2048))"
    echo "romimage: file=/usr/share/bochs/BIOS-bochs-latest"
    echo "vgaromimage: file=/usr/share/vgabios/vgabios.bin"
    # No clock: line: the default is sync=none, the fastest mode. Emulated time then advances
    # with the instruction count (ips instructions = 1 emulated s) and when every CPU halts Bochs
    # jumps to the next timer event instead of sleeping. The GRUB test ISO took ~3x longer with
    # sync=realtime and ~8x with slowdown. ips stays at its default 4M: this host executes
    # ~50-70M/s, so guest timeouts pass quickly; 1M gained nothing, 50M was 2-4x slower
    # for the tests (make bench adds its own cpu: ips= line for some Linux runs).
    # reset_on_triple_fault=0: a triple fault ends the run (emu-bochs.sh: exit 4) instead of
    # rebooting the ISO in a loop until the timeout.
    echo "cpu: model=$model, count=$cpus, reset_on_triple_fault=0"
    # 3.0 is built with "nogui": no screen at all. Debian's 2.7 has no "nogui"; built with the
    # debugger, its term display draws into a private pty it opens itself, so the caller's
    # terminal is never touched and no `script` wrapper is needed; the caller only has to
    # drain that pty (bochs_drain_screen). It cannot show >8 bpp VBE modes (Bochs panics);
    # use the rfb display for such guests (emu-bochs.sh's usage).
    if [[ $version == 2.7 ]]; then
        echo "display_library: term"
    else
        echo "display_library: nogui"
    fi
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
    # The speaker's default ALSA backend spams errors on a machine without sound (2.7; 3.0 is
    # built without sound and refuses a sound: line).
    echo "speaker: enabled=0"
    if [[ $version == 2.7 ]]; then echo "sound: driver=dummy"; fi
}

# bochs_drain_screen CONSOLE_LOG: for 2.7's term display, read and discard what Bochs draws
# into its private pty, which it names in CONSOLE_LOG at startup; nobody else reads it, and
# after some 64 KiB of screen updates Bochs would block forever in write(). Runs in the
# background (its PID in BOCHS_DRAIN_PID), ignoring Ctrl-C, which is meant for Bochs.
bochs_drain_screen() {
    local console=$1
    (
        trap '' INT
        for _ in {1..200}; do
            pts=$(sed -n 's/^Bochs connected to screen "\(.*\)"$/\1/p' "$console")
            [[ -z $pts ]] || exec cat "$pts" >/dev/null 2>&1
            sleep 0.1
        done
    ) &
    BOCHS_DRAIN_PID=$!
}
