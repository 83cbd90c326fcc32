/* compression.h — the compression codecs of Kafka record batches: the
 * records section of a batch (everything after the 61-byte header) is
 * compressed whole, and attributes bits 0-2 name the codec with Kafka's
 * numbers. Each codec writes exactly what Kafka's Java client writes:
 *   gzip    a gzip stream (zlib; GZIPOutputStream)
 *   snappy  Xerial-framed snappy (SnappyOutputStream: magic, version 1,
 *           compatible 1, then 32 KiB chunks as length-prefixed raw blocks)
 *   lz4     an LZ4 frame with independent 64 KiB blocks, no checksums
 *           (KafkaLZ4BlockOutputStream)
 *   zstd    one zstd frame (ZstdOutputStream)
 * Decompression takes any valid input of the codec (what librdkafka and
 * other clients write too, e.g. raw unframed snappy) and never produces more
 * than a caller's limit, so a hostile batch cannot expand without bound.
 */
#ifndef SL_LOG_COMPRESSION_H
#define SL_LOG_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

#include "core/buffer.h"

/* Kafka's codec numbers (RecordBatch attributes & 0x07). */
typedef enum sl_codec {
    SL_CODEC_NONE = 0,
    SL_CODEC_GZIP = 1,
    SL_CODEC_SNAPPY = 2,
    SL_CODEC_LZ4 = 3,
    SL_CODEC_ZSTD = 4,
} sl_codec;

#define SL_CODEC_MAX SL_CODEC_ZSTD
#define SL_CODEC_ATTRIBUTE_MASK 0x07

/* The codec names, in the order settings list them, NULL-ended: the
 * `choices` of every `compression` setting of embedded topics. */
extern const char *const sl_codec_names[];

/* The name of a codec ("none", "gzip", ...); "unknown" past SL_CODEC_MAX. */
const char *sl_codec_name(int codec);

/* Parses a name of sl_codec_names; SL_EINVAL when it is none of them. */
int sl_codec_parse(const char *name, sl_codec *codec);

/* Appends in[0..len) compressed with codec to out. SL_ENOMEM, or SL_EIO
 * when the library fails (with *why). */
int sl_codec_compress(sl_codec codec, const uint8_t *in, size_t len, sl_buffer *out, const char **why);

/* Appends the decompression of in[0..len) to out, at most max_out bytes.
 * SL_ECORRUPT with *why when the input is not valid for the codec, is
 * truncated, or would expand past max_out; SL_ENOMEM. On an error out is
 * left as it was (its capacity may have grown by at most max_out + 1). */
int sl_codec_decompress(sl_codec codec, const uint8_t *in, size_t len, size_t max_out, sl_buffer *out,
                        const char **why);

#endif
