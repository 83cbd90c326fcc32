/* compress.c — LZ4 frame body compression for the CQL protocol (v4 spec §5;
 * see compress.h), using liblz4's block API.
 *
 * Compression works inside the caller's buffer: the LZ4 block is written
 * past the end of the frame (room reserved up front, so nothing overlaps)
 * and then moved down behind the 4-byte length prefix. Decompression trusts
 * nothing: the announced length is bounded by the 256 MiB frame limit and by
 * the caller's capacity, and LZ4_decompress_safe must produce exactly it.
 */
#include "cql/compress.h"

#include <limits.h>
#include <string.h>

#include <lz4.h>

#include "cql/frame.h"

int sl_cql_compress_frame(sl_buffer *frame, size_t frame_start, sl_error *err)
{
    if (frame_start > frame->len || frame->len - frame_start < SL_CQL_HEADER_SIZE)
        return sl_error_set(err, SL_EINVAL, "CQL compression: no whole frame header at byte %zu of %zu",
                            frame_start, frame->len);
    size_t body_start = frame_start + SL_CQL_HEADER_SIZE;
    size_t body_len = frame->len - body_start;
    if (body_len == 0) return SL_OK;
    if (body_len > SL_CQL_MAX_BODY)
        return sl_error_set(err, SL_EINVAL, "CQL compression: body of %zu bytes exceeds the 256 MiB frame limit",
                            body_len);
    int bound = LZ4_compressBound((int)body_len);
    if (bound <= 0)
        return sl_error_set(err, SL_EINVAL, "CQL compression: LZ4 cannot take a body of %zu bytes", body_len);
    if (sl_buffer_reserve(frame, (size_t)bound))
        return sl_error_set(err, SL_ENOMEM, "out of memory compressing a CQL frame of %zu bytes", body_len);

    char *body = frame->data + body_start;
    char *scratch = frame->data + frame->len;
    int compressed = LZ4_compress_default(body, scratch, (int)body_len, bound);
    if (compressed <= 0)
        return sl_error_set(err, SL_EINVAL, "CQL compression: LZ4 failed on a body of %zu bytes", body_len);
    size_t new_len = 4 + (size_t)compressed;
    if (new_len >= body_len) return SL_OK; /* would not shrink: send as is */

    uint32_t n = (uint32_t)body_len;
    body[0] = (char)(n >> 24);
    body[1] = (char)(n >> 16);
    body[2] = (char)(n >> 8);
    body[3] = (char)n;
    memmove(body + 4, scratch, (size_t)compressed);
    frame->len = body_start + new_len;

    uint8_t *header = (uint8_t *)frame->data + frame_start;
    header[1] |= SL_CQL_FLAG_COMPRESSION;
    uint32_t length = (uint32_t)new_len;
    header[5] = (uint8_t)(length >> 24);
    header[6] = (uint8_t)(length >> 16);
    header[7] = (uint8_t)(length >> 8);
    header[8] = (uint8_t)length;
    return SL_OK;
}

int sl_cql_uncompressed_length(const uint8_t *body, size_t len, size_t *out, sl_error *err)
{
    if (len < 4)
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL compressed body of %zu bytes is too short for its 4-byte length", len);
    uint32_t n = ((uint32_t)body[0] << 24) | ((uint32_t)body[1] << 16) | ((uint32_t)body[2] << 8) |
                 (uint32_t)body[3];
    if (n > SL_CQL_MAX_BODY)
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL compressed body announces %u uncompressed bytes, over the 256 MiB frame limit",
                            n);
    /* An LZ4 block expands at most about 255 times (a match of length L
     * costs L / 255 bytes), so a larger claim is corrupt: refusing it here
     * keeps a tiny frame from making the caller allocate 256 MiB. */
    if ((uint64_t)n > (uint64_t)(len - 4) * 255 + 64)
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL compressed body announces %u uncompressed bytes, more than an LZ4 "
                            "block of %zu bytes can hold",
                            n, len - 4);
    *out = n;
    return SL_OK;
}

int sl_cql_decompress_body(const uint8_t *body, size_t len, uint8_t *out, size_t capacity,
                           size_t *out_len, sl_error *err)
{
    size_t want = 0;
    int rc = sl_cql_uncompressed_length(body, len, &want, err);
    if (rc) return rc;
    if (want > capacity)
        return sl_error_set(err, SL_ETOOBIG,
                            "CQL compressed body announces %zu bytes, more than the %zu bytes of room",
                            want, capacity);
    if (len - 4 > INT_MAX)
        return sl_error_set(err, SL_ECORRUPT, "CQL compressed body of %zu bytes is too large", len);
    char empty;
    char *dst = want ? (char *)out : &empty;
    int got = LZ4_decompress_safe((const char *)body + 4, dst, (int)(len - 4), (int)want);
    if (got < 0 || (size_t)got != want)
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL compressed body is corrupt: LZ4 block of %zu bytes %s (announced %zu bytes)",
                            len - 4, got < 0 ? "failed to decompress" : "decompressed to a different length",
                            want);
    *out_len = want;
    return SL_OK;
}
