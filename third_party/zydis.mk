# Zydis (third_party/zydis.sh fetches its source once, from Debian bookworm's source package;
# Zycore's headers come from Debian's libzycore-dev): the x86 decoder behind guest/insn.c.
# Built twice from the same source: for the kernel with its flags, for the host tests and
# fuzzers with theirs. Only the decoder: no formatter, no encoder, and neither AVX-512 nor
# KNC (about 260 KiB of tables in the hypervisor region instead of 330; a guest's stores to its
# local APIC are 32-bit MOVs and their kin, never EVEX). Included by the Makefile.

ZYDIS_DIR := $(shell third_party/zydis.sh --dir)
ZYDIS_STAMP := $(ZYDIS_DIR)/source.txt
ZYDIS_UNITS := Decoder DecoderData SharedData Register Utils
ZYDIS_DEFINES := -DZYAN_NO_LIBC -DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD -DZYDIS_DISABLE_AVX512 \
                 -DZYDIS_DISABLE_KNC -DZYDIS_DISABLE_ENCODER -DZYDIS_DISABLE_FORMATTER
# For code that includes <Zydis/...> (guest/insn.c) and for Zydis itself.
ZYDIS_INCLUDES := -I$(ZYDIS_DIR)/include $(ZYDIS_DEFINES)
ZYDIS_KERNEL_OBJ := $(ZYDIS_UNITS:%=$(BUILD)/obj/zydis/%.o)
ZYDIS_HOST_OBJ := $(ZYDIS_UNITS:%=$(BUILD)/host/zydis/%.o)
ZYDIS_FUZZ_OBJ := $(ZYDIS_UNITS:%=$(BUILD)/fuzz/zydis/%.o)

# Fetched once (network); a clone without it fetches it on its first build.
$(ZYDIS_STAMP):
	@third_party/zydis.sh >/dev/null

# Third-party code: its own warnings are not ours to fail on.
ZYDIS_OWN_FLAGS = -w -I$(ZYDIS_DIR)/src $(ZYDIS_INCLUDES) -include third_party/zydis-libc.h
$(BUILD)/obj/zydis/%.o: $(ZYDIS_STAMP) third_party/zydis-libc.h
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Werror -Wall -Wextra,$(KERNEL_CFLAGS)) -Os $(ZYDIS_OWN_FLAGS) -c $(ZYDIS_DIR)/src/$*.c -o $@
$(BUILD)/host/zydis/%.o: $(ZYDIS_STAMP) third_party/zydis-libc.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(filter-out -Werror -Wall -Wextra,$(HOST_CFLAGS)) $(ZYDIS_OWN_FLAGS) -c $(ZYDIS_DIR)/src/$*.c -o $@
$(BUILD)/fuzz/zydis/%.o: $(ZYDIS_STAMP) third_party/zydis-libc.h
	@mkdir -p $(dir $@)
	$(FUZZCC) -std=gnu11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined $(ZYDIS_OWN_FLAGS) -c $(ZYDIS_DIR)/src/$*.c -o $@
