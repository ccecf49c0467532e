# Bad boot input (issue 7): each case feeds thinvisor one bad input and expects a clear
# message and an end to the run, never a hang. With the cases of cases.sh that already
# do so, they make the matrix in docs/reliability.md, "Bad boot input". QEMU TCG runs them
# in seconds.

# cpus=0 on its own: warned, then every processor comes up.
case_qemu_bad_cpus_zero() {
    boot --emu qemu --cpus 2 --mem 256 --timeout 60 --cmdline "test_exit cpus=0"
    expect_exit ok
    expect '^WARNING: command line: cpus=0: expected a number from 1 to 256; using all processors' \
        "cpus=0 warned"
    expect '^SMP: 2 of 2 processor\(s\) online' "all processors online"
}

# More processors asked for than the MADT lists: said so, and the ones present run.
case_qemu_bad_cpus_above_present() {
    boot --emu qemu --cpus 2 --mem 256 --timeout 60 --cmdline "test_exit cpus=16"
    expect_exit ok
    expect '^WARNING: cpus=16: only 2 processor\(s\) present; using them all' "excess named"
    expect '^SMP: 2 of 2 processor\(s\) online' "both processors online"
    expect '^thinvisor: boot ok' "boot goes on"
}

# A command line past CMDLINE_MAX_LEN (1024): cut, with a warning; the options before
# the cut still count.
case_qemu_bad_cmdline_overlong() {
    local pad
    pad=$(printf 'x%.0s' $(seq 1 1100))
    boot --emu qemu --cpus 1 --mem 256 --timeout 60 --cmdline "test_exit loglevel=debug pad=$pad"
    expect_exit ok
    expect '^WARNING: command line: command line longer than 1024 characters; the rest is ignored' \
        "overlong command line warned"
    expect "^WARNING: command line: unknown option 'pad=x{60}' ignored" "the long word named, shortened"
    expect '^thinvisor: boot ok' "boot goes on"
}

# The same option twice with different values: the last counts, and the user is told.
case_qemu_bad_option_conflict() {
    boot --emu qemu --cpus 4 --mem 256 --timeout 60 --cmdline "test_exit cpus=3 cpus=2"
    expect_exit ok
    expect '^WARNING: command line: cpus given more than once; the last one counts' "conflict warned"
    expect '^SMP: 2 of 4 processor\(s\) online' "the last value (2) counts"
}

# A flag given a value, and an option without its value.
case_qemu_bad_option_shape() {
    boot --emu qemu --cpus 1 --mem 256 --timeout 60 --cmdline "test_exit strict=yes loglevel"
    expect_exit ok
    expect "^WARNING: command line: strict is a flag and takes no value; ignored 'strict=yes'" \
        "flag with a value warned"
    expect '^WARNING: command line: loglevel needs a value \(loglevel=...\); using the default' \
        "option without a value warned"
    expect '^booting the guest natively' "strict stayed off: the guest boots natively"
}

# Values out of range for every option that takes one.
case_qemu_bad_option_values() {
    boot --emu qemu --cpus 1 --mem 256 --timeout 60 \
        --cmdline "test_exit loglevel=9 console=com9 boot=zz cpus=999 test_fault=xx"
    expect_exit ok
    expect '^WARNING: command line: loglevel=9: expected 0..3' "loglevel warned"
    expect '^WARNING: command line: console=com9: expected com1..com4' "console warned"
    expect '^WARNING: command line: boot=zz: expected hd0..hd7' "boot warned"
    expect '^WARNING: command line: cpus=999: expected a number from 1 to 256' "cpus warned"
    expect '^WARNING: command line: test_fault=xx: expected ud, gp, pf or de' "test_fault warned"
    expect '^thinvisor: boot ok' "boot goes on with the defaults"
}

# No ACPI tables at all: no MADT to list processors, so the boot processor alone.
case_qemu_bad_no_acpi() {
    boot --emu qemu --cpus 2 --mem 256 --timeout 60 --cmdline "test_exit" -- -- -machine acpi=off
    expect_exit fail    # the test guest's own "MADT lists the boot processor" fails too
    expect '^WARNING: ACPI: no RSDP found; running on the boot processor only' "missing ACPI named"
    expect '^thinvisor: boot ok' "boot goes on"
    expect '^guest: [0-9]+ passed' "the guest ran to its end"
}

# The GRUB entry names a boot-sector module that is not there: GRUB says so, thinvisor
# gets no module and reads the boot sector from the disk instead.
case_qemu_bad_module_missing() {
    boot --emu qemu --cpus 1 --mem 256 --timeout 60 --cmdline "test_exit" \
        --grub-line "module2 --nounzip /boot/no-such-file bootsector"
    expect_exit ok
    expect "error: file .*/boot/no-such-file' not found" "GRUB names the missing file"
    expect '^modules: 0' "thinvisor sees no module"
    expect '^booting the guest natively \(no virtualization\): boot sector from INT 13h' \
        "boot sector read from the disk instead"
}

# No room for the hypervisor region: GRUB's cutmem takes everything above 1200 KiB out
# of the memory map, so only the image's own first MiB is left: a panic that says how
# much room it needs. (With less RAM than that GRUB itself cannot load the image.)
case_qemu_bad_no_room() {
    boot --emu qemu --cpus 1 --mem 256 --timeout 60 --cmdline "test_exit" \
        --grub-line "cutmem 1200K 256M"
    expect_exit fail
    expect 'PANIC: not enough usable RAM for the hypervisor region: it needs [0-9]+ KiB' \
        "missing room named with the size needed"
}

# A MADT whose checksum does not add up: a first boot finds where QEMU's firmware put the
# MADT, the second has GRUB (memrw's write_byte) change the first byte of its OEM ID
# ('B' of "BOCHS ") before thinvisor starts. thinvisor must refuse the table by its
# checksum and carry on with the boot processor alone.
case_qemu_bad_madt_checksum() {
    boot --emu qemu --cpus 2 --mem 256 --timeout 60 --cmdline "test_exit"
    logged_address '^ACPI: RSDP at .*, MADT at (0x[0-9a-f]+)$' MADT || return
    local madt=$ADDR
    boot --emu qemu --cpus 2 --mem 256 --timeout 60 --cmdline "test_exit" \
        --grub-line "write_byte $(printf '0x%x' $((madt + 10))) 0x58"
    expect_exit fail    # the test guest's own "MADT lists the boot processor" fails too
    expect '^WARNING: ACPI: APIC at 0x[0-9a-f]+ has a bad checksum .*; running on the boot processor only' "bad MADT checksum named"
    expect '^thinvisor: boot ok' "boot goes on with the boot processor"
    expect '^guest: [0-9]+ passed' "the guest ran to its end"
}

# ---- the hostile-guest program (tests/guest/hostile.c) ------------------------------

# HOSTILE_SEED and HOSTILE_OPS (operations over every CPU) for the hostile case: 100,000
# take 20-30 s in Bochs. The seed is printed, and the same seed gives the same digests.
HOSTILE_SEED=${HOSTILE_SEED:-20261125}
HOSTILE_OPS=${HOSTILE_OPS:-100000}

# expect_hostile N: the program ran its operations on N CPUs, and every check held.
expect_hostile() {
    local n=$1 c
    expect "^hostile: seed $HOSTILE_SEED, $HOSTILE_OPS operations over $n CPU\\(s\\)" "seed and count printed"
    expect '^PASS hostile guest: every operation answered as the hardware would$' "every operation answered right"
    if ((n > 1)); then
        expect '^PASS hostile guest: the CPUs ran their shares at the same time$' \
            "the CPUs ran at once"
    fi
    expect '^PASS hostile guest: no NMI reached the guest that it did not send$' \
        "thinvisor's kicks stayed its own"
    expect '^PASS hostile guest: hypervisor image unchanged afterwards$' "image checksum unchanged"
    expect '^PASS hostile guest: every CPU answers afterwards$' "every CPU answers afterwards"
    expect '^PASS hostile guest: hypervisor state unchanged on every CPU afterwards$' \
        "fixed hypervisor state unchanged, no hidden page reachable"
    for ((c = 0; c < n; c++)); do
        expect "^hostile: CPU $c: [0-9]+ operations, outcome digest [0-9a-f]{8}, 0 failure" "CPU $c ran its share"
    done
    expect_value '^hostile: ([0-9]+) operations in [0-9]+ ms' -ge "$HOSTILE_OPS" "operations tried"
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors in thinvisor's log"
}

case_bochs_hostile_guest() {
    cp "$ROOT/build/guest/test-disk.img" "$OUT.disk"
    "$ROOT/tests/boot/guest-config.sh" "$OUT.disk" "$HOSTILE_SEED" "$HOSTILE_OPS"
    boot --emu bochs --cpus 4 --mem 512 --timeout 1200 --cmdline "test_exit" --disk "$OUT.disk"
    expect_exit ok
    expect_hostile 4
}

# ---- SMP stress and NMIs (tests/guest/stress.c) ---------------------------------------

STRESS_CYCLES=${STRESS_CYCLES:-1000}
STRESS_NMIS=${STRESS_NMIS:-100}

# 1,000 INIT-SIPI cycles spread over the 3 APs while the other two loop on CPUID, then
# 100 NMI IPIs to each AP in a CPUID loop, one at a time: every NMI must reach the guest,
# also those that arrive while the CPU handles a CPUID exit in VMX root. On the default path
# (INIT and SIPI VM exits) and with emulate_sipi (the sender kicks the AP out of the guest
# with an NMI of thinvisor's own, which must never reach the guest).
expect_smp_stress() {
    expect_exit ok
    expect "^PASS $STRESS_CYCLES INIT-SIPI cycles over the APs while the others loop on CPUID\$" \
        "$STRESS_CYCLES INIT-SIPI cycles, no hang, no CPU lost"
    expect "^PASS $STRESS_NMIS NMIs to each AP in a CPUID loop, every one taken\$" \
        "every NMI reached the guest"
    expect "^stress: $((STRESS_NMIS * 3)) NMIs sent, $((STRESS_NMIS * 3)) taken" "NMI count exact"
    expect '^exits: CPU [1-3]: exception or NMI +[1-9]' "NMIs reached the APs through NMI exits"
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors in thinvisor's log"
}

# stress_disk: the test guest's disk with the stress program asked for, as $OUT.disk.
stress_disk() {
    cp "$ROOT/build/guest/test-disk.img" "$OUT.disk"
    "$ROOT/tests/boot/guest-config.sh" "$OUT.disk" 0 0 "$STRESS_CYCLES" "$STRESS_NMIS"
}

case_bochs_smp_stress_nmi() {
    stress_disk
    boot --emu bochs --cpus 4 --mem 512 --timeout 1500 --cmdline "test_exit" --disk "$OUT.disk"
    expect_smp_stress
    expect_value '^exits: CPU 1: INIT +([0-9]+)' -ge 100 "the INITs were VM exits on the APs"
}

case_bochs_smp_stress_nmi_emulate_sipi() {
    stress_disk
    boot --emu bochs --cpus 4 --mem 512 --timeout 1500 --cmdline "test_exit emulate_sipi" \
        --disk "$OUT.disk"
    expect_smp_stress
    expect '^VMX: SIPI emulated \(emulate_sipi\)' "SIPI emulated"
}

# The same program under SVM, in QEMU's TCG and in Bochs's Ryzen. There it draws SVM's
# instructions and MSRs instead of VMX's, and no CR writes: thinvisor leaves those to the CPU
# under SVM, and the emulators get them wrong (tests/guest/hostile.c, docs/testing.md).
# STATE_CHECK sums the permission maps and the VMCB's fixed controls (svm/state_check.c).
hostile_svm() {
    cp "$ROOT/build/guest/test-disk.img" "$OUT.disk"
    "$ROOT/tests/boot/guest-config.sh" "$OUT.disk" "$HOSTILE_SEED" "$HOSTILE_OPS"
    boot --emu "$1" --cpus 4 --mem 512 --timeout 1200 --cmdline "test_exit" --disk "$OUT.disk"
    expect_exit ok
    expect_hostile 4
    expect '^hostile: CR0/CR4: ([0-9]+) operations \(\1 drawn but skipped\)' "CR writes skipped on AMD"
    expect '^exits: CPU 0: exception or NMI +[1-9]' "the guest's #GPs were intercepted"
}

case_qemu_svm_hostile_guest() { hostile_svm qemu_svm; }
case_bochs_svm_hostile_guest() { hostile_svm bochs_svm; }
