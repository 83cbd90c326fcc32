/* utf8.c — decoding, encoding and cutting UTF-8 (see utf8.h). */
#include "core/utf8.h"

/* Bytes of the character whose first byte is c; 0 for one that starts none. */
static size_t sequence_len(unsigned char c)
{
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return c >= 0xC2 ? 2 : 0;   /* C0, C1: overlong */
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return c <= 0xF4 ? 4 : 0;
    return 0;
}

int32_t sl_utf8_decode(const char *text, size_t len, size_t *pos)
{
    unsigned char c = (unsigned char)text[*pos];
    size_t n = sequence_len(c);
    if (n == 0 || *pos + n > len) {
        (*pos)++;
        return -1;
    }
    int32_t code = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < n; i++) {
        unsigned char next = (unsigned char)text[*pos + i];
        if ((next & 0xC0) != 0x80) {
            (*pos)++;
            return -1;
        }
        code = (code << 6) | (next & 0x3F);
    }
    static const int32_t smallest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (code < smallest[n] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
        (*pos)++;   /* overlong, past Unicode, or a surrogate */
        return -1;
    }
    *pos += n;
    return code;
}

size_t sl_utf8_encode(int32_t code, char *out)
{
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xC0 | (code >> 6));
        out[1] = (char)(0x80 | (code & 0x3F));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | (code >> 12));
        out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (code >> 18));
    out[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3F));
    out[3] = (char)(0x80 | (code & 0x3F));
    return 4;
}

size_t sl_utf8_cut(const char *text, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t pos = 0;
    while (pos < max) {
        size_t next = pos;
        sl_utf8_decode(text, len, &next);
        if (next > max) break;
        pos = next;
    }
    return pos;
}

size_t sl_utf8_complete_len(const char *text, size_t len)
{
    size_t back = 0;
    while (back < 3 && back < len && ((unsigned char)text[len - 1 - back] & 0xC0) == 0x80) back++;
    if (back == len) return len;   /* only continuation bytes: nothing to cut at */
    size_t lead = len - 1 - back;
    size_t need = sequence_len((unsigned char)text[lead]);
    return need > back + 1 ? lead : len;
}

int64_t sl_utf8_count(const char *text, size_t len)
{
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)text[i] & 0xC0) != 0x80;
    return n;
}

size_t sl_utf8_offset(const char *text, size_t len, int64_t index)
{
    int64_t n = 0;
    for (size_t pos = 0; pos < len; pos++) {
        if (((unsigned char)text[pos] & 0xC0) == 0x80) continue;
        if (n++ == index) return pos;
    }
    return len;
}
