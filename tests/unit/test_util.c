/* test_util.c — the unit tests' shared helpers (see test_util.h). */
#include "test_util.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/json.h"

void test_make_temp_dir(char *dir, size_t size, const char *name)
{
    int n = snprintf(dir, size, "/tmp/sluice-%s-test-XXXXXX", name);
    cr_assert(n > 0 && (size_t)n < size, "temp dir name for %s does not fit %zu bytes", name, size);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s: %s", dir, strerror(errno));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    if (remove(path) != 0) fprintf(stderr, "test_remove_tree: %s: %s\n", path, strerror(errno));
    return 0;
}

void test_remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, used = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (;;) {
        used += fread(text + used, 1, cap - used - 1, f);
        if (used < cap - 1) break;
        cap *= 2;
        text = realloc(text, cap);
        cr_assert_not_null(text);
    }
    cr_assert(!ferror(f), "cannot read %s", path);
    fclose(f);
    text[used] = '\0';
    if (len) *len = used;
    return text;
}

void test_write_file(const char *path, const char *mode, const void *bytes, size_t len)
{
    FILE *f = fopen(path, mode);
    cr_assert_not_null(f, "cannot open %s (%s): %s", path, mode, strerror(errno));
    cr_assert_eq(fwrite(bytes, 1, len, f), len, "cannot write %s: %s", path, strerror(errno));
    cr_assert_eq(fclose(f), 0, "cannot close %s: %s", path, strerror(errno));
}

void test_write_text(const char *path, const char *text)
{
    test_write_file(path, "w", text, strlen(text));
}

sl_value test_parse_json(sl_arena *arena, const char *text)
{
    sl_value value;
    sl_error err = { 0 };
    int rc = sl_json_parse(arena, text, strlen(text), &value, &err);
    cr_assert_eq(rc, SL_OK, "parsing %s: %s", text, err.message);
    return value;
}

sl_record *test_add_json(sl_batch *batch, const char *json)
{
    sl_record *record = sl_batch_add(batch);
    cr_assert_not_null(record, "the batch is full");
    record->value = test_parse_json(batch->arena, json);
    record->has_value = true;
    return record;
}

sl_record *test_add_raw(sl_batch *batch, const char *bytes, size_t len, int64_t offset)
{
    sl_record *record = sl_batch_add(batch);
    cr_assert_not_null(record, "the batch is full");
    char *copy = sl_arena_strndup(batch->arena, bytes, len);
    cr_assert_not_null(copy);
    record->raw = (sl_str){ copy, len };
    record->offset = offset;
    return record;
}

void test_collect_reject(void *context, const sl_record *record, const char *stage, const char *reason)
{
    test_rejects *r = context;
    cr_assert_lt(r->n, TEST_MAX_REJECTS, "more than %d rejects; the latest: %s", TEST_MAX_REJECTS, reason);
    snprintf(r->stage[r->n], sizeof r->stage[0], "%s", stage);
    snprintf(r->reason[r->n], sizeof r->reason[0], "%s", reason);
    size_t kept = record->raw.len < sizeof r->raw[0] ? record->raw.len : sizeof r->raw[0];
    if (kept) memcpy(r->raw[r->n], record->raw.ptr, kept);
    r->raw_last[r->n] = record->raw.len ? record->raw.ptr[record->raw.len - 1] : 0;
    r->raw_len[r->n] = record->raw.len;
    r->offset[r->n] = record->offset;
    r->n++;
}

size_t test_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    cr_assert_eq(strlen(hex) % 2, 0, "odd-length hex %s", hex);
    cr_assert_leq(n, cap, "hex %s is over %zu bytes", hex, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned byte;
        cr_assert_eq(sscanf(hex + 2 * i, "%2x", &byte), 1, "not hex at %zu of %s", 2 * i, hex);
        out[i] = (uint8_t)byte;
    }
    return n;
}

void test_hex_encode(const void *bytes, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = bytes;
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 0xf];
    }
    hex[2 * len] = '\0';
}

uint64_t test_xorshift64(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}
