/* test_util.h — helpers the unit tests share: a private temporary
 * directory and its removal, reading and writing whole files, records made
 * from JSON text or raw bytes, a dead-letter collector for connector tests,
 * hex text, and a small deterministic random number generator. Each helper
 * fails the running Criterion test (cr_assert) when it cannot do its job,
 * naming what and where. Defined in test_util.c, linked into every unit test.
 */
#ifndef SL_TEST_UTIL_H
#define SL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/value.h"

/* ---- directories and files ---- */

/* Makes a fresh directory /tmp/sluice-NAME-test-XXXXXX and writes its path
 * into dir (size bytes). */
void test_make_temp_dir(char *dir, size_t size, const char *name);

/* Removes dir and everything below it (links are removed, not followed). */
void test_remove_tree(const char *dir);

/* The whole file at path, NUL-terminated, in a malloc'ed buffer the caller
 * frees; its length (without the NUL) in *len unless len is NULL. */
char *test_read_file(const char *path, size_t *len);

/* Writes len bytes to path, opened with fopen's mode ("w" replaces, "a"
 * appends). */
void test_write_file(const char *path, const char *mode, const void *bytes, size_t len);

/* Replaces the file at path with text. */
void test_write_text(const char *path, const char *text);

/* ---- records ---- */

/* text parsed as JSON into arena. */
sl_value test_parse_json(sl_arena *arena, const char *text);

/* Adds a record holding json parsed into the batch's arena (has_value). */
sl_record *test_add_json(sl_batch *batch, const char *json);

/* Adds a record of len raw bytes copied into the batch's arena, at offset. */
sl_record *test_add_raw(sl_batch *batch, const char *bytes, size_t len, int64_t offset);

/* ---- dead letters ---- */

#define TEST_MAX_REJECTS 8

/* What a connector sent to its reject handler, in order. */
typedef struct test_rejects {
    int n;
    char stage[TEST_MAX_REJECTS][16];
    char reason[TEST_MAX_REJECTS][256];
    char raw[TEST_MAX_REJECTS][2048];    /* the first bytes of the record's raw value */
    char raw_last[TEST_MAX_REJECTS];     /* and its last byte (0 when empty) */
    size_t raw_len[TEST_MAX_REJECTS];
    int64_t offset[TEST_MAX_REJECTS];
} test_rejects;

/* An sl_reject_handler function: context is a test_rejects; fails the test
 * past TEST_MAX_REJECTS. */
void test_collect_reject(void *context, const sl_record *record, const char *stage, const char *reason);

/* ---- bytes and numbers ---- */

/* Decodes the hex text into out (at most cap bytes); returns how many. */
size_t test_hex_decode(const char *hex, uint8_t *out, size_t cap);

/* Writes len bytes as lowercase hex into hex (2 * len + 1 bytes). */
void test_hex_encode(const void *bytes, size_t len, char *hex);

/* The next number of Marsaglia's xorshift64 sequence from *state (not 0). */
uint64_t test_xorshift64(uint64_t *state);

#endif
