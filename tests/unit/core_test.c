/* core_test.c — the core building blocks: arena, values, batches, buffer,
 * error codes, ISO-8601 timestamps and base64 (run plain and under
 * ASan+UBSan, so out-of-bounds use and leaks fail too). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/base64.h"
#include "core/batch.h"
#include "core/buffer.h"
#include "core/decimal.h"
#include "core/error.h"
#include "core/timefmt.h"
#include "core/utf8.h"
#include "core/value.h"
#include "test_util.h"

TestSuite(core);

/* ---- arena ---- */

Test(core, arena_allocations_are_aligned_distinct_and_counted)
{
    sl_arena *arena = sl_arena_new(0);
    cr_assert_not_null(arena);
    char *a = sl_arena_alloc(arena, 3);
    char *b = sl_arena_alloc(arena, 13);
    char *c = sl_arena_alloc(arena, 8);
    cr_assert(a && b && c);
    cr_assert_eq((uintptr_t)a % 8, 0);
    cr_assert_eq((uintptr_t)b % 8, 0);
    cr_assert_eq((uintptr_t)c % 8, 0);
    cr_assert(b >= a + 3 && c >= b + 13, "allocations do not overlap");
    memset(a, 'a', 3);
    memset(b, 'b', 13);
    memset(c, 'c', 8);
    cr_assert_eq(a[2], 'a');
    cr_assert_eq(b[12], 'b');
    cr_assert_eq(sl_arena_bytes_used(arena), 8 + 16 + 8, "sizes are rounded up to 8");
    sl_arena_free(arena);
    sl_arena_free(NULL);
}

Test(core, arena_calloc_zeroes_and_strndup_terminates)
{
    sl_arena *arena = sl_arena_new(64);
    unsigned char *dirty = sl_arena_alloc(arena, 32);
    memset(dirty, 0xAB, 32);
    sl_arena_reset(arena);
    unsigned char *zeroed = sl_arena_calloc(arena, 32);
    cr_assert_eq(zeroed, dirty, "reset reuses the first block");
    for (int i = 0; i < 32; i++) cr_assert_eq(zeroed[i], 0);
    char *copy = sl_arena_strndup(arena, "hello world", 5);
    cr_assert_str_eq(copy, "hello");
    char *empty = sl_arena_strndup(arena, NULL, 0);
    cr_assert_str_eq(empty, "");
    sl_arena_free(arena);
}

Test(core, arena_grows_with_new_blocks_and_serves_large_allocations)
{
    sl_arena *arena = sl_arena_new(64);
    char *small = sl_arena_alloc(arena, 40);
    memcpy(small, "still here", 11);
    char *big = sl_arena_alloc(arena, 1 << 20);
    cr_assert_not_null(big, "a request larger than the block gets a block of its own");
    memset(big, 0x5A, 1 << 20);
    char *after = sl_arena_alloc(arena, 100);
    memset(after, 1, 100);
    cr_assert_str_eq(small, "still here", "earlier allocations survive growth");
    cr_assert_eq(big[(1 << 20) - 1], 0x5A);
    cr_assert_eq(sl_arena_bytes_used(arena), 40 + (1 << 20) + 104);
    for (int i = 0; i < 1000; i++) cr_assert_not_null(sl_arena_alloc(arena, 1000));
    sl_arena_reset(arena);
    cr_assert_eq(sl_arena_bytes_used(arena), 0);
    /* The reset leaves one block as big as all of them: the same work now
     * fits without growing, so a second reset keeps that very block. */
    char *first = sl_arena_alloc(arena, 40);
    cr_assert_not_null(sl_arena_alloc(arena, 1 << 20));
    for (int i = 0; i < 1000; i++) cr_assert_not_null(sl_arena_alloc(arena, 1000));
    sl_arena_reset(arena);
    cr_assert_eq(sl_arena_alloc(arena, 40), first, "one block serves the whole batch after a reset");
    sl_arena_free(arena);
}

Test(core, arena_realloc_grows_the_last_allocation_in_place_and_copies_others)
{
    sl_arena *arena = sl_arena_new(4096);
    char *first = sl_arena_alloc(arena, 16);
    memcpy(first, "0123456789abcdef", 16);
    char *grown = sl_arena_realloc(arena, first, 16, 64);
    cr_assert_eq(grown, first, "the last allocation grows in place");
    cr_assert_eq(sl_arena_bytes_used(arena), 64);
    char *other = sl_arena_alloc(arena, 8);
    cr_assert_not_null(other);
    char *moved = sl_arena_realloc(arena, grown, 64, 128);
    cr_assert_neq(moved, grown, "an older allocation is copied");
    cr_assert(memcmp(moved, "0123456789abcdef", 16) == 0);
    char *beyond = sl_arena_realloc(arena, moved, 128, 100000);
    cr_assert_not_null(beyond, "growing past the block moves to a new one");
    cr_assert(memcmp(beyond, "0123456789abcdef", 16) == 0);
    char *fresh = sl_arena_realloc(arena, NULL, 0, 24);
    cr_assert_not_null(fresh, "realloc of NULL allocates");
    sl_arena_free(arena);
}

/* ---- values ---- */

static sl_value sample_record(sl_arena *arena)
{
    sl_object_builder street, location, root;
    sl_object_begin(&street, arena, 0);
    cr_assert_eq(sl_object_add(&street, SL_STR_LIT("number"), sl_value_int(12)), SL_OK);
    cr_assert_eq(sl_object_add_cstr(&street, "name", "Main St"), SL_OK);
    sl_object_begin(&location, arena, 2);
    cr_assert_eq(sl_object_add(&location, SL_STR_LIT("street"), sl_object_end(&street)), SL_OK);
    cr_assert_eq(sl_object_add_cstr(&location, "city", "Lyon"), SL_OK);
    sl_value *tags = sl_arena_alloc(arena, 2 * sizeof *tags);
    tags[0] = sl_value_string(SL_STR_LIT("a"));
    tags[1] = sl_value_double(1.5);
    sl_value tag_array = { .type = SL_TYPE_ARRAY, .array = { tags, 2 } };
    sl_object_begin(&root, arena, 1);
    cr_assert_eq(sl_object_add(&root, SL_STR_LIT("location"), sl_object_end(&location)), SL_OK);
    cr_assert_eq(sl_object_add(&root, SL_STR_LIT("tags"), tag_array), SL_OK);
    cr_assert_eq(sl_object_add(&root, SL_STR_LIT("when"), sl_value_timestamp(5)), SL_OK);
    cr_assert_eq(sl_object_add(&root, SL_STR_LIT("ok"), sl_value_bool(true)), SL_OK);
    cr_assert_eq(sl_object_add(&root, SL_STR_LIT("none"), sl_value_null()), SL_OK);
    return sl_object_end(&root);
}

Test(core, str_helpers_compare_by_bytes)
{
    sl_str empty = sl_str_from(NULL);
    cr_assert_eq(empty.len, 0);
    cr_assert_not_null(empty.ptr);
    cr_assert(sl_str_eq(sl_str_from("abc"), SL_STR_LIT("abc")));
    cr_assert_not(sl_str_eq(SL_STR_LIT("abc"), SL_STR_LIT("abd")));
    cr_assert_not(sl_str_eq(SL_STR_LIT("abc"), SL_STR_LIT("ab")));
    cr_assert(sl_str_eq((sl_str){ "x", 0 }, (sl_str){ "y", 0 }), "empty strings are equal");
    cr_assert(sl_str_eq_cstr((sl_str){ "city.name", 4 }, "city"));
    cr_assert_str_eq(sl_type_name(SL_TYPE_NULL), "null");
    cr_assert_str_eq(sl_type_name(SL_TYPE_INT), "int");
    cr_assert_str_eq(sl_type_name(SL_TYPE_TIMESTAMP), "timestamp");
    cr_assert_str_eq(sl_type_name(SL_TYPE_OBJECT), "object");
    cr_assert_str_eq(sl_type_name((sl_type)99), "unknown");
}

Test(core, value_get_and_get_path_follow_nested_objects)
{
    sl_arena *arena = sl_arena_new(0);
    sl_value record = sample_record(arena);
    const sl_value *city = sl_value_get(sl_value_get(&record, SL_STR_LIT("location")),
                                        SL_STR_LIT("city"));
    cr_assert(city && sl_str_eq_cstr(city->string, "Lyon"));
    cr_assert_null(sl_value_get(&record, SL_STR_LIT("missing")));
    cr_assert_null(sl_value_get(NULL, SL_STR_LIT("x")));
    sl_value number = sl_value_int(3);
    cr_assert_null(sl_value_get(&number, SL_STR_LIT("x")), "non-objects have no members");

    sl_str keys[4];
    int n = sl_path_split(SL_STR_LIT("location.street.name"), keys, 4);
    cr_assert_eq(n, 3);
    const sl_value *name = sl_value_get_path(&record, keys, 3);
    cr_assert(name && sl_str_eq_cstr(name->string, "Main St"));
    n = sl_path_split(SL_STR_LIT("location.street.name.more"), keys, 4);
    cr_assert_null(sl_value_get_path(&record, keys, (size_t)n), "a step into a string fails");
    n = sl_path_split(SL_STR_LIT("location.nowhere"), keys, 4);
    cr_assert_null(sl_value_get_path(&record, keys, (size_t)n));
    cr_assert_eq(sl_value_get_path(&record, keys, 0), &record, "no keys is the value itself");
    sl_arena_free(arena);
}

Test(core, path_split_points_into_the_path_and_rejects_empty_parts)
{
    sl_str keys[3];
    sl_str path = SL_STR_LIT("a.bc.d");
    cr_assert_eq(sl_path_split(path, keys, 3), 3);
    cr_assert_eq(keys[1].ptr, path.ptr + 2, "keys are not copied");
    cr_assert(sl_str_eq_cstr(keys[1], "bc"));
    cr_assert(sl_str_eq_cstr(keys[2], "d"));
    cr_assert_eq(sl_path_split(SL_STR_LIT("single"), keys, 3), 1);
    cr_assert_eq(sl_path_split(SL_STR_LIT(""), keys, 3), -1);
    cr_assert_eq(sl_path_split(SL_STR_LIT("a..b"), keys, 3), -1);
    cr_assert_eq(sl_path_split(SL_STR_LIT(".a"), keys, 3), -1);
    cr_assert_eq(sl_path_split(SL_STR_LIT("a."), keys, 3), -1);
    cr_assert_eq(sl_path_split(SL_STR_LIT("a.b.c.d"), keys, 3), -1, "more parts than room");
}

Test(core, object_builder_grows_and_keeps_insertion_order)
{
    sl_arena *arena = sl_arena_new(256);
    sl_object_builder builder;
    sl_object_begin(&builder, arena, 0);
    char names[100][16];
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof names[i], "k%d", i);
        cr_assert_eq(sl_object_add(&builder, sl_str_from(names[i]), sl_value_int(i)), SL_OK);
    }
    char text[] = "copied";
    cr_assert_eq(sl_object_add_cstr(&builder, "s", text), SL_OK);
    text[0] = 'X';
    sl_value object = sl_object_end(&builder);
    cr_assert_eq(object.type, SL_TYPE_OBJECT);
    cr_assert_eq(object.object.n_members, 101);
    for (int i = 0; i < 100; i++) {
        cr_assert(sl_str_eq_cstr(object.object.members[i].key, names[i]));
        cr_assert_eq(object.object.members[i].value.integer, i);
    }
    const sl_value *s = sl_value_get(&object, SL_STR_LIT("s"));
    cr_assert(s && sl_str_eq_cstr(s->string, "copied"), "add_cstr copies the text");

    sl_object_begin(&builder, arena, 0);
    sl_value empty = sl_object_end(&builder);
    cr_assert_eq(empty.object.n_members, 0);
    sl_arena_free(arena);
}

Test(core, value_equal_is_deep_typed_and_ordered)
{
    sl_arena *arena = sl_arena_new(0);
    sl_value a = sample_record(arena), b = sample_record(arena);
    cr_assert(sl_value_equal(&a, &b));
    sl_value one = sl_value_int(1), one_double = sl_value_double(1.0);
    cr_assert_not(sl_value_equal(&one, &one_double), "int 1 is not double 1.0");
    b.object.members[1].value.array.items[1] = sl_value_double(2.5);
    cr_assert_not(sl_value_equal(&a, &b), "a difference deep inside is found");

    sl_member swapped[2] = { { SL_STR_LIT("y"), sl_value_int(2) }, { SL_STR_LIT("x"), sl_value_int(1) } };
    sl_member ordered[2] = { { SL_STR_LIT("x"), sl_value_int(1) }, { SL_STR_LIT("y"), sl_value_int(2) } };
    sl_value first = { .type = SL_TYPE_OBJECT, .object = { swapped, 2 } };
    sl_value second = { .type = SL_TYPE_OBJECT, .object = { ordered, 2 } };
    cr_assert_not(sl_value_equal(&first, &second), "members compare in order");
    sl_value bytes = { .type = SL_TYPE_BYTES, .string = SL_STR_LIT("ab") };
    sl_value string = sl_value_string(SL_STR_LIT("ab"));
    cr_assert_not(sl_value_equal(&bytes, &string));
    sl_value null_a = sl_value_null(), null_b = sl_value_null();
    cr_assert(sl_value_equal(&null_a, &null_b));
    sl_arena_free(arena);
}

Test(core, value_clone_copies_everything_into_the_target_arena)
{
    sl_arena *source = sl_arena_new(0), *target = sl_arena_new(0);
    sl_value original = sample_record(source);
    sl_value copy;
    cr_assert_eq(sl_value_clone(target, &original, &copy), SL_OK);
    cr_assert(sl_value_equal(&original, &copy));
    cr_assert_neq(copy.object.members, original.object.members);
    const sl_value *city = sl_value_get(sl_value_get(&copy, SL_STR_LIT("location")),
                                        SL_STR_LIT("city"));
    const sl_value *old_city = sl_value_get(sl_value_get(&original, SL_STR_LIT("location")),
                                            SL_STR_LIT("city"));
    cr_assert_neq(city->string.ptr, old_city->string.ptr, "strings are copied");
    sl_arena_free(source);   /* the clone must not need anything from it */
    cr_assert(sl_str_eq_cstr(city->string, "Lyon"));
    cr_assert(sl_str_eq_cstr(copy.object.members[0].key, "location"));
    sl_arena_free(target);
}

/* ---- batches ---- */

Test(core, batch_fills_to_capacity_and_resets)
{
    sl_batch *batch = sl_batch_new(3);
    cr_assert_not_null(batch);
    cr_assert_eq(batch->capacity, 3);
    cr_assert_eq(batch->partition, -1);
    cr_assert_eq(batch->end_offset, -1);
    for (int i = 0; i < 3; i++) {
        cr_assert_not(sl_batch_is_full(batch));
        sl_record *record = sl_batch_add(batch);
        cr_assert_not_null(record);
        cr_assert_eq(record->partition, -1);
        cr_assert_eq(record->offset, -1);
        cr_assert_not(record->has_value);
        record->offset = i;
        record->value = sl_value_int(i);
    }
    cr_assert(sl_batch_is_full(batch));
    cr_assert_null(sl_batch_add(batch), "a full batch refuses more");
    cr_assert_eq(batch->records[2].offset, 2);
    cr_assert_not_null(sl_arena_alloc(batch->arena, 1000));
    batch->partition = 4;
    batch->end_offset = 99;
    sl_batch_reset(batch);
    cr_assert_eq(batch->n_records, 0);
    cr_assert_eq(batch->partition, -1);
    cr_assert_eq(batch->end_offset, -1);
    cr_assert_eq(sl_arena_bytes_used(batch->arena), 0);
    sl_record *again = sl_batch_add(batch);
    cr_assert(again && again->offset == -1 && again->value.type == SL_TYPE_NULL,
              "a reused slot comes back zeroed");
    sl_batch_free(batch);
    sl_batch_free(NULL);

    sl_batch *defaulted = sl_batch_new(0);
    cr_assert_eq(defaulted->capacity, 1024);
    sl_batch_free(defaulted);
}

Test(core, record_headers_are_copied_into_the_batch_and_found_by_key)
{
    sl_batch *batch = sl_batch_new(2);
    sl_record *record = sl_batch_add(batch);
    char key[] = "error", value[] = "bad json";
    cr_assert_eq(sl_record_add_header(batch, record, sl_str_from(key), sl_str_from(value)), SL_OK);
    cr_assert_eq(sl_record_add_header(batch, record, SL_STR_LIT("stage"), SL_STR_LIT("parse")),
                 SL_OK);
    cr_assert_eq(sl_record_add_header(batch, record, SL_STR_LIT("empty"), SL_STR_LIT("")), SL_OK);
    key[0] = 'X';
    value[0] = 'X';
    cr_assert_eq(record->n_headers, 3);
    const sl_header *error = sl_record_header(record, "error");
    cr_assert(error && sl_str_eq_cstr(error->value, "bad json"), "headers are copies");
    const sl_header *stage = sl_record_header(record, "stage");
    cr_assert(stage && sl_str_eq_cstr(stage->value, "parse"));
    cr_assert_eq(sl_record_header(record, "empty")->value.len, 0);
    cr_assert_null(sl_record_header(record, "missing"));
    cr_assert_null(sl_record_header(sl_batch_add(batch), "error"));
    sl_batch_free(batch);
}

/* ---- buffer ---- */

Test(core, buffer_appends_and_formats_past_its_first_capacity)
{
    sl_buffer buffer = SL_BUFFER_INIT;
    cr_assert_eq(sl_buffer_append(&buffer, "ab", 2), SL_OK);
    cr_assert_eq(sl_buffer_append_cstr(&buffer, "cd"), SL_OK);
    cr_assert_eq(sl_buffer_append_byte(&buffer, 'e'), SL_OK);
    cr_assert_eq(sl_buffer_append(&buffer, NULL, 0), SL_OK);
    cr_assert_eq(sl_buffer_printf(&buffer, "-%d-%s-", 42, "x"), SL_OK);
    cr_assert_eq(buffer.len, 11);
    cr_assert(memcmp(buffer.data, "abcde-42-x-", 11) == 0);
    char long_text[1000];
    memset(long_text, 'z', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    cr_assert_eq(sl_buffer_printf(&buffer, "[%s]", long_text), SL_OK);
    cr_assert_eq(buffer.len, 11 + 1001);
    cr_assert_eq(buffer.data[11], '[');
    cr_assert_eq(buffer.data[buffer.len - 1], ']');
    cr_assert(buffer.capacity >= buffer.len);
    size_t capacity = buffer.capacity;
    sl_buffer_clear(&buffer);
    cr_assert_eq(buffer.len, 0);
    cr_assert_eq(buffer.capacity, capacity, "clear keeps the memory");
    cr_assert_eq(sl_buffer_reserve(&buffer, capacity * 3), SL_OK);
    cr_assert(buffer.capacity >= capacity * 3);
    sl_buffer_free(&buffer);
    cr_assert_null(buffer.data);
    cr_assert_eq(buffer.capacity, 0);
    cr_assert_eq(sl_buffer_append_cstr(&buffer, "reused"), SL_OK, "a freed buffer is reusable");
    sl_buffer_free(&buffer);
}

/* ---- errors ---- */

Test(core, error_set_records_code_and_message_and_prefix_adds_context)
{
    sl_error err;
    sl_error_clear(&err);
    cr_assert_eq(err.code, SL_OK);
    cr_assert_str_eq(err.message, "");
    cr_assert_eq(sl_error_set(&err, SL_EIO, "read %s: %d", "x.log", 5), SL_EIO);
    cr_assert_eq(err.code, SL_EIO);
    cr_assert_str_eq(err.message, "read x.log: 5");
    sl_error_prefix(&err, "pipeline %s: ", "users");
    cr_assert_str_eq(err.message, "pipeline users: read x.log: 5");
    cr_assert_eq(sl_error_set(NULL, SL_EPARSE, "ignored"), SL_EPARSE, "err may be NULL");
    sl_error_prefix(NULL, "nothing");
    sl_error_clear(NULL);

    char long_text[600];
    memset(long_text, 'm', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    sl_error_set(&err, SL_EIO, "%s", long_text);
    cr_assert_eq(strlen(err.message), sizeof err.message - 1, "long messages are truncated");
    sl_error_prefix(&err, "ctx: ");
    cr_assert_eq(strlen(err.message), sizeof err.message - 1);
    cr_assert(strncmp(err.message, "ctx: mmm", 8) == 0, "the prefix survives truncation");
}

Test(core, error_class_is_set_where_the_failure_is_understood_and_survives_prefixes)
{
    sl_error err;
    sl_error_clear(&err);
    sl_error_set(&err, SL_ESINK, "server gone");
    cr_assert(sl_error_is_transient(&err), "unclassified outage codes are transient");
    sl_error_set(&err, SL_ECONFIG, "bad setting");
    cr_assert(!sl_error_is_transient(&err), "unclassified config codes are permanent");
    cr_assert_str_eq(sl_error_class_name(&err), "permanent");

    cr_assert_eq(sl_error_set_permanent(&err, SL_EIO, "write: Broken pipe"), SL_EIO);
    cr_assert(!sl_error_is_transient(&err), "a permanent SL_EIO is not retried");
    sl_error_prefix(&err, "sink stdio: ");
    cr_assert(!sl_error_is_transient(&err), "a prefix keeps the class");

    cr_assert_eq(sl_error_set_transient(&err, SL_ECONFIG, "database is locked"), SL_ECONFIG);
    cr_assert(sl_error_is_transient(&err));
    cr_assert_str_eq(sl_error_class_name(&err), "transient");

    sl_error_set(&err, SL_EIO, "again");
    cr_assert_eq(err.error_class, SL_ERROR_UNCLASSIFIED, "a new error starts unclassified");
    cr_assert_eq(sl_error_mark(&err, SL_ERROR_PERMANENT), SL_EIO);
    cr_assert(!sl_error_is_transient(&err));
    cr_assert_eq(sl_error_mark(NULL, SL_ERROR_PERMANENT), SL_EIO, "err may be NULL");
    sl_error_clear(&err);
    cr_assert_eq(err.error_class, SL_ERROR_UNCLASSIFIED);

    cr_assert_eq(sl_error_class_of_errno(EPIPE), SL_ERROR_PERMANENT, "the reader closed the pipe");
    cr_assert_eq(sl_error_class_of_errno(EACCES), SL_ERROR_PERMANENT);
    cr_assert_eq(sl_error_class_of_errno(EROFS), SL_ERROR_PERMANENT);
    cr_assert_eq(sl_error_class_of_errno(EBADF), SL_ERROR_PERMANENT);
    cr_assert_eq(sl_error_class_of_errno(ENOENT), SL_ERROR_PERMANENT);
    cr_assert_eq(sl_error_class_of_errno(ENOSPC), SL_ERROR_TRANSIENT, "space may be freed");
    cr_assert_eq(sl_error_class_of_errno(EINTR), SL_ERROR_TRANSIENT);
    cr_assert_eq(sl_error_class_of_errno(EAGAIN), SL_ERROR_TRANSIENT);
    cr_assert_eq(sl_error_class_of_errno(ECONNREFUSED), SL_ERROR_TRANSIENT);
}

Test(core, error_names_and_messages_come_from_one_list)
{
    cr_assert_str_eq(sl_error_name(SL_OK), "SL_OK");
    cr_assert_str_eq(sl_error_name(SL_EIO), "SL_EIO");
    cr_assert_str_eq(sl_error_name(SL_EPARSE), "SL_EPARSE");
    cr_assert_str_eq(sl_error_name(SL_EUSAGE), "SL_EUSAGE");
    cr_assert_str_eq(sl_error_name(-1000), "SL_E?");
    cr_assert_str_eq(sl_error_name(1), "SL_E?");
    cr_assert_str_eq(sl_error_message(SL_EIO), "i/o error");
    cr_assert_str_eq(sl_error_message(SL_ENOMEM), "out of memory");
    cr_assert_str_eq(sl_error_message(-1000), "unknown error");
    for (int code = 0; code >= SL_EINTERRUPTED; code--) {
        cr_assert_str_neq(sl_error_name(code), "SL_E?", "code %d has a name", code);
        cr_assert_str_neq(sl_error_message(code), "unknown error", "code %d has a message", code);
    }
}

/* ---- ISO-8601 timestamps ---- */

static const char *format_iso(int64_t us)
{
    static char text[SL_TIME_ISO_MAX];
    size_t n = sl_time_format_iso(us, text);
    cr_assert_eq(n, strlen(text));
    return text;
}

static int64_t parse_iso(const char *text)
{
    int64_t us = 12345;
    int rc = sl_time_parse_iso(text, strlen(text), &us);
    cr_assert_eq(rc, SL_OK, "parsing %s", text);
    return us;
}

Test(core, time_format_writes_iso8601_utc_and_drops_a_zero_fraction)
{
    cr_assert_str_eq(format_iso(0), "1970-01-01T00:00:00Z");
    cr_assert_str_eq(format_iso(1704164645123456), "2024-01-02T03:04:05.123456Z");
    cr_assert_str_eq(format_iso(1704164645000000), "2024-01-02T03:04:05Z");
    cr_assert_str_eq(format_iso(1704164645000001), "2024-01-02T03:04:05.000001Z");
    cr_assert_str_eq(format_iso(-1), "1969-12-31T23:59:59.999999Z");
    cr_assert_str_eq(format_iso(951782400000000), "2000-02-29T00:00:00Z");
    cr_assert_str_eq(format_iso(253402300799999999), "9999-12-31T23:59:59.999999Z");
    cr_assert_str_eq(format_iso(-62135596800000000), "0001-01-01T00:00:00Z");
    cr_assert_str_eq(format_iso(253402300800000000), "+10000-01-01T00:00:00Z");
    cr_assert_str_eq(format_iso(-62167219200000001), "-0001-12-31T23:59:59.999999Z");
    cr_assert(strlen(format_iso(INT64_MIN)) < SL_TIME_ISO_MAX);
    cr_assert(strlen(format_iso(INT64_MAX)) < SL_TIME_ISO_MAX);
}

Test(core, time_parse_accepts_dates_times_fractions_and_offsets)
{
    cr_assert_eq(parse_iso("2024-01-02T03:04:05Z"), 1704164645000000);
    cr_assert_eq(parse_iso("2024-01-02t03:04:05z"), 1704164645000000);
    cr_assert_eq(parse_iso("2024-01-02 03:04:05"), 1704164645000000);
    cr_assert_eq(parse_iso("2024-01-02T03:04:05"), 1704164645000000);
    cr_assert_eq(parse_iso("2024-01-02"), 1704153600000000);
    cr_assert_eq(parse_iso("2024-01-02T03:04:05.123456Z"), 1704164645123456);
    cr_assert_eq(parse_iso("2024-01-02T03:04:05.5Z"), 1704164645500000);
    cr_assert_eq(parse_iso("2024-01-02T03:04:05.123456789Z"), 1704164645123456,
                 "digits past microseconds are truncated");
    cr_assert_eq(parse_iso("2024-01-02T04:04:05+01:00"), 1704164645000000);
    cr_assert_eq(parse_iso("2024-01-01T22:34:05.25-04:30"), 1704164645250000);
    cr_assert_eq(parse_iso("1969-12-31T23:59:59.999999Z"), -1);
    cr_assert_eq(parse_iso("2000-02-29"), 951782400000000);
    cr_assert_eq(parse_iso("0001-01-01"), -62135596800000000);
}

Test(core, time_parse_rejects_malformed_and_out_of_range_fields)
{
    static const char *const bad[] = {
        "", "2024", "2024-01", "2024-1-02", "24-01-02", "2024/01/02", "2024-00-10",
        "2024-13-01", "2024-01-00", "2024-01-32", "2023-02-29", "1900-02-29", "2024-04-31",
        "2024-01-02T", "2024-01-02T03:04", "2024-01-02T24:00:00", "2024-01-02T03:60:00",
        "2024-01-02T03:04:60", "2024-01-02X03:04:05", "2024-01-02T03:04:05.",
        "2024-01-02T03:04:05.1234567890", "2024-01-02T03:04:05+0100", "2024-01-02T03:04:05+24:00",
        "2024-01-02T03:04:05+01:60", "2024-01-02T03:04:05ZZ", "2024-01-02Z", "2024-01-02 ",
        "2024-01-02T03:04:05 ", "x2024-01-02", "2024-01-02T03:04:05.-1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 777;
        cr_assert_eq(sl_time_parse_iso(bad[i], strlen(bad[i]), &us), SL_EPARSE, "accepted '%s'",
                     bad[i]);
        cr_assert_eq(us, 777, "a failed parse leaves the output alone");
    }
    int64_t us;
    cr_assert_eq(sl_time_parse_iso("2024-01-02garbage", 10, &us), SL_OK,
                 "only len bytes are read");
    cr_assert_eq(us, 1704153600000000);
}

Test(core, time_format_and_parse_agree_with_each_other_and_with_timegm)
{
    uint64_t state = 88172645463325252u;
    for (int i = 0; i < 20000; i++) {
        /* years 0001..9999 */
        int64_t us = -62135596800000000 + (int64_t)(test_xorshift64(&state) % 315537897600000000u);
        const char *text = format_iso(us);
        cr_assert_eq(parse_iso(text), us, "%s", text);

        time_t seconds = (time_t)(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
        struct tm fields;
        cr_assert_not_null(gmtime_r(&seconds, &fields));
        char expected[64];
        snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d", fields.tm_year + 1900,
                 fields.tm_mon + 1, fields.tm_mday, fields.tm_hour, fields.tm_min, fields.tm_sec);
        cr_assert(strncmp(text, expected, 19) == 0, "%s vs gmtime %s", text, expected);
    }
}

/* ---- base64 ---- */

Test(core, base64_matches_the_rfc4648_vectors_both_ways)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const encoded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                           "Zm9vYmFy" };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        char text[16];
        size_t n = sl_base64_encode(plain[i], strlen(plain[i]), text);
        cr_assert_eq(n, sl_base64_encoded_len(strlen(plain[i])));
        cr_assert_eq(n, strlen(encoded[i]));
        cr_assert(memcmp(text, encoded[i], n) == 0, "%s", plain[i]);
        char bytes[16];
        size_t n_bytes = 99;
        cr_assert_eq(sl_base64_decode(encoded[i], n, bytes, &n_bytes), SL_OK);
        cr_assert_eq(n_bytes, strlen(plain[i]));
        cr_assert(memcmp(bytes, plain[i], n_bytes) == 0);
    }
}

Test(core, base64_round_trips_every_byte_value_and_rejects_bad_text)
{
    unsigned char bytes[256], back[256 + 3];
    for (int i = 0; i < 256; i++) bytes[i] = (unsigned char)(255 - i);
    char text[400];
    for (size_t n = 0; n <= 256; n += 37) {
        size_t len = sl_base64_encode(bytes, n, text);
        size_t n_back = 0;
        cr_assert_eq(sl_base64_decode(text, len, back, &n_back), SL_OK);
        cr_assert_eq(n_back, n);
        cr_assert(n == 0 || memcmp(back, bytes, n) == 0);
    }
    static const char *const bad[] = { "Zg=", "Zg", "Z===", "====", "Zh==", "Zm9=", "Zm9v!A==",
                                       "Zg==Zg==", "=Zg=", "Zm 9v", "Zm9v\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n_back = 0;
        cr_assert_eq(sl_base64_decode(bad[i], strlen(bad[i]), back, &n_back), SL_EPARSE,
                     "accepted '%s'", bad[i]);
    }
}

Test(core, decimal_read_takes_digits_up_to_max_and_refuses_overflow)
{
    uint64_t value = 0;
    const char *text = "9223372036854775807 rest";
    const char *at = text;
    cr_assert(sl_decimal_read(&at, INT64_MAX, &value));
    cr_assert_eq(value, (uint64_t)INT64_MAX);
    cr_assert_eq(at, text + 19);
    at = "9223372036854775808";
    cr_assert_not(sl_decimal_read(&at, INT64_MAX, &value));
    at = "18446744073709551615";
    cr_assert(sl_decimal_read(&at, UINT64_MAX, &value));
    cr_assert_eq(value, UINT64_MAX);
    at = "18446744073709551616";
    cr_assert_not(sl_decimal_read(&at, UINT64_MAX, &value));
    const char *const refused[] = { "", "-1", "+1", " 1", "x" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        at = refused[i];
        cr_assert_not(sl_decimal_read(&at, UINT64_MAX, &value), "'%s'", refused[i]);
        cr_assert_eq(at, refused[i], "nothing moved for '%s'", refused[i]);
    }
    at = "007";
    cr_assert(sl_decimal_read(&at, 10, &value));
    cr_assert_eq(value, 7);
}

/* ---- UTF-8 ---- */

Test(core, utf8_decodes_encodes_and_cuts_between_characters)
{
    const char *text = "aé€😀";   /* 1, 2, 3 and 4 bytes */
    size_t len = strlen(text), pos = 0;
    int32_t codes[4];
    for (int i = 0; i < 4; i++) codes[i] = sl_utf8_decode(text, len, &pos);
    cr_assert_eq(pos, len);
    cr_assert_eq(codes[0], 'a');
    cr_assert_eq(codes[1], 0xE9);
    cr_assert_eq(codes[2], 0x20AC);
    cr_assert_eq(codes[3], 0x1F600);
    char out[4];
    cr_assert_eq(sl_utf8_encode(0x20AC, out), 3);
    cr_assert_eq(memcmp(out, "€", 3), 0);
    for (size_t max = 0; max <= len; max++) {
        size_t cut = sl_utf8_cut(text, len, max);
        cr_assert(cut <= max);
        cr_assert(cut == 0 || cut == 1 || cut == 3 || cut == 6 || cut == 10, "cut %zu of max %zu", cut, max);
        cr_assert_eq(sl_utf8_complete_len(text, max), cut, "max %zu", max);
    }
    /* Bytes that start nothing are taken one at a time. */
    const char bad[] = "\xC3(\xE2\x82\xC0\x80\xED\xA0\x80";
    pos = 0;
    cr_assert_eq(sl_utf8_decode(bad, sizeof bad - 1, &pos), -1);
    cr_assert_eq(pos, 1);
}

Test(core, error_messages_cut_short_stay_utf8)
{
    sl_error err;
    char long_text[1200];
    memset(long_text, 0, sizeof long_text);
    for (size_t i = 0; i + 2 < sizeof long_text; i += 2) memcpy(long_text + i, "é", 2);
    for (int shift = 0; shift < 2; shift++) {
        sl_error_set(&err, SL_ESQL, "%.*s%s", shift, "x", long_text);
        size_t len = strlen(err.message);
        cr_assert_eq(sl_utf8_complete_len(err.message, len), len, "shift %d", shift);
        sl_error_prefix(&err, "%s", shift ? "y" : "");
        len = strlen(err.message);
        cr_assert_eq(sl_utf8_complete_len(err.message, len), len, "prefix, shift %d", shift);
    }
}
