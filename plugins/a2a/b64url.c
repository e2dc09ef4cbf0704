/* plugins/a2a/b64url.c — strict unpadded base64url. */
#include "config.h"
#include "b64url.h"
#include "detail.h"

#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t ruv__b64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void ruv__b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        unsigned long v = (unsigned long)in[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
}

static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int ruv__b64url_decode(const char *in, size_t len, const char *what, unsigned char **out,
                       size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (len % 4 == 1)
        return ruv__detail_set(RUV_E_PROTOCOL, "base64url %s: impossible length %zu", what, len);
    unsigned char *buf = malloc(len / 4 * 3 + 3);
    if (buf == NULL)
        return ruv__detail_set(RUV_E_NOMEM, "base64url %s: out of memory", what);
    size_t o = 0;
    unsigned long acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int s = sextet(in[i]);
        if (s < 0) {
            free(buf);
            return ruv__detail_set(RUV_E_PROTOCOL,
                                 "base64url %s: character 0x%02x at offset %zu is outside the alphabet "
                                 "(no padding or whitespace allowed)",
                                 what, (unsigned char)in[i], i);
        }
        acc = (acc << 6 | (unsigned long)s) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1ul << bits) - 1)) != 0) {
        free(buf);
        return ruv__detail_set(RUV_E_PROTOCOL, "base64url %s: non-zero trailing bits", what);
    }
    *out = buf;
    *outlen = o;
    return RUV_OK;
}
