/* session.h — a CQL session: connections to a Cassandra cluster, prepared
 * statements, token-aware routing, and many requests in flight
 * (native_protocol_v4.spec).
 *
 * One thread drives a session: every call does its own I/O with poll() on
 * non-blocking sockets until its requests are answered or time out, so no
 * background thread exists and nothing happens between calls (idle
 * connections are kept; a connection found broken is reopened on next use).
 *
 * Open: the first contact point that answers becomes the control
 * connection; system.local and system.peers give every node's address and
 * tokens (the ring). Each node gets up to `connections_per_host`
 * connections, opened when first needed, each with up to
 * `max_in_flight_per_connection` stream ids in use.
 *
 * Routing: a write carries the Murmur3 token of its partition key; it goes
 * to the node owning the first ring token >= that token (the primary
 * replica), or to the next live node when that one is down.
 *
 * Failures: a request answered with a retryable error (Overloaded,
 * Is_bootstrapping, Unavailable, Write/Read_timeout, Server_error) or lost
 * with its connection is sent again after a backoff (first_backoff_ms
 * doubling to max_backoff_ms) until retry_window_ms has passed since the
 * call began; Unprepared re-prepares the statement on that node and sends
 * again at once. Other server errors (Invalid, Syntax, Unauthorized, ...)
 * are final for that request and reported with the server's message.
 * docs/architecture.md gives the client's files and their jobs.
 */
#ifndef SL_CQL_SESSION_H
#define SL_CQL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/error.h"
#include "cql/cql_type.h"
#include "cql/frame.h"
#include "cql/messages.h"

typedef struct sl_cql_session sl_cql_session;

typedef struct sl_cql_session_config {
    const char *const *hosts;          /* contact points "host" or "host:port" */
    size_t n_hosts;
    int port;                          /* default port for hosts without one; 0 = 9042 */
    const char *username;              /* PasswordAuthenticator; NULL = no credentials */
    const char *password;
    bool compression;                  /* LZ4 frame compression when the server offers it */
    bool tls;                          /* TLS (OpenSSL) on every connection */
    const char *tls_ca_file;           /* verify the server against this CA (NULL: system CAs) */
    bool tls_verify;                   /* verify the certificate and host name (default true) */
    const char *tls_cert_file;         /* client certificate (optional) */
    const char *tls_key_file;
    int connect_timeout_ms;            /* 0 = 5000 */
    int request_timeout_ms;            /* per request attempt; 0 = 12000 */
    int retry_window_ms;               /* retrying a request stops after this; 0 = 30000 */
    int first_backoff_ms;              /* 0 = 100 */
    int max_backoff_ms;                /* 0 = 5000 */
    int connections_per_host;          /* 0 = 2 */
    int max_in_flight_per_connection;  /* 0 = 1024 (the protocol allows 32768) */
    const char *application_name;      /* sent in STARTUP as APPLICATION_NAME (optional) */
} sl_cql_session_config;

/* Connects to the first contact point that answers (STARTUP, AUTHENTICATE
 * with PLAIN credentials when asked, LZ4 when configured and offered),
 * reads the ring from system.local / system.peers. Errors name every host
 * tried and what it said (connection refused, bad credentials, ...). */
int sl_cql_session_open(const sl_cql_session_config *config, sl_cql_session **out, sl_error *err);

/* Closes every connection and frees the session, its prepared statements
 * and their metadata. Accepts NULL. */
void sl_cql_session_close(sl_cql_session *session);

/* Runs one unprepared statement with values (an already encoded run of
 * n_values [bytes], may be 0) at the given consistency, retrying as above;
 * the decoded response (a RESULT; an ERROR becomes the return value) lives
 * in arena. For DDL, system tables, tests.
 * A SCHEMA_CHANGE result waits (up to 10 s) for every node to agree on the
 * schema version before returning. */
int sl_cql_session_query(sl_cql_session *session, const char *cql, const uint8_t *values, size_t values_len,
                         uint16_t n_values, sl_cql_consistency consistency, sl_arena *arena,
                         sl_cql_response *out, sl_error *err);

/* A prepared statement, owned by the session (valid until close). */
typedef struct sl_cql_statement sl_cql_statement;

/* Prepares cql (on the control node; other nodes prepare it when first
 * used there). The same text prepared twice gives the same statement. */
int sl_cql_session_prepare(sl_cql_session *session, const char *cql, const sl_cql_statement **out, sl_error *err);

/* The bind variables' metadata (names, types, partition-key indexes). */
const sl_cql_metadata *sl_cql_statement_params(const sl_cql_statement *statement);

/* One write: EXECUTE of one row, or an UNLOGGED BATCH of several rows of
 * the same prepared statement. rows[i] holds row i's bound values as a run
 * of [bytes] (one per bind variable, in order). */
typedef struct sl_cql_write {
    const sl_cql_statement *statement;
    const sl_buffer *rows;
    size_t n_rows;
    int64_t token;                 /* Murmur3 token of the partition key (routing) */
    bool has_token;                /* false: any node */
    /* Filled by sl_cql_session_write: */
    int status;                    /* SL_OK, or why this write failed for good */
    int32_t server_code;           /* the server's error code when it refused; -1 otherwise */
    sl_error error;                /* the server's message, or the local failure */
    int64_t latency_us;            /* from the last attempt's send to its answer (when stored) */
} sl_cql_write;

typedef struct sl_cql_write_options {
    sl_cql_consistency consistency;
    int max_in_flight;             /* writes in flight at once over all connections; 0 = 256 */
} sl_cql_write_options;

/* Sends every write (up to max_in_flight at once), retrying retryable
 * failures as described above, and returns when each has a final status.
 * Returns SL_OK when every write has one (look at each write's status:
 * SL_ESINK with server_code for a refusal such as Invalid), or the first
 * failure that was still retryable when retry_window_ms ran out (no node
 * reachable, every attempt timed out): then some writes may be applied
 * and the caller retries them all later (inserts are upserts). */
int sl_cql_session_write(sl_cql_session *session, sl_cql_write *writes, size_t n_writes,
                         const sl_cql_write_options *options, sl_error *err);

/* Nodes known from system.local / system.peers, and how many are up now. */
size_t sl_cql_session_host_count(const sl_cql_session *session);

/* The address ("127.0.0.1:9042") of the node owning token (for tests). */
const char *sl_cql_session_host_for_token(const sl_cql_session *session, int64_t token);

#endif
