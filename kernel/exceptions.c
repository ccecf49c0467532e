/*
 * Exception handling for the hypervisor's own code. The hypervisor takes no
 * interrupts, so any vector that arrives here is a bug or bad hardware state:
 * print everything needed to find it and stop that CPU.
 */
#include "kernel/exceptions.h"

#include "kernel/gdt.h"
#include "kernel/halt.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/x86.h"

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};

extern const uint64_t exception_stubs[32];
static struct idt_gate idt[256];

void idt_init(void)
{
    for (int v = 0; v < 32; v++) {
        uint64_t h = exception_stubs[v];
        idt[v] = (struct idt_gate){
            .offset_low = (uint16_t)h,
            .selector = GDT_KERNEL_CODE,
            .ist = 0,
            .type_attr = 0x8E,              /* present, DPL 0, 64-bit interrupt gate */
            .offset_mid = (uint16_t)(h >> 16),
            .offset_high = (uint32_t)(h >> 32),
        };
    }
    idt_load_current();
}

uint64_t idt_base(void)
{
    return (uint64_t)idt;
}

void idt_load_current(void)
{
    struct descriptor_ptr p = { sizeof idt - 1, (uint64_t)idt };
    lidt(&p);
}

static const char *const vector_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved (15)", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualization exception",
    "#CP control protection", "reserved (22)", "reserved (23)", "reserved (24)",
    "reserved (25)", "reserved (26)", "reserved (27)", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security exception", "reserved (31)",
};

/*
 * An NMI while this CPU runs hypervisor code: whose it is (a kick, or the
 * guest's, to be given back) is the processors' layer's to say, which
 * installs its handler once per-CPU data exists (smp/kick.c). Before that,
 * nobody can own one: it is counted. An NMI can be a wake-up, too: one that
 * interrupts halt_while_equal between its compare and its HLT returns past
 * the HLT (kernel/halt.asm). `saved`: as for debug_in_root.
 */
static void (*nmi_handler)(void);
static volatile uint64_t nmis_unowned;

void idt_set_nmi_handler(void (*fn)(void))
{
    nmi_handler = fn;
}

void nmi_in_root(uint64_t *saved)
{
    uint64_t *rip = &saved[9];
    if (*rip >= (uint64_t)halt_window_start && *rip < (uint64_t)halt_window_end)
        *rip = (uint64_t)halt_window_end;
    if (nmi_handler)
        nmi_handler();
    else
        nmis_unowned++;
}

/*
 * A #DB in the hypervisor: it uses no breakpoints and never sets TF, so on a
 * real CPU none comes. Bochs 3.0's SVM lets a guest's pending single-step
 * trap through the #VMEXIT of the instruction it was for (an intercepted
 * CPUID under TF), to be taken in the host right after VMRUN; the backend
 * gives the guest its trap itself (svm/nmi.c). So: said once, DR6 cleared,
 * and the interrupted code goes on. `saved`: the stub's nine registers, then
 * the CPU's frame (RIP first).
 */
void debug_in_root(const uint64_t *saved)
{
    static bool said;
    uint64_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    __asm__ volatile("mov %0, %%dr6" :: "r"(0xFFFF0FF0ull));
    if (!said) {
        said = true;
        log_warn("a #DB reached the hypervisor at RIP %#llx (DR6 %#llx), a guest's trap let "
                 "through a VM exit by the (emulated) CPU; ignored (reported once)\n",
                 (unsigned long long)saved[9], (unsigned long long)dr6);
    }
}

void exception_report(struct exception_frame *f)
{
    log_open_default_console();
    log_error("EXCEPTION %s (vector %llu) error code 0x%llx\n",
              vector_names[f->vector & 31], (unsigned long long)f->vector,
              (unsigned long long)f->error_code);
    log_error("  RIP %016llx CS %04llx RFLAGS %016llx\n", (unsigned long long)f->rip,
              (unsigned long long)f->cs, (unsigned long long)f->rflags);
    log_error("  RSP %016llx SS %04llx CR2 %016llx\n", (unsigned long long)f->rsp,
              (unsigned long long)f->ss, (unsigned long long)read_cr2());
    log_error("  CR0 %016llx CR3 %016llx CR4 %016llx\n", (unsigned long long)read_cr0(),
              (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    log_error("  RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n",
              (unsigned long long)f->rax, (unsigned long long)f->rbx,
              (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    log_error("  RSI %016llx RDI %016llx RBP %016llx R8  %016llx\n",
              (unsigned long long)f->rsi, (unsigned long long)f->rdi,
              (unsigned long long)f->rbp, (unsigned long long)f->r8);
    log_error("  R9  %016llx R10 %016llx R11 %016llx R12 %016llx\n",
              (unsigned long long)f->r9, (unsigned long long)f->r10,
              (unsigned long long)f->r11, (unsigned long long)f->r12);
    log_error("  R13 %016llx R14 %016llx R15 %016llx\n", (unsigned long long)f->r13,
              (unsigned long long)f->r14, (unsigned long long)f->r15);
    log_error("this processor is halted\n");
    machine_stop(false);
}
