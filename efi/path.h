/*
 * UEFI device paths (UEFI specification 2.10, chapter 10): the byte strings
 * that name a file on a device for LoadImage. Plain C, no firmware calls, so
 * that the host unit tests (tests/unit/test_efi_path.c) run it unchanged.
 */
#ifndef THINVISOR_EFI_PATH_H
#define THINVISOR_EFI_PATH_H

#include <stddef.h>
#include <stdint.h>

/* 10.3.1: node types; every node starts with type, subtype, 16-bit length. */
#define EFI_DP_TYPE_MEDIA        0x04
#define EFI_DP_MEDIA_FILE_PATH   0x04
#define EFI_DP_TYPE_END          0x7F
#define EFI_DP_END_ENTIRE        0xFF
#define EFI_DP_NODE_HEADER       4

#define EFI_PATH_MAX_CHARS       255    /* of a file path thinvisor builds */

/*
 * The size of the device path at `dp`, its end node included, reading at most
 * `max` bytes; 0 when a node is shorter than its header or runs past `max`,
 * or no end node comes first.
 */
size_t efi_path_size(const uint8_t *dp, size_t max);

/*
 * Writes into out (cap bytes) the device path `dev` with its end node
 * replaced by `file`, itself a whole path (nodes and end). Returns the size
 * written, or 0 when either is malformed or the result does not fit.
 */
size_t efi_path_join(uint8_t *out, size_t cap, const uint8_t *dev, size_t devmax,
                     const uint8_t *file, size_t filemax);

/*
 * Writes into out (cap bytes) one media file path node for the ASCII path
 * `path` and an end node. '/' becomes '\', and a missing leading '\' is
 * added (paths are absolute on the device). Returns the size, or 0 when the
 * path is empty, longer than EFI_PATH_MAX_CHARS, has a character outside
 * printable ASCII or does not fit.
 */
size_t efi_path_file(uint8_t *out, size_t cap, const char *path);

/*
 * A one-line rendering for the log: file path nodes as their text, other
 * nodes as (type,subtype), e.g. "(2,1)(1,1)(3,18)(4,1)\EFI\BOOT\BOOTX64.EFI".
 * Always NUL-terminates buf (len > 0); "(malformed)" when efi_path_size is 0.
 */
void efi_path_describe(const uint8_t *dp, size_t max, char *buf, size_t len);

#endif
