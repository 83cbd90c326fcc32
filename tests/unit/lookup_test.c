/* lookup_test.c — a lookup join's cache and table reads: the cache's LRU
 * bound, TTL and cached misses on a clock the test moves; a worker's
 * lookup (runtime/lookup.c) over a real SQLite table sees a change to a
 * row only once its cache_ttl has passed, and refuses a key that matches
 * two rows. */
#include <criterion/criterion.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "runtime/lookup.h"
#include "runtime/lookup_cache.h"
#include "runtime/plan.h"
#include "test_util.h"

Test(lookup_cache, keeps_the_most_recent_rows_up_to_its_bound)
{
    sl_lookup_cache *cache = sl_lookup_cache_new(2, 1000);
    cr_assert_not_null(cache);
    const char *row;
    size_t len;
    cr_assert_eq(sl_lookup_cache_put(cache, "a", 1, "{\"v\":1}", 7, 0), SL_OK);
    cr_assert_eq(sl_lookup_cache_put(cache, "b", 1, "{\"v\":2}", 7, 0), SL_OK);
    cr_assert_eq(sl_lookup_cache_get(cache, "a", 1, 1, &row, &len), 1);   /* a is now the most recent */
    cr_assert_eq(sl_lookup_cache_put(cache, "c", 1, NULL, 0, 2), SL_OK);  /* a miss, cached: b goes */
    cr_assert_eq(sl_lookup_cache_size(cache), 2);
    cr_assert_eq(sl_lookup_cache_get(cache, "b", 1, 3, &row, &len), 0);
    cr_assert_eq(sl_lookup_cache_get(cache, "a", 1, 3, &row, &len), 1);
    cr_assert(len == 7 && memcmp(row, "{\"v\":1}", 7) == 0);
    cr_assert_eq(sl_lookup_cache_get(cache, "c", 1, 3, &row, &len), 1);
    cr_assert_null(row, "a cached miss");
    sl_lookup_cache_free(cache);
}

Test(lookup_cache, forgets_an_entry_once_its_ttl_has_passed)
{
    sl_lookup_cache *cache = sl_lookup_cache_new(10, 100);
    const char *row;
    size_t len;
    cr_assert_eq(sl_lookup_cache_put(cache, "k", 1, "{}", 2, 1000), SL_OK);
    cr_assert_eq(sl_lookup_cache_get(cache, "k", 1, 1099, &row, &len), 1);
    cr_assert_eq(sl_lookup_cache_get(cache, "k", 1, 1100, &row, &len), 0);
    cr_assert_eq(sl_lookup_cache_size(cache), 0, "an expired entry is dropped when met");
    cr_assert_eq(sl_lookup_cache_put(cache, "k", 1, "{\"x\":1}", 7, 2000), SL_OK);
    cr_assert_eq(sl_lookup_cache_put(cache, "k", 1, "{\"x\":2}", 7, 2001), SL_OK);
    cr_assert_eq(sl_lookup_cache_size(cache), 1, "a key put again replaces its entry");
    cr_assert_eq(sl_lookup_cache_get(cache, "k", 1, 2002, &row, &len), 1);
    cr_assert(memcmp(row, "{\"x\":2}", 7) == 0);
    sl_lookup_cache_free(cache);
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    char *message = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &message), SQLITE_OK, "%s", message ? message : "");
    sqlite3_close(db);
}

static const char *name_of(const sl_value *row)
{
    static char text[64];
    const sl_value *name = sl_value_get(row, SL_STR_LIT("name"));
    cr_assert(name && name->type == SL_TYPE_STRING);
    snprintf(text, sizeof text, "%.*s", (int)name->string.len, name->string.ptr);
    return text;
}

Test(lookup, sees_a_changed_row_once_the_ttl_has_passed_and_refuses_a_key_of_two_rows)
{
    char dir[256], db[300];
    test_make_temp_dir(dir, sizeof dir, "lookup");
    snprintf(db, sizeof db, "%s/users.db", dir);
    exec_sql(db, "CREATE TABLE users (id INTEGER, name TEXT);"
                 "INSERT INTO users VALUES (1, 'ann'), (2, 'bo'), (2, 'bob');");
    sl_sql_program *program = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_compile("SELECT u.name FROM input o JOIN users FOR SYSTEM_TIME AS OF PROCTIME() AS u "
                                "ON u.id = o.user", &program, &err), SL_OK, "%s", err.message);
    sl_pipeline_plan plan = { .name = "p", .program = program, .lookup_path = db, .lookup_table = "users",
                              .lookup_cache_rows = 100, .lookup_cache_ttl_ms = 3000 };
    sl_lookup *lookup = NULL;
    cr_assert_eq(sl_lookup_open(&plan, &lookup, &err), SL_OK, "%s", err.message);
    sl_arena *arena = sl_arena_new(0);
    sl_value key = sl_value_int(1), row;
    cr_assert_eq(sl_lookup_find(lookup, &key, arena, &row, &err), 1, "%s", err.message);
    cr_assert_str_eq(name_of(&row), "ann");
    exec_sql(db, "UPDATE users SET name = 'anna' WHERE id = 1");
    int64_t updated_ms = sl_clock_monotonic_ms();
    cr_assert_eq(sl_lookup_find(lookup, &key, arena, &row, &err), 1);
    if (sl_clock_monotonic_ms() - updated_ms < 3000)
        cr_assert_str_eq(name_of(&row), "ann", "within the TTL the cached row is used");
    int64_t deadline = sl_clock_monotonic_ms() + 30000;
    while (strcmp(name_of(&row), "anna") != 0 && sl_clock_monotonic_ms() < deadline) {
        nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
        cr_assert_eq(sl_lookup_find(lookup, &key, arena, &row, &err), 1);
    }
    cr_assert_str_eq(name_of(&row), "anna", "after the TTL the table is read again");
    cr_assert_geq(sl_clock_monotonic_ms() - updated_ms, 3000);

    sl_value absent = sl_value_int(7), none = sl_value_null(), two = sl_value_int(2);
    cr_assert_eq(sl_lookup_find(lookup, &absent, arena, &row, &err), 0);
    cr_assert_eq(sl_lookup_find(lookup, &none, arena, &row, &err), 0, "a NULL key matches nothing");
    cr_assert_eq(sl_lookup_find(lookup, &two, arena, &row, &err), SL_ESQL);
    cr_assert(strstr(err.message, "matches more than one row"), "%s", err.message);

    sl_lookup_close(lookup);
    sl_pipeline_plan missing = plan;
    missing.lookup_table = "people";
    cr_assert_neq(sl_lookup_open(&missing, &lookup, &err), SL_OK);
    cr_assert(strstr(err.message, "lookup table people in ") && strstr(err.message, "no such table: people"), "%s",
              err.message);
    sl_arena_free(arena);
    sl_sql_free(program);
    test_remove_tree(dir);
}
