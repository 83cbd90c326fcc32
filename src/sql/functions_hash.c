/* functions_hash.c — the SQL digest functions md5, sha1 and sha256 of a
 * string's bytes, as lower-case hex text (PostgreSQL's md5() gives the
 * same text; its sha256() gives bytes, whose encode(..., 'hex') is this).
 * The digests are OpenSSL's (EVP), not written here.
 */
#include <openssl/evp.h>

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
