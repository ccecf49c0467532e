# Boot cases for the AMD SVM backend (svm/), in QEMU's TCG, which emulates SVM with nested
# paging (-cpu max: CPUID 8000_000A EDX bit 0) but not VMX (boot --emu qemu_svm); thinvisor
# picks SVM there by itself. Sourced by tests/run.sh after lib.sh and cases.sh
# (GUEST_CHECKS, expect_guest_all_pass, expect_guest_smp, expect_linux_under_thinvisor)
# and cases_reliability.sh (stress_disk, expect_smp_stress).

# The guest on top of thinvisor under SVM, on $1 processors (default 1): the backend's
# lines, then the guest's own. $2: the launch line's start (default: a boot sector).
expect_svm_up() {
    local n=${1:-1} from=${2:-boot sector from }
    expect '^SVM: revision [0-9]+, [0-9]+ ASIDs, nested paging' "SVM capability summary"
    expect '^NPT: identity map 0-0x[0-9a-f]+, [0-9]+ table page\(s\).*hypervisor region .* not mapped' \
        "NPT summary"
    expect "^SVM on all $n processor\\(s\\)" "SVM enabled on all $n"
    expect "^launching the guest under SVM: $from" "guest launched under SVM"
    expect_not '^booting the guest natively' "not booted natively"
}

case_qemu_svm_guest() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit"
    expect_exit ok
    expect_svm_up
    expect_guest_all_pass
    expect '^guest: [0-9]+ passed, 0 failed' "guest reports no failure"
    expect '^exits: CPU 0: CPUID +[1-9]' "CPUID exits counted"
    expect '^exits: CPU 0: VMCALL +[1-9]' "VMMCALL exits counted (as VMCALL)"
    expect '^exits: CPU 0: EPT violation +[1-9]' "nested page faults counted (as EPT violations)"
    expect '^exits: CPU 0: hidden-memory accesses [1-9]' "hidden-memory probe counted"
    expect '^WARNING: CPU 0: guest wrote to the read-only status area at 0x[0-9a-f]+; dropped' \
        "a write to the status area dropped"
    expect '^WARNING: DMA protection: no usable DMAR or IVRS in the ACPI tables: devices the guest programs can reach the hypervisor region, which is protected from processors only' \
        "no IOMMU on QEMU's PC: warned that devices can reach the region"
    expect '^SKIP the IOMMU.s ACPI table is hidden from the guest: no DMAR or IVRS on this machine' \
        "no DMAR to hide"
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors"
}

# Debian's Linux under SVM on 1, 2 and 4 CPUs: it reaches init, starts its APs itself
# (xAPIC: every ICR write goes through the read-only APIC page), each sees the signature,
# thinctl reads thinvisor's status area (the counters in the VMX reasons' names). On 1 and 4
# CPUs it then suspends to RAM 5 times (QEMU's PIIX4 S3, SeaBIOS's resume path, an RTC wake
# alarm) and runs on every CPU under thinvisor after each resume (expect_linux_s3).
case_qemu_svm_linux() {
    boot --emu qemu_svm --cpus 1 --mem 512 --timeout 300 --cmdline "test_exit" \
        --disk "$LINUX_SUSPEND_DISK"
    expect_svm_up
    expect_linux_under_thinvisor 1 svm
    expect_linux_s3 1 svm
    expect_linux_off 1 la57
}

case_qemu_svm_linux_2cpu() {
    boot --emu qemu_svm --cpus 2 --mem 512 --timeout 300 --cmdline "test_exit" \
        --disk "$ROOT/build/linux/linux-disk.img"
    expect_svm_up 2
    expect_linux_under_thinvisor 2 svm
    expect '^exits: CPU 0: EPT violation +[1-9]' "Linux's xAPIC writes exited (as NPFs)"
}

case_qemu_svm_linux_4cpu() {
    boot --emu qemu_svm --cpus 4 --mem 512 --timeout 400 --cmdline "test_exit" \
        --disk "$LINUX_SUSPEND_DISK"
    expect_svm_up 4
    expect_linux_under_thinvisor 4 svm
    expect_linux_s3 4 svm
    expect_linux_off 4 la57
}

# thinctl off while a CPU Linux never started (maxcpus=1) waits for a SIPI in the host, halted:
# the last call kicks it out of its wait; Linux then starts it natively.
case_qemu_svm_linux_off_waiting_cpu() {
    boot --emu qemu_svm --cpus 2 --mem 512 --timeout 300 --cmdline "test_exit" --disk "$LINUX_OFF_DISK"
    expect_exit ok
    expect_svm_up 2
    expect '^linux-guest: online CPUs: 1 ' "Linux started 1 of 2 CPUs (maxcpus=1)"
    expect_linux_off 2 la57
}

# The guest's own SMP under SVM: its INIT-SIPI-SIPI at the ICR (xAPIC: the read-only APIC
# page in the NPT), the APs waiting in the host, INITs to running APs taken through NMI
# kicks, the guest's own NMIs given back to it; every guest check passes.
case_qemu_svm_guest_smp4() {
    boot --emu qemu_svm --cpus 4 --mem 256 --timeout 300 --cmdline "test_exit"
    expect_exit ok
    expect_svm_up 4
    expect '3 application processor\(s\) wait for SIPI' "the APs wait for the guest's SIPI"
    expect_guest_all_pass
    expect_guest_smp 4 svm
    expect '^exits: CPU [1-3]: NMI kicks [1-9]' "INITs to running APs went through kicks"
    # QEMU's SVM has no decode assists: each APIC store's instruction is fetched by thinvisor.
    # There were such stores: the APs above started through the INITs and SIPIs caught there.
    expect '^SVM: .*, decode assists no' "QEMU's SVM has no decode assists"
    expect '^exits: CPU 0: EPT violation +[1-9]' "the guest's APIC stores were nested page faults"
    expect_not "stores decoded from the exit's bytes" "every store fetched through the guest's page tables"
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors"
}

# A guest that triple-faults under SVM: the shutdown intercept logs it and resets.
case_qemu_svm_triple_fault() {
    triple_fault_module
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" --module "$OUT.module"
    expect_svm_up
    expect '^ERROR: CPU 0: guest triple fault' "triple fault logged"
    expect 'resetting the platform' "platform reset"
}

# The SMP stress under SVM (tests/guest/stress.c, expect_smp_stress in
# cases_reliability.sh): INIT-SIPI cycles while the other APs loop on CPUID, then NMI IPIs
# to APs in a CPUID loop. Each INIT to a running AP is a kick that must not reach the
# guest; each of the guest's own NMIs must reach it exactly once (svm/nmi.c).
case_qemu_svm_smp_stress_nmi() {
    stress_disk
    boot --emu qemu_svm --cpus 4 --mem 512 --timeout 600 --cmdline "test_exit" --disk "$OUT.disk"
    expect_svm_up 4
    expect_smp_stress
    expect '^exits: CPU [1-3]: NMI window +[1-9]' "the guest's NMIs waited for its IRETs"
}

# ---- Bochs 3.0's SVM (an AMD Ryzen: nested paging, NRIP save, no x2APIC) ---------------
# A second SVM implementation beside QEMU's, and one with NRIP save, so the step over an
# exiting instruction takes the CPU's next RIP there instead of decoding it; and with decode
# assists (tests/boot/bochs-patches/svm-decode-assists.patch), so the guest's APIC stores are
# emulated from the instruction bytes the CPU put in the VMCB, as on AMD hardware.

case_bochs_svm_guest_smp4() {
    boot --emu bochs_svm --cpus 4 --mem 256 --timeout 600 --cmdline "test_exit"
    expect_exit ok
    expect '^SVM: revision [0-9]+, [0-9]+ ASIDs, nested paging, NRIP save yes' "Bochs's SVM has NRIP save"
    expect '^SVM: .*, decode assists yes$' "Bochs's SVM has decode assists"
    expect_svm_up 4
    expect_guest_all_pass
    expect_guest_smp 4 svm
    expect "^exits: CPU [0-3]: stores decoded from the exit's bytes [1-9]" \
        "the guest's APIC stores were emulated from the VMCB's instruction bytes"
    expect '^exits: CPU [1-3]: NMI kicks [1-9]' "INITs to running APs went through kicks"
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors"
}

case_bochs_svm_linux() {
    boot --emu bochs_svm --cpus 2 --mem 512 --timeout 900 --cmdline "test_exit" \
        --disk "$ROOT/build/linux/linux-disk.img"
    expect_svm_up 2
    expect_linux_under_thinvisor 2 svm
}

# DMA protection (issue 26), QEMU's q35 under the SVM backend. With VT-d (a DMAR) or AMD-Vi
# (an IVRS) thinvisor programs the unit with its DMA map and hides the table and the unit's
# registers; the test guest's edu device then copies a usable page but cannot read or write
# the hypervisor region, and the blocked accesses are counted and logged.
expect_iommu_found() {
    local kind=$1 base=$2
    expect "^IOMMU: $kind at 0x[0-9a-f]+, 1 unit\\(s\\)" "$kind found in the ACPI tables"
    expect "^IOMMU: unit 0: registers at $base, PCI segment 0" "its registers at $base"
}

case_qemu_svm_iommu_vtd() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        -- -- -machine q35 -device intel-iommu -device edu
    expect_exit ok
    expect_iommu_found 'VT-d \(DMAR\)' 0xfed90000
    expect '^IOMMU: unit 0 at 0xfed90000: version 1\.0, 39-bit addresses, 3-level tables' \
        "the unit's capabilities read"
    expect '^IOMMU: the DMAR at 0x[0-9a-f]+ is hidden from the guest \(signature now "TVDR"\)' \
        "DMAR hidden"
    expect '^IOMMU: DMA map 0-0xffffffff, [0-9]+ table page\(s\), 2 x 1G' "DMA map built"
    expect '^IOMMU: unit 0 at 0xfed90000: translating, 3-level tables$' "the unit translates"
    expect '^DMA protection: on: the IOMMU keeps devices out of the hypervisor region' \
        "DMA protection on"
    expect '^guest: edu device at 00:[0-9a-f]+\.0' "the guest found the edu device"
    expect '^PASS the IOMMU.s ACPI table is hidden from the guest$' "no DMAR for the guest"
    expect '^PASS the IOMMU.s blocked accesses are counted$' "blocked accesses counted"
    expect '^PASS device DMA to and from a usable page works$' "DMA works"
    expect '^PASS device DMA cannot reach the hypervisor region$' "the region is out of reach"
    expect '^WARNING: IOMMU: unit 0 blocked a DMA read by 00:[0-9a-f]+\.0 at 0x[0-9a-f]+ \(read not allowed\)' \
        "the blocked read logged"
    expect_count '^WARNING: IOMMU: unit 0 blocked a DMA' 1 \
        "logged once per source and page: the write to the same page is counted, not logged"
    expect '^guest: DMA protection 1, 1 unit\(s\), 2 fault\(s\) blocked, 0 lost' \
        "both counted in the status area"
    expect "^WARNING: CPU 0: guest (read|wrote) the IOMMU's registers at 0xfed90000" \
        "the guest's touch of the unit's registers met a dummy page"
    expect_guest_all_pass
}

case_qemu_svm_iommu_amd() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        -- -- -machine q35 -device amd-iommu -device edu
    expect_exit ok
    expect_iommu_found 'AMD-Vi \(IVRS\)' 0xfed80000
    expect '^IOMMU: unit 0 at 0xfed80000: extended features 0x[0-9a-f]+, (16|512) KiB of registers' \
        "the unit's features read"
    expect '^IOMMU: the IVRS at 0x[0-9a-f]+ is hidden from the guest \(signature now "TVIR"\)' \
        "IVRS hidden"
    expect '^IOMMU: unit 0 at 0xfed80000: translating, 4-level tables$' "the unit translates"
    expect '^DMA protection: on: the IOMMU keeps devices out of the hypervisor region' \
        "DMA protection on"
    expect '^PASS the IOMMU.s ACPI table is hidden from the guest$' "no IVRS for the guest"
    expect '^PASS device DMA to and from a usable page works$' "DMA works"
    expect '^PASS device DMA cannot reach the hypervisor region$' "the region is out of reach"
    expect '^SKIP the IOMMU.s blocked accesses are counted: QEMU 7.2.s AMD-Vi logs no event' \
        "QEMU's AMD-Vi logs no fault for an empty entry (said, not hidden)"
    expect "^WARNING: CPU 0: guest (read|wrote) the IOMMU's registers at 0xfed80000" \
        "the guest's touch of the unit's registers met a dummy page"
    expect_guest_all_pass
}

# expect_linux_dma_protected KIND BLOCKED [REST]: thinvisor's DMA protection (KIND: VT-d, AMD-Vi)
# was on, Linux's root could not aim the edu device at the region (tests/linux/tvdma.c), and
# thinctl status counted BLOCKED accesses (REST: a regular expression for the rest of its line).
expect_linux_dma_protected() {
    local kind=$1 blocked=$2
    expect '^DMA protection: on: the IOMMU keeps devices out of the hypervisor region' \
        "DMA protection on"
    expect '^linux-guest: kernel log lines naming an IOMMU it found: 0$' \
        "Linux found no IOMMU to take over"
    expect '^linux-guest: disk: /dev/sda through the AHCI driver: 4194304 bytes read, boot signature 55aa$' \
        "Linux's own disk DMA works through the IOMMU"
    expect '^linux-guest: tvdma: a page of ours through the device and back: ok' \
        "the device reaches Linux's memory"
    expect '^linux-guest: tvdma: the device read the status area: [0-9]+ non-zero bytes, not what the CPU reads' \
        "the device cannot read the region"
    expect '^linux-guest: tvdma: the device wrote over the status area: the area is as it was' \
        "the device cannot write the region"
    expect '^linux-guest: tvdma returned 0$' "tvdma: out of the device's reach"
    expect "^linux-guest: thinctl status: DMA protection: $kind, 1 unit\\(s\\); $blocked device access\\(es\\) blocked${3:-}" \
        "thinctl status says $kind, $blocked blocked"
}

# The q35 machine with VT-d and the edu device (its DMA reaching all of 32-bit memory).
IOMMU_VTD_MACHINE=(-machine q35 -device intel-iommu -device edu,dma_mask=0xffffffff)
IOMMU_AMD_MACHINE=(-machine q35 -device amd-iommu -device edu,dma_mask=0xffffffff)

# Linux on q35 with VT-d under thinvisor, 2 CPUs: GRUB's disk reads (the AHCI controller's
# DMA) go through thinvisor's DMA map; the kernel finds no DMAR to take (no "DMAR:" line in
# its log); root makes the edu device read and write the status area, a page of the region
# the CPU may read: the device reads nothing of it and its write does not land, while a page
# of Linux's own goes through; thinctl status counts the blocked accesses.
case_qemu_svm_linux_iommu_vtd() {
    boot --emu qemu_svm --cpus 2 --mem 512 --timeout 300 --cmdline "test_exit" \
        --disk "$ROOT/build/linux/linux-disk.img" -- -- "${IOMMU_VTD_MACHINE[@]}"
    expect_svm_up 2
    expect_linux_under_thinvisor 2 svm
    expect_linux_dma_protected VT-d 2 ' \(unit 0: 2\)$'
    expect '^WARNING: IOMMU: unit 0 blocked a DMA read by 00:[0-9a-f]+\.0 at 0x[0-9a-f]+ \(read not allowed\)' \
        "the blocked read logged"
}

# The same on AMD-Vi. QEMU 7.2's AMD-Vi logs no event for an empty page-table entry, so
# nothing is counted there (the test guest's check says why).
case_qemu_svm_linux_iommu_amd() {
    boot --emu qemu_svm --cpus 2 --mem 512 --timeout 300 --cmdline "test_exit" \
        --disk "$ROOT/build/linux/linux-disk.img" -- -- "${IOMMU_AMD_MACHINE[@]}"
    expect_svm_up 2
    expect_linux_under_thinvisor 2 svm
    expect_linux_dma_protected AMD-Vi 0
}

# The guest ends its run by ACPI S5, as an OS powers off (tests/guest/power.c: \_S5 from the
# DSDT, SLP_TYP | SLP_EN into PM1a control): thinvisor intercepts that port (issue 25,
# guest/sleep.c), says what the write does, and lets it through: the machine goes off.
# boot_guest_s5 EMU TIMEOUT PORT TYP: the test guest, set to end by ACPI S5, on EMU; its
# PM1a control block is at I/O PORT, and \_S5 gives SLP_TYP TYP (a regular expression).
boot_guest_s5() {
    local emu=$1 timeout=$2 port=$3 typ=$4
    cp "$ROOT/build/guest/test-disk.img" "$OUT.disk"
    "$ROOT/tests/boot/guest-config.sh" "$OUT.disk" 0 0 0 0 1
    boot --emu "$emu" --cpus 1 --mem 256 --timeout "$timeout" --cmdline "test_exit" \
        --disk "$OUT.disk"
    expect '^PASS PM1a control: IN and OUT of each width$' "PM1a reads and writes pass through"
    expect "^guest: powering off through ACPI S5 \\(SLP_TYP $typ at I/O $port\\)" "the guest's S5"
    expect '^CPU 0: the guest powers the machine off \(ACPI S5\) through PM1a$' \
        "thinvisor saw it and said so"
    expect_not 'still running after the S5 write' "nothing ran after it"
}

case_qemu_svm_guest_s5() {
    boot_guest_s5 qemu_svm 120 0x604 0
    if [ "$STATUS" = 4 ]; then             # QEMU turned off without the exit port
        check_pass "the machine powered off"
    else
        check_fail "the machine powered off" "emulator status $STATUS: $(tail -1 "$OUT/emu.out")"
    fi
}

# The same under VT-x in Bochs 3.0 (its I/O bitmap), where the ACPI power-off ends Bochs
# (status 0, as its shutdown port does) and PM1a control is at 0xb004.
case_bochs_vmx_guest_s5() {
    boot_guest_s5 bochs 300 0xb004 '[0-9]+'
    expect_exit ok
}

# The guest ends its run by suspending to RAM (tests/guest/power.c, suspend_s3: \_S3 from the
# DSDT, its own real-mode waking vector in the FACS, tests/guest/s3_wake.asm), on 2 CPUs whose
# AP is still running guest code (cli; hlt) at the sleep, so thinvisor must park it. Bochs
# resets at the sleep write and its BIOS jumps to the vector at once (an RTC alarm is not
# needed); thinvisor's wake code runs first, starts the AP again and resumes the guest at
# its vector, where CPUID must still show thinvisor. guest-config.sh's POWEROFF 2.
# boot_guest_s3 EMU CPUS MODE: the test guest set to end by S3 (MODE 2) or by an S3 that asks
# for a 32-bit wake (3) on EMU.
boot_guest_s3() {
    local emu=$1 cpus=$2 mode=$3
    cp "$ROOT/build/guest/test-disk.img" "$OUT.disk"
    "$ROOT/tests/boot/guest-config.sh" "$OUT.disk" 0 0 0 0 "$mode"
    boot --emu "$emu" --cpus "$cpus" --mem 256 --timeout 300 --cmdline "test_exit" \
        --disk "$OUT.disk"
    expect_exit ok
    expect '^guest: suspending to RAM through ACPI S3 \(SLP_TYP 1 at I/O 0xb004\), waking vector 0x[0-9a-f]+' \
        "the guest's S3"
    expect_not 'still running after the S3 write' "the machine slept"
}

expect_guest_s3_resumed() {
    local note=$1
    expect '^ACPI S3: CPU 0: the guest suspends to RAM; 1 other CPU\(s\) stopped in thinvisor; its wake code waits at the waking vector 0x[0-9a-f]+$' \
        "thinvisor parked the AP (it ran guest code: cli; hlt) and armed its wake"
    expect '^ACPI S3: woke up: the boot processor is back in thinvisor$' "thinvisor woke first"
    expect "^ACPI S3: resuming the guest$note at its waking vector [0-9a-f]{4}:0000 on 2 processor\\(s\\)\$" \
        "thinvisor resumed the guest at its vector, with its AP back"
    expect '^guest: woke from ACPI S3 at its waking vector, under thinvisor$' "the guest woke"
    expect '^PASS the guest resumes from ACPI S3 under thinvisor$' "CPUID shows thinvisor after the wake"
    expect_not 'ERROR|PANIC|EXCEPTION|^FAIL' "no errors"
}

case_bochs_vmx_guest_s3() {
    boot_guest_s3 bochs 2 2
    expect_guest_s3_resumed ""
}

case_bochs_svm_guest_s3() {
    boot_guest_s3 bochs_svm 2 2
    expect_guest_s3_resumed " under SVM"
}

# Bad input: an OS that asks for a 32-bit wake (X_Firmware_Waking_Vector, FACS version 1+),
# which thinvisor does not take over. One warning, the sleep goes through, and the guest
# wakes natively (Bochs's BIOS jumps to the real-mode vector) and ends its run there.
case_bochs_vmx_guest_s3_x_vector() {
    boot_guest_s3 bochs 1 3
    expect '^WARNING: ACPI S3: CPU 0: the guest suspends to RAM, but the OS asks for a protected- or long-mode wake \(X_Firmware_Waking_Vector 0x[0-9a-f]+\), which thinvisor does not take over: after the resume the OS runs without thinvisor$' \
        "one warning says why and what follows"
    expect_count '^WARNING: ACPI S3' 1 "only one"
    expect_not '^ACPI S3: woke up' "thinvisor did not take the wake"
    expect '^guest: woke from ACPI S3 at its waking vector, without thinvisor$' "the guest woke natively"
    expect '^PASS after a sleep thinvisor cannot come back from, the guest runs on natively$' \
        "and ran on"
}

# strict on a machine without an IOMMU (QEMU's PC): the region would be protected from
# processors only, which strict refuses: it halts before the guest runs.
case_qemu_svm_strict_no_iommu() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 60 --cmdline "test_exit strict"
    expect_exit fail
    expect '^WARNING: DMA protection: no usable DMAR or IVRS in the ACPI tables: devices' \
        "says why"
    expect '^ERROR: PANIC: strict: not booting the guest without DMA protection' "strict halts"
    expect_not '^guest:' "guest not started"
}

# A DMAR whose checksum does not add up (GRUB changes a byte of its OEM ID, as
# qemu_bad_madt_checksum does to the MADT): named once and set aside, the boot goes on.
case_qemu_svm_iommu_bad_dmar() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        -- -- -machine q35 -device intel-iommu
    logged_address '^IOMMU: VT-d \(DMAR\) at (0x[0-9a-f]+),.*' DMAR || return
    local dmar=$ADDR
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        --grub-line "write_byte $(printf '0x%x' $((dmar + 10))) 0x58" \
        -- -- -machine q35 -device intel-iommu
    expect_exit ok
    expect '^WARNING: ACPI: DMAR at 0x[0-9a-f]+ has a bad checksum .*; IOMMU tables ignored$' \
        "bad DMAR checksum named, tables set aside"
    expect '^WARNING: DMA protection: no usable DMAR or IVRS in the ACPI tables: devices' \
        "warned that devices can reach the region"
    expect_guest_all_pass
}

# A remapping unit whose registers do not answer: GRUB moves the DRHD's register base from
# 0xfed90000 to 0xf0d90000, where nothing decodes (byte 59 of the table, 0xfe -> 0xf0), and
# puts the difference into a reserved header byte (38) so that the checksum holds. The unit
# is named and left alone, its table still hidden; the guest boots on, protected from
# processors only, and the log says so.
case_qemu_svm_iommu_dead_unit() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        -- -- -machine q35 -device intel-iommu
    logged_address '^IOMMU: VT-d \(DMAR\) at (0x[0-9a-f]+),.*' DMAR || return
    local dmar=$ADDR
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        --grub-line "write_byte $(printf '0x%x' $((dmar + 59))) 0xf0; write_byte $(printf '0x%x' $((dmar + 38))) 0x0e" \
        -- -- -machine q35 -device intel-iommu
    expect_exit ok
    expect '^IOMMU: unit 0: registers at 0xf0d90000, PCI segment 0' "the moved register base read"
    expect '^WARNING: IOMMU: unit 0 at 0xf0d90000: its registers do not answer .*; not used$' \
        "the unit that does not answer named"
    expect '^WARNING: DMA protection: no remapping unit can be used: devices the guest programs can reach' \
        "warned that devices can reach the region"
    expect '^PASS the IOMMU.s ACPI table is hidden from the guest$' "its table hidden all the same"
    expect_guest_all_pass
}
