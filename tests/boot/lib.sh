# Helpers for boot test cases (tests/boot/cases.sh). A case boots an ISO made
# for it, then checks the serial log; each check prints one PASS/FAIL line.
# Sourced by tests/run.sh; expects ROOT and OUT (the case's output folder).

# make_iso DIR LOADER CMDLINE [MODULE_FILE [GRUB_LINE [UEFI]]]: an ISO whose only entry boots
# thinvisor, with MODULE_FILE as its boot sector module and GRUB_LINE added to the entry.
# With UEFI=1 the ISO's GRUB is the next boot stage too (thinvisor's default on UEFI: the
# loader that started it): its entry hides behind the boot marker, as 42_thinvisor's does,
# and the entry after it boots the disk's own GRUB menu (tests/linux/grub.cfg,
# tests/memtest/grub.cfg).
make_iso() {
    local dir=$1 loader=$2 cmdline=$3 module=${4:-} line=${5:-} uefi=${6:-0}
    rm -rf "$dir/iso" && mkdir -p "$dir/iso/boot/grub"
    cp "$ROOT/build/thinvisor.elf" "$dir/iso/boot/thinvisor.elf"
    {
        echo 'serial --unit=0 --speed=115200'
        echo 'terminal_input serial'
        echo 'terminal_output serial'
        echo 'set timeout=0'
        if [ "$uefi" = 1 ]; then
            echo 'set thinvisor_marker=unread'
            echo 'insmod memrw'
            echo 'read_dword -v thinvisor_marker 0x4F0'
            echo 'if [ "x${thinvisor_marker}" = x52535654 ]; then'
            echo '    write_dword 0x4F0 0'
            echo '    set thinvisor_seen=y'
            echo '    export thinvisor_seen'
            echo 'fi'
            echo 'if [ "x${thinvisor_seen}" = xy ]; then'
            echo "    echo 'thinvisor: already running (marker at 0x4F0); its menu entry is hidden'"
            echo 'else'
        fi
        echo 'menuentry "thinvisor test" {'
        echo "    $loader /boot/thinvisor.elf $cmdline"
        if [ -n "$module" ]; then
            cp "$module" "$dir/iso/boot/module.bin"
            echo "    ${loader/multiboot/module} --nounzip /boot/module.bin bootsector"
        fi
        [ -z "$line" ] || echo "    $line"
        echo '    boot'
        echo '}'
        if [ "$uefi" = 1 ]; then
            echo 'fi'
            echo 'menuentry "the disk'"'"'s OS" {'
            echo '    insmod part_msdos'
            echo '    insmod iso9660'
            # The disk: the one with the Linux guest's initrd or memtest86+'s EFI image.
            echo '    if search --no-floppy --file --set=root /boot/initrd.img; then'
            echo '        configfile /boot/grub/grub.cfg'
            echo '    elif search --no-floppy --file --set=root /boot/memtest86+x64.efi; then'
            echo '        configfile /boot/grub/grub.cfg'
            echo '    fi'
            echo '}'
        fi
    } > "$dir/iso/boot/grub/grub.cfg"
    grub-mkrescue -o "$dir/test.iso" "$dir/iso" >"$dir/grub-mkrescue.log" 2>&1
}

# boot --emu qemu|bochs|bochs27 --cpus N --mem MIB [--loader multiboot2] [--cmdline S]
#      [--module FILE] [--grub-line LINE] [--disk IMG|--no-disk] [--timeout S] [--uefi]
#      [--iso-disk] [-- extra emulator-script arguments]
# Runs the case with a copy of the test guest's disk as hd0 unless told otherwise;
# sets LOG (serial log) and STATUS (the emulator script's exit status). --iso-disk adds a
# copy of the case's ISO as the next disk (a second boot option for the firmware). bochs is Bochs 3.0,
# bochs27 Debian's Bochs 2.7 (tests/boot/bochs-machine.sh says why both). qemu is QEMU's
# TCG with neither VMX nor SVM (-cpu max,-svm: thinvisor boots the guest natively),
# qemu_svm the same CPU with AMD-V and nested paging (the SVM backend runs the guest), and
# bochs_svm Bochs 3.0 as an AMD Ryzen (SVM with nested paging and NRIP save).
# The CPU of the native QEMU cases: QEMU's most complete one, without SVM. Linux booted on
# it natively (QEMU 7.2, TCG) aborts in every static binary's start-up, in glibc's
# _dl_get_origin; `-cpu max` with SVM, and qemu64 without, run the same image fine. So the
# cases that boot Linux natively take QEMU_NATIVE_LINUX_CPU.
QEMU_NATIVE_CPU=max,-svm
QEMU_NATIVE_LINUX_CPU=qemu64,-svm

boot() {
    local emu=qemu cpus=1 mem=256 loader=multiboot2 cmdline="" module="" timeout=120
    local line="" disk=$ROOT/build/guest/test-disk.img uefi=0 iso_disk=0
    while [ $# -gt 0 ]; do
        case $1 in
            --emu) emu=$2; shift 2 ;;
            --cpus) cpus=$2; shift 2 ;;
            --mem) mem=$2; shift 2 ;;
            --loader) loader=$2; shift 2 ;;
            --cmdline) cmdline=$2; shift 2 ;;
            --module) module=$2; shift 2 ;;
            --grub-line) line=$2; shift 2 ;;
            --disk) disk=$2; shift 2 ;;
            --no-disk) disk=""; shift ;;
            --uefi) uefi=1; shift ;;
            --iso-disk) iso_disk=1; shift ;;
            --timeout) timeout=$2; shift 2 ;;
            --) shift; break ;;
            *) echo "boot: unknown argument $1" >&2; return 2 ;;
        esac
    done
    mkdir -p "$OUT"
    LOG=$OUT/serial.log
    BOOT_EMU=$emu                         # for expectations that differ by emulator
    BOOT_CPUS=$cpus
    local disk_args=()
    if [ -n "$disk" ]; then
        cp "$disk" "$OUT/disk.img"        # Bochs locks its image: one copy per case
        disk_args=(--disk "$OUT/disk.img")
    fi
    if ! make_iso "$OUT" "$loader" "$cmdline" "$module" "$line" "$uefi"; then
        check_fail "ISO built" "$(tail -3 "$OUT/grub-mkrescue.log")"
        STATUS=99
        return
    fi
    if [ "$iso_disk" = 1 ]; then
        cp "$OUT/test.iso" "$OUT/iso-disk.img"   # QEMU locks the CD's file: a copy
        disk_args+=(--disk "$OUT/iso-disk.img")
    fi
    STATUS=0
    local emu_args=()
    [ "$uefi" = 0 ] || emu_args+=(--uefi)
    case $emu in
        bochs27) emu=bochs; emu_args+=(--bochs 2.7) ;;
        qemu) emu_args+=(--qemu-cpu "$QEMU_NATIVE_CPU") ;;     # no VMX, no SVM: the native path
        qemu_svm) emu=qemu; emu_args+=(--qemu-cpu max) ;;
        bochs_svm) emu=bochs; emu_args+=(--model ryzen) ;;   # AMD-V with NPT and NRIP save
    esac
    "$ROOT/tests/boot/emu-$emu.sh" "${emu_args[@]}" --iso "$OUT/test.iso" --cpus "$cpus" --mem "$mem" \
        --serial "$LOG" --timeout "$timeout" --workdir "$OUT/emu" "${disk_args[@]}" "$@" \
        >"$OUT/emu.out" 2>&1 || STATUS=$?
    "$ROOT/tests/boot/serial-text.sh" "$LOG" >"$LOG.txt"
    LOG=$LOG.txt
}

# logged_address REGEX WHAT: sets ADDR to the address the last boot logged in REGEX's first
# group (sed -E), for a second boot to aim at (a table to corrupt); else FAILs naming WHAT
# and returns 1.
logged_address() {
    ADDR=$(sed -nE "s/$1/\1/p" "$LOG" | head -1)
    [ -n "$ADDR" ] && return 0
    check_fail "first boot found the $2" "$(grep -m1 -E "${1%%(*}" "$LOG")"
    return 1
}

check_pass() { echo "PASS $CASE: $1"; }
check_fail() {
    echo "FAIL $CASE: $1"
    [ -n "${2:-}" ] && printf '     %s\n' "$2" | head -5
    return 0
}

# expect_exit ok|fail|timeout|until: how the run must have ended (until: the serial log
# matched the REGEX of boot's -- --until REGEX, and the harness ended it).
expect_exit() {
    local want=$1 got
    case $STATUS in
        0) got=ok ;;
        3) got=timeout ;;
        5) got=until ;;
        *) got=fail ;;
    esac
    if [ "$got" = "$want" ]; then
        check_pass "run ends: $want"
    else
        check_fail "run ends: $want (got $got, status $STATUS)" "$(tail -3 "$OUT/emu.out")"
    fi
}

# expect REGEX [DESCRIPTION]: some line of the serial log matches (grep -E).
expect() {
    if grep -Eq -- "$1" "$LOG"; then
        check_pass "${2:-log has /$1/}"
    else
        check_fail "${2:-log has /$1/}" "last line: $(tail -1 "$LOG")"
    fi
}

# expect_count REGEX N DESCRIPTION: exactly N lines match.
expect_count() {
    local n
    n=$(grep -Ec -- "$1" "$LOG")
    if [ "$n" = "$2" ]; then
        check_pass "$3"
    else
        check_fail "$3" "$n line(s) match /$1/, want $2"
    fi
}

# expect_not REGEX [DESCRIPTION]: no line matches.
expect_not() {
    if grep -Eq -- "$1" "$LOG"; then
        check_fail "${2:-log lacks /$1/}" "$(grep -Em1 -- "$1" "$LOG")"
    else
        check_pass "${2:-log lacks /$1/}"
    fi
}

# expect_value REGEX CMP N DESCRIPTION: the first number captured by sed -E REGEX
# (one group, decimal or 0x hex) compares (-ge, -lt, ...) with N.
expect_value() {
    local re=$1 cmp=$2 n=$3 what=$4 v
    v=$(sed -nE "s/$re/\1/p" "$LOG" | head -1)
    if [ -n "$v" ] && [ "$((v))" "$cmp" "$((n))" ]; then
        check_pass "$what ($v)"
    else
        check_fail "$what (got '${v:-nothing}')"
    fi
}
