/* json_scan.h — byte classes and the fast string scan shared by the JSON
 * reader (json.c) and writer (json_write.c). Internal to src/core. */
#ifndef SL_JSON_SCAN_H
#define SL_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* String bytes: plain ones need nothing; the others stop a scan. */
enum { CLASS_PLAIN = 0, CLASS_QUOTE, CLASS_BACKSLASH, CLASS_CONTROL, CLASS_HIGH };

static inline int string_class(unsigned char c)
{
    if (c < 0x20) return CLASS_CONTROL;
    if (c >= 0x80) return CLASS_HIGH;
    if (c == '"') return CLASS_QUOTE;
    return c == '\\' ? CLASS_BACKSLASH : CLASS_PLAIN;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Flags the high bit of each byte of word that is a quote, a backslash, a
 * control byte or non-ASCII, using the classic "has a zero byte" and "has a
 * byte less than n" tricks. Borrows can flag bytes above a true one, never
 * below it, so the lowest flag is exact, which is all the callers use. */
static inline uint64_t word_special_bytes(uint64_t word)
{
    uint64_t quote = word ^ (ONES * '"');
    uint64_t backslash = word ^ (ONES * '\\');
    uint64_t found = ((word - ONES * 0x20) & ~word) | ((quote - ONES) & ~quote) |
                     ((backslash - ONES) & ~backslash) | word;
    return found & HIGHS;
}

/* The first byte in [p, end) whose class is not CLASS_PLAIN, or end: eight
 * bytes per step, then the flagged byte found by counting trailing zeros
 * (little-endian), or byte by byte elsewhere. */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 8) {
        uint64_t word;
        memcpy(&word, p, sizeof word);
        uint64_t special = word_special_bytes(word);
        if (special) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + __builtin_ctzll(special) / 8;
#else
            break;
/* Sets *out to mantissa * 10^exponent, correctly rounded, when both are
 * exact doubles (Clinger's fast path); false when strtod is needed.
 * Defined in json.c. */
bool sl__json_decimal_to_double(uint64_t mantissa, long exponent, double *out);

#endif
        }
        p += 8;
    }
    while (p < end && string_class(*p) == CLASS_PLAIN) p++;
    return p;
}

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0 when it is
 * invalid (bad lead byte, missing continuation, overlong form, surrogate, or
 * above U+10FFFF; RFC 3629 §4). Defined in json.c. */
size_t sl__json_utf8_length(const unsigned char *p, const unsigned char *end);

/* Sets *out to mantissa * 10^exponent, correctly rounded, when both are
 * exact doubles (Clinger's fast path); false when strtod is needed.
 * Defined in json.c. */
bool sl__json_decimal_to_double(uint64_t mantissa, long exponent, double *out);

#endif
