/* utf8.h — the few UTF-8 operations the rest needs: decoding and encoding
 * one character, and cutting text short without splitting a character
 * (error messages, dead-letter headers and logs must stay valid UTF-8).
 * Bytes that start no valid character are taken one at a time, never
 * dropped and never read past the end.
 */
#ifndef SL_UTF8_H
#define SL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the character at text[*pos] (of len bytes), moving *pos past it:
 * its code point, or -1 for a byte that starts no valid character, which
 * *pos moves past alone. */
int32_t sl_utf8_decode(const char *text, size_t len, size_t *pos);

/* Writes code (0..0x10FFFF) into out (room for 4 bytes); returns the bytes written. */
size_t sl_utf8_encode(int32_t code, char *out);

/* The longest prefix of text (len bytes) of at most max bytes that does not
 * end inside a character. */
size_t sl_utf8_cut(const char *text, size_t len, size_t max);

/* Characters in text (bytes that are not continuation bytes). */
int64_t sl_utf8_count(const char *text, size_t len);

/* The byte offset of character index (from 0), or len past the end. */
size_t sl_utf8_offset(const char *text, size_t len, int64_t index);

/* len without a character cut short at its end (what a fixed-size buffer
 * leaves of a longer text). */
size_t sl_utf8_complete_len(const char *text, size_t len);

#endif
