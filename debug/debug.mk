# `make debug`: thinvisor under a debugger, with its symbols (docs/debugging.md). Included
# by the top-level Makefile.
#
#   make debug                Bochs's internal debugger (Bochs emulates VT-x, so every part
#                             of thinvisor can be stepped): symbols loaded, stopped at
#                             DEBUG_BREAK, the <bochs:N> prompt on this terminal (debug/bochs.sh)
#   make debug EMU=qemu       QEMU's TCG waits on its gdbstub (127.0.0.1:GDB_PORT) and gdb
#                             attaches with thinvisor's ELF and DWARF (debug/qemu-gdb.sh). No
#                             VMX there, but AMD-V: everything up to the launch, and the SVM
#                             backend
#   make debug EMU=kvm        the same with KVM and nested VMX or SVM, on a host that has them
#
# Unlike `make run`, debug uses Bochs unless EMU= is given. GUEST=, CPUS=, MEM= and BOCHS=
# (3.0 or 2.7) are run's.
# DEBUG_BREAK (default kernel_main; empty: stop at the first instruction) is the symbol to
# stop at. The guest's disk is copied to DEBUG_DIR/disk.img; COM1 goes to
# DEBUG_DIR/serial.log (follow it with `tail -f` in another terminal). DEBUG_DIR defaults to
# build/debug.

DEBUG_EMU   := $(if $(filter file default,$(origin EMU)),bochs,$(EMU))
DEBUG_BREAK ?= kernel_main
GDB_PORT    ?= 1234
DEBUG_DIR   ?= $(BUILD)/debug

.PHONY: debug

# Bochs's ldsym reads "ADDRESS NAME" lines (hex address). Code and data symbols; nm's
# absolute ones are sizes, not places. Written under a temporary name: two debug runs (the
# tests) may make it at once.
$(BUILD)/thinvisor.sym: $(BUILD)/thinvisor.elf
	nm -n $< | awk 'NF == 3 && $$2 ~ /^[tTrRdDbBwW]$$/ { print $$1, $$3 }' > $@.$$$$ && \
	    mv $@.$$$$ $@

debug: deps all $(RUN_DISK) $(BUILD)/thinvisor.sym
	@case "$(DEBUG_EMU)" in bochs|qemu|kvm) ;; \
	    *) echo "error: EMU=$(DEBUG_EMU): make debug takes bochs, qemu or kvm" >&2; exit 2;; esac
	@mkdir -p $(DEBUG_DIR) && cp $(RUN_DISK) $(DEBUG_DIR)/disk.img
ifeq ($(DEBUG_EMU),bochs)
	debug/bochs.sh --iso $(BUILD)/thinvisor.iso --sym $(BUILD)/thinvisor.sym \
	    --disk $(DEBUG_DIR)/disk.img --cpus $(CPUS) --mem $(MEM) \
	    --serial $(DEBUG_DIR)/serial.log --break '$(DEBUG_BREAK)' --workdir $(DEBUG_DIR)/bochs \
	    --bochs $(BOCHS)
else
	debug/qemu-gdb.sh --iso $(BUILD)/thinvisor.iso --elf $(BUILD)/thinvisor.debug \
	    --disk $(DEBUG_DIR)/disk.img --cpus $(CPUS) --mem $(MEM) \
	    --serial $(DEBUG_DIR)/serial.log --break '$(DEBUG_BREAK)' --port $(GDB_PORT) \
	    $(if $(filter kvm,$(DEBUG_EMU)),--kvm)
endif
