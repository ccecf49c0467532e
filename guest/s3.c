/* Suspend to RAM under the guest: arming the wake, parking the CPUs (see s3.h). */
#include "guest/s3.h"

#include "guest/init_sipi.h"
#include "guest/leave.h"
#include "guest/status.h"
#include "kernel/acpi_sleep.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/phys.h"
#include "kernel/string.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/kick.h"
#include "smp/smp.h"

/*
 * How long the CPU that wrote the sleep waits for the power to go before it
 * decides the machine did not sleep. Hardware sleeps within microseconds of
 * the write and an emulator within its next main-loop turn; this is for a
 * platform that ignores the write, where the guest would otherwise keep
 * CPUs parked for good.
 */
#define SLEEP_WAIT_US (10 * 1000 * 1000)

static struct {
    void (*wake_entry)(struct percpu *bsp);
    /* One sleep: */
    bool armed;
    struct percpu *arming_cpu;         /* whose OUT armed it: only its PM1b write follows */
    uint32_t guest_vector;             /* the FACS waking vector as the OS wrote it */
    uint64_t tsc_at_sleep;
    size_t saved_len;
    uint8_t saved[4096];               /* the OS's bytes there */
} s3;

void guest_s3_setup(void (*wake_entry)(struct percpu *bsp))
{
    s3.wake_entry = wake_entry;
}

/* Whether [vector, vector + len) meets the hypervisor region (test_region_below_1m). */
static bool in_region(uint32_t vector, size_t len, char *why, size_t whylen)
{
    if (!hv_region_overlaps(vector, len))
        return false;
    fmt_snprintf(why, whylen, "its waking vector %#x lies in the hypervisor region", vector);
    return true;
}

static bool parked_or_idle(struct percpu *self, struct percpu *c, uint64_t unused)
{
    (void)self, (void)unused;
    return __atomic_load_n(&c->vcpu.parked, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&c->vcpu.waiting_for_sipi, __ATOMIC_ACQUIRE);
}

/*
 * Every other CPU that runs guest code stops in the host at the end of an
 * exit its kick forces (guest_s3_take_park), caches written back. An AP
 * waiting for a SIPI runs none; it is asked too, so that one a SIPI starts
 * meanwhile stops before its first guest instruction (the backends' launch
 * and SIPI paths look). Returns how many did not stop; *parked, how many did.
 */
static unsigned park_others(struct percpu *self, bool can_kick, unsigned *parked)
{
    unsigned missing = 0;
    *parked = 0;
    for (uint32_t i = 0; i < cpu_count; i++)
        if (cpus[i] != self)
            __atomic_store_n(&cpus[i]->vcpu.park, true, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < cpu_count; i++) {
        struct percpu *c = cpus[i];
        if (c == self || !c->vcpu.launched || c->vcpu.waiting_for_sipi)
            continue;
        if (!can_kick) {
            missing++;
            continue;
        }
        kick_cpu(c);
        if (!kick_wait(self, c, parked_or_idle, 0, "stop for the sleep"))
            missing++;
        else
            *parked += c->vcpu.parked;
    }
    return missing;
}

static void release_others(void)
{
    for (uint32_t i = 0; i < cpu_count; i++)
        __atomic_store_n(&cpus[i]->vcpu.park, false, __ATOMIC_SEQ_CST);
}

/* The OS's wake code as it wrote it. */
static void give_back(void)
{
    memcpy(phys_to_virt(s3.guest_vector), s3.saved, s3.saved_len);
    s3.armed = false;
}

bool guest_s3_arm(struct percpu *cpu, uint64_t facs_phys, uint32_t facs_length, bool can_kick)
{
    char why[160];
    if (s3.armed)
        return cpu == s3.arming_cpu;   /* its PM1a write armed it; this is PM1b */
    if (!facs_phys)
        fmt_snprintf(why, sizeof why, "the FADT names no FACS");
    else if (!s3.wake_entry)
        fmt_snprintf(why, sizeof why, "thinvisor has no wake code set up");
    if (!facs_phys || !s3.wake_entry ||
        acpi_facs_waking_vector(phys_to_virt(facs_phys), facs_length, smp_trampoline_size(),
                                &s3.guest_vector, why, sizeof why) != 0 ||
        in_region(s3.guest_vector, smp_trampoline_size(), why, sizeof why)) {
        log_warn("ACPI S3: CPU %u: the guest suspends to RAM, but %s: after the resume the "
                 "OS runs without thinvisor\n", cpu->index, why);
        return false;
    }
    uint8_t *tr = phys_to_virt(s3.guest_vector);
    s3.saved_len = smp_trampoline_size();
    memcpy(s3.saved, tr, s3.saved_len);
    smp_trampoline_install(tr, s3.guest_vector, s3.wake_entry);
    smp_trampoline_aim(tr, cpus[0]);   /* the firmware wakes the boot processor */
    s3.armed = true;
    s3.arming_cpu = cpu;
    unsigned parked, missing = park_others(cpu, can_kick, &parked);
    if (missing)
        log_warn("ACPI S3: %u CPU(s) still run guest code at the sleep; their caches are not "
                 "written back\n", missing);
    log_info("ACPI S3: CPU %u: the guest suspends to RAM; %u other CPU(s) stopped in "
             "thinvisor; its wake code waits at the waking vector %#x\n", cpu->index, parked,
             s3.guest_vector);
    s3.tsc_at_sleep = rdtsc();
    wbinvd();
    return true;
}

void guest_s3_wait_for_sleep(struct percpu *cpu)
{
    uint64_t deadline = tsc_deadline(SLEEP_WAIT_US);
    while (rdtsc() < deadline)
        cpu_relax();
    give_back();
    release_others();
    log_warn("ACPI S3: CPU %u: the machine did not sleep within %u s of the guest's sleep "
             "write; the guest goes on\n", cpu->index, SLEEP_WAIT_US / 1000000);
}

void guest_s3_take_park(struct percpu *cpu)
{
    if (leave_waiting_cpus_asked())
        leave_waiting_cpu(cpu);          /* parked because thinvisor leaves: no return */
    wbinvd();
    __atomic_store_n(&cpu->vcpu.parked, true, __ATOMIC_RELEASE);
    while (__atomic_load_n(&cpu->vcpu.park, __ATOMIC_ACQUIRE))
        cpu_relax();
    __atomic_store_n(&cpu->vcpu.parked, false, __ATOMIC_RELEASE);
}

void guest_s3_resume(struct guest_start *start)
{
    give_back();
    status_s3_resumed(s3.tsc_at_sleep, rdtsc());
    for (uint32_t i = 0; i < cpu_count; i++) {
        struct vcpu_state *v = &cpus[i]->vcpu;
        v->launched = v->nmi_pending = v->in_guest = v->kick = v->stopped = false;
        v->waiting_for_sipi = v->park = v->parked = false;
        init_sipi_reset(v);
        v->xapic_icr_high = 0;
    }
    *start = (struct guest_start){ .cs = (uint16_t)(s3.guest_vector >> 4),
                                   .ip = (uint16_t)(s3.guest_vector & 0xF),
                                   .source = "the FACS waking vector", .interrupts_off = true };
}
