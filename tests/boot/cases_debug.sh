# Test cases for `make debug` (debug/debug.mk, docs/debugging.md): the debugger sessions run
# with their commands piped in instead of typed. Sourced by tests/run.sh after lib.sh.

# debug_make ARGS...: `make debug` of this tree with the test guest, its files in $OUT/debug,
# outside the outer make's jobserver; stdin is the debugger's. Output in $OUT/debug.out. -o:
# debug the kernel and ISO make test built; never rebuild them halfway through the tests.
debug_make() {
    mkdir -p "$OUT"
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" --no-print-directory \
        -o build/thinvisor.elf -o build/thinvisor.debug -o build/thinvisor.iso debug \
        GUEST=test CPUS=1 MEM=256 DEBUG_DIR="$OUT/debug" "$@" >"$OUT/debug.out" 2>&1
}

# out_has REGEX DESCRIPTION: some line of the debugger session matches (grep -E).
out_has() {
    if grep -Eaq -- "$1" "$OUT/debug.out"; then check_pass "$2"
    else check_fail "$2" "last lines: $(tail -2 "$OUT/debug.out" | tr '\n' ' ')"; fi
}

# Bochs's debugger: symbols loaded with ldsym, stopped at kernel_main, symbols in disassembly.
case_bochs_debug() {
    local addr rc=0
    printf '%s\n' 'u /2' 'info symbols "boot_marker_s"' 'q' | debug_make || rc=$?
    if [ "$rc" -eq 0 ]; then check_pass "make debug (Bochs) runs and ends at 'q'"
    else check_fail "make debug (Bochs) runs and ends at 'q' (status $rc)" "$(tail -3 "$OUT/debug.out")"; fi
    addr=$(awk '$2 == "kernel_main" { print $1 }' "$ROOT/build/thinvisor.sym" 2>/dev/null)
    if [ -n "$addr" ] && [ "$addr" = "$(nm "$ROOT/build/thinvisor.elf" | awk '$3 == "kernel_main" { print $1 }')" ]; then
        check_pass "build/thinvisor.sym has kernel_main at nm's address"
    else
        check_fail "build/thinvisor.sym has kernel_main at nm's address" "got '${addr:-nothing}'"
    fi
    out_has "Breakpoint 1, 0x${addr:-none} in" "stopped at the breakpoint on kernel_main"
    out_has "\\(kernel_main\\+0\\): push rbp" "disassembly names the symbol"
    out_has '^ffffffff8[0-9a-f]+: boot_marker_set$' "info symbols finds thinvisor's functions"
}

# QEMU's gdbstub and gdb: stopped at kernel_main with source and arguments, then at the marker.
case_qemu_debug() {
    local rc=0 port=$((20000 + $$ % 10000))
    printf '%s\n' 'hbreak boot_marker_set' 'continue' 'finish' 'x/xw 0x4f0' 'quit' |
        debug_make EMU=qemu GDB_PORT="$port" || rc=$?
    if [ "$rc" -eq 0 ]; then check_pass "make debug EMU=qemu runs gdb and ends at 'quit'"
    else check_fail "make debug EMU=qemu runs gdb and ends at 'quit' (status $rc)" "$(tail -3 "$OUT/debug.out")"; fi
    out_has 'Breakpoint 1, kernel_main \(magic=920085129, info_phys=[0-9]+,' "gdb stopped at kernel_main with the multiboot2 magic"
    out_has '^[0-9]+[[:space:]]+[^[:space:]]' "gdb shows the source line"
    if grep -aq 'No such file or directory' "$OUT/debug.out"; then
        check_fail "gdb finds the source files" "$(grep -am1 'No such file' "$OUT/debug.out")"
    else check_pass "gdb finds the source files"; fi
    out_has 'Breakpoint 2, boot_marker_set \(\) at kernel/boot_marker.c' "a second breakpoint after relocation"
    out_has '^(\(gdb\) )?0x4f0:[[:space:]]+0x52535654$' "the marker is in memory once boot_marker_set returns"
}

# debug/exit-profile.sh: one VM exit of the test guest (VT-x in Bochs) traced from its first
# host instruction to its VMRESUME, counted by function (docs/debugging.md).
case_bochs_exit_profile() {
    local rc=0 disk=$ROOT/build/guest/test-disk.img
    mkdir -p "$OUT"
    cp "$disk" "$OUT/disk.img"
    dd if="$disk" of="$OUT/bootsector.bin" bs=512 count=1 status=none
    make_iso "$OUT" multiboot2 "test_exit" "$OUT/bootsector.bin" ||
        { check_fail "ISO for the profile" "$(tail -2 "$OUT/grub-mkrescue.log")"; return; }
    "$ROOT/debug/exit-profile.sh" --iso "$OUT/test.iso" --sym "$ROOT/build/thinvisor.sym" \
        --disk "$OUT/disk.img" --skip 20 --workdir "$OUT/profile" >"$OUT/debug.out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then check_pass "debug/exit-profile.sh traces an exit"
    else check_fail "debug/exit-profile.sh traces an exit (status $rc)" "$(tail -2 "$OUT/debug.out")"; fi
    out_has '^instructions: [0-9]+$' "it counts the exit's instructions"
    out_has '^ +17 vmx_resume_guest$' "the resume (RSP, 15 pops, VMRESUME), all of it in the trace"
    out_has '^ +[0-9]+ vmx_exit_dispatch$' "the dispatcher's share"
    local total sum
    total=$(sed -n 's/^instructions: //p' "$OUT/debug.out")
    sum=$(awk '$2 ~ /^[A-Za-z_]/ && NF == 2 { s += $1 } END { print s + 0 }' "$OUT/debug.out")
    if [ -n "$total" ] && [ "$total" -eq "$sum" ]; then check_pass "the functions' counts add up to the total ($total)"
    else check_fail "the functions' counts add up to the total" "total ${total:-none}, sum $sum"; fi
}
