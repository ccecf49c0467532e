# Guests no one here wrote (issue 24): the Linux kernel's own x86 selftests
# (tests/linux/selftests-build.sh: single-stepping, SYSRET and IRET corners, LDT and segment
# games, sigreturn, FSGSBASE, XSAVE, IOPL...), run by the Linux guest natively and on
# thinvisor in the same emulator, compared test by test. /init runs a failing test up to 3
# times (tests/linux/init): a test counts as passing on a side when one run passed, so an
# emulator's flaky corner (Bochs's 32-bit syscalls crash now and then natively too) is not a
# difference; a test that fails every run on one side and passes on the other is.
#
# The native side of a run depends on the image and the emulator only, not on thinvisor: it
# runs once and is kept in the cache (selftests-native/), keyed by both.
# Sourced by tests/run.sh after lib.sh.

SELFTESTS_DISK=$ROOT/build/linux/linux-selftests-disk.img
SELFTESTS_SHORT_DISK=$ROOT/build/linux/linux-selftests-short-disk.img

# selftests_native EMU DISK CPUS: the path of the native run's serial log, run now if the
# cache has none. EMU: qemu (the same CPU as qemu_svm: -cpu max) or bochs (haswell).
selftests_native() {
    local emu=$1 disk=$2 cpus=$3 key dir log work rc=0
    local cache=${THINVISOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/thinvisor}/selftests-native
    key=$( {
        sha256sum <"$disk"
        echo "$emu $cpus"
        cat "$ROOT/tests/boot/emu-$emu.sh"
        if [ "$emu" = qemu ]; then qemu-system-x86_64 --version | head -n1
        else cat "$(dirname "$("$ROOT/tests/boot/bochs-build.sh" --path)")/build-info.txt"; fi
    } | sha256sum | cut -c1-16)
    log=$cache/$emu-$key.log
    if [ ! -s "$log" ]; then
        mkdir -p "$cache"
        work=$(mktemp -d "$cache/run.XXXXXX")
        cp "$disk" "$work/disk.img"               # emulators lock or write their disks
        truncate -s 64K "$work/blank.iso"         # emu-*.sh want a CD; the disk boots
        if [ "$emu" = qemu ]; then
            "$ROOT/tests/boot/emu-qemu.sh" --iso "$work/blank.iso" --disk "$work/disk.img" \
                --cpus "$cpus" --mem 512 --serial "$work/serial.log" --timeout 3600 \
                --qemu-cpu max -- -boot order=c >"$work/emu.out" 2>&1 || rc=$?
        else
            "$ROOT/tests/boot/emu-bochs.sh" --iso "$work/blank.iso" --disk "$work/disk.img" \
                --cpus "$cpus" --mem 512 --serial "$work/serial.log" --timeout 3600 \
                --workdir "$work/emu" -- "boot: disk" >"$work/emu.out" 2>&1 || rc=$?
        fi
        "$ROOT/tests/boot/serial-text.sh" "$work/serial.log" >"$work/serial.txt"
        if grep -q '^linux-guest: selftests done' "$work/serial.txt"; then
            mv "$work/serial.txt" "$log"
        else
            cp "$work/serial.txt" "$OUT/native-serial.log" 2>/dev/null
        fi
        rm -rf "$work"
    fi
    echo "$log"
}

# selftest_outcomes LOG: "NAME pass|fail RCS" per test, sorted: pass when some run passed.
selftest_outcomes() {
    sed -nE 's/^linux-guest: selftest ([^ ]+) run [0-9]+: rc=([0-9]+) .*$/\1 \2/p' "$1" |
        awk '{ seen[$1] = 1; if ($2 == 0) ok[$1] = 1; else rcs[$1] = rcs[$1] (rcs[$1] ? "," : "") $2 }
             END { for (t in seen) print t, (ok[t] ? "pass" : "fail"), (rcs[t] ? rcs[t] : "-") }' |
        sort
}

# expect_selftests_agree NATIVE_LOG: one check per test, the native run against $LOG.
expect_selftests_agree() {
    local native=$1 t nres nrc hres hrc n=0
    if [ ! -s "$native" ]; then
        check_fail "the native reference run finished" "see $OUT/native-serial.log"
        return
    fi
    check_pass "the native reference run finished ($(basename "$native"))"
    expect '^linux-guest: selftests done' "every selftest ran on thinvisor"
    while read -r t nres nrc hres hrc; do
        n=$((n + 1))
        if [ "$nres" = "$hres" ]; then
            check_pass "selftest $t: ${nres}ed natively and on thinvisor"
        else
            check_fail "selftest $t: ${nres}ed natively (rc $nrc), ${hres}ed on thinvisor (rc $hrc)" \
                "$(grep -a "^linux-guest: selftest $t output:" "$LOG" | tail -n 3)"
        fi
    done < <(join -a1 -a2 -e miss -o 0,1.2,1.3,2.2,2.3 <(selftest_outcomes "$native") \
                  <(selftest_outcomes "$LOG"))
    [ "$n" -gt 0 ] || check_fail "selftests compared" "no selftest line in either log"
}

# All of them, under the SVM backend in QEMU's TCG, on 2 CPUs.
case_qemu_svm_selftests() {
    local native
    native=$(selftests_native qemu "$SELFTESTS_DISK" 2)
    boot --emu qemu_svm --cpus 2 --mem 512 --timeout 3600 --cmdline "test_exit" \
        --disk "$SELFTESTS_DISK"
    expect_exit ok
    expect '^launching the guest under SVM' "Linux runs under SVM"
    expect_selftests_agree "$native"
}

# The short list (tests/linux/selftests-short.list: the corners thinvisor's VT-x exits touch),
# under the VT-x backend in Bochs 3.0, on 2 CPUs.
case_bochs_selftests() {
    local native
    native=$(selftests_native bochs "$SELFTESTS_SHORT_DISK" 2)
    boot --emu bochs --cpus 2 --mem 512 --timeout 3600 --cmdline "test_exit" \
        --disk "$SELFTESTS_SHORT_DISK"
    expect_exit ok
    expect '^VMX root on all 2 processor' "Linux runs under VT-x"
    expect_selftests_agree "$native"
}
