# Boot cases for the AMD SVM backend (svm/), in QEMU's TCG, which emulates SVM with nested
# paging (-cpu max: CPUID 8000_000A EDX bit 0) but not VMX. The backend is asked for with
# `svm` and runs the guest on the boot processor only so far (issue 15). Sourced by
# tests/run.sh after lib.sh and cases.sh (GUEST_CHECKS, expect_guest_all_pass).

# The guest on top of thinvisor under SVM: the backend's lines, then the guest's own.
expect_svm_up() {
    expect '^SVM: revision [0-9]+, [0-9]+ ASIDs, nested paging' "SVM capability summary"
    expect '^NPT: identity map 0-0x[0-9a-f]+, [0-9]+ table page\(s\).*hypervisor region .* not mapped' \
        "NPT summary"
    expect '^SVM on the boot processor' "SVM enabled"
    expect '^launching the guest under SVM: boot sector from ' "guest launched under SVM"
    expect_not '^booting the guest natively' "not booted natively"
}

case_qemu_svm_guest() {
    boot --emu qemu --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit svm"
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

# Debian's Linux on 1 CPU under SVM: it reaches init, sees the signature, thinctl reads
# thinvisor's status area (the counters in the VMX reasons' names).
case_qemu_svm_linux() {
    boot --emu qemu --cpus 1 --mem 512 --timeout 300 --cmdline "test_exit svm" \
        --disk "$ROOT/build/linux/linux-disk.img"
    expect_exit ok
    expect_svm_up
    expect '^linux-guest: init started' "Linux reached init under SVM"
    expect '^linux-guest: cpu 0: hypervisor signature "thinvisor' "Linux sees thinvisor's signature"
    expect '^linux-guest: thinctl status: CPUs virtualized: 1 \(APIC IDs 0\)' "thinctl status: 1 CPU"
    expect '^linux-guest: thinctl stats: CPUID +[1-9][0-9]* +[1-9]' "thinctl stats: CPUID exits"
    expect '^exits: CPU 0: WRMSR +[1-9]' "Linux's EFER writes went through the intercept"
    expect_not 'ERROR|PANIC|EXCEPTION' "no errors"
}

# More than one processor: the backend cannot run guest SMP yet, so it says why and the
# guest boots natively, on all of them.
case_qemu_svm_smp_refused() {
    boot --emu qemu --cpus 2 --mem 256 --timeout 120 --cmdline "test_exit svm"
    expect_exit ok
    expect '^WARNING: virtualization unavailable: this CPU has no VMX .*; the SVM backend runs one processor only so far, and 2 are online$' \
        "says why SVM cannot run the guest"
    expect '^booting the guest natively' "native fallback"
    expect '^PASS all APs started \(1\)$' "guest: the AP started natively"
}

# A guest that triple-faults under SVM: the shutdown intercept logs it and resets.
case_qemu_svm_triple_fault() {
    triple_fault_module
    boot --emu qemu --cpus 1 --mem 256 --timeout 120 --cmdline "test_exit svm" --module "$OUT.module"
    expect_svm_up
    expect '^ERROR: CPU 0: guest triple fault' "triple fault logged"
    expect 'resetting the platform' "platform reset"
}
