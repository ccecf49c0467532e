/* CPU exceptions in the hypervisor itself: reported in full, then the CPU halts. */
#ifndef THINVISOR_EXCEPTIONS_H
#define THINVISOR_EXCEPTIONS_H

#include <stdbool.h>
#include <stdint.h>

/* What kernel/exceptions.asm pushes, lowest address first. */
struct exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU (SDM Vol. 3A, 6.14.2) */
};

/* Fills the IDT with a handler for each of the 32 exception vectors and loads it. */
void idt_init(void);

/* Linear address of the IDT (the VMCS host state needs it). */
uint64_t idt_base(void);

/* Loads the (shared) IDT on this processor. */
void idt_load_current(void);

void exception_report(struct exception_frame *f) __attribute__((noreturn));

/*
 * The NMI vector's C half (kernel/exceptions.asm): an NMI in the host (VMX
 * root, or SVM with GIF set) goes to the handler installed here, which says
 * whether it was a kick or the guest's (smp/kick.c); none yet: counted.
 * `saved`: the stub's nine registers, then the CPU's frame (RIP first).
 */
void nmi_in_root(uint64_t *saved);
void idt_set_nmi_handler(void (*fn)(void));

/* The #DB vector's C half: a stray debug trap in the host, said once and ignored. */
void debug_in_root(const uint64_t *saved);

#endif
