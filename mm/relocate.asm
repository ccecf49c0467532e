; void relocate_image(uint64_t dst, uint64_t src, uint64_t len, uint64_t cr3)
;
; Copies the running kernel image into the hypervisor region and switches to
; page tables that map KERNEL_VBASE there. Written in assembly because the copy
; and the CR3 load must happen with no stack write in between: the copy
; snapshots the live stack, and anything C wrote after it would be lost. After
; `ret` execution continues at the same virtual addresses, now backed by the
; region (hv/main.c, move_to_region).

section .text
bits 64
global relocate_image
relocate_image:
    mov r8, rcx
    mov rcx, rdx
    cld
    rep movsb
    mov cr3, r8
    ret
