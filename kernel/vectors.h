/*
 * Exception vectors the backends give the guest (SDM Vol. 3A, 6.3.1, Table
 * 6-1), and the DR6 bits that say what caused a #DB. Plain constants.
 */
#ifndef THINVISOR_VECTORS_H
#define THINVISOR_VECTORS_H

#define VEC_DB 1                /* debug */
#define VEC_NMI 2
#define VEC_BP 3                /* breakpoint: INT3 */
#define VEC_OF 4                /* overflow: INTO */
#define VEC_UD 6                /* invalid opcode */
#define VEC_GP 13               /* general protection */

/* DR6's causes of a #DB (SDM Vol. 3B, 18.2.3). */
#define DR6_B0_3 0xFull         /* breakpoint condition 0..3 met */
#define DR6_BD (1ull << 13)     /* debug-register access detected */
#define DR6_BS (1ull << 14)     /* single step */
#define DR6_BT (1ull << 15)     /* task switch */

#endif
