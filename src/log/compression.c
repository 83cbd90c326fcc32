/* compression.c — gzip, snappy, lz4 and zstd for Kafka record batches (see
 * compression.h for what each writes and why).
 *
 * References: Kafka's clients (GZIPOutputStream, SnappyOutputStream from
 * snappy-java, KafkaLZ4BlockOutputStream, zstd-jni's ZstdOutputStream);
 * the LZ4 frame format; snappy-java's SnappyCodec header ("\x82SNAPPY\0",
 * version, compatible version, big-endian int32s).
 *
 * Every decompressor writes into `out` in steps and checks the running
 * total against max_out before growing, so the bound holds however the
 * input claims to expand.
 */
#include "log/compression.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "core/error.h"

#define XERIAL_HEADER_SIZE 16
#define XERIAL_BLOCK_SIZE (32 * 1024)
#define DECOMPRESS_STEP (64 * 1024)

static const uint8_t xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

const char *const sl_codec_names[] = { "none", "lz4", "zstd", "gzip", "snappy", NULL };

const char *sl_codec_name(int codec)
{
    switch (codec) {
    case SL_CODEC_NONE: return "none";
    case SL_CODEC_GZIP: return "gzip";
    case SL_CODEC_SNAPPY: return "snappy";
    case SL_CODEC_LZ4: return "lz4";
    case SL_CODEC_ZSTD: return "zstd";
    default: return "unknown";
    }
}

int sl_codec_parse(const char *name, sl_codec *codec)
{
    for (int c = 0; c <= SL_CODEC_MAX; c++) {
        if (name && strcmp(name, sl_codec_name(c)) == 0) {
            *codec = (sl_codec)c;
            return SL_OK;
        }
    }
    return SL_EINVAL;
}

static void put_be32(uint8_t *out, uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

/* ---- compression ---- */

static int gzip_compress(const uint8_t *in, size_t len, sl_buffer *out, const char **why)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        *why = "zlib deflateInit2 failed";
        return SL_EIO;
    }
    size_t bound = deflateBound(&z, (uLong)len);
    int rc = sl_buffer_reserve(out, bound);
    if (rc == SL_OK) {
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = (uInt)len;
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)bound;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
            *why = "zlib deflate did not finish";
            rc = SL_EIO;
        } else {
            out->len += bound - z.avail_out;
        }
    }
    deflateEnd(&z);
    return rc;
}

static int snappy_xerial_compress(const uint8_t *in, size_t len, sl_buffer *out, const char **why)
{
    size_t n_blocks = len / XERIAL_BLOCK_SIZE + 1;
    size_t bound = XERIAL_HEADER_SIZE + n_blocks * (4 + snappy_max_compressed_length(XERIAL_BLOCK_SIZE));
    int rc = sl_buffer_reserve(out, bound);
    if (rc) return rc;
    uint8_t *p = (uint8_t *)out->data + out->len;
    memcpy(p, xerial_magic, sizeof xerial_magic);
    put_be32(p + 8, 1);  /* version */
    put_be32(p + 12, 1); /* compatible version */
    p += XERIAL_HEADER_SIZE;
    for (size_t at = 0; at < len; at += XERIAL_BLOCK_SIZE) {
        size_t chunk = len - at < XERIAL_BLOCK_SIZE ? len - at : XERIAL_BLOCK_SIZE;
        size_t written = snappy_max_compressed_length(chunk);
        if (snappy_compress((const char *)in + at, chunk, (char *)p + 4, &written) != SNAPPY_OK) {
            *why = "snappy_compress failed";
            return SL_EIO;
        }
        put_be32(p, (uint32_t)written);
        p += 4 + written;
    }
    out->len = (size_t)((char *)p - out->data);
    return SL_OK;
}

static int lz4_compress(const uint8_t *in, size_t len, sl_buffer *out, const char **why)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent; /* Kafka's reader decodes blocks alone */
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    int rc = sl_buffer_reserve(out, bound);
    if (rc) return rc;
    size_t written = LZ4F_compressFrame(out->data + out->len, bound, in, len, &prefs);
    if (LZ4F_isError(written)) {
        *why = LZ4F_getErrorName(written);
        return SL_EIO;
    }
    out->len += written;
    return SL_OK;
}

static int zstd_compress(const uint8_t *in, size_t len, sl_buffer *out, const char **why)
{
    size_t bound = ZSTD_compressBound(len);
    int rc = sl_buffer_reserve(out, bound);
    if (rc) return rc;
    size_t written = ZSTD_compress(out->data + out->len, bound, in, len, 3);
    if (ZSTD_isError(written)) {
        *why = ZSTD_getErrorName(written);
        return SL_EIO;
    }
    out->len += written;
    return SL_OK;
}

int sl_codec_compress(sl_codec codec, const uint8_t *in, size_t len, sl_buffer *out, const char **why)
{
    switch (codec) {
    case SL_CODEC_NONE: return sl_buffer_append(out, in, len);
    case SL_CODEC_GZIP: return gzip_compress(in, len, out, why);
    case SL_CODEC_SNAPPY: return snappy_xerial_compress(in, len, out, why);
    case SL_CODEC_LZ4: return lz4_compress(in, len, out, why);
    case SL_CODEC_ZSTD: return zstd_compress(in, len, out, why);
    }
    *why = "unknown compression codec";
    return SL_EINVAL;
}

/* ---- decompression (bounded) ---- */

/* Room for the next step of output. It reaches one byte past max_out, so
 * that output over the limit shows up as that byte (checked here before the
 * next step and by sl_codec_decompress at the end) rather than as a full
 * buffer that cannot tell "exactly max_out" from "more". */
static int reserve_step(sl_buffer *out, size_t start, size_t max_out, size_t *room, const char **why)
{
    size_t produced = out->len - start;
    if (produced > max_out) {
        *why = "decompressed records exceed the size limit";
        return SL_ECORRUPT;
    }
    size_t left = max_out - produced + 1;
    size_t step = left < DECOMPRESS_STEP ? left : DECOMPRESS_STEP;
    int rc = sl_buffer_reserve(out, step);
    if (rc) return rc;
    *room = step;
    return SL_OK;
}

static int gzip_decompress(const uint8_t *in, size_t len, size_t max_out, sl_buffer *out, const char **why)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) { /* gzip or zlib header */
        *why = "zlib inflateInit2 failed";
        return SL_ENOMEM;
    }
    size_t start = out->len;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    int rc = SL_OK;
    for (;;) {
        size_t room;
        rc = reserve_step(out, start, max_out, &room, why);
        if (rc) break;
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)room;
        int status = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        if (status == Z_STREAM_END) {
            /* Java's GZIPInputStream reads concatenated members too. */
            if (z.avail_in == 0) break;
            if (inflateReset(&z) != Z_OK) {
                *why = "zlib inflateReset failed";
                rc = SL_ECORRUPT;
                break;
            }
            continue;
        }
        if (status == Z_BUF_ERROR || (status == Z_OK && z.avail_in == 0 && z.avail_out != 0)) {
            *why = "truncated gzip stream";
            rc = SL_ECORRUPT;
            break;
        }
        if (status != Z_OK) {
            *why = z.msg ? z.msg : "invalid gzip data";
            rc = SL_ECORRUPT;
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

/* One raw snappy block, appended to out within max_out. */
static int snappy_raw_decompress(const uint8_t *in, size_t len, size_t start, size_t max_out, sl_buffer *out,
                                 const char **why)
{
    size_t size = 0;
    if (snappy_uncompressed_length((const char *)in, len, &size) != SNAPPY_OK) {
        *why = "invalid snappy block";
        return SL_ECORRUPT;
    }
    if (size > max_out - (out->len - start)) {
        *why = "decompressed records exceed the size limit";
        return SL_ECORRUPT;
    }
    int rc = sl_buffer_reserve(out, size);
    if (rc) return rc;
    size_t got = size;
    if (snappy_uncompress((const char *)in, len, out->data + out->len, &got) != SNAPPY_OK || got != size) {
        *why = "invalid snappy block";
        return SL_ECORRUPT;
    }
    out->len += got;
    return SL_OK;
}

static int snappy_decompress(const uint8_t *in, size_t len, size_t max_out, sl_buffer *out, const char **why)
{
    size_t start = out->len;
    /* snappy-java's SnappyInputStream reads unframed snappy too. */
    if (len < XERIAL_HEADER_SIZE || memcmp(in, xerial_magic, sizeof xerial_magic) != 0)
        return snappy_raw_decompress(in, len, start, max_out, out, why);
    for (size_t at = XERIAL_HEADER_SIZE; at < len;) {
        if (len - at < 4) {
            *why = "truncated snappy block length";
            return SL_ECORRUPT;
        }
        size_t block = get_be32(in + at);
        at += 4;
        if (block > len - at) {
            *why = "snappy block runs past the batch";
            return SL_ECORRUPT;
        }
        int rc = snappy_raw_decompress(in + at, block, start, max_out, out, why);
        if (rc) return rc;
        at += block;
    }
    return SL_OK;
}

static int lz4_decompress(const uint8_t *in, size_t len, size_t max_out, sl_buffer *out, const char **why)
{
    LZ4F_dctx *context = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
        *why = "out of memory for an lz4 context";
        return SL_ENOMEM;
    }
    size_t start = out->len, at = 0;
    int rc = SL_OK;
    for (;;) {
        size_t room;
        rc = reserve_step(out, start, max_out, &room, why);
        if (rc) break;
        size_t consumed = len - at, produced = room;
        size_t hint = LZ4F_decompress(context, out->data + out->len, &produced, in + at, &consumed, NULL);
        if (LZ4F_isError(hint)) {
            *why = LZ4F_getErrorName(hint);
            rc = SL_ECORRUPT;
            break;
        }
        at += consumed;
        out->len += produced;
        if (hint == 0) {
            if (at == len) break; /* frame complete, input used up */
            continue;             /* another frame follows */
        }
        if (at == len && produced == 0) {
            *why = "truncated lz4 frame";
            rc = SL_ECORRUPT;
            break;
        }
    }
    LZ4F_freeDecompressionContext(context);
    return rc;
}

static int zstd_decompress(const uint8_t *in, size_t len, size_t max_out, sl_buffer *out, const char **why)
{
    ZSTD_DStream *stream = ZSTD_createDStream();
    if (!stream) {
        *why = "out of memory for a zstd stream";
        return SL_ENOMEM;
    }
    ZSTD_inBuffer input = { in, len, 0 };
    size_t start = out->len;
    int rc = SL_OK;
    size_t hint = ZSTD_initDStream(stream);
    if (ZSTD_isError(hint)) {
        ZSTD_freeDStream(stream);
        *why = ZSTD_getErrorName(hint);
        return SL_ENOMEM;
    }
    for (;;) {
        size_t room;
        rc = reserve_step(out, start, max_out, &room, why);
        if (rc) break;
        ZSTD_outBuffer output = { out->data + out->len, room, 0 };
        hint = ZSTD_decompressStream(stream, &output, &input);
        if (ZSTD_isError(hint)) {
            *why = ZSTD_getErrorName(hint);
            rc = SL_ECORRUPT;
            break;
        }
        out->len += output.pos;
        if (hint == 0 && input.pos == input.size) break; /* last frame complete */
        /* Output not full means zstd flushed all it could: a frame is cut short. */
        if (input.pos == input.size && output.pos < room) {
            *why = "truncated zstd frame";
            rc = SL_ECORRUPT;
            break;
        }
    }
    ZSTD_freeDStream(stream);
    return rc;
}

static int decompress_any(sl_codec codec, const uint8_t *in, size_t len, size_t max_out, sl_buffer *out,
                          const char **why)
{
    switch (codec) {
    case SL_CODEC_NONE:
        if (len > max_out) {
            *why = "records exceed the size limit";
            return SL_ECORRUPT;
        }
        return sl_buffer_append(out, in, len);
    case SL_CODEC_GZIP: return gzip_decompress(in, len, max_out, out, why);
    case SL_CODEC_SNAPPY: return snappy_decompress(in, len, max_out, out, why);
    case SL_CODEC_LZ4: return lz4_decompress(in, len, max_out, out, why);
    case SL_CODEC_ZSTD: return zstd_decompress(in, len, max_out, out, why);
    }
    *why = "unknown compression codec";
    return SL_ECORRUPT;
}

int sl_codec_decompress(sl_codec codec, const uint8_t *in, size_t len, size_t max_out, sl_buffer *out,
                        const char **why)
{
    size_t start = out->len;
    int rc = decompress_any(codec, in, len, max_out, out, why);
    if (rc == SL_OK && out->len - start > max_out) {
        *why = "decompressed records exceed the size limit";
        rc = SL_ECORRUPT;
    }
    if (rc) out->len = start; /* nothing half-decoded is left behind */
    return rc;
}
