/* murmur2.h — Kafka's murmur2 hash (the Java client's Utils.murmur2). */
#ifndef SL_LOG_MURMUR2_H
#define SL_LOG_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

/* The signed 32-bit hash Kafka's Utils.murmur2 returns for bytes[0..len). */
int32_t sl_log_murmur2(const void *bytes, size_t len);

#endif
