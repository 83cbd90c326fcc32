/* session_internal.h — what session.c (hosts, pool, the poll loop, single
 * requests) and session_write.c (many writes in flight) share. Not for use
 * outside src/cql/session*.c.
 *
 * The one poll loop, sl__cql_session_pump(), serves every open connection
 * and hands each answer to its owner by tag: SL__CQL_TAG_SYNC for the one
 * blocking request a session call may be waiting for (a QUERY, a PREPARE),
 * any other tag is the index of a write of the sl_cql_session_write call in
 * progress. So a PREPARE needed in the middle of a write call still lets the
 * writes already in flight complete.
 */
#ifndef SL_CQL_SESSION_INTERNAL_H
#define SL_CQL_SESSION_INTERNAL_H

#include <arpa/inet.h>
#include <poll.h>

#include "cql/conn.h"
#include "cql/ring.h"
#include "cql/session.h"

#define SL__CQL_TAG_SYNC (SL_CQL_CONN_TAG_NONE - 1)

typedef struct sl__cql_host {
    char address[INET6_ADDRSTRLEN + 10]; /* "127.0.0.1:9042", "[::1]:9042" */
    char ip[INET6_ADDRSTRLEN];
    int port;
    char datacenter[64];
    bool is_down;                        /* a connection attempt failed */
    int64_t retry_at_ms;                 /* when down: the next attempt */
    int backoff_ms;                      /* the next down period */
    sl_cql_conn **conns;                 /* connections_per_host slots; NULL = not open */
    size_t next_conn;                    /* round robin over the slots */
} sl__cql_host;

struct sl_cql_statement {
    struct sl_cql_statement *next;
    sl_arena *arena;                     /* cql, id, params */
    char *cql;
    sl_str id;
    sl_cql_metadata params;
    bool *is_prepared_on;                /* per host */
};

/* The blocking request a session call waits for. */
typedef enum sl__cql_sync_state {
    SL__CQL_SYNC_IDLE = 0,
    SL__CQL_SYNC_WAITING,
    SL__CQL_SYNC_ANSWERED,
    SL__CQL_SYNC_FAILED,                 /* lost with its connection, or undecodable */
} sl__cql_sync_state;

typedef struct sl__cql_write_call sl__cql_write_call;

struct sl_cql_session {
    sl_cql_session_config config;        /* defaults filled; strings owned (below) */
    char **owned_strings;
    size_t n_owned_strings;
    SSL_CTX *tls;
    sl__cql_host *hosts;
    size_t n_hosts;
    bool *host_is_down;                  /* n_hosts, for ring lookups */
    sl_cql_ring ring;
    size_t control;                      /* host of the control connection */
    size_t next_host;                    /* round robin for writes without a token */
    sl_cql_statement *statements;
    struct pollfd *pollfds;
    sl_cql_conn **poll_conns;
    size_t *poll_hosts;
    size_t poll_capacity;
    sl_arena *scratch;                   /* decoding write answers; reset per answer */
    sl_arena *prepare_scratch;           /* answers of re-prepares on other hosts */
    /* The blocking request. */
    sl__cql_sync_state sync_state;
    sl_arena *sync_arena;
    sl_cql_response *sync_response;
    sl_error sync_error;
    /* The write call in progress, or NULL. */
    sl__cql_write_call *write_call;
};

/* Marks host down for its backoff (doubling up to max_backoff_ms). */
void sl__cql_host_mark_down(sl_cql_session *session, size_t host);

/* Hosts whose down period has passed count as up again (to be tried). */
void sl__cql_hosts_refresh(sl_cql_session *session, int64_t now_ms);

/* The first host from `from` on (wrapping) not marked down; -1 when all are. */
int sl__cql_live_host_from(const sl_cql_session *session, size_t from);

/* A connection to host with a free stream: an open one (round robin) or a
 * newly opened one while the pool has room. SL_EAGAIN when every open
 * connection is full and the pool is too; SL_EIO (host then marked down)
 * or SL_ECONFIG when it cannot connect. */
int sl__cql_host_conn(sl_cql_session *session, size_t host, sl_cql_conn **out, sl_error *err);

/* Polls every open connection for up to timeout_ms, does their I/O and
 * dispatches every complete answer; closes broken connections and reports
 * their requests as lost. */
void sl__cql_session_pump(sl_cql_session *session, int timeout_ms);

/* Prepares statement on host (blocking, the pump keeps running), marking it
 * prepared there. Server refusals come back as SL_ECONFIG. */
int sl__cql_prepare_on(sl_cql_session *session, sl_cql_statement *statement, size_t host, sl_error *err);

/* Runs a QUERY without values at ONE on host (only there when pinned, else
 * moving on to live hosts on failure) and expects rows. */
int sl__cql_query_rows(sl_cql_session *session, size_t host, bool pinned, const char *cql, sl_arena *arena,
                       sl_cql_response *out, sl_error *err);

/* The index of the column called name in rows, or -1. */
int sl__cql_column_index(const sl_cql_rows *rows, const char *name);

/* Decodes cells[column] into out (null when column < 0). */
int sl__cql_cell_value(const sl_cql_rows *rows, const sl_cql_cell *cells, int column, sl_arena *arena,
                       sl_value *out, sl_error *err);

/* Closes the host's connections and frees its slots. */
void sl__cql_host_close(sl__cql_host *h, size_t n_slots);

/* Called by the pump for a write's tag (session_write.c). */
void sl__cql_write_answered(sl_cql_session *session, uint32_t tag, size_t host, const sl_cql_header *header,
                            const uint8_t *body);
void sl__cql_write_lost(sl_cql_session *session, uint32_t tag, const sl_error *why);

/* The backoff after `backoff_ms`: doubled, within [first, max]. */
int sl__cql_next_backoff(const sl_cql_session *session, int backoff_ms);

#endif
