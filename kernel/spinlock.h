/*
 * The hypervisor's one lock shape: a test-and-set spinlock for the short
 * sections several processors' exit handlers share (the one EPT or NPT and
 * its page allocator). No interrupts run in the hypervisor, so nothing else
 * can take the lock while it is held.
 */
#ifndef THINVISOR_SPINLOCK_H
#define THINVISOR_SPINLOCK_H

#include "kernel/x86.h"

static inline void spin_lock(volatile int *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
        cpu_relax();
}

static inline void spin_unlock(volatile int *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

#endif
