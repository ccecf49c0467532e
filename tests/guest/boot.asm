; The test guest's boot sector (MBR). A BIOS, or thinvisor acting as one, loads
; it at 0000:7C00 and jumps to it in real mode with DL = the boot drive.
;
; It records what only it can see (where it ran, DL), loads the rest of the
; guest (GUEST_SECTORS sectors from LBA 1, given by guest.mk) to GUEST_LOAD,
; asks the BIOS for its memory map (INT 15h E820h, E801h, AH=88h), switches to
; 32-bit flat protected mode and calls guest_main(struct bootinfo *).
; Everything it learns goes into struct bootinfo at BOOTINFO (guest.h has the
; C view, with static asserts on these offsets).

bits 16
org 0x7C00

GUEST_LOAD      equ 0x8000          ; guest.ld links guest_main here
BOOTINFO        equ 0x1000          ; free conventional memory, below our stack
STACK_TOP       equ 0x7C00          ; grows down towards BOOTINFO
START_TSC       equ BOOTINFO - 8    ; the TSC at our first instructions (guest.h BOOT_START_TSC)
E820_MAX        equ 64

; struct bootinfo (guest.h)
BI_START_CS     equ 0
BI_START_IP     equ 2
BI_DRIVE        equ 4
BI_METHOD       equ 5               ; 0x42 or 0x02: the INT 13h function that loaded us
BI_E801_OK      equ 6
BI_MEM88_OK     equ 7
BI_E801         equ 8               ; AX, BX, CX, DX as returned
BI_MEM88        equ 16
BI_E820_COUNT   equ 18
BI_E820         equ 32              ; E820_MAX entries of 24 bytes
BI_SIZE         equ BI_E820 + E820_MAX * 24

SMAP            equ 0x534D4150      ; 'SMAP', the E820h signature

%ifndef GUEST_SECTORS
%error "GUEST_SECTORS (sectors to load after the MBR) must be defined"
%endif

start:
    cli
    ; CS:IP as we were really entered: the near call pushes the IP of .here,
    ; whatever segment:offset pair the loader used to reach 0x7C00.
    call .here
.here:
    pop si
    sub si, .here - start           ; SI = IP of start
    mov bx, cs
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, STACK_TOP
    mov cx, dx                      ; the TSC as soon as DS is known, for make bench's
    rdtsc                           ; launch latency: at START_TSC, which stays untouched
    mov [START_TSC], eax
    mov [START_TSC + 4], edx
    mov dx, cx
    jmp 0:.cs0                      ; from here on CS = 0, as org 0x7C00 assumes
.cs0:
    sti                             ; BIOS disk services may wait on interrupts
    cld
    mov di, BOOTINFO
    mov cx, BI_SIZE
    xor ax, ax                      ; (RDTSC above changed AL)
    rep stosb
    mov [BOOTINFO + BI_START_CS], bx
    mov [BOOTINFO + BI_START_IP], si
    mov [BOOTINFO + BI_DRIVE], dl

    ; INT 13h AH=41h: are the EDD extensions (AH=42h with a DAP) there?
    ; CX bit 0 = "fixed disk access subset" (EDD 3.0 spec).
    mov byte [BOOTINFO + BI_METHOD], 0x42
    mov ah, 0x41
    mov bx, 0x55AA
    int 0x13
    jc .chs
    cmp bx, 0xAA55
    jne .chs
    test cl, 1
    jnz .load
.chs:
    ; No EDD: CHS reads (AH=02h), geometry from AH=08h.
    mov byte [BOOTINFO + BI_METHOD], 0x02
    mov ah, 0x08
    mov dl, [BOOTINFO + BI_DRIVE]
    xor di, di
    int 0x13
    push ds
    pop es                          ; AH=08h may return a table pointer in ES:DI
    jc disk_error
    and cx, 0x3F                    ; CL bits 0-5: sectors per track
    mov [spt], cx
    movzx ax, dh                    ; DH: highest head number
    inc ax
    mov [heads], ax

    ; One sector per call: every transfer stays inside one 64 KiB segment, and
    ; no BIOS limit on sectors per call applies.
.load:
    call read_sector
    jc disk_error
    add word [dap.seg], 512 >> 4
    inc word [dap.lba]
    cmp word [dap.lba], GUEST_SECTORS
    jbe .load

    ; INT 15h E820h: the BIOS memory map, one entry per call, EBX carries on.
    xor ebx, ebx
    mov di, BOOTINFO + BI_E820
.e820:
    mov dword [di + 20], 1          ; ACPI 3.0 "valid" attribute, in case the BIOS writes 20 bytes
    mov eax, 0xE820
    mov edx, SMAP
    mov ecx, 24
    int 0x15
    jc .e820_done                   ; unsupported, or (some BIOSes) past the last entry
    cmp eax, SMAP
    jne .e820_done
    add di, 24
    inc word [BOOTINFO + BI_E820_COUNT]
    cmp di, BOOTINFO + BI_E820 + E820_MAX * 24
    jae .e820_done                  ; the buffer is full
    test ebx, ebx                   ; EBX = 0: that was the last entry
    jnz .e820
.e820_done:

    ; INT 15h E801h: AX/CX = KiB between 1 MiB and 16 MiB, BX/DX = 64 KiB blocks above.
    xor cx, cx                      ; some BIOSes answer in AX/BX only
    xor dx, dx
    mov ax, 0xE801
    int 0x15
    jc .no_e801
    mov di, BOOTINFO + BI_E801
    stosw                           ; AX, BX, CX, DX in that order
    xchg ax, bx
    stosw
    xchg ax, cx
    stosw
    xchg ax, dx
    stosw
    mov byte [BOOTINFO + BI_E801_OK], 1
.no_e801:
    ; INT 15h AH=88h: KiB of extended memory above 1 MiB (at most 0xFFFF).
    mov ah, 0x88
    clc
    int 0x15
    jc .no_88
    mov [BOOTINFO + BI_MEM88], ax
    mov byte [BOOTINFO + BI_MEM88_OK], 1
.no_88:

    ; A20 on (the guest reads memory far above 1 MiB): "fast A20", port 0x92
    ; bit 1. Bit 0 would reset the machine, so it is written as 0.
    cli
    in al, 0x92
    test al, 2
    jnz .a20
    or al, 2
    and al, 0xFE
    out 0x92, al
.a20:
    ; Protected mode: CR0.PE with a flat GDT, then a far jump to load CS
    ; (SDM Vol. 3A, 10.9.1, "Switching to Protected Mode").
    lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32                   ; pm32 is below 64 KiB: a 16-bit far jump will do

; Reads sector [dap.lba] to [dap.seg]:0000. CF set on error.
read_sector:
    mov dl, [BOOTINFO + BI_DRIVE]
    cmp byte [BOOTINFO + BI_METHOD], 0x42
    jne .chs
    mov si, dap
    mov ah, 0x42
    int 0x13
    ret
.chs:
    mov ax, [dap.lba]
    xor dx, dx
    div word [spt]                  ; AX = track, DX = sector - 1
    mov cx, dx
    inc cx
    xor dx, dx
    div word [heads]                ; AX = cylinder, DX = head
    mov dh, dl
    mov ch, al                      ; cylinder bits 0-7 in CH,
    shl ah, 6
    or cl, ah                       ; bits 8-9 in CL bits 6-7
    mov dl, [BOOTINFO + BI_DRIVE]
    mov es, [dap.seg]
    xor bx, bx
    mov ax, 0x0201                  ; read 1 sector
    int 0x13
    push ds
    pop es                          ; ES = 0 again; push/pop keep CF
    ret

; Says why on COM1 and ends the run as a failure (QEMU port 0xF4, Bochs 0x8900).
disk_error:
    mov dx, 0x3FB                   ; line control: 8N1 (the BIOS may leave 5-bit words)
    mov al, 3
    out dx, al
    mov si, msg_disk
.putc:
    lodsb
    test al, al
    jz .exit
    mov ah, al
    mov dx, 0x3FD                   ; line status: wait for an empty transmitter
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3F8
    out dx, al
    jmp .putc
.exit:
    mov al, 1
    out 0xF4, al
    mov si, msg_shutdown
    mov dx, 0x8900
.sd:
    lodsb
    test al, al
    jz .halt
    out dx, al
    jmp .sd
.halt:
    cli
    hlt
    jmp .halt

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, STACK_TOP
    push dword BOOTINFO
    call GUEST_LOAD                 ; guest_main(struct bootinfo *): does not return
.halt:
    hlt
    jmp .halt

gdt:                                ; the CPU never reads entry 0, so the GDTR operand lives there
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
    dw 0
    dq 0x00CF9A000000FFFF           ; 0x08: code, base 0, limit 4 GiB, 32-bit
    dq 0x00CF92000000FFFF           ; 0x10: data, base 0, limit 4 GiB
gdt_end:

dap:                                ; INT 13h AH=42h disk address packet (EDD 3.0)
    db 16, 0
    dw 1                            ; sectors
    dw 0                            ; buffer offset
.seg: dw GUEST_LOAD >> 4            ; buffer segment
.lba: dq 1

spt:    dw 0
heads:  dw 0

msg_disk:     db "FAIL boot: disk error", 13, 10, 0
msg_shutdown: db "Shutdown", 0

    times 510 - ($ - $$) db 0
    dw 0xAA55
