/* metadata.c — the metadata store's front: picks the backend from the
 * target, checks every argument and the schema version before handing an
 * operation to the backend's ops table (backend.h), fills the defaults of a
 * new run, and cuts a task's log to the tail the store keeps.
 */
#include "metadata/metadata.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "core/value.h"
#include "metadata/backend.h"
#include "metadata/migrations.h"

/* Most rows one page of runs may hold. */
#define RUN_PAGE_MAX 1000

struct sl_metadata {
    const sl_metadata_ops *ops;
    void *state;
    int version;
    char *where;
};

/* ---- opening ---- */

static bool has_prefix(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* n when target starts with a URL scheme of n characters and "://"
 * (RFC 3986: a letter, then letters, digits, '+', '-', '.'); else 0. */
static size_t scheme_length(const char *target)
{
    size_t n = 0;
    if (!isalpha((unsigned char)target[0])) return 0;
    while (isalnum((unsigned char)target[n]) || target[n] == '+' || target[n] == '-' || target[n] == '.') n++;
    return has_prefix(target + n, "://") ? n : 0;
}

int sl_metadata_latest_version(void)
{
    return sl_meta_migrations[sl_meta_n_migrations - 1].version;
}

int sl_metadata_open_version(const char *target, int version, sl_metadata **store, sl_error *err)
{
    *store = NULL;
    if (!target || !*target)
        return sl_error_set_permanent(err, SL_ECONFIG, "metadata store: no path or postgres:// URL given");
    if (version < 0 || version > sl_metadata_latest_version())
        return sl_error_set_permanent(err, SL_EINVAL, "metadata store: schema version %d is not one of 0..%d",
                                      version, sl_metadata_latest_version());
    bool is_postgres = has_prefix(target, "postgres://") || has_prefix(target, "postgresql://");
    size_t scheme = scheme_length(target);
    if (scheme && !is_postgres)
        return sl_error_set_permanent(err, SL_ECONFIG, "metadata store: unknown scheme '%.*s://': give a "
                                      "postgres:// URL or the path of an SQLite file", (int)scheme, target);
    sl_metadata *opened = calloc(1, sizeof *opened);
    if (!opened) return sl_error_set(err, SL_ENOMEM, "metadata store: no memory");
    opened->ops = is_postgres ? &sl_metadata_postgres_ops : &sl_metadata_sqlite_ops;
    int rc = opened->ops->open(target, version, &opened->state, &opened->version, &opened->where, err);
    if (rc) {
        free(opened);
        return rc;
    }
    *store = opened;
    return SL_OK;
}

int sl_metadata_open(const char *target, sl_metadata **store, sl_error *err)
{
    return sl_metadata_open_version(target, sl_metadata_latest_version(), store, err);
}

void sl_metadata_close(sl_metadata *store)
{
    if (!store) return;
    store->ops->close(store->state);
    free(store->where);
    free(store);
}

const char *sl_metadata_backend(const sl_metadata *store) { return store->ops->name; }
const char *sl_metadata_where(const sl_metadata *store) { return store->where; }
int sl_metadata_version(const sl_metadata *store) { return store->version; }

/* ---- argument checks ---- */

/* SL_OK when the store's schema is the latest (the operations' SQL needs it). */
static int check_version(const sl_metadata *store, sl_error *err)
{
    if (store->version == sl_metadata_latest_version()) return SL_OK;
    return sl_error_set_permanent(err, SL_ECONFIG, "metadata store %s: at schema version %d, not %d: it was "
                                  "opened for a look at an older schema; open it again to migrate it",
                                  store->where, store->version, sl_metadata_latest_version());
}

/* A DAG, run, task or server id: 1..SL_META_NAME_MAX bytes. */
static int check_name(const sl_metadata *store, const char *what, const char *name, sl_error *err)
{
    if (!name || !*name)
        return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: %s is empty", store->where, what);
    size_t len = strlen(name);
    if (len > SL_META_NAME_MAX)
        return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: %s '%.40s...' is %zu bytes, longer "
                                      "than %d", store->where, what, name, len, SL_META_NAME_MAX);
    return SL_OK;
}

static int check_run_state(const sl_metadata *store, const char *what, sl_meta_run_state state, sl_error *err)
{
    if (sl_meta_run_state_name(state)) return SL_OK;
    return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: %s is not a dag run state (%d)",
                                  store->where, what, (int)state);
}

static int check_ti_state(const sl_metadata *store, const char *what, sl_meta_ti_state state, sl_error *err)
{
    if (sl_meta_ti_state_name(state)) return SL_OK;
    return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: %s is not a task instance state (%d)",
                                  store->where, what, (int)state);
}

static int check_row_id(const sl_metadata *store, const char *what, int64_t id, sl_error *err)
{
    if (id > 0) return SL_OK;
    return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: %s id %lld is not a row id",
                                  store->where, what, (long long)id);
}

/* conf must be a JSON object. */
static int check_conf(const sl_metadata *store, const char *conf, sl_error *err)
{
    sl_arena *arena = sl_arena_new(1024);
    if (!arena) return sl_error_set(err, SL_ENOMEM, "metadata store %s: no memory", store->where);
    sl_value value;
    sl_error parse_err = { 0 };
    int rc = sl_json_parse(arena, conf, strlen(conf), &value, &parse_err);
    if (rc)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: dag run conf is not JSON: %s",
                                    store->where, parse_err.message);
    else if (value.type != SL_TYPE_OBJECT)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: dag run conf must be a JSON object, "
                                    "not %.40s", store->where, conf);
    sl_arena_free(arena);
    return rc;
}

/* ---- dags ---- */

int sl_metadata_dag_upsert(sl_metadata *store, const char *dag_id, const char *file_hash, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "dag id", dag_id, err);
    if (!rc && !file_hash)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: dag %s: no file hash", store->where,
                                    dag_id);
    return rc ? rc : store->ops->dag_upsert(store->state, dag_id, file_hash, err);
}

int sl_metadata_dag_set_paused(sl_metadata *store, const char *dag_id, bool is_paused, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "dag id", dag_id, err);
    return rc ? rc : store->ops->dag_set_paused(store->state, dag_id, is_paused, err);
}

int sl_metadata_dag_list(sl_metadata *store, sl_meta_dag_fn fn, void *context, sl_error *err)
{
    int rc = check_version(store, err);
    return rc ? rc : store->ops->dag_list(store->state, fn, context, err);
}

/* ---- dag runs ---- */

int sl_metadata_run_create(sl_metadata *store, const sl_meta_run_spec *spec, int64_t *id, bool *created,
                           sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "dag id", spec->dag_id, err);
    if (rc) return rc;
    const char *type_name = sl_meta_run_type_name(spec->run_type);
    if (!type_name)
        return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: dag %s: %d is not a run type",
                                      store->where, spec->dag_id, (int)spec->run_type);
    if (spec->data_interval_end_us < spec->data_interval_start_us)
        return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: dag %s: the data interval ends "
                                      "(%lld) before it starts (%lld)", store->where, spec->dag_id,
                                      (long long)spec->data_interval_end_us,
                                      (long long)spec->data_interval_start_us);
    sl_meta_run_spec filled = *spec;
    char run_id[SL_META_NAME_MAX + 1];
    if (!filled.run_id) {
        char date[SL_TIME_ISO_MAX];
        sl_time_format_offset(spec->data_interval_start_us, 0, date);
        snprintf(run_id, sizeof run_id, "%s__%s", type_name, date);
        filled.run_id = run_id;
    }
    if (!filled.conf) filled.conf = "{}";
    rc = check_name(store, "run id", filled.run_id, err);
    if (!rc) rc = check_conf(store, filled.conf, err);
    return rc ? rc : store->ops->run_create(store->state, &filled, id, created, err);
}

int sl_metadata_run_get(sl_metadata *store, int64_t id, sl_meta_run_fn fn, void *context, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "dag run", id, err);
    return rc ? rc : store->ops->run_get(store->state, id, fn, context, err);
}

int sl_metadata_run_set_state(sl_metadata *store, int64_t id, sl_meta_run_state expected, sl_meta_run_state state,
                              bool *changed, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "dag run", id, err);
    if (!rc) rc = check_run_state(store, "the expected state", expected, err);
    if (!rc) rc = check_run_state(store, "the new state", state, err);
    return rc ? rc : store->ops->run_set_state(store->state, id, expected, state, changed, err);
}

static int check_page(const sl_metadata *store, int limit, sl_error *err)
{
    if (limit >= 1 && limit <= RUN_PAGE_MAX) return SL_OK;
    return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: a page of runs holds 1..%d runs, not %d",
                                  store->where, RUN_PAGE_MAX, limit);
}

static int run_page(sl_metadata *store, const char *dag_id, const sl_meta_run_state *state,
                    const sl_meta_run_cursor *after, int limit, sl_meta_run_fn fn, void *context,
                    sl_meta_run_cursor *next, sl_error *err)
{
    next->is_set = false;
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "dag id", dag_id, err);
    if (!rc && state) rc = check_run_state(store, "the state asked for", *state, err);
    if (rc) return rc;
    rc = check_page(store, limit, err);
    if (rc) return rc;
    size_t n = 0;
    sl_meta_run_cursor last = { 0 };
    rc = store->ops->run_list(store->state, dag_id, state, after && after->is_set ? after : NULL, limit, fn,
                              context, &n, &last, err);
    if (!rc && n == (size_t)limit) {
        *next = last;
        next->is_set = true;
    }
    return rc;
}

int sl_metadata_run_list(sl_metadata *store, const char *dag_id, const sl_meta_run_cursor *after, int limit,
                         sl_meta_run_fn fn, void *context, sl_meta_run_cursor *next, sl_error *err)
{
    return run_page(store, dag_id, NULL, after, limit, fn, context, next, err);
}

int sl_metadata_run_list_state(sl_metadata *store, const char *dag_id, sl_meta_run_state state,
                               const sl_meta_run_cursor *after, int limit, sl_meta_run_fn fn, void *context,
                               sl_meta_run_cursor *next, sl_error *err)
{
    return run_page(store, dag_id, &state, after, limit, fn, context, next, err);
}

int sl_metadata_run_find(sl_metadata *store, const char *dag_id, const char *run_id, sl_meta_run_fn fn,
                         void *context, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "dag id", dag_id, err);
    if (!rc) rc = check_name(store, "run id", run_id, err);
    return rc ? rc : store->ops->run_find(store->state, dag_id, run_id, fn, context, err);
}

int sl_metadata_run_list_active(sl_metadata *store, const char *dag_id, int limit, sl_meta_run_fn fn, void *context,
                                sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "dag id", dag_id, err);
    if (rc) return rc;
    rc = check_page(store, limit, err);
    if (rc) return rc;
    return store->ops->run_list_active(store->state, dag_id, limit, fn, context, err);
}

int sl_metadata_run_latest_interval_end(sl_metadata *store, const char *dag_id, int64_t *end_us, bool *found,
                                        sl_error *err)
{
    *found = false;
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "dag id", dag_id, err);
    return rc ? rc : store->ops->run_latest_interval_end(store->state, dag_id, end_us, found, err);
}

/* ---- task instances ---- */

int sl_metadata_ti_create(sl_metadata *store, int64_t run, const char *const *task_ids, size_t n_tasks,
                          int max_tries, size_t *created, sl_error *err)
{
    size_t made = 0;
    if (created) *created = 0;
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "dag run", run, err);
    for (size_t i = 0; !rc && i < n_tasks; i++) rc = check_name(store, "task id", task_ids[i], err);
    if (!rc && max_tries < 1)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: max tries is %d: at least 1",
                                    store->where, max_tries);
    if (!rc && n_tasks) rc = store->ops->ti_create(store->state, run, task_ids, n_tasks, max_tries, &made, err);
    if (!rc && created) *created = made;
    return rc;
}

int sl_metadata_ti_get(sl_metadata *store, int64_t id, sl_meta_ti_fn fn, void *context, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "task instance", id, err);
    return rc ? rc : store->ops->ti_get(store->state, id, fn, context, err);
}

int sl_metadata_ti_list(sl_metadata *store, int64_t run, sl_meta_ti_fn fn, void *context, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "dag run", run, err);
    return rc ? rc : store->ops->ti_list(store->state, run, fn, context, err);
}

static int claim(sl_metadata *store, const char *server_id, int64_t run, int64_t *ids, size_t max, size_t *n,
                 sl_error *err)
{
    *n = 0;
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "server id", server_id, err);
    if (!rc && max < 1)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: a claim takes at least one task "
                                    "instance", store->where);
    return rc ? rc : store->ops->ti_claim(store->state, server_id, run, ids, max, n, err);
}

int sl_metadata_ti_claim(sl_metadata *store, const char *server_id, int64_t *ids, size_t max, size_t *n,
                         sl_error *err)
{
    return claim(store, server_id, 0, ids, max, n, err);
}

int sl_metadata_ti_claim_run(sl_metadata *store, const char *server_id, int64_t run, int64_t *ids, size_t max,
                             size_t *n, sl_error *err)
{
    *n = 0;
    int rc = check_row_id(store, "dag run", run, err);
    return rc ? rc : claim(store, server_id, run, ids, max, n, err);
}

int sl_metadata_ti_set_state(sl_metadata *store, int64_t id, sl_meta_ti_state expected, sl_meta_ti_state state,
                             const int *exit_status, bool *changed, sl_error *err)
{
    *changed = false;
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "task instance", id, err);
    if (!rc) rc = check_ti_state(store, "the expected state", expected, err);
    if (!rc) rc = check_ti_state(store, "the new state", state, err);
    return rc ? rc : store->ops->ti_set_state(store->state, id, expected, state, exit_status, changed, err);
}

int sl_metadata_ti_retry(sl_metadata *store, int64_t id, int64_t *new_id, bool *created, sl_error *err)
{
    *created = false;
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "task instance", id, err);
    return rc ? rc : store->ops->ti_retry(store->state, id, new_id, created, err);
}

int sl_metadata_ti_clear(sl_metadata *store, int64_t run, const sl_meta_clear_task *tasks, size_t n,
                         bool only_failed, bool *cleared, size_t *n_cleared, sl_error *err)
{
    if (n_cleared) *n_cleared = 0;
    if (cleared)
        for (size_t i = 0; i < n; i++) cleared[i] = false;
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "dag run", run, err);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = check_name(store, "task id", tasks[i].task_id, err);
        if (!rc && tasks[i].retries < 0)
            rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: task %s: %d retries: at least 0",
                                        store->where, tasks[i].task_id, tasks[i].retries);
    }
    if (rc || n == 0) return rc;
    bool *done = cleared ? cleared : calloc(n, sizeof *done);
    if (!done) return sl_error_set(err, SL_ENOMEM, "metadata store %s: no memory", store->where);
    rc = store->ops->ti_clear(store->state, run, tasks, n, only_failed, done, err);
    for (size_t i = 0; n_cleared && i < n; i++) *n_cleared += done[i] && !rc;
    if (rc)
        for (size_t i = 0; i < n; i++) done[i] = false;
    if (done != cleared) free(done);
    return rc;
}

/* Where the kept tail of log[0..len) starts: the last SL_METADATA_LOG_TAIL_MAX
 * bytes, less the continuation bytes of a UTF-8 character cut at the front. */
static size_t log_tail_start(const unsigned char *log, size_t len)
{
    if (len <= SL_METADATA_LOG_TAIL_MAX) return 0;
    size_t start = len - SL_METADATA_LOG_TAIL_MAX;
    for (int i = 0; i < 3 && start < len && (log[start] & 0xc0) == 0x80; i++) start++;
    return start;
}

int sl_metadata_ti_set_log(sl_metadata *store, int64_t id, const char *log_path, const void *log, size_t len,
                           sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_row_id(store, "task instance", id, err);
    if (rc) return rc;
    if (!log && len)
        return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: task instance %lld: a log of %zu bytes "
                                      "without its bytes", store->where, (long long)id, len);
    const unsigned char *bytes = log ? log : (const unsigned char *)"";
    size_t start = log_tail_start(bytes, len);
    return store->ops->ti_set_log(store->state, id, log_path, bytes + start, len - start, err);
}

int sl_metadata_ti_set_log_file(sl_metadata *store, int64_t id, const char *log_path, sl_error *err)
{
    int rc = check_version(store, err);
    if (rc) return rc;
    if (!log_path || !*log_path)
        return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: task instance %lld: no log file given",
                                      store->where, (long long)id);
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int errnum = errno;
        sl_error_set(err, SL_EIO, "task log %s: %s", log_path, strerror(errnum));
        return sl_error_mark(err, sl_error_class_of_errno(errnum));
    }
    struct stat st;
    unsigned char *tail = NULL;
    size_t got = 0;
    if (fstat(fd, &st) != 0) {
        int errnum = errno;
        rc = sl_error_set(err, SL_EIO, "task log %s: %s", log_path, strerror(errnum));
        sl_error_mark(err, sl_error_class_of_errno(errnum));
        goto done;
    }
    /* Three bytes more than the tail: the front of a character cut there. */
    size_t want = SL_METADATA_LOG_TAIL_MAX + 3;
    off_t from = st.st_size > (off_t)want ? st.st_size - (off_t)want : 0;
    tail = malloc(want);
    if (!tail) {
        rc = sl_error_set(err, SL_ENOMEM, "task log %s: no memory", log_path);
        goto done;
    }
    while (got < want) {
        ssize_t n = pread(fd, tail + got, want - got, from + (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int errnum = errno;
            rc = sl_error_set(err, SL_EIO, "task log %s: %s", log_path, strerror(errnum));
            sl_error_mark(err, sl_error_class_of_errno(errnum));
            goto done;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    rc = sl_metadata_ti_set_log(store, id, log_path, tail, got, err);
done:
    free(tail);
    close(fd);
    return rc;
}

/* ---- servers ---- */

int sl_metadata_server_register(sl_metadata *store, const char *server_id, const char *hostname, int64_t pid,
                                sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "server id", server_id, err);
    if (!rc) rc = check_name(store, "host name", hostname, err);
    return rc ? rc : store->ops->server_register(store->state, server_id, hostname, pid, err);
}

int sl_metadata_server_heartbeat(sl_metadata *store, const char *server_id, sl_error *err)
{
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "server id", server_id, err);
    return rc ? rc : store->ops->server_heartbeat(store->state, server_id, err);
}

int sl_metadata_server_list(sl_metadata *store, sl_meta_server_fn fn, void *context, sl_error *err)
{
    int rc = check_version(store, err);
    return rc ? rc : store->ops->server_list(store->state, fn, context, err);
}

/* ---- API tokens ---- */

static int check_role(sl_metadata *store, const char *role, sl_error *err)
{
    if (role && (strcmp(role, "viewer") == 0 || strcmp(role, "operator") == 0 || strcmp(role, "admin") == 0))
        return SL_OK;
    return sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: role '%s': give viewer, operator or admin",
                                  store->where, role ? role : "(none)");
}

int sl_metadata_token_create(sl_metadata *store, const char *name, const char *role, const char *token_hash,
                             bool *created, sl_error *err)
{
    *created = false;
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "token name", name, err);
    if (!rc) rc = check_role(store, role, err);
    if (!rc && (!token_hash || !strchr(token_hash, '$')))
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: token %s: the hash is not <salt>$<hash>",
                                    store->where, name);
    return rc ? rc : store->ops->token_create(store->state, name, role, token_hash, created, err);
}

int sl_metadata_token_delete(sl_metadata *store, const char *name, bool *found, sl_error *err)
{
    *found = false;
    int rc = check_version(store, err);
    if (!rc) rc = check_name(store, "token name", name, err);
    return rc ? rc : store->ops->token_delete(store->state, name, found, err);
}

int sl_metadata_token_list(sl_metadata *store, sl_meta_token_fn fn, void *context, sl_error *err)
{
    int rc = check_version(store, err);
    return rc ? rc : store->ops->token_list(store->state, fn, context, err);
}

int sl_metadata_reap_stale(sl_metadata *store, int64_t timeout_us, int64_t *ids, size_t max, size_t *n,
                           sl_error *err)
{
    *n = 0;
    int rc = check_version(store, err);
    if (!rc && timeout_us < 0)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: a heartbeat timeout of %lld µs: it "
                                    "cannot be negative", store->where, (long long)timeout_us);
    if (!rc && max < 1)
        rc = sl_error_set_permanent(err, SL_EINVAL, "metadata store %s: reaping takes room for at least one "
                                    "task instance", store->where);
    return rc ? rc : store->ops->reap_stale(store->state, timeout_us, ids, max, n, err);
}
