/* kafka_browse.h — a page of messages of a topic on Kafka, for GET
 * /api/v1/topics/{topic}/messages when the file maps its topics onto Kafka
 * and the embedded log has no topic of that name: the same parameters and
 * the same answer as an embedded browse (topic_browse.h).
 *
 * A consumer that only assigns partitions (no group membership, nothing
 * committed) reads each chosen partition from its starting point (the
 * offset, the first offset at or past the time by rd_kafka_offsets_for_times,
 * or the low watermark) up to the high watermark seen when the page began,
 * limit records or the byte budget; the pages are then merged as embedded
 * ones are. Bounded by SL_KAFKA_ADMIN_TIMEOUT_MS: brokers that do not
 * deliver in time are SL_ETIMEOUT naming them.
 */
#ifndef SL_KAFKA_BROWSE_H
#define SL_KAFKA_BROWSE_H

#include "core/buffer.h"
#include "core/error.h"
#include "server/topics/kafka_admin.h"
#include "server/topics/topic_browse.h"

/* SL_ENOTFOUND when Kafka has no such topic, SL_EINVAL (message naming the
 * partitions) for a partition it does not have, SL_ETOOBIG for a merged
 * browse of too many partitions. */
int sl_kafka_browse(sl_kafka_admin *kafka, const char *topic, const sl_browse_request *request, sl_buffer *out,
                    sl_error *err);

#endif
