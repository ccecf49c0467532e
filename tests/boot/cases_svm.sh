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
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors"
}

# Debian's Linux under SVM on 1, 2 and 4 CPUs: it reaches init, starts its APs itself
# (xAPIC: every ICR write goes through the read-only APIC page), each sees the signature,
# thinctl reads thinvisor's status area (the counters in the VMX reasons' names).
case_qemu_svm_linux() {
    boot --emu qemu_svm --cpus 1 --mem 512 --timeout 300 --cmdline "test_exit" \
        --disk "$ROOT/build/linux/linux-disk.img"
    expect_svm_up
    expect_linux_under_thinvisor 1 svm
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
        --disk "$ROOT/build/linux/linux-disk.img"
    expect_svm_up 4
    expect_linux_under_thinvisor 4 svm
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
# exiting instruction takes the CPU's next RIP there instead of decoding it.

case_bochs_svm_guest_smp4() {
    boot --emu bochs_svm --cpus 4 --mem 256 --timeout 600 --cmdline "test_exit"
    expect_exit ok
    expect '^SVM: revision [0-9]+, [0-9]+ ASIDs, nested paging, NRIP save yes' "Bochs's SVM has NRIP save"
    expect_svm_up 4
    expect_guest_all_pass
    expect_guest_smp 4 svm
    expect '^exits: CPU [1-3]: NMI kicks [1-9]' "INITs to running APs went through kicks"
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors"
}

case_bochs_svm_linux() {
    boot --emu bochs_svm --cpus 2 --mem 512 --timeout 900 --cmdline "test_exit" \
        --disk "$ROOT/build/linux/linux-disk.img"
    expect_svm_up 2
    expect_linux_under_thinvisor 2 svm
}

# The machine's IOMMU as thinvisor finds it in the ACPI tables (issue 26; not programmed
# yet): QEMU's q35 with VT-d (a DMAR) or AMD-Vi (an IVRS), and the default PC with neither.
# The guest runs on as before; the log says that devices can still reach the region.
expect_iommu_found() {
    local kind=$1 base=$2
    expect "^IOMMU: $kind at 0x[0-9a-f]+, 1 unit\\(s\\)" "$kind found in the ACPI tables"
    expect "^IOMMU: unit 0: registers at $base, PCI segment 0" "its registers at $base"
    expect '^WARNING: IOMMU: not used yet: devices the guest programs can still reach' \
        "said that it is not used yet"
    expect_guest_all_pass
}

case_qemu_svm_iommu_vtd() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        -- -- -machine q35 -device intel-iommu
    expect_exit ok
    expect_iommu_found 'VT-d \(DMAR\)' 0xfed90000
}

case_qemu_svm_iommu_amd() {
    boot --emu qemu_svm --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit" \
        -- -- -machine q35 -device amd-iommu
    expect_exit ok
    expect_iommu_found 'AMD-Vi \(IVRS\)' 0xfed80000
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
    expect '^WARNING: ACPI: DMAR at 0x[0-9a-f]+ has a bad checksum .*; IOMMU tables ignored: the hypervisor region is protected from processors only' \
        "bad DMAR checksum named, tables set aside"
    expect_guest_all_pass
}
