/*
 * Exception vectors the backends give the guest (SDM Vol. 3A, 6.3.1, Table
 * 6-1), and the DR6 bit a single-step #DB sets. Plain constants.
 */
#ifndef THINVISOR_VECTORS_H
#define THINVISOR_VECTORS_H

#define VEC_DB 1                /* debug */
#define VEC_NMI 2
#define VEC_BP 3                /* breakpoint: INT3 */
#define VEC_OF 4                /* overflow: INTO */
#define VEC_UD 6                /* invalid opcode */
#define VEC_GP 13               /* general protection */

#define DR6_BS (1ull << 14)     /* the #DB was a single step (SDM Vol. 3B, 18.2.3) */

#endif
