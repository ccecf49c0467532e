; Real-mode code thinvisor leaves for the guest, in 1-2 KiB taken from the top
; of conventional memory (BDA word 0x413 lowered, the classic way, so DOS-era
; and modern OSes alike leave it alone). guest/bios.c copies it to SEG:0 and
; fills in the fields at the end. Two entry points, both run as guest code:
;
;  bh_int15:  the new INT 15h vector. E820, E801 and AH=88h are answered from
;             the edited map (guest/e820.c) so the hypervisor region shows as
;             reserved; every other function goes to the BIOS's handler.
;  bh_loader: the guest's first instruction when GRUB gave no boot sector
;             module: reads sector 0 of the chosen drive to 0000:7C00 with
;             INT 13h and jumps there with DL = the drive, as a BIOS does.
;
; Everything is addressed through CS, so the blob runs at any segment.

%define SMAP 0x534D4150

section .rodata
bits 16
global bios_hooks_start, bios_hooks_end, bh_int15, bh_loader
global bh_old_int15, bh_e820_count, bh_e801_ax, bh_e801_bx, bh_kib_88
global bh_drive, bh_com_port, bh_test_exit, bh_e820_table

bios_hooks_start:

bh_int15:
    cmp eax, 0xE820
    je .e820
    cmp ax, 0xE801
    je .e801
    cmp ah, 0x88
    je .ah88
    jmp far [cs:bh_old_int15 - bios_hooks_start]

.e820:
    cmp edx, SMAP
    jne .fail
    cmp ecx, 20
    jb .fail
    cmp ebx, [cs:bh_e820_count - bios_hooks_start]
    jae .fail
    push ds
    push si
    push di
    push cx
    push ax
    mov ax, cs
    mov ds, ax
    mov si, bx                            ; entry ebx: table + 20 * ebx
    shl si, 2
    mov ax, si
    shl si, 2
    add si, ax
    add si, bh_e820_table - bios_hooks_start
    mov cx, 20
    cld
    rep movsb
    pop ax
    pop cx
    pop di
    pop si
    pop ds
    cmp ecx, 24                           ; ACPI 3.0 extended attributes: "enabled"
    jb .short
    mov dword [es:di + 20], 1
    mov ecx, 24
    jmp .next
.short:
    mov ecx, 20
.next:
    inc ebx
    cmp ebx, [cs:bh_e820_count - bios_hooks_start]
    jb .more
    xor ebx, ebx                          ; 0: that was the last entry
.more:
    mov eax, SMAP
    jmp .ok

.e801:
    mov ax, [cs:bh_e801_ax - bios_hooks_start]
    mov bx, [cs:bh_e801_bx - bios_hooks_start]
    mov cx, ax
    mov dx, bx
    jmp .ok

.ah88:
    mov ax, [cs:bh_kib_88 - bios_hooks_start]
    jmp .ok

; Return with CF clear or set in the caller's FLAGS (the INT pushed IP, CS, FLAGS).
.ok:
    push bp
    mov bp, sp
    and word [bp + 6], 0xFFFE
    pop bp
    iret
.fail:
    mov ah, 0x86                          ; "function not supported"
    push bp
    mov bp, sp
    or word [bp + 6], 1
    pop bp
    iret

bh_loader:
    cli
    xor ax, ax
    mov ss, ax
    mov sp, 0x7C00
    mov ds, ax
    mov es, ax
    sti
    mov di, 3                             ; tries
.read:
    mov ax, 0x0201                        ; read one sector
    mov cx, 0x0001                        ; cylinder 0, sector 1
    xor dh, dh                            ; head 0
    mov dl, [cs:bh_drive - bios_hooks_start]
    mov bx, 0x7C00
    int 0x13
    jnc .read_ok
    mov [cs:bh_error - bios_hooks_start], ah
    xor ax, ax                            ; reset the drive, then try again
    mov dl, [cs:bh_drive - bios_hooks_start]
    int 0x13
    dec di
    jnz .read
    mov si, bh_msg_read - bios_hooks_start
    jmp .fatal
.read_ok:
    cmp word [0x7DFE], 0xAA55
    je .boot
    mov si, bh_msg_sig - bios_hooks_start
    jmp .fatal
.boot:
    mov dl, [cs:bh_drive - bios_hooks_start]
    jmp 0:0x7C00

; Prints the message at CS:SI (drive and error code filled in) on the
; console port, ends a test run, then halts: a clear message, never a hang
; without one.
.fatal:
    mov al, [cs:bh_drive - bios_hooks_start]
    mov bx, bh_msg_drive - bios_hooks_start
    call hex_byte
    mov al, [cs:bh_error - bios_hooks_start]
    mov bx, bh_msg_error - bios_hooks_start
    call hex_byte
    push si
    mov si, bh_msg_prefix - bios_hooks_start
    call puts
    pop si
    call puts
    cmp byte [cs:bh_test_exit - bios_hooks_start], 0
    je .halt
    mov si, bh_shutdown - bios_hooks_start
    mov dx, 0x8900
.sd:
    mov al, [cs:si]
    test al, al
    jz .qemu
    out dx, al
    inc si
    jmp .sd
.qemu:
    mov dx, 0xF4
    mov al, 1
    out dx, al
.halt:
    cli
    hlt
    jmp .halt

; AL -> two hex digits at CS:BX
hex_byte:
    push ax
    shr al, 4
    call .digit
    mov [cs:bx], al
    pop ax
    and al, 0xF
    call .digit
    mov [cs:bx + 1], al
    ret
.digit:
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'A' - '9' - 1
.d:
    ret

; CS:SI NUL-terminated -> the console UART (bounded wait per character)
puts:
    mov dx, [cs:bh_com_port - bios_hooks_start]
    test dx, dx
    jz .done
.c:
    mov al, [cs:si]
    test al, al
    jz .done
    push cx
    add dx, 5
    mov cx, 0xFFFF
.w:
    in al, dx
    test al, 0x20
    loopz .w
    sub dx, 5
    pop cx
    mov al, [cs:si]
    out dx, al
    inc si
    jmp .c
.done:
    ret

bh_msg_prefix: db 13, 10, "thinvisor: drive 0x"
bh_msg_drive:  db "??: ", 0
bh_msg_read:   db "INT 13h cannot read the boot sector (error 0x"
bh_msg_error:  db "??); halted.", 13, 10, 0
bh_msg_sig:    db "the boot sector has no 0x55AA signature: not bootable; halted.", 13, 10, 0
bh_shutdown:   db "Shutdown", 0
bh_error:      db 0

align 4
bh_old_int15:  dd 0                       ; the BIOS's INT 15h (offset, segment)
bh_e820_count: dd 0
bh_e801_ax:    dw 0
bh_e801_bx:    dw 0
bh_kib_88:     dw 0
bh_com_port:   dw 0x3F8
bh_drive:      db 0x80
bh_test_exit:  db 0
align 4
bh_e820_table:                            ; bh_e820_count entries of 20 bytes follow
bios_hooks_end:
