/* token_hash.c — salted PBKDF2 hashes of API tokens (see token_hash.h),
 * through OpenSSL: PKCS5_PBKDF2_HMAC with SHA-256, RAND_bytes for salts and
 * new tokens, CRYPTO_memcmp to compare.
 *
 * The iteration count is low for a password (tokens the API makes are 32
 * random bytes, which no count protects better) and high enough that a
 * guessed short token from a file costs something; the server caches
 * checks by a keyed digest (server/auth.c), so a request pays for PBKDF2
 * only the first time a token is seen.
 */
#include "core/token_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static void to_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool from_hex(const char *text, size_t n_bytes, uint8_t *out)
{
    for (size_t i = 0; i < n_bytes; i++) {
        int high = hex_value(text[2 * i]), low = high < 0 ? -1 : hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) return false;
        out[i] = (uint8_t)(high << 4 | low);
    }
    return true;
}

static bool derive(const uint8_t *salt, const char *token, size_t len, uint8_t *digest)
{
    return PKCS5_PBKDF2_HMAC(token, (int)len, salt, SL_TOKEN_SALT_BYTES, SL_TOKEN_HASH_ITERATIONS, EVP_sha256(),
                             SL_TOKEN_DIGEST_BYTES, digest) == 1;
}

int sl_token_hash_make(const char *token, size_t len, sl_token_hash *out, char *text, sl_error *err)
{
    if (RAND_bytes(out->salt, SL_TOKEN_SALT_BYTES) != 1)
        return sl_error_set(err, SL_EIO, "hashing a token: OpenSSL has no random bytes");
    if (!derive(out->salt, token, len, out->digest))
        return sl_error_set(err, SL_EIO, "hashing a token: PBKDF2 failed");
    if (text) {
        to_hex(out->salt, SL_TOKEN_SALT_BYTES, text);
        text[2 * SL_TOKEN_SALT_BYTES] = '$';
        to_hex(out->digest, SL_TOKEN_DIGEST_BYTES, text + 2 * SL_TOKEN_SALT_BYTES + 1);
    }
    return SL_OK;
}

int sl_token_hash_parse(const char *text, sl_token_hash *out, sl_error *err)
{
    const char *dollar = strchr(text, '$');
    if (!dollar)
        return sl_error_set_permanent(err, SL_EINVAL, "not <salt>$<hash> (make one with `sluice auth hash-token`)");
    if ((size_t)(dollar - text) != 2 * SL_TOKEN_SALT_BYTES || strlen(dollar + 1) != 2 * SL_TOKEN_DIGEST_BYTES)
        return sl_error_set_permanent(err, SL_EINVAL, "expected %d hex digits of salt, '$' and %d of hash",
                                      2 * SL_TOKEN_SALT_BYTES, 2 * SL_TOKEN_DIGEST_BYTES);
    if (!from_hex(text, SL_TOKEN_SALT_BYTES, out->salt) || !from_hex(dollar + 1, SL_TOKEN_DIGEST_BYTES, out->digest))
        return sl_error_set_permanent(err, SL_EINVAL, "the salt and hash must be hex digits");
    return SL_OK;
}

bool sl_token_hash_matches(const sl_token_hash *hash, const char *token, size_t len)
{
    uint8_t digest[SL_TOKEN_DIGEST_BYTES];
    if (!derive(hash->salt, token, len, digest)) return false;
    return CRYPTO_memcmp(digest, hash->digest, SL_TOKEN_DIGEST_BYTES) == 0;
}

int sl_token_random_hex(char *out, size_t n_bytes, sl_error *err)
{
    uint8_t bytes[64];
    if (n_bytes > sizeof bytes) return sl_error_set(err, SL_EINVAL, "at most %zu random bytes", sizeof bytes);
    if (RAND_bytes(bytes, (int)n_bytes) != 1) return sl_error_set(err, SL_EIO, "OpenSSL has no random bytes");
    to_hex(bytes, n_bytes, out);
    OPENSSL_cleanse(bytes, sizeof bytes);
    return SL_OK;
}

bool sl_token_name_is_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > SL_TOKEN_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}
