/* token_hash.h — API tokens kept as salted hashes, never as themselves.
 *
 * A hash's text is "<salt>$<hash>": 16 random bytes of salt and the 32
 * bytes of PBKDF2-HMAC-SHA-256(token, salt, SL_TOKEN_HASH_ITERATIONS), each
 * in lowercase hex. That text is what a config file's token_hash holds
 * (`sluice auth hash-token` makes one), what the metadata store keeps for
 * tokens made through the API, and all the server keeps in memory. Checking
 * compares in constant time (OpenSSL's CRYPTO_memcmp).
 */
#ifndef SL_TOKEN_HASH_H
#define SL_TOKEN_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SL_TOKEN_SALT_BYTES 16
#define SL_TOKEN_DIGEST_BYTES 32
#define SL_TOKEN_HASH_ITERATIONS 10000
/* The text's length with its NUL: 32 + 1 + 64 + 1. */
#define SL_TOKEN_HASH_TEXT_SIZE (2 * SL_TOKEN_SALT_BYTES + 1 + 2 * SL_TOKEN_DIGEST_BYTES + 1)

typedef struct sl_token_hash {
    uint8_t salt[SL_TOKEN_SALT_BYTES];
    uint8_t digest[SL_TOKEN_DIGEST_BYTES];
} sl_token_hash;

/* Hashes token (len bytes) with a fresh random salt; fills out (its text
 * too when text is not NULL, SL_TOKEN_HASH_TEXT_SIZE bytes). */
int sl_token_hash_make(const char *token, size_t len, sl_token_hash *out, char *text, sl_error *err);

/* Reads "<salt>$<hash>"; SL_EINVAL saying what is wrong with it. */
int sl_token_hash_parse(const char *text, sl_token_hash *out, sl_error *err);

/* Whether token (len bytes) is the one hash was made of. */
bool sl_token_hash_matches(const sl_token_hash *hash, const char *token, size_t len);

/* What a token's name may be: 1 to SL_TOKEN_NAME_MAX letters, digits,
 * '.', '_' or '-' (it shows in logs, 403 answers and URLs). */
#define SL_TOKEN_NAME_MAX 64
bool sl_token_name_is_valid(const char *name);

/* n_bytes random bytes (at most 64) as lowercase hex into out (2 * n_bytes + 1 bytes). */
int sl_token_random_hex(char *out, size_t n_bytes, sl_error *err);

#endif
