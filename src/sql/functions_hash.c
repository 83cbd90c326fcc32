/* functions_hash.c — the SQL digest and hash functions of a string's
 * bytes: md5, sha1 and sha256 as lower-case hex text (PostgreSQL's md5()
 * gives the same text; its sha256() gives bytes, whose encode(..., 'hex')
 * is this), from OpenSSL (EVP); murmur3 (MurmurHash3 x86 32-bit, from
 * Debian's libmurmurhash) and hash64 (XXH64, from Debian's libxxhash) as
 * ints, for bucketing and sampling. None is written here.
 */
#include <murmurhash.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "sql/functions_internal.h"

static int digest(sl_sql_call *call, const char *name, const EVP_MD *md, const sl_value *arg, sl_value *out)
{
    if (arg->type != SL_TYPE_STRING) return sl__sql_type_error(call, name, "a string", arg);
    unsigned char bytes[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(arg->string.ptr, arg->string.len, bytes, &n, md, NULL))
        return sl_error_set(call->err, SL_ESQL, "%s(): OpenSSL could not compute the digest", name);
    char *text = sl_arena_alloc(call->arena, 2 * n + 1);
    if (!text) return sl__sql_out_of_memory(call, name);
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n; i++) {
        text[2 * i] = hex[bytes[i] >> 4];
        text[2 * i + 1] = hex[bytes[i] & 15];
    }
    text[2 * n] = '\0';
    *out = sl_value_string((sl_str){ text, 2 * n });
    return SL_OK;
}

int sl__sql_fn_md5(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return digest(call, "md5", EVP_md5(), &args[0], out);
}

int sl__sql_fn_sha1(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return digest(call, "sha1", EVP_sha1(), &args[0], out);
}

int sl__sql_fn_sha256(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    return digest(call, "sha256", EVP_sha256(), &args[0], out);
}

/* murmur3(s [, seed]): MurmurHash3_x86_32 of s's bytes, 0 to 4294967295. */
int sl__sql_fn_murmur3(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "murmur3", "a string", &args[0]);
    if (n_args > 1 && (args[1].type != SL_TYPE_INT || args[1].integer < 0 || args[1].integer > UINT32_MAX))
        return sl_error_set(call->err, SL_ESQL, "murmur3(): the seed must be an int from 0 to 4294967295");
    if (args[0].string.len > UINT32_MAX) return sl_error_set(call->err, SL_ESQL, "murmur3(): the string is over 4 GiB");
    uint32_t hash[1] = { 0 };
    lmmh_x86_32(args[0].string.ptr, (unsigned int)args[0].string.len, n_args > 1 ? (uint32_t)args[1].integer : 0, hash);
    *out = sl_value_int((int64_t)hash[0]);
    return SL_OK;
}

/* hash64(s): XXH64 (seed 0) of s's bytes as a signed 64-bit int. */
int sl__sql_fn_hash64(sl_sql_call *call, const sl_value *args, size_t n_args, sl_value *out)
{
    (void)n_args;
    if (args[0].type != SL_TYPE_STRING) return sl__sql_type_error(call, "hash64", "a string", &args[0]);
    uint64_t hash = XXH64(args[0].string.ptr, args[0].string.len, 0);
    int64_t as_signed;
    memcpy(&as_signed, &hash, sizeof as_signed);
    *out = sl_value_int(as_signed);
    return SL_OK;
}
