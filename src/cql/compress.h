/* compress.h — LZ4 compression of CQL frame bodies (native_protocol_v4.spec
 * §5): a compressed body is the 4-byte big-endian uncompressed length
 * followed by one LZ4 block, and the header's COMPRESSION flag is set.
 * Only negotiated with STARTUP's COMPRESSION "lz4"; STARTUP itself is never
 * compressed.
 */
#ifndef SL_CQL_COMPRESS_H
#define SL_CQL_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buffer.h"
#include "core/error.h"

/* Compresses the body of the frame that starts at frame_start in frame and
 * runs to frame->len, in place: rewrites the body, the header's length and
 * sets the COMPRESSION flag. A body that is empty or would not shrink is
 * left as it is, flag unset (§5: frames need not be compressed). Returns 0,
 * SL_EINVAL when no whole frame header is at frame_start, SL_ENOMEM; the
 * frame is unchanged on error. */
int sl_cql_compress_frame(sl_buffer *frame, size_t frame_start, sl_error *err);

/* The uncompressed length a compressed body announces. SL_ECORRUPT when the
 * body is shorter than 4 bytes, or announces more than 256 MiB or more than
 * its LZ4 block could expand to (about 255 times its size). */
int sl_cql_uncompressed_length(const uint8_t *body, size_t len, size_t *out, sl_error *err);

/* Decompresses a compressed body into out (capacity bytes); *out_len gets
 * the uncompressed length. SL_ETOOBIG when it would not fit in capacity,
 * SL_ECORRUPT for a bad length or LZ4 data that is corrupt or does not
 * decompress to exactly the announced length. */
int sl_cql_decompress_body(const uint8_t *body, size_t len, uint8_t *out, size_t capacity,
                           size_t *out_len, sl_error *err);

#endif
