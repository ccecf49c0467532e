; halt_while_equal (kernel/halt.h): HLT until a word changes, woken by an
; NMI, without the lost wake-up of a plain "compare, then HLT": an NMI that
; comes after the compare and before the HLT would be spent, and the CPU
; would sleep on. nmi_in_root (kernel/exceptions.c) moves the return point
; of an NMI that interrupts the window [halt_window_start, halt_window_end)
; to its end, so the HLT is skipped and the caller looks again. This is
; assembly because the window must be known to the byte.

global halt_while_equal
global halt_window_start
global halt_window_end

section .text
bits 64

; void halt_while_equal(const volatile uint32_t *word [rdi], uint32_t value [esi])
halt_while_equal:
halt_window_start:
    cmp [rdi], esi
    jne halt_window_end
    hlt
halt_window_end:
    ret
