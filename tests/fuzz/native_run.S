# native_run(struct native_state *s, const void *code): runs one instruction on this CPU
# with every general register and the status flags from s, and stores them back into s
# afterwards: the reference the store emulation (guest/mmio_emulate.c) is fuzzed against
# (tests/fuzz/fuzz_mmio.c). `code` is the instruction, followed by an absolute jump to
# native_return. struct native_state: gpr[16] (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15,
# the SDM's order), then rflags.
    .intel_syntax noprefix
    .text
    .globl native_run, native_return

native_run:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rip + host_rsp], rsp
    mov [rip + state], rdi
    mov [rip + target], rsi
    push qword ptr [rdi + 128]
    popfq
    mov rax, [rdi + 0]
    mov rcx, [rdi + 8]
    mov rdx, [rdi + 16]
    mov rbx, [rdi + 24]
    mov rbp, [rdi + 40]
    mov rsi, [rdi + 48]
    mov r8, [rdi + 64]
    mov r9, [rdi + 72]
    mov r10, [rdi + 80]
    mov r11, [rdi + 88]
    mov r12, [rdi + 96]
    mov r13, [rdi + 104]
    mov r14, [rdi + 112]
    mov r15, [rdi + 120]
    mov rsp, [rdi + 32]
    mov rdi, [rdi + 56]
    jmp [rip + target]

native_return:
    mov [rip + saved_rdi], rdi
    mov rdi, [rip + state]
    mov [rdi + 0], rax
    mov [rdi + 8], rcx
    mov [rdi + 16], rdx
    mov [rdi + 24], rbx
    mov [rdi + 32], rsp
    mov [rdi + 40], rbp
    mov [rdi + 48], rsi
    mov rax, [rip + saved_rdi]
    mov [rdi + 56], rax
    mov [rdi + 64], r8
    mov [rdi + 72], r9
    mov [rdi + 80], r10
    mov [rdi + 88], r11
    mov [rdi + 96], r12
    mov [rdi + 104], r13
    mov [rdi + 112], r14
    mov [rdi + 120], r15
    mov rsp, [rip + host_rsp]
    pushfq                          # the flags as the instruction left them (MOVs keep them)
    pop qword ptr [rdi + 128]
    cld
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

    .bss
    .balign 8
host_rsp: .quad 0
state: .quad 0
target: .quad 0
saved_rdi: .quad 0
    .section .note.GNU-stack, "", @progbits
