/*
 * QEMU's `edu` PCI device, the DMA engine the IOMMU tests aim at thinvisor's
 * memory (QEMU's docs/specs/edu.txt): shared by the test guest
 * (tests/guest/dma.c) and the Linux guest's tvdma (tests/linux/tvdma.c).
 */
#ifndef THINVISOR_TESTS_EDU_REGS_H
#define THINVISOR_TESTS_EDU_REGS_H

#define EDU_VENDOR          0x1234
#define EDU_DEVICE          0x11e8
#define EDU_IDENT           0x00            /* reads 0x010000ed */
#define EDU_IDENT_VALUE     0x010000EDu
#define EDU_DMA_SRC         0x80
#define EDU_DMA_DST         0x88
#define EDU_DMA_COUNT       0x90
#define EDU_DMA_CMD         0x98
#define EDU_CMD_START       1u              /* clears when the transfer is done */
#define EDU_CMD_TO_RAM      2u              /* else from RAM into the buffer */
#define EDU_BUFFER          0x40000u        /* its 4 KiB buffer, as a DMA address */

#endif
