# The test guest (tests/guest/): a boot sector and a 32-bit freestanding C
# program on a raw disk image, build/guest/test-disk.img, that thinvisor
# chainloads (or a BIOS boots directly). Included by the top-level Makefile.
#
# Image layout (512-byte sectors):
#   sector 0      boot.asm (MBR): loads the next GUEST_SECTORS sectors to 0x8000
#   sectors 1..N  guest.bin: guest.c, lib.c, smp.c, isr.asm, ap_trampoline.asm linked at
#                 0x8000 (guest.ld)
#   the rest      zeros, up to GUEST_DISK_SIZE

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
GUEST_OBJ := $(patsubst tests/guest/%.c,$(GUEST_DIR)/%.o,$(wildcard tests/guest/*.c)) \
             $(patsubst tests/guest/%.asm,$(GUEST_DIR)/%.o,$(GUEST_ASM))

.PHONY: guest
guest: $(GUEST_DIR)/test-disk.img

$(GUEST_DIR)/%.o: tests/guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_DIR)/%.o: tests/guest/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -g -F dwarf -o $@ $<

$(GUEST_DIR)/guest.elf: $(GUEST_OBJ) tests/guest/guest.ld
	$(LD) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJ)

$(GUEST_DIR)/guest.bin: $(GUEST_DIR)/guest.elf
	$(GUEST_OBJCOPY) -O binary $< $@

# The boot sector is assembled for the guest's size in sectors.
$(GUEST_DIR)/boot.bin: tests/guest/boot.asm $(GUEST_DIR)/guest.bin
	$(NASM) -f bin -DGUEST_SECTORS=$$(( ($$(stat -c %s $(GUEST_DIR)/guest.bin) + 511) / 512 )) \
	    -o $@ $<

$(GUEST_DIR)/test-disk.img: $(GUEST_DIR)/boot.bin $(GUEST_DIR)/guest.bin
	rm -f $@.tmp
	truncate -s $(GUEST_DISK_SIZE) $@.tmp
	dd if=$(GUEST_DIR)/boot.bin of=$@.tmp conv=notrunc status=none
	dd if=$(GUEST_DIR)/guest.bin of=$@.tmp bs=512 seek=1 conv=notrunc status=none
	mv $@.tmp $@

-include $(GUEST_OBJ:.o=.d)
