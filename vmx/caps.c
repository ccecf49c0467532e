/*
 * Capability evaluation. Every control is asked for as "required" or
 * "wanted": a missing required one means thinvisor cannot virtualize here
 * (and says which); a wanted one is used wherever the CPU allows it, since
 * a guest that sees an instruction in CPUID must be able to run it (RDTSCP,
 * INVPCID and XSAVES exit as #UD otherwise, a known crash of guests).
 */
#include "vmx/caps.h"

#include "kernel/cr_bits.h"
#include "kernel/format.h"
#include "vmx/vmcs.h"


uint32_t vmx_adjust_controls(uint32_t want, uint64_t cap_msr, uint32_t *forbidden)
{
    uint32_t must_be_1 = (uint32_t)cap_msr;
    uint32_t may_be_1 = (uint32_t)(cap_msr >> 32);
    if (forbidden)
        *forbidden = want & ~may_be_1;
    return (want | must_be_1) & may_be_1;
}

uint64_t vmx_fix_cr(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
    return (value | fixed0) & fixed1;
}

uint64_t vmx_fix_guest_cr0(uint64_t value, const struct vmx_caps *c)
{
    return vmx_fix_cr(value, c->cr0_fixed0 & ~(CR0_PE | CR0_PG), c->cr0_fixed1);
}

struct why {
    char *buf;
    size_t len;
    size_t used;
};

static void missing(struct why *w, const char *what)
{
    if (!w->len)
        return;
    int n = fmt_snprintf(w->buf + w->used, w->len - w->used, "%s%s", w->used ? ", " : "",
                         what);
    if (n > 0)
        w->used = w->used + (size_t)n < w->len ? w->used + (size_t)n : w->len - 1;
}

/* Adjusts one control field; names each required bit the CPU does not allow. */
static uint32_t control(struct why *w, const char *field, uint32_t required, uint32_t wanted,
                        uint64_t msr, const char *const names[32])
{
    uint32_t forbidden;
    uint32_t v = vmx_adjust_controls(required | wanted, msr, &forbidden);
    for (int bit = 0; bit < 32; bit++) {
        if (forbidden & required & (1u << bit)) {
            char what[64];
            fmt_snprintf(what, sizeof what, "%s %s", field, names[bit] ? names[bit] : "bit");
            missing(w, what);
        }
    }
    return v;
}

static const char *const proc_names[32] = {
    [25] = "use I/O bitmaps", [28] = "use MSR bitmaps", [31] = "secondary controls",
};
static const char *const proc2_names[32] = {
    [1] = "EPT", [7] = "unrestricted guest",
};
static const char *const exit_names[32] = {
    [2] = "save debug controls", [9] = "host address-space size", [18] = "save PAT",
    [19] = "load PAT", [20] = "save EFER", [21] = "load EFER",
};
static const char *const entry_names[32] = {
    [2] = "load debug controls", [14] = "load PAT", [15] = "load EFER",
};
static const char *const pin_names[32] = { 0 };

int vmx_caps_evaluate(const struct vmx_caps *c, struct vmx_controls *out, char *why,
                      size_t whylen)
{
    struct why w = { why, whylen, 0 };
    if (whylen)
        why[0] = '\0';
    *out = (struct vmx_controls){ .revision = VMX_BASIC_REVISION(c->basic) };

    if (VMX_BASIC_MEMTYPE(c->basic) != 6)
        missing(&w, "write-back VMCS memory");
    /*
     * NMI exiting: how an EPT shootdown reaches a CPU in the guest
     * (vmx/ept_shootdown.c). Virtual NMIs with it, so that the guest's own
     * NMI blocking (its NMI handler, until IRET) never blocks those kicks;
     * they need NMI exiting (SDM Vol. 3C, 26.2.1.1).
     */
    out->pin = control(&w, "pin-based", 0, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, c->pin, pin_names);
    if (!(out->pin & PIN_NMI_EXITING))
        out->pin &= ~PIN_VIRTUAL_NMIS;
    out->proc = control(&w, "processor-based", PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY,
                        0, c->proc, proc_names);
    bool has_secondary = (c->proc >> 32) & PROC_ACTIVATE_SECONDARY;
    uint64_t proc2_msr = has_secondary ? c->proc2 : 0;
    out->proc2 = control(&w, "secondary", PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
                         PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES |
                             PROC2_ENABLE_VPID, proc2_msr, proc2_names);
    /*
     * DR7 and IA32_DEBUGCTL: every VM exit sets DR7 to 400H and clears
     * DEBUGCTL (28.5.1); the guest's are kept only when the exit saves them
     * and the entry loads them back. Without, a debugger's breakpoints in the
     * guest vanished at its next exit.
     */
    out->exit = control(&w, "VM-exit", EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER |
                            EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
                            EXIT_SAVE_DEBUG_CONTROLS, 0, c->exit, exit_names);
    out->entry = control(&w, "VM-entry", ENTRY_LOAD_EFER | ENTRY_LOAD_PAT |
                             ENTRY_LOAD_DEBUG_CONTROLS, 0, c->entry, entry_names);

    if (out->proc2 & PROC2_ENABLE_EPT) {
        if (!(c->ept_vpid & EPT_CAP_WALK4))
            missing(&w, "EPT 4-level page walk");
        if (!(c->ept_vpid & EPT_CAP_WB))
            missing(&w, "EPT write-back paging structures");
        if (!(c->ept_vpid & EPT_CAP_INVEPT) ||
            !(c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
            missing(&w, "INVEPT");
    }
    out->ept_2m = c->ept_vpid & EPT_CAP_2M;
    out->ept_1g = c->ept_vpid & EPT_CAP_1G;
    out->invept_single = c->ept_vpid & EPT_CAP_INVEPT_SINGLE;
    /* VPID only with an INVVPID that can flush it. */
    if ((out->proc2 & PROC2_ENABLE_VPID) &&
        !((c->ept_vpid & VPID_CAP_INVVPID) &&
          (c->ept_vpid & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL))))
        out->proc2 &= ~PROC2_ENABLE_VPID;
    out->vpid = out->proc2 & PROC2_ENABLE_VPID;
    out->wait_for_sipi = c->misc & VMX_MISC_ACTIVITY_SIPI;
    /* NMI-window exiting needs virtual NMIs (26.2.1.1); it is turned on only while needed. */
    out->nmi_window = (out->pin & PIN_VIRTUAL_NMIS) && ((c->proc >> 32) & PROC_NMI_WINDOW_EXITING);
    return w.used ? -1 : 0;
}
