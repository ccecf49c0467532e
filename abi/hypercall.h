/*
 * What a guest sees of thinvisor: the CPUID leaves and the VMCALL ABI.
 * This header is shared with guests (tests/guest includes it), so it holds
 * plain constants only. Documented in docs/guest-interface.md.
 */
#ifndef THINVISOR_HYPERCALL_ABI_H
#define THINVISOR_HYPERCALL_ABI_H

/* CPUID.1:ECX bits the hypervisor changes. */
#define TV_CPUID1_ECX_VMX        (1u << 5)     /* hidden: the guest cannot use VMX */
#define TV_CPUID1_ECX_HYPERVISOR (1u << 31)    /* set: "running under a hypervisor" */

/*
 * CPUID 0x40000000: EAX = highest hypervisor leaf, EBX:ECX:EDX = signature
 * "thinvisor\0\0\0" (12 bytes, in that register order, little-endian).
 */
#define TV_CPUID_BASE            0x40000000u
#define TV_CPUID_MAX_LEAF        0x40000002u   /* 0x40000002: the status area, abi/status.h */
#define TV_SIGNATURE_EBX         0x6E696874u   /* "thin" */
#define TV_SIGNATURE_ECX         0x6F736976u   /* "viso" */
#define TV_SIGNATURE_EDX         0x00000072u   /* "r\0\0\0" */

/* CPUID 0x40000001: EAX = version (major << 16 | minor << 8 | patch), EBX = features. */
#define TV_CPUID_VERSION_LEAF    0x40000001u
#define TV_FEATURE_VMCALL        (1u << 0)     /* the VMCALL interface below */
#define TV_FEATURE_STATUS_AREA   (1u << 1)     /* CPUID 0x40000002 gives the status area */

/*
 * The ACPI DMAR (IVRS), when thinvisor owns the VT-d units (the AMD-Vi
 * IOMMUs), under this signature instead (checksum fixed): an OS finds no
 * IOMMU to take over.
 */
#define TV_HIDDEN_DMAR_SIGNATURE "TVDR"
#define TV_HIDDEN_IVRS_SIGNATURE "TVIR"

/*
 * VMCALL: EAX = function, EBX/ECX/EDX = arguments; on return EAX = status,
 * EBX/ECX/EDX = results. Only CPL 0 may call (CPL > 0 gets #UD). Registers
 * not named as results are preserved.
 */
#define TV_ABI_VERSION           1u

#define TV_HC_VERSION            0u   /* -> EBX = ABI version, ECX = thinvisor version (as CPUID) */
#define TV_HC_EXIT_COUNT         1u   /* EBX = CPU index, ECX = exit reason
                                         -> EBX:ECX = count (high:low) */
#define TV_HC_LOG_READ           2u   /* EBX = guest-physical buffer, ECX = length, EDX = offset
                                         -> EBX = bytes copied, ECX = total bytes ever logged */
#define TV_HC_MEMORY_MAP         3u   /* EBX = index -> EBX = base, ECX = size (bytes, low 32),
                                         EDX = kind (TV_MEM_*): 0 the hypervisor region, 1 and
                                         2 the pages of it the guest may read */
#define TV_HC_SELF_CHECK         4u   /* -> EBX = checksum of the hypervisor image now,
                                         ECX = the same checksum taken at boot */
#define TV_HC_EPT_GENERATION     5u   /* EBX = CPU index -> EBX = EPT generation that CPU last
                                         flushed for, ECX = the current generation (both low
                                         32 bits), EDX = 1 while it runs guest code, else 0;
                                         TV_STATUS_UNKNOWN_CALL under SVM, which shares
                                         no EPT (each CPU's MTRRs type its own walks) */

#define TV_HC_STATE_CHECK        6u   /* -> EBX = checksum of this CPU's fixed hypervisor state
                                         now (MSR bitmap, VMCS host state, EPT and bitmap
                                         pointers), ECX = the same at its launch, EDX =
                                         hypervisor-region pages the guest can reach (0) */

/*
 * Leaves virtualization on this CPU (`thinctl off`, or a kernel): RBX = the
 * status area's off_token (abi/status.h), RDX = the linear address of a
 * 4 KiB page the caller gives up, mapped by a 4 KiB entry (4- or 5-level paging),
 * below 2^47 and above the physical memory's top (thinvisor runs its last
 * instructions from it; one page per CPU, all in one 2 MiB), ECX bit 0 set
 * on the caller's last CPU: thinvisor then takes every CPU that has not left
 * out too, as CPUs the OS keeps offline, into wait-for-SIPI. The one call a
 * CPL 3 caller may make, with the token; without it, #UD as any other call
 * from CPL 3. On success the call returns EAX = TV_STATUS_OK on a CPU that
 * runs natively, the page no longer usable at CPL 3. TV_STATUS_AGAIN: an
 * event was due on this CPU; call again.
 */
#define TV_HC_OFF                7u

#define TV_MEM_HYPERVISOR        1u   /* the hypervisor region: unreachable from the guest */
#define TV_MEM_STATUS            2u   /* inside it, readable: the status area (abi/status.h) */
#define TV_MEM_LOG               3u   /* inside it, readable: the log ring */

#define TV_STATUS_OK             0u
#define TV_STATUS_UNKNOWN_CALL   1u
#define TV_STATUS_BAD_ARGUMENT   2u
#define TV_STATUS_AGAIN          3u   /* TV_HC_OFF: not now, call again */
#define TV_STATUS_UNSUPPORTED    4u   /* TV_HC_OFF: cannot leave from this guest state */

/* The first 16 bytes of the hypervisor image; a guest that can read them sees through the EPT. */
#define TV_IMAGE_MAGIC           "thinvisor-image!"

#endif
