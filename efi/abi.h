/*
 * The parts of the UEFI interface thinvisor uses, as laid out in memory on
 * x86-64 (UEFI specification 2.10). Only layouts and numbers live here; the
 * calls are in efi/efi.c.
 */
#ifndef THINVISOR_EFI_ABI_H
#define THINVISOR_EFI_ABI_H

#include <stdint.h>

typedef uint64_t efi_status;
typedef uint64_t efi_handle;

/* Appendix D: an error has the top bit set; warnings do not. */
#define EFI_ERROR_BIT            (1ull << 63)
#define EFI_SUCCESS              0
#define EFI_LOAD_ERROR           (EFI_ERROR_BIT | 1)
#define EFI_INVALID_PARAMETER    (EFI_ERROR_BIT | 2)
#define EFI_UNSUPPORTED          (EFI_ERROR_BIT | 3)
#define EFI_BUFFER_TOO_SMALL     (EFI_ERROR_BIT | 5)
#define EFI_OUT_OF_RESOURCES     (EFI_ERROR_BIT | 9)
#define EFI_NOT_FOUND            (EFI_ERROR_BIT | 14)
#define EFI_ACCESS_DENIED        (EFI_ERROR_BIT | 15)
#define EFI_ABORTED              (EFI_ERROR_BIT | 21)
#define EFI_SECURITY_VIOLATION   (EFI_ERROR_BIT | 26)

/* 4.2: every table starts with this header. */
struct efi_table_header {
    uint64_t signature;
    uint32_t revision;
    uint32_t header_size;
    uint32_t crc32;
    uint32_t reserved;
};

#define EFI_SYSTEM_TABLE_SIGNATURE   0x5453595320494249ull   /* "IBI SYST" */
#define EFI_BOOT_SERVICES_SIGNATURE  0x56524553544f4f42ull   /* "BOOTSERV" */
#define EFI_RUNTIME_SERVICES_SIGNATURE 0x56524553544e5552ull /* "RUNTSERV" */

/* 4.3 */
struct efi_system_table {
    struct efi_table_header hdr;
    uint64_t firmware_vendor;          /* UCS-2 string */
    uint32_t firmware_revision;
    uint32_t pad;
    efi_handle console_in_handle;
    uint64_t con_in;
    efi_handle console_out_handle;
    uint64_t con_out;                  /* EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL */
    efi_handle standard_error_handle;
    uint64_t std_err;
    uint64_t runtime_services;
    uint64_t boot_services;
    uint64_t number_of_table_entries;
    uint64_t configuration_table;
};

/* 12.4: EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL, its first two members. */
struct efi_text_output {
    uint64_t reset;
    uint64_t output_string;
};

/* 4.4: the boot services, in table order (addresses of the services). */
struct efi_boot_services {
    struct efi_table_header hdr;
    uint64_t raise_tpl, restore_tpl;
    uint64_t allocate_pages, free_pages, get_memory_map, allocate_pool, free_pool;
    uint64_t create_event, set_timer, wait_for_event, signal_event, close_event, check_event;
    uint64_t install_protocol_interface, reinstall_protocol_interface,
        uninstall_protocol_interface, handle_protocol, reserved, register_protocol_notify,
        locate_handle, locate_device_path, install_configuration_table;
    uint64_t load_image, start_image, exit, unload_image, exit_boot_services;
    uint64_t get_next_monotonic_count, stall, set_watchdog_timer;
    uint64_t connect_controller, disconnect_controller;
    uint64_t open_protocol, close_protocol, open_protocol_information;
    uint64_t protocols_per_handle, locate_handle_buffer, locate_protocol;
};

/* 4.5: the runtime services, in table order, up to the variable services. */
struct efi_runtime_services {
    struct efi_table_header hdr;
    uint64_t get_time, set_time, get_wakeup_time, set_wakeup_time;
    uint64_t set_virtual_address_map, convert_pointer;
    uint64_t get_variable, get_next_variable_name, set_variable;
};

/* 3.1.3: a Boot#### variable (EFI_LOAD_OPTION) starts with these; its attributes. */
#define EFI_LOAD_OPTION_ACTIVE         0x00000001u
#define EFI_LOAD_OPTION_CATEGORY_MASK  0x00001F00u
#define EFI_LOAD_OPTION_CATEGORY_BOOT  0x00000000u

/* 7.2: AllocatePages */
enum efi_allocate_type { EFI_ALLOCATE_ANY_PAGES = 0, EFI_ALLOCATE_MAX_ADDRESS = 1,
                         EFI_ALLOCATE_ADDRESS = 2 };

/* 7.2: memory types. */
#define EFI_RESERVED_MEMORY_TYPE   0
#define EFI_LOADER_DATA            2
#define EFI_BOOT_SERVICES_DATA     4

/* 9.1: EFI_LOADED_IMAGE_PROTOCOL */
struct efi_loaded_image {
    uint32_t revision;
    uint32_t pad;
    efi_handle parent_handle;
    uint64_t system_table;
    efi_handle device_handle;
    uint64_t file_path;                /* relative to device_handle */
    uint64_t reserved;
    uint32_t load_options_size;
    uint32_t pad2;
    uint64_t load_options;
    uint64_t image_base;
    uint64_t image_size;
    uint32_t image_code_type;
    uint32_t image_data_type;
    uint64_t unload;
};

struct efi_guid {
    uint32_t data1;
    uint16_t data2, data3;
    uint8_t data4[8];
};

#define EFI_LOADED_IMAGE_PROTOCOL_GUID \
    { 0x5B1B31A1, 0x9562, 0x11D2, { 0x8E, 0x3F, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B } }
/* 3.3: BootOrder, BootCurrent and Boot#### live under this vendor GUID. */
#define EFI_GLOBAL_VARIABLE_GUID \
    { 0x8BE4DF61, 0x93CA, 0x11D2, { 0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C } }
#define EFI_DEVICE_PATH_PROTOCOL_GUID \
    { 0x09576E91, 0x6D3F, 0x11D2, { 0x8E, 0x39, 0x00, 0xA0, 0xC9, 0x69, 0x72, 0x3B } }

#endif
