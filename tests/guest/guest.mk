# The test guest (tests/guest/): a boot sector and a 32-bit freestanding C
# program on a raw disk image, build/guest/test-disk.img, that thinvisor
# chainloads (or a BIOS boots directly). Included by the top-level Makefile.
#
# Image layout (512-byte sectors):
#   sector 0      boot.asm (MBR): loads the next GUEST_SECTORS sectors to 0x8000
#   sectors 1..N  guest.bin: guest.c, lib.c, smp.c, isr.asm, ap_trampoline.asm linked at
#                 0x8000 (guest.ld)
#   the rest      zeros, up to GUEST_DISK_SIZE
# build/guest/bench-disk.img is the same with bench.c (see below).

GUEST_CC        ?= clang
GUEST_OBJCOPY   ?= $(CROSS)objcopy
GUEST_DISK_SIZE ?= 1M
# clang cross-compiles to i386 by target; gcc needs -m32 (no multilib headers are used).
GUEST_TARGET    ?= $(if $(findstring clang,$(GUEST_CC)),--target=i386-unknown-none-elf,-m32)
GUEST_CFLAGS    := $(GUEST_TARGET) -march=i686 -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. \
    -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie -fno-stack-protector \
    -mgeneral-regs-only -fno-asynchronous-unwind-tables -fno-omit-frame-pointer
GUEST_LDFLAGS   := -m elf_i386 -nostdlib -z noexecstack --no-warn-rwx-segments \
    -T tests/guest/guest.ld

GUEST_DIR := $(BUILD)/guest
GUEST_ASM := $(filter-out tests/guest/boot.asm,$(wildcard tests/guest/*.asm))
GUEST_ASM_OBJ := $(patsubst tests/guest/%.asm,$(GUEST_DIR)/%.o,$(GUEST_ASM))
GUEST_C   := $(filter-out tests/guest/bench.c,$(wildcard tests/guest/*.c))
GUEST_OBJ := $(patsubst tests/guest/%.c,$(GUEST_DIR)/%.o,$(GUEST_C)) $(GUEST_ASM_OBJ)

# The bench variant (make bench, tests/bench/): the same guest built with GUEST_BENCH and
# bench.c, in build/guest/bench/, on build/guest/bench-disk.img; it measures instead of checking.
BENCH_GUEST_DIR := $(GUEST_DIR)/bench
BENCH_GUEST_OBJ := $(patsubst tests/guest/%.c,$(BENCH_GUEST_DIR)/%.o,$(wildcard tests/guest/*.c)) \
                   $(GUEST_ASM_OBJ)

.PHONY: guest
guest: $(GUEST_DIR)/test-disk.img

$(GUEST_DIR)/%.o: tests/guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(BENCH_GUEST_DIR)/%.o: tests/guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -DGUEST_BENCH -MMD -MP -c $< -o $@

$(GUEST_DIR)/%.o: tests/guest/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -g -F dwarf -o $@ $<

# guest_image DIR,OBJECTS,IMAGE: DIR/guest.elf, guest.bin and boot.bin, then the disk IMAGE.
define guest_image
$(1)/guest.elf: $(2) tests/guest/guest.ld
	$$(LD) $$(GUEST_LDFLAGS) -o $$@ $(2)

$(1)/guest.bin: $(1)/guest.elf
	$$(GUEST_OBJCOPY) -O binary $$< $$@

# The boot sector is assembled for the guest's size in sectors.
$(1)/boot.bin: tests/guest/boot.asm $(1)/guest.bin
	$$(NASM) -f bin -DGUEST_SECTORS=$$$$(( ($$$$(stat -c %s $(1)/guest.bin) + 511) / 512 )) \
	    -o $$@ $$<

$(3): $(1)/boot.bin $(1)/guest.bin
	rm -f $$@.tmp
	truncate -s $$(GUEST_DISK_SIZE) $$@.tmp
	dd if=$(1)/boot.bin of=$$@.tmp conv=notrunc status=none
	dd if=$(1)/guest.bin of=$$@.tmp bs=512 seek=1 conv=notrunc status=none
	mv $$@.tmp $$@
endef
$(eval $(call guest_image,$(GUEST_DIR),$(GUEST_OBJ),$(GUEST_DIR)/test-disk.img))
$(eval $(call guest_image,$(BENCH_GUEST_DIR),$(BENCH_GUEST_OBJ),$(GUEST_DIR)/bench-disk.img))

-include $(GUEST_OBJ:.o=.d) $(BENCH_GUEST_OBJ:.o=.d)
