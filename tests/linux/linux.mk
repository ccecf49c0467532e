# The Linux guest (tests/linux/): Debian's kernel + a busybox/tvcheck initramfs on a GRUB
# hybrid disk image that thinvisor chainloads (or a BIOS boots directly) from its MBR.
# Included by the top-level Makefile. See tests/linux/README.md.
#
#   make linux-guest         build/linux/linux-disk.img: boots, runs tvcheck, ends the emulator
#   make linux-guest-shell   build/linux/linux-shell-disk.img: the same with "tv.shell" on the
#                            kernel command line: runs tvcheck, then leaves a shell on ttyS0
#   make linux-guest-bench   build/linux/linux-bench-disk.img: "tv.bench" on the kernel command
#                            line: /init runs tvbench (TSC at init, a timed workload) first
#   make linux-guest-suspend build/linux/linux-suspend-disk.img: "tv.suspend tv.off": /init
#                            suspends to RAM (S3, an RTC alarm wakes it) 5 times, checking every
#                            CPU after each, then turns thinvisor off (thinctl off)
#   make linux-guest-off     build/linux/linux-off-disk.img: "tv.off maxcpus=1": thinctl off
#                            while the CPUs Linux never started wait for a SIPI in thinvisor
#   make linux-guest-selftests build/linux/linux-selftests-disk.img: "tv.selftests": /init runs
#                            the kernel's x86 selftests (tests/linux/selftests-build.sh); and
#                            linux-selftests-short-disk.img, with selftests-short.list's only
#   make linux-guest-boot    boots linux-disk.img natively (no thinvisor) in QEMU and Bochs
#                            and checks the guest's lines (LINUX_EMUS=qemu or bochs for one)
#
# build-image.sh downloads the .debs once (build/linux/debs) and keeps a stamp of its inputs,
# package versions and tool versions, so a second run is a no-op; make only calls it when one
# of the files below changed. `tests/linux/build-image.sh --refresh` picks up a newer kernel.

LINUX_DIR    := $(BUILD)/linux
LINUX_INPUTS := tests/linux/build-image.sh tests/linux/init tests/linux/tvcheck.c \
                tests/linux/tvbench.c tests/linux/tvdma.c tests/edu_regs.h tests/linux/grub.cfg \
                tools/thinctl.c abi/status.h abi/hypercall.h abi/exit_reason_names.h \
                abi/exit_reason.h
LINUX_EMUS   ?= qemu bochs

.PHONY: linux-guest linux-guest-shell linux-guest-bench linux-guest-suspend linux-guest-off \
        linux-guest-selftests \
        linux-guest-boot
linux-guest: $(LINUX_DIR)/linux-disk.img
linux-guest-shell: $(LINUX_DIR)/linux-shell-disk.img
linux-guest-bench: $(LINUX_DIR)/linux-bench-disk.img
linux-guest-suspend: $(LINUX_DIR)/linux-suspend-disk.img
linux-guest-off: $(LINUX_DIR)/linux-off-disk.img
linux-guest-selftests: $(LINUX_DIR)/linux-selftests-disk.img $(LINUX_DIR)/linux-selftests-short-disk.img

$(LINUX_DIR)/linux-disk.img: $(LINUX_INPUTS)
	tests/linux/build-image.sh --out $(LINUX_DIR)

$(LINUX_DIR)/linux-shell-disk.img: $(LINUX_INPUTS)
	tests/linux/build-image.sh --out $(LINUX_DIR) --shell

$(LINUX_DIR)/linux-bench-disk.img: $(LINUX_INPUTS)
	tests/linux/build-image.sh --out $(LINUX_DIR) --bench

$(LINUX_DIR)/linux-suspend-disk.img: $(LINUX_INPUTS)
	tests/linux/build-image.sh --out $(LINUX_DIR) --suspend

$(LINUX_DIR)/linux-off-disk.img: $(LINUX_INPUTS)
	tests/linux/build-image.sh --out $(LINUX_DIR) --off

$(LINUX_DIR)/linux-selftests-disk.img: $(LINUX_INPUTS) tests/linux/selftests-build.sh tests/linux/selftests-skip.list
	tests/linux/build-image.sh --out $(LINUX_DIR) --selftests

$(LINUX_DIR)/linux-selftests-short-disk.img: $(LINUX_INPUTS) tests/linux/selftests-build.sh \
                                             tests/linux/selftests-short.list
	tests/linux/build-image.sh --out $(LINUX_DIR) --selftests-short

linux-guest-boot: $(LINUX_DIR)/linux-disk.img
	@for e in $(LINUX_EMUS); do \
	    tests/linux/boot-native.sh --emu $$e --cpus $(CPUS) --mem $(MEM) || exit 1; done
