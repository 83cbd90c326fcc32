/* base64.c — standard base64 with padding, RFC 4648 §4 (see base64.h).
 *
 * Encoding takes three bytes at a time into four 6-bit indices; decoding
 * reverses it through a 256-entry table where -1 marks bytes outside the
 * alphabet. Padding is only accepted in the last quantum, and the unused low
 * bits before it must be zero so every byte string has one encoding.
 */
#include "core/base64.h"

#include <stdint.h>

#include "core/error.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sl_base64_encode(const void *bytes, size_t n, char *out)
{
    const unsigned char *in = bytes;
    char *start = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t group = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = base64_alphabet[group >> 18];
        *out++ = base64_alphabet[(group >> 12) & 63];
        *out++ = base64_alphabet[(group >> 6) & 63];
        *out++ = base64_alphabet[group & 63];
    }
    if (n - i == 1) {
        uint32_t group = (uint32_t)in[i] << 16;
        *out++ = base64_alphabet[group >> 18];
        *out++ = base64_alphabet[(group >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        uint32_t group = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *out++ = base64_alphabet[group >> 18];
        *out++ = base64_alphabet[(group >> 12) & 63];
        *out++ = base64_alphabet[(group >> 6) & 63];
        *out++ = '=';
    }
    return (size_t)(out - start);
}

/* The 6-bit value of c, or -1 when c is not in the alphabet. */
static int base64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int sl_base64_decode(const char *text, size_t len, void *out, size_t *out_len)
{
    const unsigned char *in = (const unsigned char *)text;
    unsigned char *dst = out;
    size_t written = 0;
    if (len % 4) return SL_EPARSE;
    for (size_t i = 0; i < len; i += 4) {
        int is_last = i + 4 == len;
        int n_pad = 0;
        if (is_last && in[i + 3] == '=') n_pad = in[i + 2] == '=' ? 2 : 1;
        int digits[4];
        for (int k = 0; k < 4 - n_pad; k++) {
            digits[k] = base64_digit(in[i + k]);
            if (digits[k] < 0) return SL_EPARSE;
        }
        for (int k = 4 - n_pad; k < 4; k++) digits[k] = 0;
        uint32_t group = (uint32_t)digits[0] << 18 | (uint32_t)digits[1] << 12 |
                         (uint32_t)digits[2] << 6 | (uint32_t)digits[3];
        if (n_pad == 2 && (group & 0xFFFF)) return SL_EPARSE;
        if (n_pad == 1 && (group & 0xFF)) return SL_EPARSE;
        dst[written++] = (unsigned char)(group >> 16);
        if (n_pad < 2) dst[written++] = (unsigned char)(group >> 8);
        if (n_pad < 1) dst[written++] = (unsigned char)group;
    }
    *out_len = written;
    return SL_OK;
}
