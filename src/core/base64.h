/* base64.h — standard base64 (RFC 4648 §4, with '=' padding) for bytes values.
 *
 * The JSON writer prints SL_TYPE_BYTES with it; decoding is here for readers
 * that turn such strings back into bytes. Callers size the output buffers
 * with the two _len helpers; nothing is allocated here.
 */
#ifndef SL_BASE64_H
#define SL_BASE64_H

#include <stddef.h>

/* Characters sl_base64_encode writes for n input bytes (no NUL). */
static inline size_t sl_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

/* Upper bound of the bytes sl_base64_decode writes for n characters. */
static inline size_t sl_base64_decoded_max(size_t n) { return n / 4 * 3 + 3; }

/* Encodes bytes[0..n) into out (sl_base64_encoded_len(n) chars, no NUL);
 * returns the number of characters written. */
size_t sl_base64_encode(const void *bytes, size_t n, char *out);

/* Decodes text[0..len) (padded, length a multiple of 4, no whitespace) into
 * out, which has room for sl_base64_decoded_max(len) bytes; *out_len gets the
 * count. Returns 0, or SL_EPARSE on a bad character, length or padding. */
int sl_base64_decode(const char *text, size_t len, void *out, size_t *out_len);

#endif
