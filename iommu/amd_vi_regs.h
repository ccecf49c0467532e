/*
 * An AMD-Vi IOMMU's registers and in-memory structures, as far as thinvisor
 * programs them (AMD I/O Virtualization Technology (IOMMU) Specification
 * 48882 rev 3.x: MMIO registers in 3.4, the device table entry in 2.2.2,
 * page table entries in 2.2.3, the event log in 2.5). The one place these
 * offsets and bits are written down.
 */
#ifndef THINVISOR_AMD_VI_REGS_H
#define THINVISOR_AMD_VI_REGS_H

/* MMIO register offsets (3.4). */
#define AMDVI_REG_DEVTAB        0x0000  /* device table base, bits 8:0 its size in 4 KiB - 1 */
#define AMDVI_REG_EVENT_BASE    0x0010  /* event log base, bits 59:56 log2 of its entries */
#define AMDVI_REG_CONTROL       0x0018
#define AMDVI_REG_EXCL_BASE     0x0020  /* the exclusion range: DMA there skips translation */
#define AMDVI_REG_EXCL_LIMIT    0x0028
#define AMDVI_REG_EFR           0x0030  /* extended features */
#define AMDVI_REG_EVENT_HEAD    0x2010  /* byte offsets into the event log */
#define AMDVI_REG_EVENT_TAIL    0x2018
#define AMDVI_REG_STATUS        0x2020

#define AMDVI_MMIO_BYTES        0x4000  /* the registers above */
#define AMDVI_MMIO_BYTES_PC     0x80000 /* with performance counters (EFR.PCSup) */
#define AMDVI_EFR_PC            (1ull << 9)

/* Control (3.4.5) and status (3.4.14). */
#define AMDVI_CTL_IOMMU_EN      (1ull << 0)
#define AMDVI_CTL_EVENT_LOG_EN  (1ull << 2)
#define AMDVI_CTL_COHERENT      (1ull << 10)    /* its table reads and log writes snoop */
#define AMDVI_CTL_CMDBUF_EN     (1ull << 12)
#define AMDVI_STATUS_EVENT_OVF  (1ull << 0)     /* the event log overflowed (RW1C) */

/* The device table: one 32-byte entry per requester ID, 65536 of them at most: 2 MiB. */
#define AMDVI_DTE_BYTES         32
#define AMDVI_DEVICE_IDS        65536
#define AMDVI_DTE_VALID         (1ull << 0)     /* quadword 0 */
#define AMDVI_DTE_TV            (1ull << 1)     /* the page table fields are valid */
#define AMDVI_DTE_MODE_SHIFT    9               /* paging levels, 1..6 */
#define AMDVI_DTE_IR            (1ull << 61)
#define AMDVI_DTE_IW            (1ull << 62)
/* Quadword 1 bits 15:0: the domain; quadword 2 bit 0 (IV) clear: interrupts pass unremapped. */

/* Page table entries: mm/ept.h (AMDVI_PTE_*), which builds the tables. */

/* Event log entries (2.5): 16 bytes; IO_PAGE_FAULT carries the requester and address. */
#define AMDVI_EVENT_BYTES       16
#define AMDVI_EVENT_LOG_ENTRIES 256             /* 4 KiB, the smallest log */
#define AMDVI_EVENT_CODE(dw1)   ((dw1) >> 28)
#define AMDVI_EVENT_IO_PAGE_FAULT 2
#define AMDVI_EVENT_FLAG_RW     (1u << 21)      /* in dword 1: a write */

#endif
