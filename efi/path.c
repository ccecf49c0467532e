/* UEFI device paths: size, joining, file nodes, a text form (see efi_path.h). */
#include "efi/path.h"

#include "kernel/format.h"

static unsigned node_len(const uint8_t *n)
{
    return (unsigned)n[2] | (unsigned)n[3] << 8;
}

size_t efi_path_size(const uint8_t *dp, size_t max)
{
    size_t off = 0;
    while (off + EFI_DP_NODE_HEADER <= max) {
        unsigned len = node_len(dp + off);
        if (len < EFI_DP_NODE_HEADER || len > max - off)
            return 0;
        if (dp[off] == EFI_DP_TYPE_END && dp[off + 1] == EFI_DP_END_ENTIRE)
            return off + len;
        off += len;
    }
    return 0;
}

size_t efi_path_join(uint8_t *out, size_t cap, const uint8_t *dev, size_t devmax,
                     const uint8_t *file, size_t filemax)
{
    size_t dsize = efi_path_size(dev, devmax), fsize = efi_path_size(file, filemax);
    if (!dsize || !fsize)
        return 0;
    /* The end node may be longer than its header: find where it starts. */
    size_t dnodes = 0;
    while (!(dev[dnodes] == EFI_DP_TYPE_END && dev[dnodes + 1] == EFI_DP_END_ENTIRE))
        dnodes += node_len(dev + dnodes);
    if (dnodes + fsize > cap)
        return 0;
    for (size_t i = 0; i < dnodes; i++)
        out[i] = dev[i];
    for (size_t i = 0; i < fsize; i++)
        out[dnodes + i] = file[i];
    return dnodes + fsize;
}

size_t efi_path_file(uint8_t *out, size_t cap, const char *path)
{
    size_t n = 0;
    while (path[n])
        n++;
    if (n == 0 || n > EFI_PATH_MAX_CHARS)
        return 0;
    size_t chars = n + (path[0] != '/' && path[0] != '\\');
    size_t node = EFI_DP_NODE_HEADER + 2 * (chars + 1);
    if (node + EFI_DP_NODE_HEADER > cap)
        return 0;
    out[0] = EFI_DP_TYPE_MEDIA;
    out[1] = EFI_DP_MEDIA_FILE_PATH;
    out[2] = (uint8_t)node;
    out[3] = (uint8_t)(node >> 8);
    uint8_t *c = out + EFI_DP_NODE_HEADER;
    if (chars > n) {
        *c++ = '\\';
        *c++ = 0;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = path[i];
        if (ch < 0x21 || ch > 0x7E)
            return 0;
        *c++ = (uint8_t)(ch == '/' ? '\\' : ch);
        *c++ = 0;
    }
    *c++ = 0;
    *c++ = 0;
    c[0] = EFI_DP_TYPE_END;
    c[1] = EFI_DP_END_ENTIRE;
    c[2] = EFI_DP_NODE_HEADER;
    c[3] = 0;
    return node + EFI_DP_NODE_HEADER;
}

void efi_path_describe(const uint8_t *dp, size_t max, char *buf, size_t len)
{
    size_t size = efi_path_size(dp, max), used = 0;
    buf[0] = 0;
    if (!size) {
        fmt_snprintf(buf, len, "(malformed)");
        return;
    }
    for (size_t off = 0; off < size && used + 1 < len;) {
        const uint8_t *n = dp + off;
        unsigned nlen = node_len(n);
        if (n[0] == EFI_DP_TYPE_END) {
            if (n[1] == EFI_DP_END_ENTIRE)
                break;
        } else if (n[0] == EFI_DP_TYPE_MEDIA && n[1] == EFI_DP_MEDIA_FILE_PATH) {
            for (unsigned i = EFI_DP_NODE_HEADER; i + 1 < nlen && used + 1 < len; i += 2) {
                unsigned ch = n[i] | (unsigned)n[i + 1] << 8;
                if (!ch)
                    break;
                buf[used++] = ch >= 0x20 && ch < 0x7F ? (char)ch : '?';
            }
            buf[used] = 0;
        } else {
            used += (size_t)fmt_snprintf(buf + used, len - used, "(%u,%u)", n[0], n[1]);
            if (used >= len)
                used = len - 1;
        }
        off += nlen;
    }
    buf[used] = 0;
}
