/* metadata_check.c — a small program over sluice's metadata store
 * (src/metadata/metadata.h) for tests/e2e/test_metadata_postgres.py, which
 * runs several of it at once against a real PostgreSQL and checks the
 * tables with psycopg, an independent client.
 *
 *   metadata_check TARGET version               migrates; prints the version
 *   metadata_check TARGET open-version V        migrates up to V only; prints the version
 *   metadata_check TARGET setup DAG START N TRIES
 *        a dag, its scheduled run starting at START (µs) and N tasks
 *        t000.. with TRIES tries each, all scheduled; prints the run's id
 *   metadata_check TARGET register SERVER       registers SERVER (host name, pid)
 *   metadata_check TARGET heartbeat SERVER
 *   metadata_check TARGET claim SERVER          claims one at a time until none is
 *        left; prints each claimed id on a line as it goes
 *   metadata_check TARGET reap TIMEOUT_S        fails the tasks of servers silent
 *        for TIMEOUT_S seconds; prints the ids
 *   metadata_check TARGET retry ID              the next try of ID; prints its id
 *        and "created" or "existing"
 *   metadata_check TARGET finish ID EXPECTED STATE [EXIT]
 *        compare-and-set; prints "changed" or "unchanged"
 *
 * TARGET is a postgres:// URL or an SQLite path. Exit 0 ok; 2 for a
 * permanent error, 75 (EX_TEMPFAIL) for a transient one, the message on
 * stderr as "metadata_check: <class>: <message>"; 64 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metadata/metadata.h"

static int fail(const sl_error *err)
{
    fprintf(stderr, "metadata_check: %s: %s\n", sl_error_class_name(err), err->message);
    return sl_error_is_transient(err) ? 75 : 2;
}

static int usage(void)
{
    fprintf(stderr, "usage: metadata_check TARGET version|open-version V|setup DAG START N TRIES|register SERVER|"
                    "heartbeat SERVER|claim SERVER|reap TIMEOUT_S|retry ID|finish ID EXPECTED STATE [EXIT]\n");
    return 64;
}

typedef struct ti_list {
    int64_t *ids;
    size_t n;
} ti_list;

static int collect(void *context, const sl_meta_ti *ti)
{
    ti_list *list = context;
    if (ti->state == SL_META_TI_NONE) list->ids[list->n++] = ti->id;
    return 0;
}

/* Every task of run that is none moves to scheduled. */
static int schedule_all(sl_metadata *store, int64_t run, size_t n, sl_error *err)
{
    ti_list list = { calloc(n + 1, sizeof(int64_t)), 0 };
    if (!list.ids) return sl_error_set(err, SL_ENOMEM, "no memory");
    int rc = sl_metadata_ti_list(store, run, collect, &list, err);
    for (size_t i = 0; !rc && i < list.n; i++) {
        bool changed = false;
        rc = sl_metadata_ti_set_state(store, list.ids[i], SL_META_TI_NONE, SL_META_TI_SCHEDULED, NULL, &changed, err);
    }
    free(list.ids);
    return rc;
}

static int setup(sl_metadata *store, char **argv, sl_error *err)
{
    const char *dag = argv[0];
    int64_t start = strtoll(argv[1], NULL, 10);
    int n = atoi(argv[2]), tries = atoi(argv[3]);
    int rc = sl_metadata_dag_upsert(store, dag, "e2e", err);
    sl_meta_run_spec spec = { .dag_id = dag, .run_type = SL_META_RUN_SCHEDULED, .data_interval_start_us = start,
                              .data_interval_end_us = start + 86400000000LL };
    int64_t run = 0;
    bool created = false;
    if (!rc) rc = sl_metadata_run_create(store, &spec, &run, &created, err);
    char (*names)[16] = calloc((size_t)n + 1, sizeof *names);
    const char **tasks = calloc((size_t)n + 1, sizeof *tasks);
    if (!names || !tasks) rc = sl_error_set(err, SL_ENOMEM, "no memory");
    for (int i = 0; !rc && i < n; i++) {
        snprintf(names[i], sizeof names[i], "t%03d", i);
        tasks[i] = names[i];
    }
    if (!rc) rc = sl_metadata_ti_create(store, run, tasks, (size_t)n, tries, NULL, err);
    free(names);
    free(tasks);
    if (!rc) rc = schedule_all(store, run, (size_t)n, err);
    if (rc) return rc;
    printf("%lld\n", (long long)run);
    return SL_OK;
}

static int claim(sl_metadata *store, const char *server, sl_error *err)
{
    for (;;) {
        int64_t id = 0;
        size_t n = 0;
        int rc = sl_metadata_ti_claim(store, server, &id, 1, &n, err);
        if (rc) return rc;
        if (n == 0) return SL_OK;
        printf("%lld\n", (long long)id);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) return usage();
    const char *target = argv[1], *command = argv[2];
    char **args = argv + 3;
    int n_args = argc - 3;
    sl_metadata *store = NULL;
    sl_error err = { 0 };
    int rc;
    if (strcmp(command, "open-version") == 0) {
        if (n_args != 1) return usage();
        rc = sl_metadata_open_version(target, atoi(args[0]), &store, &err);
    } else {
        rc = sl_metadata_open(target, &store, &err);
    }
    if (rc) return fail(&err);
    if (strcmp(command, "version") == 0 || strcmp(command, "open-version") == 0) {
        printf("%d\n", sl_metadata_version(store));
    } else if (strcmp(command, "setup") == 0 && n_args == 4) {
        rc = setup(store, args, &err);
    } else if (strcmp(command, "register") == 0 && n_args == 1) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        rc = sl_metadata_server_register(store, args[0], host, (int64_t)getpid(), &err);
    } else if (strcmp(command, "heartbeat") == 0 && n_args == 1) {
        rc = sl_metadata_server_heartbeat(store, args[0], &err);
    } else if (strcmp(command, "claim") == 0 && n_args == 1) {
        rc = claim(store, args[0], &err);
    } else if (strcmp(command, "reap") == 0 && n_args == 1) {
        int64_t ids[256];
        size_t n = 0;
        rc = sl_metadata_reap_stale(store, strtoll(args[0], NULL, 10) * 1000000, ids, 256, &n, &err);
        for (size_t i = 0; !rc && i < n; i++) printf("%lld\n", (long long)ids[i]);
    } else if (strcmp(command, "retry") == 0 && n_args == 1) {
        int64_t next = 0;
        bool created = false;
        rc = sl_metadata_ti_retry(store, strtoll(args[0], NULL, 10), &next, &created, &err);
        if (!rc) printf("%lld %s\n", (long long)next, created ? "created" : "existing");
    } else if (strcmp(command, "finish") == 0 && (n_args == 3 || n_args == 4)) {
        sl_meta_ti_state expected, state;
        rc = sl_meta_ti_state_parse(args[1], &expected, &err);
        if (!rc) rc = sl_meta_ti_state_parse(args[2], &state, &err);
        int exit_status = n_args == 4 ? atoi(args[3]) : 0;
        bool changed = false;
        if (!rc)
            rc = sl_metadata_ti_set_state(store, strtoll(args[0], NULL, 10), expected, state,
                                          n_args == 4 ? &exit_status : NULL, &changed, &err);
        if (!rc) printf("%s\n", changed ? "changed" : "unchanged");
    } else {
        sl_metadata_close(store);
        return usage();
    }
    sl_metadata_close(store);
    return rc ? fail(&err) : 0;
}
