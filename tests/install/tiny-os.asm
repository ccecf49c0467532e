; The smallest "OS" for the install tests (tests/boot/cases_install.sh): GRUB loads it with
; `multiboot` (a flat binary: the multiboot header's address fields say where it goes). It
; prints on COM1 that it runs and what CPUID 0x40000000 says, then ends the emulator the way
; tests/linux/tvcheck.c does. A few seconds in Bochs, where Linux takes minutes.
bits 32
org 0x100000

MB1_MAGIC equ 0x1BADB002
MB1_FLAGS equ 1 << 16                   ; the address fields below are valid (no ELF needed)
COM1      equ 0x3F8                     ; GRUB's serial command left it at 115200 8N1

header:
    dd MB1_MAGIC, MB1_FLAGS, -(MB1_MAGIC + MB1_FLAGS)
    dd header                           ; header_addr
    dd header                           ; load_addr: the file starts here
    dd 0                                ; load_end_addr: the whole file
    dd 0                                ; bss_end_addr: no bss
    dd start                            ; entry_addr

start:
    cli
    mov esp, stack_top
    mov esi, msg_hello
    call puts
    mov eax, 1
    cpuid
    bt ecx, 31                          ; CPUID.1:ECX[31]: a hypervisor is present
    jnc .no_hypervisor
    mov eax, 0x40000000
    cpuid
    mov [signature], ebx
    mov [signature + 4], ecx
    mov [signature + 8], edx
    mov edi, signature                  ; show non-printable bytes (NUL padding) as '.'
    mov ecx, 12
.printable:
    mov al, [edi]
    cmp al, 0x20
    jb .dot
    cmp al, 0x7E
    jbe .next
.dot:
    mov byte [edi], '.'
.next:
    inc edi
    loop .printable
    mov esi, msg_signature
    call puts
    mov esi, signature
    call puts
    mov esi, msg_quote_eol
    call puts
    jmp .end
.no_hypervisor:
    mov esi, msg_no_hypervisor
    call puts

.end:
    mov esi, msg_done
    call puts
.drain:                                 ; until the UART has sent the last bit (LSR.TEMT)
    mov dx, COM1 + 5
    in al, dx
    test al, 0x40
    jz .drain
    mov dx, 0xF4                        ; QEMU isa-debug-exit: exit status 0 for the runner
    xor eax, eax
    out dx, al
    mov dx, 0x8900                      ; Bochs: "Shutdown" on its shutdown port
    mov esi, shutdown
.shutdown:
    lodsb
    test al, al
    jz .halt
    out dx, al
    jmp .shutdown
.halt:
    hlt
    jmp .halt

; puts: writes the NUL-terminated string at ESI to COM1, polling LSR.THRE.
puts:
    lodsb
    test al, al
    jz .ret
    mov ah, al
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, COM1
    mov al, ah
    out dx, al
    jmp puts
.ret:
    ret

msg_hello:          db `tiny-os: booted\r\n`, 0
msg_signature:      db `tiny-os: hypervisor signature "`, 0
msg_quote_eol:      db `"\r\n`, 0
msg_no_hypervisor:  db `tiny-os: no hypervisor (CPUID.1:ECX[31] = 0)\r\n`, 0
msg_done:           db `tiny-os: done\r\n`, 0
shutdown:           db "Shutdown", 0
signature:          times 12 db 0
                    db 0

align 16
stack:              times 1024 db 0
stack_top:
