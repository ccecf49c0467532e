/*
 * A VT-d remapping unit's registers and in-memory structures, as far as
 * thinvisor programs them (Intel VT-d spec 3.x: register layout in 11.4,
 * root and context entries in 9.1-9.4, fault records in 7.2 and 11.4.14).
 * The one place these offsets and bits are written down.
 */
#ifndef THINVISOR_VTD_REGS_H
#define THINVISOR_VTD_REGS_H

/* Register offsets from the unit's base (11.4). */
#define VTD_REG_VER             0x00    /* 32: version */
#define VTD_REG_CAP             0x08    /* 64: capabilities */
#define VTD_REG_ECAP            0x10    /* 64: extended capabilities */
#define VTD_REG_GCMD            0x18    /* 32: global command */
#define VTD_REG_GSTS            0x1C    /* 32: global status */
#define VTD_REG_RTADDR          0x20    /* 64: root table address */
#define VTD_REG_CCMD            0x28    /* 64: context command */
#define VTD_REG_FSTS            0x34    /* 32: fault status */
#define VTD_REG_FECTL           0x38    /* 32: fault event control */
#define VTD_REG_PMEN            0x64    /* 32: protected memory enable */
#define VTD_REG_IQH             0x80    /* 64: invalidation queue head */
#define VTD_REG_IQT             0x88    /* 64: invalidation queue tail */

/* CAP (11.4.2). */
#define VTD_CAP_RWBF            (1ull << 4)     /* write buffer flush needed */
#define VTD_CAP_PLMR            (1ull << 5)     /* protected low-memory region */
#define VTD_CAP_PHMR            (1ull << 6)     /* protected high-memory region */
#define VTD_CAP_SAGAW(c)        (((c) >> 8) & 0x1F)   /* bit 1: 3-level, bit 2: 4-level */
#define VTD_CAP_MGAW(c)         ((((c) >> 16) & 0x3F) + 1)  /* guest address bits */
#define VTD_CAP_FRO(c)          ((((c) >> 24) & 0x3FF) * 16) /* fault records' offset */
#define VTD_CAP_SLLPS_2M        (1ull << 34)
#define VTD_CAP_SLLPS_1G        (1ull << 35)
#define VTD_CAP_NFR(c)          ((((c) >> 40) & 0xFF) + 1)   /* fault records */

/* ECAP (11.4.3). */
#define VTD_ECAP_C              (1ull << 0)     /* page walks snoop the CPU caches */
#define VTD_ECAP_IRO(e)         ((((e) >> 8) & 0x3FF) * 16)  /* IOTLB registers' offset */

/* GCMD and GSTS share bit positions (11.4.4, 11.4.5). */
#define VTD_GCMD_TE             (1u << 31)      /* translation enable */
#define VTD_GCMD_SRTP           (1u << 30)      /* set root table pointer */
#define VTD_GCMD_WBF            (1u << 27)      /* write buffer flush */
#define VTD_GCMD_QIE            (1u << 26)      /* queued invalidation enable */
#define VTD_GCMD_IRE            (1u << 25)      /* interrupt remapping enable */
#define VTD_GCMD_CFI            (1u << 23)      /* compatibility-format interrupts */
/* The GSTS bits a GCMD write must repeat to leave them as they are. */
#define VTD_GSTS_PERSISTENT     (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)

/* CCMD (11.4.7): a global context-cache invalidation, ICC clears when done. */
#define VTD_CCMD_ICC            (1ull << 63)
#define VTD_CCMD_GLOBAL         (1ull << 61)

/* IOTLB register at ECAP.IRO + 8 (11.4.8.1): a global invalidation, draining first. */
#define VTD_IOTLB_REG(e)        (VTD_ECAP_IRO(e) + 8)
#define VTD_IOTLB_IVT           (1ull << 63)
#define VTD_IOTLB_GLOBAL        (1ull << 60)
#define VTD_IOTLB_DR            (1ull << 49)
#define VTD_IOTLB_DW            (1ull << 48)

/* FSTS (11.4.9.1) and FECTL (11.4.9.2). */
#define VTD_FSTS_PFO            (1u << 0)       /* a fault was lost: records full (RW1C) */
#define VTD_FSTS_PPF            (1u << 1)       /* a record holds a fault */
#define VTD_FSTS_FRI(s)         (((s) >> 8) & 0xFF)
#define VTD_FECTL_IM            (1u << 31)      /* no fault interrupt */

/* PMEN (11.4.13). */
#define VTD_PMEN_EPM            (1u << 31)
#define VTD_PMEN_PRS            (1u << 0)

/* A fault record's upper quadword (11.4.14); the lower holds the page address. */
#define VTD_FRCD_SID(hi)        ((uint16_t)((hi) & 0xFFFF))
#define VTD_FRCD_REASON(hi)     ((uint8_t)((hi) >> 32))
#define VTD_FRCD_READ           (1ull << 62)    /* T: 1 a read, 0 a write */
#define VTD_FRCD_F              (1ull << 63)    /* holds a fault; write 1 to free it */
#define VTD_FRCD_ADDR_MASK      (~0xFFFull)

/* Root and context entries (9.1, 9.3): 16 bytes, 256 to a 4 KiB table. */
#define VTD_ROOT_PRESENT        (1ull << 0)
#define VTD_CTX_PRESENT         (1ull << 0)     /* lower quadword; TT 0: through the tables */
#define VTD_CTX_AW_3LEVEL       1ull            /* upper quadword bits 2:0: 39-bit, 3 levels */
#define VTD_CTX_AW_4LEVEL       2ull            /* 48-bit, 4 levels */
#define VTD_CTX_DID_SHIFT       8               /* upper quadword bits 23:8: domain */

#endif
