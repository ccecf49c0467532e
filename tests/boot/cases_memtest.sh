# memtest86+ (Debian's, build/memtest/memtest-disk.img, tests/memtest/): a guest no one here
# wrote. It starts its other CPUs itself (INIT-SIPI-SIPI, so under VT-x they leave the
# wait-for-SIPI state thinvisor keeps them in, under SVM thinvisor emulates the start), runs
# its tests on all of them at once, and writes and reads every byte the E820 map thinvisor
# gives it calls usable: thinvisor's region must not be among them, and an access there
# would be reported (guest/gpa_fault.c). memtest86+ never ends the run itself: the harness
# ends it once the screen shows a test past the ones waited for (boot -- --until), and the
# checks read that screen as tests/boot/serial-text.sh turns it into lines.

MEMTEST_DISK=$ROOT/build/memtest/memtest-disk.img

# expect_memtest N LATER: memtest86+ ran on N CPUs, in parallel, until its test number LATER
# began, and every count of errors it showed was 0; thinvisor saw nothing wrong and no access
# to its memory.
expect_memtest() {
    local n=$1 later=$2
    expect_exit until
    expect '^ *Memtest86\+ v[0-9]' "memtest86+ started"
    expect "SMP: ${n}T \\(PAR\\)" "memtest86+ started its $n CPUs and runs them in parallel"
    expect 'Using: All Cores' "a test ran on all the cores at once"
    expect "#($later) +\\[" "memtest86+ went on to test #$later: the tests before it ended"
    expect 'Errors: 0' "memtest86+ shows its error count"
    expect_not 'Errors: *[1-9]|Failing Address' "memtest86+ found no memory error"
    expect_not 'hypervisor memory at' "no access to thinvisor's memory"
    expect_not 'ERROR|PANIC|EXCEPTION' "thinvisor logged no error"
}

# Under SVM (QEMU), to the bit fade test (#10), which only waits: #0 to #9 ran, 6 of them on
# both CPUs at once. About 30 s of QEMU for 128 MiB.
case_qemu_svm_memtest() {
    boot --emu qemu_svm --cpus 2 --mem 128 --timeout 400 --disk "$MEMTEST_DISK" \
        -- --until '#10 +\['
    expect_svm_up 2
    expect_memtest 2 10
}

# Under VT-x (Bochs 3.0), the same way with 32 MiB: Bochs emulates every instruction.
case_bochs_memtest() {
    boot --emu bochs --cpus 2 --mem 32 --timeout 600 --disk "$MEMTEST_DISK" \
        -- --until '#10 +\['
    expect '^VMX root on all 2 processor\(s\)' "VMX root on both CPUs"
    expect '^launching the guest: .* 1 application processor\(s\) wait for SIPI' \
        "guest launched, the AP in wait-for-SIPI"
    expect_memtest 2 10
}

# Under UEFI (OVMF) and SVM: the firmware is thinvisor's guest and boots the disk's EFI GRUB,
# which starts memtest86+'s EFI image; it takes its memory map from the firmware, whose map
# must leave thinvisor's region out too.
case_qemu_uefi_svm_memtest() {
    boot --uefi --emu qemu_svm --cpus 2 --mem 256 --timeout 400 --disk "$MEMTEST_DISK" \
        -- --until '#10 +\['
    expect_svm_up 2 "$UEFI_LAUNCH"
    expect_memtest 2 10
}
