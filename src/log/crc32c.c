/* crc32c.c — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * Two implementations with the same results: slicing-by-8 tables (eight
 * 256-entry tables let the loop fold eight input bytes per step), and on
 * x86-64 CPUs with SSE4.2 the crc32 instruction, chosen once at run time.
 * Record batches are checksummed whole on every append and read, so this is
 * on the hot path.
 */
#include "log/crc32c.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_tables[8][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static int use_hardware;

static void crc32c_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (CRC32C_POLY & (0u - (crc & 1u)));
        crc_tables[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = crc_tables[0][n];
        for (int k = 1; k < 8; k++) {
            crc = crc_tables[0][crc & 0xff] ^ (crc >> 8);
            crc_tables[k][n] = crc;
        }
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    use_hardware = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t sl_crc32c_software(uint32_t crc, const void *bytes, size_t len)
{
    pthread_once(&tables_once, crc32c_init);
    const unsigned char *p = bytes;
    crc = ~crc;
    while (len && ((uintptr_t)p & 7u)) {
        crc = crc_tables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        /* Little-endian word assembly by hand keeps this byte-order neutral. */
        uint32_t low = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                              (uint32_t)p[3] << 24);
        uint32_t high = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                        (uint32_t)p[7] << 24;
        crc = crc_tables[7][low & 0xff] ^ crc_tables[6][(low >> 8) & 0xff] ^
              crc_tables[5][(low >> 16) & 0xff] ^ crc_tables[4][low >> 24] ^
              crc_tables[3][high & 0xff] ^ crc_tables[2][(high >> 8) & 0xff] ^
              crc_tables[1][(high >> 16) & 0xff] ^ crc_tables[0][high >> 24];
        p += 8;
        len -= 8;
    }
    while (len--) crc = crc_tables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc32c_hardware(uint32_t crc, const void *bytes,
                                                                   size_t len)
{
    const unsigned char *p = bytes;
    uint64_t state = ~crc;
    while (len && ((uintptr_t)p & 7u)) {
        state = __builtin_ia32_crc32qi((uint32_t)state, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        state = __builtin_ia32_crc32di(state, word);
        p += 8;
        len -= 8;
    }
    while (len--) state = __builtin_ia32_crc32qi((uint32_t)state, *p++);
    return ~(uint32_t)state;
}
#endif

uint32_t sl_crc32c(uint32_t crc, const void *bytes, size_t len)
{
    pthread_once(&tables_once, crc32c_init);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (use_hardware) return crc32c_hardware(crc, bytes, len);
#endif
    return sl_crc32c_software(crc, bytes, len);
}

int sl_crc32c_is_hardware(void)
{
    pthread_once(&tables_once, crc32c_init);
    return use_hardware;
}
