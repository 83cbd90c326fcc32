/* postgres_store.c — the metadata store's PostgreSQL backend, over libpq:
 * one connection, every statement from the table below run with bound
 * parameters (PQexecParams; the migrations' fixed SQL alone goes through
 * PQexec).
 *
 * Several servers share one database:
 *   - migrations take a transaction-scoped advisory lock, so two servers
 *     starting at once apply each step once;
 *   - a claim is one statement: SELECT ... FOR UPDATE OF ti SKIP LOCKED
 *     picks scheduled rows no other transaction holds, and the UPDATE of
 *     the same statement (its own transaction) moves them to queued with
 *     the server's id; a row another claimer changed first fails the
 *     re-checked `state = scheduled` and is left out;
 *   - reaping locks the stale rows the same way and changes them only
 *     while they are still queued or running (compare-and-set);
 *   - every time is the database's clock (statement_timestamp()), so
 *     heartbeats of servers on machines whose clocks differ compare fairly.
 *
 * Errors: a server that cannot be reached (and one that refuses new
 * connections for now) is a transient error naming host:port; refused
 * credentials or a missing database are permanent (PQpingParams tells them
 * apart: the server answers a ping either way). A connection lost later is
 * transient, and the next operation connects again. SQLSTATE classes 08,
 * 40, 53, 57 and 55P03 are transient, the others permanent. Messages name
 * the store by its URL with the password as *** and never quote the
 * password.
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metadata/backend.h"
#include "metadata/migrations.h"
#include "metadata/postgres_url.h"

/* The database's clock, µs since the epoch, the same for a whole statement. */
#define NOW_US "(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000)::bigint"

/* Seconds libpq waits for a connection when the URL does not say. */
#define CONNECT_TIMEOUT "10"

/* The key of the advisory lock migrations hold ("sluice" in ASCII). */
#define MIGRATION_LOCK "126909663503205"

#define MAX_PARAMS 10

#define RUN_COLUMNS \
    "id, dag_id, run_id, run_type, state, data_interval_start_us, data_interval_end_us, conf, " \
    "queued_at_us, start_us, end_us"
#define TI_COLUMNS \
    "ti.id, ti.run, r.dag_id, r.run_id, ti.task_id, ti.try_number, ti.max_tries, ti.state, ti.server_id, " \
    "ti.queued_at_us, ti.start_us, ti.end_us, ti.duration_us, ti.exit_status, ti.log_path, ti.log_tail " \
    "FROM task_instances ti JOIN dag_runs r ON r.id = ti.run"

typedef enum statement_id {
    ST_VERSION,
    ST_RECORD_MIGRATION,
    ST_DAG_UPSERT,
    ST_DAG_SET_PAUSED,
    ST_DAG_LIST,
    ST_RUN_INSERT,
    ST_RUN_FIND,
    ST_RUN_GET,
    ST_RUN_SET_STATE,
    ST_RUN_LIST_FIRST,
    ST_RUN_LIST_AFTER,
    ST_RUN_LIST_ACTIVE,
    ST_RUN_BY_RUN_ID,
    ST_RUN_LATEST_END,
    ST_TI_INSERT,
    ST_TI_GET,
    ST_TI_LIST,
    ST_TI_CLAIM,
    ST_TI_SET_STATE,
    ST_TI_RETRY_INSERT,
    ST_TI_RETRY_FIND,
    ST_TI_CLEAR,
    ST_RUN_REQUEUE,
    ST_TI_SET_LOG,
    ST_SERVER_REGISTER,
    ST_SERVER_HEARTBEAT,
    ST_SERVER_LIST,
    ST_REAP,
    ST_TOKEN_INSERT,
    ST_TOKEN_DELETE,
    ST_TOKEN_LIST,
    ST_COUNT
} statement_id;

static const char *const statement_sql[ST_COUNT] = {
    [ST_VERSION] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
    [ST_RECORD_MIGRATION] =
        "INSERT INTO schema_migrations (version, name, applied_at_us) VALUES ($1, $2, " NOW_US ")",
    [ST_DAG_UPSERT] =
        "INSERT INTO dags (dag_id, file_hash, updated_at_us) VALUES ($1, $2, " NOW_US ") "
        "ON CONFLICT (dag_id) DO UPDATE SET file_hash = excluded.file_hash, updated_at_us = excluded.updated_at_us",
    [ST_DAG_SET_PAUSED] = "UPDATE dags SET is_paused = $2, updated_at_us = " NOW_US " WHERE dag_id = $1",
    [ST_DAG_LIST] = "SELECT dag_id, is_paused, file_hash, updated_at_us FROM dags ORDER BY dag_id",
    [ST_RUN_INSERT] =
        "INSERT INTO dag_runs (dag_id, run_id, run_type, state, data_interval_start_us, data_interval_end_us, "
        "conf, queued_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, " NOW_US ") ON CONFLICT DO NOTHING RETURNING id",
    [ST_RUN_FIND] =
        "SELECT id FROM dag_runs WHERE dag_id = $1 AND (run_id = $2 OR ($3::text = $5::text AND run_type = $5 AND "
        "data_interval_start_us = $4)) ORDER BY run_id = $2 DESC LIMIT 1",
    [ST_RUN_GET] = "SELECT " RUN_COLUMNS " FROM dag_runs WHERE id = $1",
    [ST_RUN_SET_STATE] =
        "UPDATE dag_runs SET state = $3, start_us = CASE WHEN $4::boolean THEN " NOW_US " ELSE start_us END, "
        "end_us = CASE WHEN $5::boolean THEN " NOW_US " ELSE end_us END WHERE id = $1 AND state = $2",
    /* $3 (first page) or $5: only runs in this state; NULL: any. */
    [ST_RUN_LIST_FIRST] =
        "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = $1 AND ($3::text IS NULL OR state = $3::text) "
        "ORDER BY data_interval_start_us DESC, id DESC LIMIT $2",
    [ST_RUN_LIST_AFTER] =
        "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = $1 AND (data_interval_start_us, id) < ($3, $4) "
        "AND ($5::text IS NULL OR state = $5::text) ORDER BY data_interval_start_us DESC, id DESC LIMIT $2",
    [ST_RUN_BY_RUN_ID] = "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = $1 AND run_id = $2",
    [ST_RUN_LIST_ACTIVE] =
        "SELECT " RUN_COLUMNS " FROM dag_runs WHERE dag_id = $1 AND state IN ('queued', 'running') "
        "ORDER BY data_interval_start_us, id LIMIT $2",
    [ST_RUN_LATEST_END] =
        "SELECT MAX(data_interval_end_us) FROM dag_runs WHERE dag_id = $1 AND run_type IN ($2, $3)",
    [ST_TI_INSERT] =
        "INSERT INTO task_instances (run, task_id, try_number, max_tries, state) VALUES ($1, $2, 1, $3, $4) "
        "ON CONFLICT DO NOTHING",
    [ST_TI_GET] = "SELECT " TI_COLUMNS " WHERE ti.id = $1",
    [ST_TI_LIST] = "SELECT " TI_COLUMNS " WHERE ti.run = $1 ORDER BY ti.task_id, ti.try_number",
    [ST_TI_CLAIM] =
        "WITH picked AS (SELECT ti.id FROM task_instances ti JOIN dag_runs r ON r.id = ti.run "
        "JOIN dags d ON d.dag_id = r.dag_id "
        "WHERE ti.state = $2 AND ($5::bigint = 0 AND NOT d.is_paused OR ti.run = $5::bigint) "
        "ORDER BY r.data_interval_start_us, ti.id LIMIT $4 FOR UPDATE OF ti SKIP LOCKED) "
        "UPDATE task_instances t SET state = $3, server_id = $1, queued_at_us = " NOW_US " "
        "FROM picked WHERE t.id = picked.id AND t.state = $2 RETURNING t.id",
    [ST_TI_SET_STATE] =
        "UPDATE task_instances SET state = $3, start_us = CASE WHEN $4::boolean THEN " NOW_US " ELSE start_us END, "
        "end_us = CASE WHEN $5::boolean THEN " NOW_US " ELSE end_us END, "
        "duration_us = CASE WHEN $5::boolean THEN " NOW_US " - start_us ELSE duration_us END, "
        "exit_status = CASE WHEN $6::boolean THEN $7::integer ELSE exit_status END WHERE id = $1 AND state = $2",
    [ST_TI_RETRY_INSERT] =
        "INSERT INTO task_instances (run, task_id, try_number, max_tries, state) "
        "SELECT run, task_id, try_number + 1, max_tries, $3::text FROM task_instances "
        "WHERE id = $1 AND state = $2 AND try_number < max_tries ON CONFLICT DO NOTHING RETURNING id",
    [ST_TI_RETRY_FIND] =
        "SELECT n.id, t.state, t.try_number, t.max_tries FROM task_instances t LEFT JOIN task_instances n "
        "ON n.run = t.run AND n.task_id = t.task_id AND n.try_number = t.try_number + 1 WHERE t.id = $1",
    /* The next try of a task whose latest try ended in one of $5..$8: $1
     * the run, $2 the task, $3 its retries, $4 the new state (none). */
    [ST_TI_CLEAR] =
        "INSERT INTO task_instances (run, task_id, try_number, max_tries, state) "
        "SELECT run, task_id, try_number + 1, try_number + 1 + $3::integer, $4::text FROM task_instances "
        "WHERE run = $1 AND task_id = $2 AND state IN ($5, $6, $7, $8) AND try_number = "
        "(SELECT MAX(try_number) FROM task_instances WHERE run = $1 AND task_id = $2) "
        "ON CONFLICT DO NOTHING RETURNING id",
    [ST_RUN_REQUEUE] =
        "UPDATE dag_runs SET state = $2, queued_at_us = " NOW_US ", start_us = NULL, end_us = NULL WHERE id = $1",
    [ST_TI_SET_LOG] = "UPDATE task_instances SET log_path = COALESCE($2, log_path), log_tail = $3 WHERE id = $1",
    [ST_SERVER_REGISTER] =
        "INSERT INTO servers (server_id, hostname, pid, started_at_us, heartbeat_us) "
        "VALUES ($1, $2, $3, " NOW_US ", " NOW_US ") "
        "ON CONFLICT (server_id) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid, "
        "started_at_us = excluded.started_at_us, heartbeat_us = excluded.heartbeat_us",
    [ST_SERVER_HEARTBEAT] = "UPDATE servers SET heartbeat_us = " NOW_US " WHERE server_id = $1",
    [ST_SERVER_LIST] =
        "SELECT server_id, hostname, pid, started_at_us, heartbeat_us FROM servers ORDER BY server_id",
    /* $1 up_for_retry, $2 failed, $3 queued, $4 running, $5 the timeout
     * in µs, $6 how many at most. */
    [ST_REAP] =
        "WITH stale AS (SELECT ti.id FROM task_instances ti WHERE ti.state IN ($3, $4) AND NOT EXISTS ("
        "SELECT 1 FROM servers s WHERE s.server_id = ti.server_id AND s.heartbeat_us >= " NOW_US " - $5) "
        "ORDER BY ti.id LIMIT $6 FOR UPDATE SKIP LOCKED) "
        "UPDATE task_instances t SET state = CASE WHEN t.try_number < t.max_tries THEN $1::text ELSE $2::text END, "
        "end_us = " NOW_US ", duration_us = " NOW_US " - t.start_us "
        "FROM stale WHERE t.id = stale.id AND t.state IN ($3, $4) RETURNING t.id",
    [ST_TOKEN_INSERT] = "INSERT INTO api_tokens (name, role, token_hash, created_at_us) VALUES ($1, $2, $3, " NOW_US ") "
                        "ON CONFLICT (name) DO NOTHING",
    [ST_TOKEN_DELETE] = "DELETE FROM api_tokens WHERE name = $1",
    [ST_TOKEN_LIST] = "SELECT name, role, token_hash, created_at_us FROM api_tokens ORDER BY name",
};

typedef struct pg_store {
    PGconn *conn;
    char *url;                       /* as given: holds the password, never printed */
    char *where;                     /* the URL with the password as *** */
    char address[256];               /* host:port, for messages */
    char password[256];              /* its text in the URL, scrubbed from messages */
} pg_store;

/* Bound parameters, as text (formats 0) or bytes (format 1). */
typedef struct pg_params {
    int n;
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS];
    int formats[MAX_PARAMS];
    char numbers[MAX_PARAMS][24];
} pg_params;

static void param_text(pg_params *params, const char *text)
{
    params->values[params->n++] = text;
}

static void param_int(pg_params *params, int64_t value)
{
    snprintf(params->numbers[params->n], sizeof params->numbers[0], "%lld", (long long)value);
    params->values[params->n] = params->numbers[params->n];
    params->n++;
}

static void param_bool(pg_params *params, bool value)
{
    params->values[params->n++] = value ? "true" : "false";
}

static void param_bytes(pg_params *params, const void *bytes, size_t len)
{
    params->values[params->n] = len ? bytes : "";
    params->lengths[params->n] = (int)len;
    params->formats[params->n] = 1;
    params->n++;
}

/* ---- errors ---- */

/* text as one line: libpq's newlines and tabs become spaces, trailing
 * space goes. */
static void one_line(char *text)
{
    for (char *c = text; *c; c++)
        if (*c == '\n' || *c == '\t' || *c == '\r') *c = ' ';
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1])) text[--len] = '\0';
}

/* Sets err to a message naming the store and what, with detail (cleaned
 * of the password), of class error_class. */
static int store_fail(pg_store *store, int code, sl_error_class error_class, const char *what, const char *detail,
                      sl_error *err)
{
    char clean[400];
    snprintf(clean, sizeof clean, "%s", detail ? detail : "");
    one_line(clean);
    sl_pg_scrub(clean, sizeof clean, store->password);
    sl_error_set(err, code, "metadata store %s: %s: %s", store->where, what, clean);
    return sl_error_mark(err, error_class);
}

static bool sqlstate_is_transient(const char *sqlstate)
{
    if (!sqlstate) return true;  /* no answer from the server: the connection failed */
    return strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "40", 2) == 0 || strncmp(sqlstate, "53", 2) == 0 ||
           strncmp(sqlstate, "57", 2) == 0 || strcmp(sqlstate, "55P03") == 0;
}

/* A failed statement's error: the server's message and SQLSTATE, or a lost
 * connection naming host:port. */
static int result_fail(pg_store *store, PGresult *result, const char *what, sl_error *err)
{
    if (PQstatus(store->conn) != CONNECTION_OK) {
        char detail[400];
        snprintf(detail, sizeof detail, "lost the connection to %s: %s", store->address,
                 PQerrorMessage(store->conn));
        return store_fail(store, SL_EIO, SL_ERROR_TRANSIENT, what, detail, err);
    }
    const char *sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char detail[400];
    snprintf(detail, sizeof detail, "%s (SQLSTATE %s)", primary ? primary : PQerrorMessage(store->conn),
             sqlstate ? sqlstate : "none");
    return store_fail(store, SL_EIO, sqlstate_is_transient(sqlstate) ? SL_ERROR_TRANSIENT : SL_ERROR_PERMANENT,
                      what, detail, err);
}

static bool is_foreign_key_violation(const PGresult *result)
{
    const char *sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    return sqlstate && strcmp(sqlstate, "23503") == 0;
}

/* ---- running statements ---- */

/* Runs statement id with params; *result (the caller PQclear()s it) on
 * success. */
static int run_statement(pg_store *store, statement_id id, const pg_params *params, const char *what,
                         PGresult **result, sl_error *err)
{
    PGresult *res = PQexecParams(store->conn, statement_sql[id], params ? params->n : 0, NULL,
                                 params ? params->values : NULL, params ? params->lengths : NULL,
                                 params ? params->formats : NULL, 0);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        *result = res;
        return SL_OK;
    }
    int rc = result_fail(store, res, what, err);
    *result = res;  /* kept for the caller's look at the SQLSTATE; cleared there */
    return rc;
}

/* As run_statement, for a statement whose result is not looked at. */
static int run_only(pg_store *store, statement_id id, const pg_params *params, const char *what, int64_t *changed,
                    sl_error *err)
{
    PGresult *res = NULL;
    int rc = run_statement(store, id, params, what, &res, err);
    if (!rc && changed) *changed = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rc;
}

/* Fixed SQL without parameters (BEGIN, COMMIT, a migration step). */
static int exec_sql(pg_store *store, const char *sql, const char *what, sl_error *err)
{
    PGresult *res = PQexec(store->conn, sql);
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = SL_OK;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) rc = result_fail(store, res, what, err);
    PQclear(res);
    return rc;
}

static void rollback(pg_store *store)
{
    if (PQstatus(store->conn) != CONNECTION_OK) return;
    if (PQtransactionStatus(store->conn) == PQTRANS_IDLE) return;
    PQclear(PQexec(store->conn, "ROLLBACK"));
}

/* Before each operation: connects again when the connection was lost. */
static int ensure_connected(pg_store *store, sl_error *err)
{
    if (PQstatus(store->conn) == CONNECTION_OK) return SL_OK;
    PQreset(store->conn);
    if (PQstatus(store->conn) == CONNECTION_OK) return SL_OK;
    char detail[400];
    snprintf(detail, sizeof detail, "%s: %s", store->address, PQerrorMessage(store->conn));
    return store_fail(store, SL_EIO, SL_ERROR_TRANSIENT, "cannot connect again", detail, err);
}

static int64_t value_int(const PGresult *res, int row, int column)
{
    return strtoll(PQgetvalue(res, row, column), NULL, 10);
}

static int64_t value_time(const PGresult *res, int row, int column)
{
    return PQgetisnull(res, row, column) ? SL_META_NO_TIME : value_int(res, row, column);
}

static const char *value_text(const PGresult *res, int row, int column)
{
    return PQgetisnull(res, row, column) ? NULL : PQgetvalue(res, row, column);
}

static int collect_ids(const PGresult *res, int64_t *ids, size_t max, size_t *n)
{
    *n = 0;
    for (int row = 0; row < PQntuples(res) && *n < max; row++) ids[(*n)++] = value_int(res, row, 0);
    return SL_OK;
}

/* ---- opening and migrating ---- */

static void pg_close(void *state)
{
    pg_store *store = state;
    if (!store) return;
    PQfinish(store->conn);
    free(store->url);
    free(store->where);
    free(store);
}

/* host:port of url for messages, from libpq's own parse of it. */
static void describe_address(pg_store *store)
{
    const char *host = NULL, *hostaddr = NULL, *port = NULL;
    char *message = NULL;
    PQconninfoOption *options = PQconninfoParse(store->url, &message);
    for (PQconninfoOption *o = options; o && o->keyword; o++) {
        if (!o->val || !*o->val) continue;
        if (strcmp(o->keyword, "host") == 0) host = o->val;
        else if (strcmp(o->keyword, "hostaddr") == 0) hostaddr = o->val;
        else if (strcmp(o->keyword, "port") == 0) port = o->val;
        else if (strcmp(o->keyword, "password") == 0 && !store->password[0])
            snprintf(store->password, sizeof store->password, "%s", o->val);
    }
    if (!host) host = hostaddr;
    snprintf(store->address, sizeof store->address, "%s:%s", host ? host : "the local socket",
             port ? port : "5432");
    PQconninfoFree(options);
    PQfreemem(message);
}

/* The server's notices ("relation ... already exists, skipping") are not
 * for the user: libpq's default prints them on stderr. */
static void ignore_notice(void *context, const char *message)
{
    (void)context;
    (void)message;
}

/* The connection failed: transient when the server cannot be reached or
 * turns connections away for now, permanent when it answers and refused
 * this one (credentials, database) or the URL is bad. */
static int connect_fail(pg_store *store, const char *const *keywords, const char *const *values, sl_error *err)
{
    PGPing ping = PQpingParams(keywords, values, 1);
    char detail[400];
    snprintf(detail, sizeof detail, "%s: %s", store->address, PQerrorMessage(store->conn));
    switch (ping) {
    case PQPING_OK:
        return store_fail(store, SL_ECONFIG, SL_ERROR_PERMANENT, "the server refused the connection", detail, err);
    case PQPING_NO_ATTEMPT:
        return store_fail(store, SL_ECONFIG, SL_ERROR_PERMANENT, "bad connection URL", detail, err);
    case PQPING_REJECT:
        return store_fail(store, SL_EIO, SL_ERROR_TRANSIENT, "the server is not taking connections now", detail,
                          err);
    case PQPING_NO_RESPONSE:
    default:
        return store_fail(store, SL_EIO, SL_ERROR_TRANSIENT, "cannot reach the server", detail, err);
    }
}

static int migrate_once(pg_store *store, int max_version, int *version, bool *is_done, sl_error *err)
{
    int rc = exec_sql(store, "BEGIN", "starting a migration", err);
    if (!rc) rc = exec_sql(store, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", "locking for a migration", err);
    if (!rc) rc = exec_sql(store, sl_meta_postgres_version_table, "creating the version table", err);
    PGresult *res = NULL;
    if (!rc) rc = run_statement(store, ST_VERSION, NULL, "reading the schema version", &res, err);
    if (rc) goto fail;
    int current = (int)value_int(res, 0, 0);
    PQclear(res);
    res = NULL;
    int latest = sl_meta_migrations[sl_meta_n_migrations - 1].version;
    if (current > latest) {
        rc = sl_error_set_permanent(err, SL_ECONFIG, "metadata store %s has schema version %d, newer than the "
                                    "%d this sluice knows: run a newer sluice (migrations only go forward)",
                                    store->where, current, latest);
        goto fail;
    }
    if (current >= max_version) {
        *version = current;
        *is_done = true;
        return exec_sql(store, "COMMIT", "reading the schema version", err);
    }
    const sl_meta_migration *step = &sl_meta_migrations[current];
    char what[160];
    snprintf(what, sizeof what, "migrating to schema version %d (%s)", step->version, step->name);
    rc = exec_sql(store, step->postgres_sql, what, err);
    pg_params params = { 0 };
    param_int(&params, step->version);
    param_text(&params, step->name);
    if (!rc) rc = run_only(store, ST_RECORD_MIGRATION, &params, what, NULL, err);
    if (!rc) rc = exec_sql(store, "COMMIT", what, err);
    if (rc) goto fail;
    *version = step->version;
    return SL_OK;
fail:
    PQclear(res);
    rollback(store);
    return rc;
}

static int pg_open(const char *target, int max_version, void **state, int *version, char **where, sl_error *err)
{
    pg_store *store = calloc(1, sizeof *store);
    if (!store) return sl_error_set(err, SL_ENOMEM, "metadata store: no memory");
    store->url = strdup(target);
    store->where = sl_pg_url_redact(target);
    *where = sl_pg_url_redact(target);
    int rc = SL_OK;
    if (!store->url || !store->where || !*where) {
        rc = sl_error_set(err, SL_ENOMEM, "metadata store: no memory");
        goto fail;
    }
    sl_pg_url_password(target, store->password, sizeof store->password);
    describe_address(store);
    /* Later values win: the URL's own connect_timeout over this default. */
    const char *const keywords[] = { "connect_timeout", "application_name", "dbname", NULL };
    const char *const values[] = { CONNECT_TIMEOUT, "sluice", target, NULL };
    store->conn = PQconnectdbParams(keywords, values, 1);
    if (!store->conn) {
        rc = sl_error_set(err, SL_ENOMEM, "metadata store %s: no memory", store->where);
        goto fail;
    }
    if (PQstatus(store->conn) != CONNECTION_OK) {
        rc = connect_fail(store, keywords, values, err);
        goto fail;
    }
    PQsetNoticeProcessor(store->conn, ignore_notice, NULL);
    bool is_done = false;
    while (!rc && !is_done) rc = migrate_once(store, max_version, version, &is_done, err);
    if (rc) goto fail;
    *state = store;
    return SL_OK;
fail:
    pg_close(store);
    free(*where);
    *where = NULL;
    return rc;
}

/* ---- dags ---- */

static int pg_dag_upsert(void *state, const char *dag_id, const char *file_hash, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, dag_id);
    param_text(&params, file_hash);
    return run_only(store, ST_DAG_UPSERT, &params, "upserting a dag", NULL, err);
}

static int pg_dag_set_paused(void *state, const char *dag_id, bool is_paused, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, dag_id);
    param_bool(&params, is_paused);
    int64_t changed = 0;
    rc = run_only(store, ST_DAG_SET_PAUSED, &params, "pausing a dag", &changed, err);
    if (!rc && changed == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: dag %s is not in the store",
                                    store->where, dag_id);
    return rc;
}

static int pg_dag_list(void *state, sl_meta_dag_fn fn, void *context, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    PGresult *res = NULL;
    if (!rc) rc = run_statement(store, ST_DAG_LIST, NULL, "listing dags", &res, err);
    for (int row = 0; !rc && row < PQntuples(res); row++) {
        sl_meta_dag dag = {
            .dag_id = value_text(res, row, 0),
            .is_paused = strcmp(PQgetvalue(res, row, 1), "t") == 0,
            .file_hash = value_text(res, row, 2),
            .updated_at_us = value_int(res, row, 3),
        };
        rc = fn(context, &dag);
    }
    PQclear(res);
    return rc;
}

/* ---- dag runs ---- */

static int read_run(pg_store *store, const PGresult *res, int row, sl_meta_run *run, sl_error *err)
{
    *run = (sl_meta_run){
        .id = value_int(res, row, 0),
        .dag_id = value_text(res, row, 1),
        .run_id = value_text(res, row, 2),
        .data_interval_start_us = value_int(res, row, 5),
        .data_interval_end_us = value_int(res, row, 6),
        .conf = value_text(res, row, 7),
        .queued_at_us = value_time(res, row, 8),
        .start_us = value_time(res, row, 9),
        .end_us = value_time(res, row, 10),
    };
    int rc = sl_meta_run_type_parse(value_text(res, row, 3), &run->run_type, err);
    if (!rc) rc = sl_meta_run_state_parse(value_text(res, row, 4), &run->state, err);
    if (rc) sl_error_prefix(err, "metadata store %s: dag run %lld: ", store->where, (long long)run->id);
    return rc;
}

static int each_run(pg_store *store, const PGresult *res, sl_meta_run_fn fn, void *context, size_t *n,
                    sl_meta_run_cursor *last, sl_error *err)
{
    int rc = SL_OK;
    *n = 0;
    for (int row = 0; !rc && row < PQntuples(res); row++) {
        sl_meta_run run;
        rc = read_run(store, res, row, &run, err);
        if (rc) break;
        (*n)++;
        if (last) *last = (sl_meta_run_cursor){ true, run.data_interval_start_us, run.id };
        rc = fn(context, &run);
    }
    return rc;
}

static int pg_run_create(void *state, const sl_meta_run_spec *spec, int64_t *id, bool *created, sl_error *err)
{
    pg_store *store = state;
    *created = false;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    const char *type = sl_meta_run_type_name(spec->run_type);
    pg_params params = { 0 };
    param_text(&params, spec->dag_id);
    param_text(&params, spec->run_id);
    param_text(&params, type);
    param_text(&params, sl_meta_run_state_name(SL_META_RUN_QUEUED));
    param_int(&params, spec->data_interval_start_us);
    param_int(&params, spec->data_interval_end_us);
    param_text(&params, spec->conf);
    PGresult *res = NULL;
    rc = run_statement(store, ST_RUN_INSERT, &params, "creating a dag run", &res, err);
    if (rc && is_foreign_key_violation(res))
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: creating a dag run: dag %s is not in "
                                    "the store", store->where, spec->dag_id);
    if (!rc && PQntuples(res) == 1) {
        *id = value_int(res, 0, 0);
        *created = true;
    }
    PQclear(res);
    if (rc || *created) return rc;
    params = (pg_params){ 0 };
    param_text(&params, spec->dag_id);
    param_text(&params, spec->run_id);
    param_text(&params, type);
    param_int(&params, spec->data_interval_start_us);
    param_text(&params, sl_meta_run_type_name(SL_META_RUN_SCHEDULED));
    rc = run_statement(store, ST_RUN_FIND, &params, "finding a dag run", &res, err);
    if (!rc && PQntuples(res) == 1) *id = value_int(res, 0, 0);
    else if (!rc)
        rc = sl_error_set(err, SL_EIO, "metadata store %s: dag %s run %s: neither created nor found",
                          store->where, spec->dag_id, spec->run_id);
    PQclear(res);
    return rc;
}

static int pg_run_get(void *state, int64_t id, sl_meta_run_fn fn, void *context, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_int(&params, id);
    PGresult *res = NULL;
    size_t n = 0;
    rc = run_statement(store, ST_RUN_GET, &params, "reading a dag run", &res, err);
    if (!rc) rc = each_run(store, res, fn, context, &n, NULL, err);
    PQclear(res);
    if (!rc && n == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no dag run %lld", store->where,
                                    (long long)id);
    return rc;
}

static int pg_run_set_state(void *state, int64_t id, sl_meta_run_state expected, sl_meta_run_state run_state,
                            bool *changed, sl_error *err)
{
    pg_store *store = state;
    *changed = false;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_int(&params, id);
    param_text(&params, sl_meta_run_state_name(expected));
    param_text(&params, sl_meta_run_state_name(run_state));
    param_bool(&params, run_state == SL_META_RUN_RUNNING);
    param_bool(&params, run_state == SL_META_RUN_SUCCESS || run_state == SL_META_RUN_FAILED);
    int64_t n = 0;
    rc = run_only(store, ST_RUN_SET_STATE, &params, "setting a dag run's state", &n, err);
    if (!rc) *changed = n > 0;
    return rc;
}

static int pg_run_list(void *state, const char *dag_id, const sl_meta_run_state *run_state,
                       const sl_meta_run_cursor *after, int limit, sl_meta_run_fn fn, void *context, size_t *n,
                       sl_meta_run_cursor *last, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, dag_id);
    param_int(&params, limit);
    if (after) {
        param_int(&params, after->data_interval_start_us);
        param_int(&params, after->id);
    }
    param_text(&params, run_state ? sl_meta_run_state_name(*run_state) : NULL);
    PGresult *res = NULL;
    rc = run_statement(store, after ? ST_RUN_LIST_AFTER : ST_RUN_LIST_FIRST, &params, "listing dag runs", &res,
                       err);
    if (!rc) rc = each_run(store, res, fn, context, n, last, err);
    PQclear(res);
    return rc;
}

static int pg_run_find(void *state, const char *dag_id, const char *run_id, sl_meta_run_fn fn, void *context,
                       sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, dag_id);
    param_text(&params, run_id);
    PGresult *res = NULL;
    size_t n = 0;
    rc = run_statement(store, ST_RUN_BY_RUN_ID, &params, "finding a dag run", &res, err);
    if (!rc) rc = each_run(store, res, fn, context, &n, NULL, err);
    PQclear(res);
    if (!rc && n == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: dag %s has no run %s", store->where,
                                    dag_id, run_id);
    return rc;
}

static int pg_run_list_active(void *state, const char *dag_id, int limit, sl_meta_run_fn fn, void *context,
                              sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, dag_id);
    param_int(&params, limit);
    PGresult *res = NULL;
    size_t n = 0;
    rc = run_statement(store, ST_RUN_LIST_ACTIVE, &params, "listing active dag runs", &res, err);
    if (!rc) rc = each_run(store, res, fn, context, &n, NULL, err);
    PQclear(res);
    return rc;
}

static int pg_run_latest_interval_end(void *state, const char *dag_id, int64_t *end_us, bool *found, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, dag_id);
    param_text(&params, sl_meta_run_type_name(SL_META_RUN_SCHEDULED));
    param_text(&params, sl_meta_run_type_name(SL_META_RUN_BACKFILL));
    PGresult *res = NULL;
    rc = run_statement(store, ST_RUN_LATEST_END, &params, "reading the latest data interval", &res, err);
    if (!rc && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *found = true;
        *end_us = value_int(res, 0, 0);
    }
    PQclear(res);
    return rc;
}

/* ---- task instances ---- */

static int read_ti(pg_store *store, const PGresult *res, int row, sl_meta_ti *ti, unsigned char **tail,
                   sl_error *err)
{
    *tail = NULL;
    *ti = (sl_meta_ti){
        .id = value_int(res, row, 0),
        .run = value_int(res, row, 1),
        .dag_id = value_text(res, row, 2),
        .run_id = value_text(res, row, 3),
        .task_id = value_text(res, row, 4),
        .try_number = (int)value_int(res, row, 5),
        .max_tries = (int)value_int(res, row, 6),
        .server_id = value_text(res, row, 8),
        .queued_at_us = value_time(res, row, 9),
        .start_us = value_time(res, row, 10),
        .end_us = value_time(res, row, 11),
        .duration_us = value_time(res, row, 12),
        .has_exit_status = !PQgetisnull(res, row, 13),
        .exit_status = PQgetisnull(res, row, 13) ? 0 : (int)value_int(res, row, 13),
        .log_path = value_text(res, row, 14),
    };
    int rc = sl_meta_ti_state_parse(value_text(res, row, 7), &ti->state, err);
    if (rc) {
        sl_error_prefix(err, "metadata store %s: task instance %lld: ", store->where, (long long)ti->id);
        return rc;
    }
    if (!PQgetisnull(res, row, 15)) {
        size_t len = 0;
        *tail = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 15), &len);
        if (!*tail) return sl_error_set(err, SL_ENOMEM, "metadata store %s: no memory", store->where);
        ti->log_tail = *tail;
        ti->log_tail_len = len;
    }
    return SL_OK;
}

static int each_ti(pg_store *store, const PGresult *res, sl_meta_ti_fn fn, void *context, sl_error *err)
{
    int rc = SL_OK;
    for (int row = 0; !rc && row < PQntuples(res); row++) {
        sl_meta_ti ti;
        unsigned char *tail = NULL;
        rc = read_ti(store, res, row, &ti, &tail, err);
        if (!rc) rc = fn(context, &ti);
        PQfreemem(tail);
    }
    return rc;
}

static int pg_ti_create(void *state, int64_t run, const char *const *task_ids, size_t n_tasks, int max_tries,
                        size_t *created, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (!rc) rc = exec_sql(store, "BEGIN", "creating task instances", err);
    if (rc) return rc;
    size_t made = 0;
    for (size_t i = 0; !rc && i < n_tasks; i++) {
        pg_params params = { 0 };
        param_int(&params, run);
        param_text(&params, task_ids[i]);
        param_int(&params, max_tries);
        param_text(&params, sl_meta_ti_state_name(SL_META_TI_NONE));
        PGresult *res = NULL;
        rc = run_statement(store, ST_TI_INSERT, &params, "creating task instances", &res, err);
        if (rc && is_foreign_key_violation(res))
            rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: creating task instances: dag run "
                                        "%lld is not in the store", store->where, (long long)run);
        if (!rc) made += (size_t)strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
    if (!rc) rc = exec_sql(store, "COMMIT", "creating task instances", err);
    if (rc) {
        rollback(store);
        return rc;
    }
    *created = made;
    return SL_OK;
}

static int pg_ti_get(void *state, int64_t id, sl_meta_ti_fn fn, void *context, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_int(&params, id);
    PGresult *res = NULL;
    rc = run_statement(store, ST_TI_GET, &params, "reading a task instance", &res, err);
    if (!rc && PQntuples(res) == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no task instance %lld", store->where,
                                    (long long)id);
    if (!rc) rc = each_ti(store, res, fn, context, err);
    PQclear(res);
    return rc;
}

static int pg_ti_list(void *state, int64_t run, sl_meta_ti_fn fn, void *context, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_int(&params, run);
    PGresult *res = NULL;
    rc = run_statement(store, ST_TI_LIST, &params, "listing task instances", &res, err);
    if (!rc) rc = each_ti(store, res, fn, context, err);
    PQclear(res);
    return rc;
}

static int pg_ti_claim(void *state, const char *server_id, int64_t run, int64_t *ids, size_t max, size_t *n,
                       sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, server_id);
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_SCHEDULED));
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_QUEUED));
    param_int(&params, max > INT32_MAX ? INT32_MAX : (int64_t)max);
    param_int(&params, run);
    PGresult *res = NULL;
    rc = run_statement(store, ST_TI_CLAIM, &params, "claiming task instances", &res, err);
    if (!rc) collect_ids(res, ids, max, n);
    PQclear(res);
    return rc;
}

static int pg_ti_set_state(void *state, int64_t id, sl_meta_ti_state expected, sl_meta_ti_state ti_state,
                           const int *exit_status, bool *changed, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    bool is_finished = sl_meta_ti_state_is_finished(ti_state);
    pg_params params = { 0 };
    param_int(&params, id);
    param_text(&params, sl_meta_ti_state_name(expected));
    param_text(&params, sl_meta_ti_state_name(ti_state));
    param_bool(&params, ti_state == SL_META_TI_RUNNING);
    param_bool(&params, is_finished);
    param_bool(&params, is_finished && exit_status);
    if (exit_status) param_int(&params, *exit_status);
    else param_text(&params, NULL);
    int64_t n = 0;
    rc = run_only(store, ST_TI_SET_STATE, &params, "setting a task instance's state", &n, err);
    if (!rc) *changed = n > 0;
    return rc;
}

static int pg_ti_retry(void *state, int64_t id, int64_t *new_id, bool *created, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_int(&params, id);
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_UP_FOR_RETRY));
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_SCHEDULED));
    PGresult *res = NULL;
    rc = run_statement(store, ST_TI_RETRY_INSERT, &params, "retrying a task instance", &res, err);
    if (!rc && PQntuples(res) == 1) {
        *new_id = value_int(res, 0, 0);
        *created = true;
    }
    PQclear(res);
    if (rc || *created) return rc;
    /* Nothing inserted: the next try exists already, or this one cannot be retried. */
    params = (pg_params){ 0 };
    param_int(&params, id);
    rc = run_statement(store, ST_TI_RETRY_FIND, &params, "retrying a task instance", &res, err);
    if (!rc && PQntuples(res) == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no task instance %lld", store->where,
                                    (long long)id);
    else if (!rc && !PQgetisnull(res, 0, 0))
        *new_id = value_int(res, 0, 0);
    else if (!rc)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: task instance %lld cannot be retried: it "
                                    "is %s, try %lld of %lld", store->where, (long long)id, PQgetvalue(res, 0, 1),
                                    (long long)value_int(res, 0, 2), (long long)value_int(res, 0, 3));
    PQclear(res);
    return rc;
}

static int pg_ti_clear(void *state, int64_t run, const sl_meta_clear_task *tasks, size_t n, bool only_failed,
                       bool *cleared, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (!rc) rc = exec_sql(store, "BEGIN", "clearing task instances", err);
    if (rc) return rc;
    bool is_any = false;
    for (size_t i = 0; !rc && i < n; i++) {
        pg_params params = { 0 };
        param_int(&params, run);
        param_text(&params, tasks[i].task_id);
        param_int(&params, tasks[i].retries);
        param_text(&params, sl_meta_ti_state_name(SL_META_TI_NONE));
        param_text(&params, sl_meta_ti_state_name(SL_META_TI_FAILED));
        param_text(&params, sl_meta_ti_state_name(SL_META_TI_UPSTREAM_FAILED));
        param_text(&params, sl_meta_ti_state_name(SL_META_TI_SKIPPED));
        param_text(&params, sl_meta_ti_state_name(only_failed ? SL_META_TI_FAILED : SL_META_TI_SUCCESS));
        PGresult *res = NULL;
        rc = run_statement(store, ST_TI_CLEAR, &params, "clearing task instances", &res, err);
        if (!rc && PQntuples(res) > 0) cleared[i] = is_any = true;
        PQclear(res);
    }
    if (!rc && is_any) {
        pg_params params = { 0 };
        param_int(&params, run);
        param_text(&params, sl_meta_run_state_name(SL_META_RUN_QUEUED));
        rc = run_only(store, ST_RUN_REQUEUE, &params, "queueing a cleared dag run", NULL, err);
    }
    if (!rc) rc = exec_sql(store, "COMMIT", "clearing task instances", err);
    if (rc) rollback(store);
    return rc;
}

static int pg_ti_set_log(void *state, int64_t id, const char *log_path, const void *tail, size_t len,
                         sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_int(&params, id);
    param_text(&params, log_path);
    param_bytes(&params, tail, len);
    int64_t n = 0;
    rc = run_only(store, ST_TI_SET_LOG, &params, "storing a task's log", &n, err);
    if (!rc && n == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: no task instance %lld", store->where,
                                    (long long)id);
    return rc;
}

/* ---- servers ---- */

static int pg_server_register(void *state, const char *server_id, const char *hostname, int64_t pid, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, server_id);
    param_text(&params, hostname);
    param_int(&params, pid);
    return run_only(store, ST_SERVER_REGISTER, &params, "registering a server", NULL, err);
}

static int pg_server_heartbeat(void *state, const char *server_id, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, server_id);
    int64_t n = 0;
    rc = run_only(store, ST_SERVER_HEARTBEAT, &params, "recording a heartbeat", &n, err);
    if (!rc && n == 0)
        rc = sl_error_set_permanent(err, SL_ENOTFOUND, "metadata store %s: server %s is not registered",
                                    store->where, server_id);
    return rc;
}

static int pg_server_list(void *state, sl_meta_server_fn fn, void *context, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    PGresult *res = NULL;
    if (!rc) rc = run_statement(store, ST_SERVER_LIST, NULL, "listing servers", &res, err);
    for (int row = 0; !rc && row < PQntuples(res); row++) {
        sl_meta_server server = {
            .server_id = value_text(res, row, 0),
            .hostname = value_text(res, row, 1),
            .pid = value_int(res, row, 2),
            .started_at_us = value_int(res, row, 3),
            .heartbeat_us = value_int(res, row, 4),
        };
        rc = fn(context, &server);
    }
    PQclear(res);
    return rc;
}

/* ---- API tokens ---- */

static int pg_token_create(void *state, const char *name, const char *role, const char *token_hash, bool *created,
                           sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, name);
    param_text(&params, role);
    param_text(&params, token_hash);
    int64_t n = 0;
    rc = run_only(store, ST_TOKEN_INSERT, &params, "storing an API token", &n, err);
    *created = rc == SL_OK && n == 1;
    return rc;
}

static int pg_token_delete(void *state, const char *name, bool *found, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, name);
    int64_t n = 0;
    rc = run_only(store, ST_TOKEN_DELETE, &params, "removing an API token", &n, err);
    *found = rc == SL_OK && n > 0;
    return rc;
}

static int pg_token_list(void *state, sl_meta_token_fn fn, void *context, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    PGresult *res = NULL;
    if (!rc) rc = run_statement(store, ST_TOKEN_LIST, NULL, "listing API tokens", &res, err);
    for (int row = 0; !rc && row < PQntuples(res); row++) {
        sl_meta_token token = {
            .name = value_text(res, row, 0),
            .role = value_text(res, row, 1),
            .token_hash = value_text(res, row, 2),
            .created_at_us = value_int(res, row, 3),
        };
        rc = fn(context, &token);
    }
    PQclear(res);
    return rc;
}

static int pg_reap_stale(void *state, int64_t timeout_us, int64_t *ids, size_t max, size_t *n, sl_error *err)
{
    pg_store *store = state;
    int rc = ensure_connected(store, err);
    if (rc) return rc;
    pg_params params = { 0 };
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_UP_FOR_RETRY));
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_FAILED));
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_QUEUED));
    param_text(&params, sl_meta_ti_state_name(SL_META_TI_RUNNING));
    param_int(&params, timeout_us);
    param_int(&params, max > INT32_MAX ? INT32_MAX : (int64_t)max);
    PGresult *res = NULL;
    rc = run_statement(store, ST_REAP, &params, "failing the tasks of stale servers", &res, err);
    if (!rc) collect_ids(res, ids, max, n);
    PQclear(res);
    return rc;
}

const sl_metadata_ops sl_metadata_postgres_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .dag_upsert = pg_dag_upsert,
    .dag_set_paused = pg_dag_set_paused,
    .dag_list = pg_dag_list,
    .run_create = pg_run_create,
    .run_get = pg_run_get,
    .run_set_state = pg_run_set_state,
    .run_list = pg_run_list,
    .run_find = pg_run_find,
    .run_list_active = pg_run_list_active,
    .run_latest_interval_end = pg_run_latest_interval_end,
    .ti_create = pg_ti_create,
    .ti_get = pg_ti_get,
    .ti_list = pg_ti_list,
    .ti_claim = pg_ti_claim,
    .ti_set_state = pg_ti_set_state,
    .ti_retry = pg_ti_retry,
    .ti_clear = pg_ti_clear,
    .ti_set_log = pg_ti_set_log,
    .server_register = pg_server_register,
    .server_heartbeat = pg_server_heartbeat,
    .server_list = pg_server_list,
    .token_create = pg_token_create,
    .token_delete = pg_token_delete,
    .token_list = pg_token_list,
    .reap_stale = pg_reap_stale,
};
