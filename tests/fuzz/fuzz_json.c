/* fuzz_json.c — libFuzzer target for the JSON reader (core/json.c).
 *
 * Any bytes go to sl_json_parse. A value that parses is written back with
 * sl_json_write, which must parse again and write the very same text (the
 * writer's output is a fixed point); the same input is also parsed with a
 * projection keeping two keys, which must agree with the full parse on
 * whether the text is JSON at all.
 */
#include "fuzz_util.h"

#include "core/arena.h"
#include "core/buffer.h"
#include "core/json.h"

static const sl_str kept_keys[] = { { "a", 1 }, { "id", 2 } };
static const sl_json_projection *const kept_whole[] = { NULL, NULL };
static const sl_json_projection projection = { 2, kept_keys, kept_whole };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sl_arena *arena = sl_arena_new(0);
    sl_buffer first = { 0 }, second = { 0 };
    sl_value value, again, projected;
    sl_error err;
    fuzz_check(arena != NULL, "out of memory");
    int rc = sl_json_parse(arena, (const char *)data, size, &value, &err);
    int projected_rc = sl_json_parse_projected(arena, (const char *)data, size, &projection, &projected, &err);
    fuzz_check((rc == SL_OK) == (projected_rc == SL_OK), "projected and full parse disagree");
    if (rc == SL_OK) {
        fuzz_check(sl_json_write(&first, &value) == SL_OK, "cannot write a parsed value");
        fuzz_check(sl_json_parse(arena, first.data, first.len, &again, &err) == SL_OK,
                   "written JSON does not parse");
        fuzz_check(sl_json_write(&second, &again) == SL_OK, "cannot write a re-parsed value");
        fuzz_check(first.len == second.len && memcmp(first.data, second.data, first.len) == 0,
                   "writing is not a fixed point");
    }
    sl_buffer_free(&first);
    sl_buffer_free(&second);
    sl_arena_free(arena);
    return 0;
}
