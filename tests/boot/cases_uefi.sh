# UEFI boot cases (sourced by tests/run.sh after cases.sh): QEMU with OVMF, the thinvisor
# ISO's GRUB-EFI first. The native cases (QEMU's TCG without SVM, and no VMX) run
# GRUB-EFI -> thinvisor -> the next EFI loader (by default the same GRUB, whose thinvisor
# entry hides: tests/boot/lib.sh, make_iso) -> the Linux disk's GRUB menu -> Linux. The SVM
# cases run the same chain with the firmware as thinvisor's guest (efi/next_stage.h).

LINUX_DISK=${LINUX_DISK:-$ROOT/build/linux/linux-disk.img}

# expect_no_uefi_loop: the next GRUB hid thinvisor's entry, and thinvisor ran once.
expect_no_uefi_loop() {
    expect 'thinvisor: already running \(marker at 0x4F0\); its menu entry is hidden' \
        "the next GRUB hid the thinvisor entry"
    expect_count '^thinvisor 0\.' 1 "thinvisor ran once (no chainload loop)"
}

# boot_uefi_linux N CMDLINE: the Linux disk on N CPUs, OVMF, thinvisor with CMDLINE.
boot_uefi_linux() {
    boot --uefi --emu qemu --cpus "$1" --mem 512 --timeout 300 --cmdline "$2" \
        --disk "$LINUX_DISK" -- --qemu-cpu "$QEMU_NATIVE_LINUX_CPU"
}

# expect_uefi_linux N: Linux came up natively on N CPUs after one thinvisor run.
expect_uefi_linux() {
    local n=$1
    expect_exit ok
    expect "^UEFI: firmware 'EDK II' revision .*; boot services kept" "thinvisor saw the UEFI system table"
    expect '^region: 0x[0-9a-f]+-' "the firmware gave the hypervisor region"
    expect "^SMP: $n of $n processor\(s\) online" "all $n processors started"
    expect '^boot marker: "TVSR" at 0x4f0' "boot marker set"
    expect '^WARNING: UEFI: .*: starting the next boot stage natively' "native start on UEFI"
    expect_no_uefi_loop
    expect '^linux-guest: init started' "Linux reached init"
    expect "^linux-guest: online CPUs: $n" "Linux started all $n CPUs itself"
    expect '^linux-guest: thinctl status: thinctl: not running under thinvisor' \
        "Linux runs natively"
    expect_not 'PANIC|EXCEPTION' "no panic"
}

case_qemu_uefi_linux() {
    boot_uefi_linux 1 "test_exit"
    expect '^UEFI: next boot stage: the boot loader again, .*\\EFI\\BOOT\\BOOTX64\.EFI' \
        "next stage: GRUB's own file"
    expect_uefi_linux 1
}

case_qemu_uefi_linux_4cpu() {
    boot_uefi_linux 4 "test_exit"
    expect_uefi_linux 4
    expect '^trampoline page 0x[0-9a-f]+ restored' "the AP trampoline page came from the firmware"
}

# efi_next= names the loader: here the same GRUB, spelled with '/' as GRUB's parser needs.
case_qemu_uefi_efi_next() {
    boot_uefi_linux 2 "test_exit efi_next=/EFI/BOOT/BOOTX64.EFI"
    expect '^UEFI: next boot stage: efi_next= .*\\EFI\\BOOT\\BOOTX64\.EFI' "efi_next= loaded"
    expect_uefi_linux 2
}

# A missing next loader: said clearly, and GRUB comes back instead, so the OS still boots.
case_qemu_uefi_missing_next() {
    boot_uefi_linux 2 "test_exit efi_next=/EFI/nothing/here.efi"
    expect '^WARNING: UEFI: cannot load efi_next= .*\\EFI\\nothing\\here\.efi: EFI_NOT_FOUND' \
        "the missing loader named, with the firmware's status"
    expect '^WARNING: UEFI: efi_next=/EFI/nothing/here.efi cannot be started; starting the boot loader that started thinvisor again' \
        "the fallback said"
    expect_uefi_linux 2
}

# The firmware refuses the region (asked for it below 1 MiB): no hypervisor, the OS boots.
case_qemu_uefi_region_refused() {
    boot_uefi_linux 2 "test_exit test_region_below_1m"
    expect '^ERROR: UEFI: the firmware refused the hypervisor region: [0-9]+ KiB below 0x100000 \(EFI_(OUT_OF_RESOURCES|NOT_FOUND)\)' \
        "the refusal reported with the firmware's status"
    expect '^WARNING: UEFI: no hypervisor region: starting the next boot stage natively' \
        "native start without a region"
    expect '^linux-guest: init started' "Linux reached init"
    expect '^linux-guest: online CPUs: 2' "Linux started both CPUs"
    expect_not 'PANIC|EXCEPTION' "no panic"
}

# Under SVM (QEMU's TCG emulates it, with nested paging): the firmware goes on as the guest,
# starts the next GRUB, and Linux comes up on top of thinvisor, on 1 and on 4 CPUs; the
# firmware's own and Linux's INIT-SIPI-SIPI reach the APs through thinvisor. Then Linux
# suspends to RAM 5 times through OVMF's S3 resume path (expect_linux_s3).
UEFI_LAUNCH="the UEFI firmware's context, CS 0x[0-9a-f]+ at 0x[0-9a-f]+"

case_qemu_uefi_svm_linux() {
    boot --uefi --emu qemu_svm --cpus 1 --mem 512 --timeout 300 --cmdline "test_exit" \
        --disk "$LINUX_SUSPEND_DISK"
    expect_svm_up 1 "$UEFI_LAUNCH"
    expect_no_uefi_loop
    expect_linux_under_thinvisor 1 svm "$UEFI_LAUNCH"
    expect_linux_s3 1 svm
    expect_linux_off 1 la57
}

case_qemu_uefi_svm_linux_4cpu() {
    boot --uefi --emu qemu_svm --cpus 4 --mem 512 --timeout 400 --cmdline "test_exit" \
        --disk "$LINUX_SUSPEND_DISK"
    expect_svm_up 4 "$UEFI_LAUNCH"
    expect_no_uefi_loop
    expect_linux_under_thinvisor 4 svm "$UEFI_LAUNCH"
    expect_linux_s3 4 svm
    expect_linux_off 4 la57
}

# OVMF on q35 with VT-d: the firmware's own disk reads go through thinvisor's DMA map
# once thinvisor runs under it, and Linux sees no DMAR (cases_svm.sh has the checks). Then
# Linux suspends to RAM 5 times through OVMF's S3 resume path; the unit, reset by each sleep,
# translates again, and the device still cannot reach the region afterwards.
case_qemu_uefi_svm_linux_iommu_vtd() {
    boot --uefi --emu qemu_svm --cpus 2 --mem 512 --timeout 400 --cmdline "test_exit" \
        --disk "$LINUX_SUSPEND_DISK" -- -- "${IOMMU_VTD_MACHINE[@]}"
    expect_svm_up 2 "$UEFI_LAUNCH"
    expect_no_uefi_loop
    expect_linux_under_thinvisor 2 svm "$UEFI_LAUNCH"
    expect_linux_dma_protected VT-d 2
    expect_linux_s3 2 svm
    expect_linux_off 2 la57
    expect_count '^IOMMU: unit 0 at 0x[0-9a-f]+: translating again$' 5 \
        "the VT-d unit, reset by each sleep, translated again at each wake"
    expect_count '^linux-guest: tvdma: the device wrote over the status area: the area is as it was' 2 \
        "after the 5 sleeps the device still cannot write the status area"
}

# Bochs 3.0 runs OVMF (tests/boot/emu-bochs.sh --uefi) and emulates VMX with EPT: the same
# chain with the firmware as the guest under VMX. One CPU: OVMF builds its ACPI tables from
# QEMU's fw_cfg, which Bochs lacks, so under Bochs it publishes none, and without a MADT
# neither thinvisor nor Linux knows of other processors (both say so in the log).
case_bochs_uefi_linux() {
    boot --uefi --emu bochs --cpus 1 --mem 512 --timeout 900 --cmdline "test_exit" \
        --disk "$LINUX_DISK"
    expect '^WARNING: ACPI: no RSDP found; running on the boot processor only' \
        "no ACPI tables under OVMF in Bochs, said"
    expect_no_uefi_loop
    expect_linux_under_thinvisor 1 vmx "$UEFI_LAUNCH"
}

# efi_next=bootorder: GRUB's image exits, and the firmware's boot manager, now thinvisor's
# guest, goes on with BootOrder: the Linux disk (no EFI system partition: OVMF cannot boot
# it), then the case's ISO again as a hard disk, whose GRUB hides thinvisor's entry and
# boots Linux on top of thinvisor.
case_qemu_uefi_svm_bootorder() {
    boot --uefi --emu qemu_svm --cpus 2 --mem 512 --timeout 300 \
        --cmdline "test_exit efi_next=bootorder" --disk "$LINUX_DISK" --iso-disk
    expect "^UEFI: next boot stage: BootOrder after Boot000[0-9]: Boot000[0-9] 'UEFI QEMU HARDDISK" \
        "the next BootOrder option named"
    expect '^BdsDxe: failed to start Boot000[0-9] "UEFI QEMU DVD-ROM[^"]*" from .*: Aborted' \
        "GRUB's image exited with an error: the boot manager goes on"
    expect '^BdsDxe: starting Boot000[0-9] "UEFI QEMU HARDDISK QM00002' \
        "the boot manager started the ISO on the second disk"
    expect_no_uefi_loop
    expect_linux_under_thinvisor 2 svm "$UEFI_LAUNCH"
}

# No EFI system table (test_no_efi_system_table leaves out GRUB's tag 12): thinvisor finds
# it through the firmware's EFI_SYSTEM_TABLE_POINTER, says so, and the boot goes on. (Its
# earlier answer, a reset after setting the marker, looped on OVMF: OVMF zeroes the first
# page, the marker's, on a warm reset.)
case_qemu_uefi_no_system_table() {
    boot_uefi_linux 2 "test_exit test_no_efi_system_table"
    expect "^WARNING: UEFI: the boot loader gave no EFI system table \\(multiboot2 tag 12\\); using the one at 0x[0-9a-f]+, from the firmware's EFI_SYSTEM_TABLE_POINTER" \
        "the missing system table said, the firmware's pointer used"
    expect_uefi_linux 2
}
