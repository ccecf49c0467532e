/*
 * libFuzzer target for kernel/cmdline.c: whatever the command line holds,
 * parsing ends, every option stays within its documented range, and every
 * warning is a bounded line.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cmdline.h"

static void check_warning(void *ctx, const char *msg)
{
    (void)ctx;
    size_t n = strlen(msg);
    assert(n > 0 && n < 160);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct options o;
    cmdline_defaults(&o);
    cmdline_parse(s, &o, check_warning, NULL);
    assert(o.loglevel >= LOG_ERROR && o.loglevel <= LOG_DEBUG);
    assert(o.cpus <= CMDLINE_MAX_CPUS);
    assert(o.boot_drive >= -1 && o.boot_drive <= 0xFF);
    assert(o.console_baud >= 50 && 115200 % o.console_baud == 0);
    assert(o.console_port == 0 || o.console_port >= 0x100);
    free(s);
    return 0;
}
