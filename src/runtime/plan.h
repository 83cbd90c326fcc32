/* plan.h — a configuration file turned into checked, ready-to-run parts.
 *
 * sl_plan_load reads the YAML (config/), checks every top-level key, each
 * pipeline's blocks against its connector's option table, compiles each
 * pipeline's SQL and checks DAGs' references, so that `sluice validate`
 * and `sluice run` report every config mistake before anything starts,
 * with file:line:column, all of them in one pass. The plan owns the
 * document, confs and programs.
 */
#ifndef SL_PLAN_H
#define SL_PLAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/diagnostics.h"
#include "connectors/connector.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/token_hash.h"
#include "sql/sql.h"

typedef struct sl_sink_plan {
    const sl_sink_ops *ops;
    void *conf;                 /* ops->conf_size bytes, filled by sl_options_apply */
    const sl_node *node;        /* the connector's settings block */
} sl_sink_plan;

typedef struct sl_pipeline_plan {
    const char *name;           /* borrowed from the document */
    const sl_node *node;
    const sl_source_ops *source_ops;
    void *source_conf;
    sl_sql_program *program;    /* NULL when there is no transform */
    sl_sink_plan *sinks;
    size_t n_sinks;
    int64_t workers;            /* worker threads (0 in the file = cores) */
    int64_t batch_size;         /* records per batch */
    int64_t max_inflight;       /* batches in flight at once (memory bound) */
    int64_t commit_interval_ms; /* how often source positions are persisted */
    int64_t retry_limit_ms;     /* how long a transient error is retried before the pipeline fails */
    char *dlq_topic;            /* dead-letter topic name */
    int64_t dlq_max_record_bytes; /* largest dead letter stored whole */
    int64_t watermark_delay_ms;   /* transform.watermark: a grouped statement's event time */
    int64_t allowed_lateness_ms;
    int64_t idle_timeout_ms;
    int64_t state_max_bytes;      /* transform.state.max_bytes */
    char *lookup_path;            /* the lookup join's table (transform.tables.NAME); NULL without one */
    char *lookup_table;
    int64_t lookup_cache_rows;
    int64_t lookup_cache_ttl_ms;
} sl_pipeline_plan;

/* A token of auth:, hashed when the file is loaded: the plan never keeps
 * the token itself. */
typedef struct sl_plan_token {
    char *name;
    char *role;                 /* "viewer", "operator" or "admin" */
    sl_token_hash hash;
} sl_plan_token;

typedef struct sl_plan {
    sl_config_doc *doc;
    const char *path;           /* the config file's path (borrowed) */
    char *data_dir;
    char *log_level;
    char *log_format;
    char *http_listen;          /* http.listen: where `sluice server` serves HTTP */
    char *http_tls_cert;        /* http.tls: PEM files (checked to match at load); NULL = plain HTTP */
    char *http_tls_key;
    bool has_auth;              /* auth: given; without it the API is open (loopback only) */
    sl_plan_token *tokens;      /* auth.tokens */
    size_t n_tokens;
    sl_pipeline_plan *pipelines;
    size_t n_pipelines;         /* 0 in a file of DAGs alone */
    size_t n_dags;
    char *metadata;             /* metadata: where the scheduler keeps run history (a path or postgres:// URL) */
    struct sl_alerts_conf *alerts; /* alerts: compiled (runtime/plan_alerts.h); NULL without one, and in derived plans */
    atomic_int extra_refs;      /* owners besides the first (sl_plan_retain) */
    struct sl_plan *base;       /* a derived plan's (sl_plan_derive), shared; else NULL */
    sl_arena *owned_arena;      /* a derived plan's nodes; else NULL */
} sl_plan;

/* Loads and checks path, reporting every mistake (and warning) to diags,
 * whose path should be path. Returns SL_OK with *out (the caller owns it)
 * when there is no error; else SL_ECONFIG (SL_EIO when the file cannot be
 * read, SL_ENOMEM) and *out NULL. */
int sl_plan_check(const char *path, sl_plan **out, sl_diagnostics *diags);

/* The same, keeping only the first mistake by position in err:
 * "file:line:column: what". */
int sl_plan_load(const char *path, sl_plan **out, sl_error *err);

/* Another owner of plan (the server's supervisor and scheduler share one):
 * each owner calls sl_plan_free once; the last call frees it. Safe from
 * any thread. */
sl_plan *sl_plan_retain(sl_plan *plan);

void sl_plan_free(sl_plan *plan);

/* A plan of one pipeline called name built from node, a changed copy of a
 * pipeline block of base (a DAG task's overrides and run macros applied,
 * config/node_edit.h) whose nodes live in arena, which the new plan takes
 * (also on failure). It shares base (its file, data dir and topics:). A
 * mistake in node is SL_ECONFIG with err "file:line:column: what". */
int sl_plan_derive(sl_plan *base, const char *name, const sl_node *node, sl_arena *arena, sl_plan **out,
                   sl_error *err);

/* The pipeline called name, or NULL. */
const sl_pipeline_plan *sl_plan_pipeline(const sl_plan *plan, const char *name);

#endif
