/*
 * Physical memory as the hypervisor sees it: identity-mapped from the first
 * instruction on (boot/entry.asm's early tables cover the low 4 GiB; the
 * hypervisor's own tables, mm/hv_memory.c, all RAM), so a physical address
 * is a pointer. One place for that rule, so that code which relies on it
 * says so by including this.
 */
#ifndef THINVISOR_PHYS_H
#define THINVISOR_PHYS_H

#include <stdint.h>

static inline void *phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)phys; }
static inline uint64_t virt_to_phys_identity(const void *p) { return (uint64_t)(uintptr_t)p; }

#endif
