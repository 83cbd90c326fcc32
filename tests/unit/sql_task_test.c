/* sql_task_test.c — SQL tasks on SQLite (scheduler/sql_task.c): several
 * statements in one transaction, a failing one rolling all back with the
 * database's message, a timeout interrupting a long statement, and a
 * database that cannot be opened. Results are read back with sqlite3. */
#include <criterion/criterion.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "scheduler/sql_task.h"
#include "test_util.h"

static char dir[256], db_path[400];

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "sqltask");
    snprintf(db_path, sizeof db_path, "%s/t.db", dir);
}

static void teardown(void)
{
    test_remove_tree(dir);
}

TestSuite(sql_task, .init = setup, .fini = teardown);

static long count_rows(const char *table)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *stmt;
    long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
}

Test(sql_task, statements_run_together)
{
    sl_sql_task_spec spec = { .database = db_path,
                              .statements = "CREATE TABLE t (x INT); INSERT INTO t VALUES (1), (2), (3);"
                                            "DELETE FROM t WHERE x = 2" };
    char detail[128];
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_task_run(&spec, NULL, detail, sizeof detail, &err), SL_OK, "%s", err.message);
    cr_assert_str_eq(detail, "4 rows changed");
    cr_assert_eq(count_rows("t"), 2);
}

Test(sql_task, a_failing_statement_rolls_everything_back)
{
    sl_sql_task_spec setup_spec = { .database = db_path, .statements = "CREATE TABLE t (x INT PRIMARY KEY)" };
    char detail[128];
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_task_run(&setup_spec, NULL, detail, sizeof detail, &err), SL_OK);
    sl_sql_task_spec spec = { .database = db_path, .statements = "INSERT INTO t VALUES (1); INSERT INTO nope VALUES (2)" };
    cr_assert_eq(sl_sql_task_run(&spec, NULL, detail, sizeof detail, &err), SL_ESQL);
    cr_assert(strstr(err.message, "no such table: nope") && strstr(err.message, "rolled back"), "%s", err.message);
    cr_assert_eq(err.error_class, SL_ERROR_PERMANENT);
    cr_assert_eq(count_rows("t"), 0);
}

Test(sql_task, a_timeout_interrupts_a_long_statement)
{
    sl_sql_task_spec spec = { .database = db_path, .timeout_ms = 100,
                              .statements = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                                            "SELECT count(*) FROM n" };
    char detail[128];
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_task_run(&spec, NULL, detail, sizeof detail, &err), SL_ETIMEOUT);
    cr_assert(strstr(err.message, "past the task's timeout of 100 ms"), "%s", err.message);
}

Test(sql_task, a_database_that_cannot_be_opened)
{
    sl_sql_task_spec spec = { .database = "/nonexistent-dir/t.db", .statements = "SELECT 1" };
    char detail[128];
    sl_error err = { 0 };
    cr_assert_eq(sl_sql_task_run(&spec, NULL, detail, sizeof detail, &err), SL_EIO);
    cr_assert(strstr(err.message, "sqlite /nonexistent-dir/t.db: cannot open it"), "%s", err.message);
}
