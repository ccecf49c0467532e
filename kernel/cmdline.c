/*
 * Command-line parsing. Whatever the user typed into a GRUB entry, the
 * machine must still come up: every unknown key or bad value becomes a
 * warning and the option keeps its default.
 */
#include "kernel/cmdline.h"

#include <stddef.h>

#include "kernel/format.h"

struct parser {
    cmdline_warn_fn warn;
    void *ctx;
    int warnings;
};

__attribute__((format(printf, 2, 3)))
static void warnf(struct parser *p, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->warnings++;
    if (p->warn)
        p->warn(p->ctx, msg);
}

void cmdline_defaults(struct options *opt)
{
    *opt = (struct options){
        .console_port = 0x3F8,
        .console_baud = 115200,
        .loglevel = LOG_INFO,
        .cpus = 0,
        .boot_drive = -1,
        .test_extra_apic = -1,
        .test_fail_cpu = -1,
    };
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool str_eq(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n; i++)
        if (lit[i] != s[i] || lit[i] == '\0')
            return false;
    return lit[i] == '\0';
}

/* Decimal, or hexadecimal with 0x; the whole string must be the number. */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    unsigned base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        char c = s[i];
        if (c >= '0' && c <= '9') d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return false;
        if (v > (max - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* console=com1..com4|0xPORT|none[,BAUD] */
static void opt_console(struct parser *p, struct options *o, const char *v, size_t n)
{
    static const uint16_t com_ports[] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };
    size_t plen = 0;
    while (plen < n && v[plen] != ',')
        plen++;
    uint16_t port = 0;
    uint64_t num;
    if (str_eq(v, plen, "none")) {
        port = 0;
    } else if (plen == 4 && str_eq(v, 3, "com") && v[3] >= '1' && v[3] <= '4') {
        port = com_ports[v[3] - '1'];
    } else if (parse_uint(v, plen, 0xFFF8, &num) && num >= 0x100) {
        port = (uint16_t)num;
    } else {
        warnf(p, "console=%.*s: expected com1..com4, a port number (0x100..0xfff8) or none; "
              "keeping the default", (int)n, v);
        return;
    }
    uint32_t baud = o->console_baud;
    if (plen < n) {
        if (!parse_uint(v + plen + 1, n - plen - 1, 115200, &num) || num < 50 ||
            115200 % num != 0) {
            warnf(p, "console=%.*s: baud rate must divide 115200 (e.g. 9600, 38400, 115200); "
                  "keeping the default", (int)n, v);
            return;
        }
        baud = (uint32_t)num;
    }
    o->console_port = port;
    o->console_baud = baud;
}

static void opt_loglevel(struct parser *p, struct options *o, const char *v, size_t n)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++) {
        if (str_eq(v, n, names[i]) || (n == 1 && v[0] == '0' + i)) {
            o->loglevel = (enum log_level)i;
            return;
        }
    }
    warnf(p, "loglevel=%.*s: expected 0..3 or error, warn, info, debug; keeping the default",
          (int)n, v);
}

static void opt_cpus(struct parser *p, struct options *o, const char *v, size_t n)
{
    uint64_t num;
    if (!parse_uint(v, n, CMDLINE_MAX_CPUS, &num) || num == 0) {
        warnf(p, "cpus=%.*s: expected a number from 1 to %u; using all processors", (int)n, v,
              CMDLINE_MAX_CPUS);
        return;
    }
    o->cpus = (uint32_t)num;
}

/* boot=hd0..hd7|fd0|fd1|0xNN: the BIOS drive whose boot sector becomes the guest. */
static void opt_boot(struct parser *p, struct options *o, const char *v, size_t n)
{
    uint64_t num;
    if (n == 3 && v[0] == 'h' && v[1] == 'd' && v[2] >= '0' && v[2] <= '7') {
        o->boot_drive = 0x80 + (v[2] - '0');
    } else if (n == 3 && v[0] == 'f' && v[1] == 'd' && (v[2] == '0' || v[2] == '1')) {
        o->boot_drive = v[2] - '0';
    } else if (parse_uint(v, n, 0xFF, &num)) {
        o->boot_drive = (int)num;
    } else {
        warnf(p, "boot=%.*s: expected hd0..hd7, fd0, fd1 or a BIOS drive number (0x80); "
              "using the default", (int)n, v);
    }
}

/*
 * efi_next=/EFI/debian/grubx64.efi: on UEFI, the loader to start next, a file
 * on the device GRUB came from. '/' is taken for '\\' (GRUB's own parser eats
 * unquoted backslashes); printable ASCII only, as a UEFI file path node holds.
 * efi_next=bootorder: the firmware's boot manager goes on with BootOrder.
 */
static void opt_efi_next(struct parser *p, struct options *o, const char *v, size_t n)
{
    if (str_eq(v, n, "bootorder")) {
        o->efi_next_bootorder = true;
        o->efi_next[0] = 0;
        return;
    }
    if (n == 0 || n > CMDLINE_MAX_EFI_PATH || (v[0] != '/' && v[0] != '\\')) {
        warnf(p, "efi_next=%.*s%s: expected `bootorder` or a path from the root of the device "
              "(at most %u characters), like /EFI/debian/grubx64.efi; using the default",
              (int)(n > 32 ? 32 : n), v, n > 32 ? "..." : "", CMDLINE_MAX_EFI_PATH);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0x21 || v[i] > 0x7E) {
            warnf(p, "efi_next=: character %zu is not printable ASCII; using the default", i + 1);
            return;
        }
    }
    for (size_t i = 0; i < n; i++)
        o->efi_next[i] = v[i];
    o->efi_next[n] = 0;
    o->efi_next_bootorder = false;
}

static void opt_test_fault(struct parser *p, struct options *o, const char *v, size_t n)
{
    if (str_eq(v, n, "ud")) o->test_fault = TEST_FAULT_UD;
    else if (str_eq(v, n, "gp")) o->test_fault = TEST_FAULT_GP;
    else if (str_eq(v, n, "pf")) o->test_fault = TEST_FAULT_PF;
    else if (str_eq(v, n, "de")) o->test_fault = TEST_FAULT_DE;
    else warnf(p, "test_fault=%.*s: expected ud, gp, pf or de; ignored", (int)n, v);
}

static void opt_test_extra_apic(struct parser *p, struct options *o, const char *v, size_t n)
{
    uint64_t num;
    if (!parse_uint(v, n, 0xFFFFFFFE, &num) || num > 0x7FFFFFFF)
        warnf(p, "test_extra_apic=%.*s: expected an APIC ID; ignored", (int)n, v);
    else
        o->test_extra_apic = (int)num;
}

static void opt_test_fail_cpu(struct parser *p, struct options *o, const char *v, size_t n)
{
    uint64_t num;
    if (!parse_uint(v, n, CMDLINE_MAX_CPUS - 1, &num))
        warnf(p, "test_fail_cpu=%.*s: expected a CPU index from 0 to %u; ignored", (int)n, v,
              CMDLINE_MAX_CPUS - 1);
    else
        o->test_fail_cpu = (int)num;
}

struct option_def {
    const char *key;
    bool takes_value;
    void (*apply)(struct parser *, struct options *, const char *, size_t);
    size_t flag_offset;     /* for flags: offset of the bool in struct options */
};

static const struct option_def option_defs[] = {
    { "console", true, opt_console, 0 },
    { "loglevel", true, opt_loglevel, 0 },
    { "cpus", true, opt_cpus, 0 },
    { "boot", true, opt_boot, 0 },
    { "efi_next", true, opt_efi_next, 0 },
    { "test_fault", true, opt_test_fault, 0 },
    { "test_extra_apic", true, opt_test_extra_apic, 0 },
    { "test_fail_cpu", true, opt_test_fail_cpu, 0 },
    { "x2apic", false, NULL, offsetof(struct options, x2apic) },
    { "emulate_sipi", false, NULL, offsetof(struct options, emulate_sipi) },
    { "strict", false, NULL, offsetof(struct options, strict) },
    { "test_exit", false, NULL, offsetof(struct options, test_exit) },
    { "test_region_below_1m", false, NULL, offsetof(struct options, test_region_below_1m) },
    { "test_no_efi_system_table", false, NULL,
      offsetof(struct options, test_no_efi_system_table) },
};

#define NOPTIONS (sizeof option_defs / sizeof option_defs[0])

static void apply_word(struct parser *p, struct options *o, const char *w, size_t n,
                       unsigned *seen)
{
    size_t klen = 0;
    while (klen < n && w[klen] != '=')
        klen++;
    bool has_value = klen < n;
    for (unsigned i = 0; i < NOPTIONS; i++) {
        const struct option_def *d = &option_defs[i];
        if (!str_eq(w, klen, d->key))
            continue;
        if (*seen & (1u << i))
            warnf(p, "%s given more than once; the last one counts", d->key);
        *seen |= 1u << i;
        if (d->takes_value) {
            if (!has_value)
                warnf(p, "%s needs a value (%s=...); using the default", d->key, d->key);
            else
                d->apply(p, o, w + klen + 1, n - klen - 1);
        } else if (has_value) {
            warnf(p, "%s is a flag and takes no value; ignored '%.*s'", d->key, (int)n, w);
        } else {
            *(bool *)((char *)o + d->flag_offset) = true;
        }
        return;
    }
    warnf(p, "unknown option '%.*s' ignored", (int)(n > 64 ? 64 : n), w);
}

int cmdline_parse(const char *cmdline, struct options *opt, cmdline_warn_fn warn, void *ctx)
{
    struct parser p = { warn, ctx, 0 };
    unsigned seen = 0;
    if (!cmdline)
        return 0;
    size_t len = 0;
    while (cmdline[len] && len < CMDLINE_MAX_LEN)
        len++;
    if (cmdline[len])
        warnf(&p, "command line longer than %u characters; the rest is ignored",
              CMDLINE_MAX_LEN);

    bool first = true;
    size_t i = 0;
    while (i < len) {
        while (i < len && is_space(cmdline[i]))
            i++;
        size_t start = i;
        while (i < len && !is_space(cmdline[i]))
            i++;
        size_t n = i - start;
        if (n == 0)
            break;
        const char *w = cmdline + start;
        /* Some loaders put the image path first; it is not an option. */
        bool is_path = first && (w[0] == '/' || w[0] == '(');
        first = false;
        if (!is_path)
            apply_word(&p, opt, w, n, &seen);
    }
    return p.warnings;
}
