/* crc32c.h — CRC-32C (Castagnoli), the checksum of Kafka RecordBatch v2.
 *
 * sl_crc32c(0, "123456789", 9) == 0xE3069283. Pass the previous result as
 * crc to continue a checksum over more bytes.
 */
#ifndef SL_LOG_CRC32C_H
#define SL_LOG_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Uses the SSE4.2 crc32 instruction when the CPU has it, else tables. */
uint32_t sl_crc32c(uint32_t crc, const void *bytes, size_t len);

/* The table-driven (slicing-by-8) version, always; for tests and fallback. */
uint32_t sl_crc32c_software(uint32_t crc, const void *bytes, size_t len);

/* True when sl_crc32c uses the CPU instruction. */
int sl_crc32c_is_hardware(void);

#endif
