# thinvisor build. `make` builds the kernel and the GRUB ISO; `make run` boots
# it; `make test` runs every test. See README.md.

CROSS    ?=
CC       := $(CROSS)gcc
LD       := $(CROSS)ld
NASM     ?= nasm
HOSTCC   ?= gcc
FUZZCC   ?= clang
CPUS     ?= 2
MEM      ?= 512

BUILD    := build
DEPS_STAMP := $(BUILD)/.deps-ok

# Debian packages needed to build, run and test (see docs/testing.md, "What gets installed").
# g++, xz-utils, patch and debian-archive-keyring build Bochs 3.0 from Debian's source (make bochs).
DEB_PACKAGES := gcc libc6-dev make binutils cpio nasm grub-pc-bin grub-efi-amd64-bin grub-common \
                xorriso mtools ovmf libzycore-dev \
                qemu-system-x86 bochs bochsbios vgabios bochs-term libcmocka-dev \
                clang libclang-rt-dev util-linux gdb g++ xz-utils patch debian-archive-keyring \
                gcc-multilib libc6-dev-i386 dpkg-dev debhelper lintian fakeroot

# `make` alone builds the hypervisor (all, below), not the first target an include names.
.DEFAULT_GOAL := all

include third_party/zydis.mk

KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. $(ZYDIS_INCLUDES) \
    -ffreestanding -nostdlib -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
    -fno-stack-protector -mcmodel=kernel -fno-asynchronous-unwind-tables \
    -fno-omit-frame-pointer -fno-builtin --param=min-pagesize=0
KERNEL_LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

# The code folders, bottom layer first (README, "Source layout", says what each may include).
SRC_DIRS   := kernel mm iommu smp guest vmx svm efi hv boot
KERNEL_C   := $(wildcard $(SRC_DIRS:%=%/*.c))
KERNEL_ASM := $(wildcard $(SRC_DIRS:%=%/*.asm))
# An .asm sits beside the C it serves, often under the same name: its object is NAME.asm.o.
KERNEL_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(KERNEL_C)) \
              $(patsubst %.asm,$(BUILD)/obj/%.asm.o,$(KERNEL_ASM))

.PHONY: all deps bochs zydis run test test-linux unit fuzz stress clean bench bench-deps memtest-guest
.SECONDEXPANSION:
all: $(BUILD)/thinvisor.elf $(BUILD)/thinvisor.debug $(BUILD)/thinvisor.iso $(BUILD)/tools/thinctl

# Objects depend on this file too: a changed flag (CFLAGS_*, below) must rebuild them.
$(BUILD)/obj/%.o: %.c Makefile | $(ZYDIS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(KERNEL_CFLAGS) $(CFLAGS_$(subst /,_,$*)) -MMD -MP -c $< -o $@

# The VM-exit dispatchers run at every exit: no frame pointer there (3 instructions per
# exit; gdb still unwinds them from the DWARF frame information of -g).
CFLAGS_vmx_exit := -fomit-frame-pointer
CFLAGS_svm_exit := -fomit-frame-pointer
# memcpy, memmove and memset themselves: a compiler may turn their loops into calls to
# memcpy and memset (loop distribution), which here would call themselves forever.
CFLAGS_kernel_string := -fno-tree-loop-distribute-patterns

$(BUILD)/obj/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -F dwarf -MD $(@:.o=.d) -MP $< -o $@

# thinvisor.debug is the linked image with its DWARF, for gdb (make debug); thinvisor.elf, what
# GRUB loads, is the same without it (the symbols stay, for nm and Bochs's debugger). GRUB-EFI
# reads the whole file into memory it takes below 1 MiB, where the AP trampoline needs a page:
# with the DWARF (1.2 MB since Zydis came in) none was left on OVMF.
$(BUILD)/thinvisor.debug: $(KERNEL_OBJ) $(ZYDIS_KERNEL_OBJ) linker.ld
	$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJ) $(ZYDIS_KERNEL_OBJ)

$(BUILD)/thinvisor.elf: $(BUILD)/thinvisor.debug
	objcopy --strip-debug $< $@
	@grub-file --is-x86-multiboot2 $@ || { echo "error: $@ has no valid multiboot2 header" >&2; exit 1; }

$(BUILD)/thinvisor.iso: $(BUILD)/thinvisor.elf grub.cfg
	@rm -rf $(BUILD)/iso && mkdir -p $(BUILD)/iso/boot/grub
	cp $(BUILD)/thinvisor.elf $(BUILD)/iso/boot/thinvisor.elf
	cp grub.cfg $(BUILD)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(BUILD)/iso 2>$(BUILD)/grub-mkrescue.log || { cat $(BUILD)/grub-mkrescue.log >&2; exit 1; }

# thinctl: the tool users run inside their (Linux) guest; static, so it runs on any distribution.
THINCTL_DEPS := tools/thinctl.c abi/status.h abi/hypercall.h abi/exit_reason_names.h \
                abi/exit_reason.h
# Static by default: one binary runs in any distribution and in the Linux test guest's
# initramfs, which has no libc. The Debian package links it dynamically (debian/rules).
THINCTL_LDFLAGS ?= -static
THINCTL_CFLAGS  ?=
$(BUILD)/tools/thinctl: $(THINCTL_DEPS)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(THINCTL_LDFLAGS) $(THINCTL_CFLAGS) -O2 -std=gnu11 -Wall -Wextra -Werror -I. -o $@ tools/thinctl.c

# $(call install_missing,PACKAGES,FOR): a recipe that installs those of PACKAGES that are
# missing (apt-get; sudo when not root), saying so (FOR: what they are for), then touches $@.
define install_missing
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "Installing missing Debian packages$(2):" $$missing; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; \
	    elif command -v sudo >/dev/null; then SUDO=sudo; \
	    else echo "error: need root or sudo to install:" $$missing >&2; exit 1; fi; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	    { echo "error: apt-get could not install:" $$missing >&2; exit 1; }; \
	fi
	@mkdir -p $(BUILD) && touch $@
endef

# Installs the Debian packages above that are missing, then Bochs 3.0 and the Zydis source.
deps: $(DEPS_STAMP) bochs zydis
zydis: $(DEPS_STAMP)
	@third_party/zydis.sh >/dev/null
$(DEPS_STAMP): Makefile
	$(call install_missing,$(DEB_PACKAGES),)

# Bochs 3.0, the VMX machine of the tests, run, debug and bench: built once from Debian
# trixie's source package into a cache outside the clone (tests/boot/bochs-build.sh, which
# says why; docs/testing.md, "Which Bochs"). Cached, this only checks that it is there.
bochs: $(DEPS_STAMP)
	@tests/boot/bochs-build.sh >/dev/null

# `make run`: thinvisor with a guest in the best emulator here, the guest's serial console
# on this terminal. The emulator (EMU): kvm (QEMU with KVM, when /dev/kvm offers nested VMX
# or nested SVM), else bochs (emulates VT-x; slow); EMU=qemu is QEMU's TCG, which has no VMX
# but emulates AMD-V, so the guest runs under the SVM backend there, fast. The guest (GUEST), as hd0: linux, Debian's Linux ending
# in a busybox shell (tests/linux), or test, the test OS (tests/guest). RUN_OPTS are added
# to thinvisor's command line. BOCHS picks the Bochs: 3.0 (built by make bochs) or 2.7
# (Debian's, which needs RUN_OPTS=emulate_sipi for the guest's APs; docs/testing.md, "Which Bochs").
# Ctrl-A X quits QEMU, Ctrl-C Bochs.
EMU ?= $(shell tests/boot/best-emulator.sh)
GUEST ?= linux
RUN_OPTS ?=
BOCHS ?= 3.0
comma := ,
HOST_VIRT := $(if $(shell grep -qw svm /proc/cpuinfo && echo amd),svm,vmx)
QEMU_RUN_CPU = $(if $(filter kvm,$(EMU)),-enable-kvm -cpu host$(comma)+$(HOST_VIRT),-cpu max)
RUN_DISK := $(if $(filter linux,$(GUEST)),$(BUILD)/linux/linux-shell-disk.img,$(BUILD)/guest/test-disk.img)
run: deps all $(RUN_DISK)
	@case "$(EMU)" in kvm|bochs|qemu) ;; *) echo "error: EMU=$(EMU): use kvm, bochs or qemu" >&2; exit 2;; esac
	@case "$(GUEST)" in linux|test) ;; *) echo "error: GUEST=$(GUEST): use linux or test" >&2; exit 2;; esac
	@cp $(RUN_DISK) $(BUILD)/run-disk.img
	@rm -rf $(BUILD)/run && mkdir -p $(BUILD)/run/iso/boot/grub
	@cp $(BUILD)/thinvisor.elf $(BUILD)/run/iso/boot/thinvisor.elf
	@sed 's|^\( *multiboot2 .*\)$$|\1 $(RUN_OPTS)|' grub.cfg > $(BUILD)/run/iso/boot/grub/grub.cfg
	@grub-mkrescue -o $(BUILD)/run/thinvisor.iso $(BUILD)/run/iso 2>$(BUILD)/run/grub-mkrescue.log || \
	    { cat $(BUILD)/run/grub-mkrescue.log >&2; exit 1; }
	@echo "make run: $(GUEST) guest in $(EMU)$(if $(filter file,$(origin EMU)), ($$(tests/boot/best-emulator.sh -v 2>&1 >/dev/null | sed 's/^best-emulator: //')),), thinvisor options: $(or $(RUN_OPTS),none)"
ifeq ($(EMU),bochs)
	@echo "Bochs $(BOCHS) emulates every instruction: thinvisor is up in seconds, Linux reaches its shell in about a minute. Ctrl-C quits."
	@if tty=$$(tty 2>/dev/null); then \
	    tests/boot/emu-bochs.sh --bochs $(BOCHS) --iso $(BUILD)/run/thinvisor.iso --disk $(BUILD)/run-disk.img \
	        --cpus $(CPUS) --mem $(MEM) --serial-tty $$tty --timeout 86400; \
	else \
	    : > $(BUILD)/bochs-serial.log; tail -F -n +1 $(BUILD)/bochs-serial.log 2>/dev/null & tailpid=$$!; \
	    tests/boot/emu-bochs.sh --bochs $(BOCHS) --iso $(BUILD)/run/thinvisor.iso --disk $(BUILD)/run-disk.img \
	        --cpus $(CPUS) --mem $(MEM) --serial $(BUILD)/bochs-serial.log --timeout 86400; \
	    rc=$$?; kill $$tailpid; exit $$rc; \
	fi
else
	qemu-system-x86_64 $(QEMU_RUN_CPU) -machine pc -smp $(CPUS) -m $(MEM) -cdrom $(BUILD)/run/thinvisor.iso \
	    -drive file=$(BUILD)/run-disk.img,format=raw,if=ide,index=0 \
	    -boot d -display none -serial mon:stdio -no-reboot
endif

# ---- tests -------------------------------------------------------------------
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -fsanitize=address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer $(ZYDIS_INCLUDES)
UNIT_TESTS := format multiboot2 cmdline region page_alloc pagetable acpi mtrr ept e820 \
              vmx_caps guest_policy guest_walk mmio_emulate efi_path efi_mmap segment \
              efi_bootorder hypercall init_sipi string iommu_tables acpi_sleep vtd amd_vi
unit_src_format     := kernel/format.c
unit_src_multiboot2 := kernel/multiboot2.c kernel/format.c
unit_src_cmdline    := kernel/cmdline.c kernel/format.c
unit_src_region     := mm/region.c
unit_src_page_alloc := mm/page_alloc.c
unit_src_pagetable  := mm/pagetable.c mm/page_alloc.c
unit_src_acpi       := kernel/acpi.c kernel/format.c
unit_src_iommu_tables := kernel/iommu_tables.c kernel/acpi.c kernel/format.c
unit_src_acpi_sleep := kernel/acpi_sleep.c kernel/acpi.c kernel/format.c
unit_src_vtd        := iommu/vtd.c iommu/io.c kernel/format.c
unit_src_amd_vi     := iommu/amd_vi.c kernel/format.c
unit_src_mtrr       := mm/mtrr.c
unit_src_ept        := mm/ept.c mm/mtrr.c mm/page_alloc.c
unit_src_e820       := guest/e820.c
unit_src_vmx_caps   := vmx/caps.c kernel/format.c
unit_src_guest_policy := guest/cpuid.c guest/boot_check.c kernel/format.c
unit_src_guest_walk := mm/guest_walk.c
unit_src_mmio_emulate := guest/mmio_emulate.c guest/insn.c $(ZYDIS_HOST_OBJ)
unit_src_efi_path   := efi/path.c kernel/format.c
unit_src_efi_mmap   := efi/mmap.c
unit_src_segment    := kernel/segment.c kernel/format.c
unit_src_efi_bootorder := efi/bootorder.c efi/path.c kernel/format.c
unit_src_hypercall  := guest/hypercall.c
unit_src_string     :=
# test_string includes kernel/string.c itself, to test it under other names beside libc's.
$(BUILD)/unit/test_string: kernel/string.c
unit_src_init_sipi  := guest/init_sipi.c
UNIT_BINS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))

# A host program is built from several sources in one command, where -MMD would keep
# only the last source's headers: a -MM pass lists every source's in deps/NAME.d (apart
# from the programs: tests/run.sh runs every test_* and fuzz_* there), with an empty rule
# for each source, as -MP gives each header, so that a source renamed away stops nothing.
$(BUILD)/unit/test_%: tests/unit/test_%.c $$(unit_src_$$*) $(wildcard tests/unit/*.h) | $(ZYDIS_STAMP)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< $(unit_src_$*) -lcmocka -lpthread
	@mkdir -p $(dir $@)deps
	@{ $(HOSTCC) $(HOST_CFLAGS) -MM -MP -MT $@ $(filter %.c,$< $(unit_src_$*)) && \
	   printf '%s:\n' $(filter %.c,$< $(unit_src_$*)); } > $(dir $@)deps/$(notdir $@).d

FUZZ_TARGETS := multiboot2 cmdline acpi e820 mtrr_ept mmio
fuzz_src_multiboot2 := kernel/multiboot2.c kernel/format.c
fuzz_src_cmdline    := kernel/cmdline.c kernel/format.c
fuzz_src_acpi       := kernel/acpi.c kernel/iommu_tables.c kernel/acpi_sleep.c kernel/format.c
fuzz_src_e820       := guest/e820.c
fuzz_src_mtrr_ept   := mm/mtrr.c mm/ept.c mm/page_alloc.c
fuzz_src_mmio       := guest/mmio_emulate.c guest/insn.c tests/fuzz/native_run.S $(ZYDIS_FUZZ_OBJ)
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_CFLAGS := -std=gnu11 -O1 -g -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               $(ZYDIS_INCLUDES)
# mtrr_ept without comparison tracing: its input is decoded into valid MTRR values (no magic
# numbers to guess), and the tracing of the EPT builder's loops took 70% of the time. Measured
# in 60 s from the seeds: 5x the executions and more coverage (cov 310, ft 1612 against 298, 1446).
fuzz_flags_mtrr_ept := -fno-sanitize-coverage=trace-cmp

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_src_$$*) Makefile
	@mkdir -p $(dir $@)
	$(FUZZCC) $(FUZZ_CFLAGS) $(fuzz_flags_$*) -o $@ $< $(fuzz_src_$*)
	@mkdir -p $(dir $@)deps
	@{ $(FUZZCC) $(FUZZ_CFLAGS) $(fuzz_flags_$*) -MM -MP -MT $@ $(filter %.c,$< $(fuzz_src_$*)) && \
	   printf '%s:\n' $(filter %.c,$< $(fuzz_src_$*)); } > $(dir $@)deps/$(notdir $@).d

unit: $(UNIT_BINS)

# memtest86+ (Debian's) on a disk of its own, a guest that starts its CPUs and tests the
# memory the guest sees (tests/memtest/build-image.sh).
MEMTEST_DISK := $(BUILD)/memtest/memtest-disk.img
memtest-guest: $(MEMTEST_DISK)
$(MEMTEST_DISK): tests/memtest/build-image.sh tests/memtest/grub.cfg
	tests/memtest/build-image.sh --out $(BUILD)/memtest

test: deps all $(UNIT_BINS) $(FUZZ_BINS) $(BUILD)/guest/test-disk.img $(BUILD)/linux/linux-disk.img \
      $(BUILD)/linux/linux-suspend-disk.img $(BUILD)/linux/linux-off-disk.img \
      $(BUILD)/linux/linux-selftests-disk.img $(BUILD)/linux/linux-selftests-short-disk.img \
      $(MEMTEST_DISK) $(BUILD)/thinvisor.sym $$(DEB)
	tests/run.sh


# Only the Linux guest cases (the Bochs one takes about 5 minutes).
test-linux: deps all $(BUILD)/linux/linux-disk.img
	TESTS=linux FUZZ_SECONDS=1 tests/run.sh

# Only the reliability cases (docs/reliability.md): the hostile-guest program (HOSTILE_OPS
# operations, default 100,000, over 4 CPUs in Bochs, seed HOSTILE_SEED), the INIT-SIPI/NMI
# stress and the bad boot inputs; their figures, with the date, machine and commit, go to
# docs/reliability-results.md, also when a check fails. A failing seed from a log is re-run
# with HOSTILE_SEED=.
HOSTILE_SEED ?= 20261125
HOSTILE_OPS ?= 100000
stress: deps all $(UNIT_BINS) $(FUZZ_BINS) $(BUILD)/guest/test-disk.img
	HOSTILE_OPS=$(HOSTILE_OPS) HOSTILE_SEED=$(HOSTILE_SEED) \
	    TESTS="$$(/usr/bin/python3 tests/reliability/report.py --cases)" FUZZ_SECONDS=1 tests/run.sh; \
	rc=$$?; /usr/bin/python3 tests/reliability/report.py --results $(BUILD)/test \
	    --doc docs/reliability-results.md && exit $$rc

# Long fuzzing runs; `make test` runs a short pass. FUZZ_RUNS=N (libFuzzer -runs) stops
# each target after N executions, else each runs FUZZ_SECONDS; FUZZ_ONLY picks targets.
# The figures (executions, seconds, corpus) go to docs/fuzz-results.md when every target ran
# without a crash.
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?=
FUZZ_ONLY ?= $(FUZZ_TARGETS)
fuzz: deps $(FUZZ_BINS)
	@rm -f $(BUILD)/fuzz/*.log
	@for f in $(FUZZ_ONLY); do mkdir -p $(BUILD)/fuzz/corpus-$$f; \
	  echo "fuzzing $$f $(if $(FUZZ_RUNS),for $(FUZZ_RUNS) executions,for $(FUZZ_SECONDS) s)"; \
	  start=$$(date +%s); \
	  $(BUILD)/fuzz/fuzz_$$f $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS)) \
	    -print_final_stats=1 $(BUILD)/fuzz/corpus-$$f tests/fuzz/seeds/$$f 2>$(BUILD)/fuzz/$$f.log || \
	    { tail -30 $(BUILD)/fuzz/$$f.log; exit 1; }; \
	  echo "wall_seconds: $$(( $$(date +%s) - start ))" >> $(BUILD)/fuzz/$$f.log; \
	  echo "fuzz $$f: $$(sed -nE 's/^stat::number_of_executed_units: *//p' $(BUILD)/fuzz/$$f.log) executions in $$(( $$(date +%s) - start )) s, no crash"; \
	done
	@/usr/bin/python3 tests/reliability/report.py --fuzz $(BUILD)/fuzz --doc docs/fuzz-results.md

clean:
	rm -rf $(BUILD)

include tests/guest/guest.mk
include tests/linux/linux.mk
include install/install.mk
include debug/debug.mk
include tests/bench/bench.mk

.PRECIOUS: $(BUILD)/unit/test_% $(BUILD)/fuzz/fuzz_% $(BUILD)/host/zydis/%.o $(BUILD)/fuzz/zydis/%.o
-include $(KERNEL_OBJ:.o=.d) $(UNIT_TESTS:%=$(BUILD)/unit/deps/test_%.d) \
    $(FUZZ_TARGETS:%=$(BUILD)/fuzz/deps/fuzz_%.d)
