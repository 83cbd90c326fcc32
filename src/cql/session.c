/* session.c — a CQL session (see session.h): contact points and the control
 * connection, the cluster's hosts and token ring from system.local and
 * system.peers, a lazily opened pool of connections per host, the one poll
 * loop, and the blocking requests (QUERY, PREPARE) with retries and schema
 * agreement. Writes with many requests in flight are in session_write.c.
 *
 * system.local / system.peers (native_protocol_v4.spec §4.2.6 and the
 * drivers' convention): a node is reached at its rpc_address, or at `peer`
 * when rpc_address is 0.0.0.0 (bound to every interface), on the port the
 * contact point used; `tokens` is a set<text> of Murmur3 tokens.
 */
#include "cql/session_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "cql/codec.h"

#define SCHEMA_AGREEMENT_MS 10000

/* ---- hosts and their connections ------------------------------------------ */

int sl__cql_next_backoff(const sl_cql_session *session, int backoff_ms)
{
    int first = session->config.first_backoff_ms, max = session->config.max_backoff_ms;
    if (backoff_ms < first) return first;
    return backoff_ms > max / 2 ? max : backoff_ms * 2;
}

void sl__cql_host_mark_down(sl_cql_session *session, size_t host)
{
    sl__cql_host *h = &session->hosts[host];
    h->backoff_ms = h->is_down ? sl__cql_next_backoff(session, h->backoff_ms) : session->config.first_backoff_ms;
    h->is_down = true;
    h->retry_at_ms = sl_clock_monotonic_ms() + h->backoff_ms;
    if (session->host_is_down) session->host_is_down[host] = true;
}

void sl__cql_hosts_refresh(sl_cql_session *session, int64_t now_ms)
{
    for (size_t i = 0; i < session->n_hosts; i++)
        if (session->host_is_down && session->hosts[i].is_down)
            session->host_is_down[i] = now_ms < session->hosts[i].retry_at_ms;
}

static void conn_options(const sl_cql_session *session, const char *ip, int port, sl_cql_conn_options *out)
{
    const sl_cql_session_config *c = &session->config;
    *out = (sl_cql_conn_options){
        .host = ip,
        .port = port,
        .username = c->username,
        .password = c->password,
        .compression = c->compression,
        .tls = session->tls,
        .tls_verify = c->tls_verify,
        .connect_timeout_ms = c->connect_timeout_ms,
        .max_streams = c->max_in_flight_per_connection,
        .application_name = c->application_name,
    };
}

int sl__cql_host_conn(sl_cql_session *session, size_t host, sl_cql_conn **out, sl_error *err)
{
    sl__cql_host *h = &session->hosts[host];
    size_t n_slots = (size_t)session->config.connections_per_host;
    if (h->is_down && sl_clock_monotonic_ms() < h->retry_at_ms)
        return sl_error_set(err, SL_EIO, "%s: down (retrying in %lld ms)", h->address,
                            (long long)(h->retry_at_ms - sl_clock_monotonic_ms()));
    for (size_t k = 0; k < n_slots; k++) {
        size_t slot = (h->next_conn + k) % n_slots;
        sl_cql_conn *conn = h->conns[slot];
        if (conn && (sl_cql_conn_is_broken(conn) || sl_cql_conn_free_streams(conn) == 0)) continue;
        if (!conn) {
            sl_cql_conn_options options;
            conn_options(session, h->ip, h->port, &options);
            int rc = sl_cql_conn_open(&options, &h->conns[slot], err);
            if (rc) {
                if (rc == SL_EIO) sl__cql_host_mark_down(session, host);
                return rc;
            }
            conn = h->conns[slot];
            h->is_down = false;
            h->backoff_ms = 0;
            if (session->host_is_down) session->host_is_down[host] = false;
        }
        h->next_conn = slot + 1;
        *out = conn;
        return SL_OK;
    }
    return sl_error_set(err, SL_EAGAIN, "%s: every connection has all its streams in use", h->address);
}

void sl__cql_host_close(sl__cql_host *h, size_t n_slots)
{
    if (!h->conns) return;
    for (size_t s = 0; s < n_slots; s++) sl_cql_conn_free(h->conns[s]);
    free(h->conns);
    h->conns = NULL;
}

/* ---- the poll loop ---------------------------------------------------------- */

static int reserve_poll(sl_cql_session *session, size_t n)
{
    if (n <= session->poll_capacity) return SL_OK;
    size_t capacity = n * 2;
    struct pollfd *fds = realloc(session->pollfds, capacity * sizeof *fds);
    if (fds) session->pollfds = fds;
    sl_cql_conn **conns = realloc(session->poll_conns, capacity * sizeof *conns);
    if (conns) session->poll_conns = conns;
    size_t *hosts = realloc(session->poll_hosts, capacity * sizeof *hosts);
    if (hosts) session->poll_hosts = hosts;
    if (!fds || !conns || !hosts) return SL_ENOMEM;
    session->poll_capacity = capacity;
    return SL_OK;
}

static void sync_answered(sl_cql_session *session, const sl_cql_header *header, const uint8_t *body)
{
    if (session->sync_state != SL__CQL_SYNC_WAITING) return;
    /* Rows are read in place from the body: keep a copy in the caller's arena. */
    uint8_t *copy = header->length ? sl_arena_alloc(session->sync_arena, header->length) : NULL;
    if (header->length && !copy) {
        sl_error_set(&session->sync_error, SL_ENOMEM, "out of memory for a %u-byte answer", header->length);
        session->sync_state = SL__CQL_SYNC_FAILED;
        return;
    }
    if (copy) memcpy(copy, body, header->length);
    int rc = sl_cql_decode_response(header, copy, header->length, session->sync_arena, session->sync_response,
                                    &session->sync_error);
    session->sync_state = rc ? SL__CQL_SYNC_FAILED : SL__CQL_SYNC_ANSWERED;
}

static void dispatch_lost(sl_cql_session *session, uint32_t tag, const sl_error *why)
{
    if (tag == SL__CQL_TAG_SYNC) {
        if (session->sync_state != SL__CQL_SYNC_WAITING) return;
        session->sync_error = *why;
        session->sync_state = SL__CQL_SYNC_FAILED;
        return;
    }
    sl__cql_write_lost(session, tag, why);
}

/* Reads every answer the connection has and, if it broke, reports the rest lost and closes it. */
static void drain_conn(sl_cql_session *session, size_t host, sl_cql_conn **slot, short revents)
{
    sl_cql_conn *conn = *slot;
    sl_error why;
    sl_error_clear(&why);
    int rc = revents ? sl_cql_conn_io(conn, revents, &why) : SL_OK;
    while (rc == SL_OK) {
        sl_cql_header header;
        const uint8_t *body = NULL;
        uint32_t tag = 0;
        rc = sl_cql_conn_next(conn, &header, &body, &tag, &why);
        if (rc != 1) break;
        rc = SL_OK;
        if (tag == SL__CQL_TAG_SYNC) sync_answered(session, &header, body);
        else sl__cql_write_answered(session, tag, host, &header, body);
    }
    if (!sl_cql_conn_is_broken(conn)) return;
    if (why.code == SL_OK) sl_error_set(&why, SL_EIO, "%s: connection closed", sl_cql_conn_name(conn));
    uint32_t tag = 0;
    while (sl_cql_conn_take_lost(conn, &tag)) dispatch_lost(session, tag, &why);
    sl_cql_conn_free(conn);
    *slot = NULL;
}

void sl__cql_session_pump(sl_cql_session *session, int timeout_ms)
{
    size_t n_slots = (size_t)session->config.connections_per_host, n = 0;
    if (reserve_poll(session, session->n_hosts * n_slots)) {
        sl_sleep_ms(timeout_ms > 10 ? 10 : timeout_ms);
        return;
    }
    for (size_t h = 0; h < session->n_hosts; h++) {
        for (size_t s = 0; s < n_slots && session->hosts[h].conns; s++) {
            sl_cql_conn *conn = session->hosts[h].conns[s];
            if (!conn) continue;
            session->pollfds[n] = (struct pollfd){ sl_cql_conn_fd(conn), sl_cql_conn_poll_events(conn), 0 };
            session->poll_conns[n] = conn;
            session->poll_hosts[n] = h;
            n++;
        }
    }
    if (n == 0) {
        if (timeout_ms > 0) sl_sleep_ms(timeout_ms);
        return;
    }
    int ready = poll(session->pollfds, n, timeout_ms);
    if (ready < 0 && errno != EINTR) sl_sleep_ms(1);
    for (size_t i = 0; ready > 0 && i < n; i++) {
        if (!session->pollfds[i].revents) continue;
        sl__cql_host *h = &session->hosts[session->poll_hosts[i]];
        for (size_t s = 0; s < n_slots; s++)
            if (h->conns[s] == session->poll_conns[i])
                drain_conn(session, session->poll_hosts[i], &h->conns[s], session->pollfds[i].revents);
    }
}

/* ---- blocking requests ------------------------------------------------------ */

typedef struct request {
    uint8_t opcode;                 /* QUERY or PREPARE */
    sl_str cql;
    const sl_cql_query_params *params;
} request;

static int build_request(sl_buffer *out, int stream, const request *r, sl_error *err)
{
    if (r->opcode == SL_CQL_OP_PREPARE) return sl_cql_build_prepare(out, (int16_t)stream, r->cql, err);
    return sl_cql_build_query(out, (int16_t)stream, r->cql, r->params, err);
}

/* One attempt on one host: sends, pumps until answered, lost or timed out.
 * SL_EIO / SL_ETIMEOUT for transport failures; the answer (maybe an ERROR)
 * is in *response otherwise. */
static int roundtrip(sl_cql_session *session, size_t host, const request *r, sl_arena *arena,
                     sl_cql_response *response, sl_error *err)
{
    sl_cql_conn *conn = NULL;
    int rc = sl__cql_host_conn(session, host, &conn, err);
    if (rc == SL_EAGAIN) {
        sl__cql_session_pump(session, 10);
        rc = sl__cql_host_conn(session, host, &conn, err);
        if (rc == SL_EAGAIN) rc = SL_EIO;
    }
    if (rc) return rc;
    int stream = sl_cql_conn_acquire(conn, SL__CQL_TAG_SYNC);
    sl_buffer *out = sl_cql_conn_output(conn);
    size_t start = out->len;
    rc = build_request(out, stream, r, err);
    if (rc == SL_OK) rc = sl_cql_conn_queued(conn, start, err);
    if (rc) {
        out->len = start;
        sl_cql_conn_release(conn, stream);
        return rc;
    }
    session->sync_state = SL__CQL_SYNC_WAITING;
    session->sync_arena = arena;
    session->sync_response = response;
    sl_error_clear(&session->sync_error);
    int64_t deadline = sl_clock_monotonic_ms() + session->config.request_timeout_ms;
    while (session->sync_state == SL__CQL_SYNC_WAITING) {
        int64_t left = deadline - sl_clock_monotonic_ms();
        if (left <= 0) {
            /* The connection may be gone by now; abandon the stream only if it is not. */
            sl__cql_host *h = &session->hosts[host];
            for (size_t s = 0; s < (size_t)session->config.connections_per_host; s++)
                if (h->conns[s] == conn) sl_cql_conn_abandon(conn, stream);
            session->sync_state = SL__CQL_SYNC_IDLE;
            return sl_error_set(err, SL_ETIMEOUT, "%s: no answer within %d ms", session->hosts[host].address,
                                session->config.request_timeout_ms);
        }
        sl__cql_session_pump(session, left > 1000 ? 1000 : (int)left);
    }
    bool answered = session->sync_state == SL__CQL_SYNC_ANSWERED;
    session->sync_state = SL__CQL_SYNC_IDLE;
    if (answered) return SL_OK;
    if (err) *err = session->sync_error;
    return session->sync_error.code ? session->sync_error.code : SL_EIO;
}

/* The code a final server refusal of a QUERY or PREPARE is returned as
 * (always a permanent error): SL_ECONFIG when the credentials or their
 * permissions are refused, SL_ESINK for the rest (a keyspace, table or
 * column that does not exist, a statement the server cannot take). */
static int refusal_code(int32_t server_code)
{
    switch (server_code) {
    case SL_CQL_ERR_UNAUTHORIZED:
    case SL_CQL_ERR_AUTHENTICATION: return SL_ECONFIG;
    default: return SL_ESINK;
    }
}

int sl__cql_live_host_from(const sl_cql_session *session, size_t from)
{
    for (size_t k = 0; k < session->n_hosts; k++) {
        size_t h = (from + k) % session->n_hosts;
        if (!session->host_is_down || !session->host_is_down[h]) return (int)h;
    }
    return -1;
}

/* The first live host from preferred on, or preferred itself when all are down. */
static size_t pick_host(sl_cql_session *session, size_t preferred)
{
    sl__cql_hosts_refresh(session, sl_clock_monotonic_ms());
    int h = sl__cql_live_host_from(session, preferred);
    return h >= 0 ? (size_t)h : preferred;
}

/* A request with retries: transport failures and retryable errors are tried
 * again (on the next live host when pinned is false) until the retry window
 * ends. An ERROR answer that is final becomes the return value. */
static int request_with_retry(sl_cql_session *session, size_t host, bool pinned, const request *r,
                              sl_arena *arena, sl_cql_response *response, size_t *used_host, sl_error *err)
{
    int64_t deadline = sl_clock_monotonic_ms() + session->config.retry_window_ms;
    int backoff = 0;
    for (;;) {
        size_t target = pinned ? host : pick_host(session, host);
        if (used_host) *used_host = target;
        int rc = roundtrip(session, target, r, arena, response, err);
        if (rc == SL_OK && response->opcode == SL_CQL_OP_ERROR) {
            const sl_cql_server_error *e = &response->error;
            rc = sl_error_set(err, sl_cql_error_is_retryable(e) ? SL_ESINK : refusal_code(e->code),
                              "%s: %s: %.*s", session->hosts[target].address, sl_cql_error_code_name(e->code),
                              (int)e->message.len, e->message.ptr);
            if (!sl_cql_error_is_retryable(e)) return sl_error_mark(err, SL_ERROR_PERMANENT);
        }
        if (rc == SL_OK || rc == SL_ECONFIG || rc == SL_ENOMEM || rc == SL_ECORRUPT) return rc;
        /* A request pinned to a node that cannot be reached returns at once: the
         * caller routes elsewhere (waiting out the window here held up every
         * write bound for the live nodes). */
        if (pinned && rc == SL_EIO) return rc;
        backoff = sl__cql_next_backoff(session, backoff);
        if (sl_clock_monotonic_ms() + backoff > deadline) {
            sl_error_prefix(err, "gave up after %d ms: ", session->config.retry_window_ms);
            sl_error_mark(err, SL_ERROR_TRANSIENT);   /* the runtime may retry later */
            return rc;
        }
        int64_t until = sl_clock_monotonic_ms() + backoff;
        while (sl_clock_monotonic_ms() < until) sl__cql_session_pump(session, (int)(until - sl_clock_monotonic_ms()));
        if (!pinned) host = target + 1;
    }
}

/* ---- statements -------------------------------------------------------------- */

static void statement_free(sl_cql_statement *statement)
{
    if (!statement) return;
    free(statement->is_prepared_on);
    sl_arena_free(statement->arena);
    free(statement);
}

int sl__cql_prepare_on(sl_cql_session *session, sl_cql_statement *statement, size_t host, sl_error *err)
{
    /* Not session->scratch: write answers dispatched while this waits reset that one. */
    sl_arena_reset(session->prepare_scratch);
    sl_cql_response response;
    request r = { SL_CQL_OP_PREPARE, sl_str_from(statement->cql), NULL };
    int rc = request_with_retry(session, host, true, &r, session->prepare_scratch, &response, NULL, err);
    if (rc == SL_OK && response.result_kind != SL_CQL_RESULT_PREPARED)
        rc = sl_error_set(err, SL_ECORRUPT, "%s: PREPARE answered without a prepared id",
                          session->hosts[host].address);
    if (rc == SL_OK && !sl_str_eq(response.prepared.id, statement->id))
        rc = sl_error_set(err, SL_ECORRUPT, "%s: the statement's prepared id differs from the other nodes'",
                          session->hosts[host].address);
    if (rc == SL_OK) statement->is_prepared_on[host] = true;
    return rc;
}

int sl_cql_session_prepare(sl_cql_session *session, const char *cql, const sl_cql_statement **out, sl_error *err)
{
    for (sl_cql_statement *s = session->statements; s; s = s->next) {
        if (strcmp(s->cql, cql) == 0) {
            *out = s;
            return SL_OK;
        }
    }
    int rc = SL_ENOMEM;
    sl_cql_statement *statement = calloc(1, sizeof *statement);
    if (!statement) goto fail;
    statement->arena = sl_arena_new(4096);
    statement->is_prepared_on = calloc(session->n_hosts, sizeof *statement->is_prepared_on);
    if (!statement->arena || !statement->is_prepared_on) goto fail;
    statement->cql = sl_arena_strndup(statement->arena, cql, strlen(cql));
    if (!statement->cql) goto fail;
    sl_cql_response response;
    request r = { SL_CQL_OP_PREPARE, sl_str_from(cql), NULL };
    size_t host = pick_host(session, session->control);
    rc = request_with_retry(session, host, false, &r, statement->arena, &response, &host, err);
    if (rc) goto done;
    if (response.result_kind != SL_CQL_RESULT_PREPARED) {
        rc = sl_error_set(err, SL_ECORRUPT, "PREPARE answered with result kind %d", (int)response.result_kind);
        goto done;
    }
    statement->id = response.prepared.id;
    statement->params = response.prepared.bind;
    statement->is_prepared_on[host] = true;
    statement->next = session->statements;
    session->statements = statement;
    *out = statement;
    return SL_OK;
fail:
    sl_error_set(err, rc, "out of memory preparing a statement");
done:
    statement_free(statement);
    return rc;
}

const sl_cql_metadata *sl_cql_statement_params(const sl_cql_statement *statement)
{
    return &statement->params;
}

/* ---- queries and schema agreement ------------------------------------------- */

int sl__cql_query_rows(sl_cql_session *session, size_t host, bool pinned, const char *cql, sl_arena *arena,
                       sl_cql_response *out, sl_error *err)
{
    sl_cql_query_params params = { .consistency = SL_CQL_ONE };
    request r = { SL_CQL_OP_QUERY, sl_str_from(cql), &params };
    int rc = request_with_retry(session, host, pinned, &r, arena, out, NULL, err);
    if (rc == SL_OK && (out->result_kind != SL_CQL_RESULT_ROWS || !out->rows.metadata.columns))
        rc = sl_error_set(err, SL_ECORRUPT, "%s: %s: expected rows", session->hosts[host].address, cql);
    return rc;
}

int sl__cql_column_index(const sl_cql_rows *rows, const char *name)
{
    for (int32_t i = 0; i < rows->metadata.n_columns; i++)
        if (sl_str_eq_cstr(rows->metadata.columns[i].name, name)) return (int)i;
    return -1;
}

int sl__cql_cell_value(const sl_cql_rows *rows, const sl_cql_cell *cells, int column, sl_arena *arena,
                       sl_value *out, sl_error *err)
{
    *out = sl_value_null();
    if (column < 0) return SL_OK;
    return sl_cql_decode_value(rows->metadata.columns[column].type, cells[column].ptr, cells[column].len, arena,
                               out, err);
}

/* Whether every live node reports the control node's schema version. */
static int schema_agrees(sl_cql_session *session, sl_arena *arena, bool *agrees, sl_error *err)
{
    sl_cql_response local, peers;
    size_t host = session->control;
    int rc = sl__cql_query_rows(session, host, true, "SELECT schema_version FROM system.local WHERE key='local'", arena,
                      &local, err);
    if (rc == SL_OK)
        rc = sl__cql_query_rows(session, host, true, "SELECT peer, rpc_address, schema_version FROM system.peers", arena,
                      &peers, err);
    if (rc) return rc;
    sl_cql_cell cells[8];
    sl_cql_row_iter iter;
    sl_value version = sl_value_null(), value;
    sl_cql_rows_begin(&local.rows, &iter);
    if (local.rows.metadata.n_columns > 8) return sl_error_set(err, SL_ECORRUPT, "system.local: too many columns");
    if (sl_cql_rows_next(&iter, cells, err) == 1)
        rc = sl__cql_cell_value(&local.rows, cells, sl__cql_column_index(&local.rows, "schema_version"), arena, &version, err);
    *agrees = true;
    if (peers.rows.metadata.n_columns > 8) return sl_error_set(err, SL_ECORRUPT, "system.peers: too many columns");
    sl_cql_rows_begin(&peers.rows, &iter);
    while (rc == SL_OK && sl_cql_rows_next(&iter, cells, err) == 1) {
        rc = sl__cql_cell_value(&peers.rows, cells, sl__cql_column_index(&peers.rows, "schema_version"), arena, &value, err);
        if (rc || value.type != SL_TYPE_STRING || version.type != SL_TYPE_STRING) continue;
        sl_value peer;
        rc = sl__cql_cell_value(&peers.rows, cells, sl__cql_column_index(&peers.rows, "peer"), arena, &peer, err);
        bool peer_is_down = false;
        for (size_t h = 0; rc == SL_OK && h < session->n_hosts && peer.type == SL_TYPE_STRING; h++)
            if (sl_str_eq_cstr(peer.string, session->hosts[h].ip)) peer_is_down = session->hosts[h].is_down;
        if (!peer_is_down && !sl_str_eq(value.string, version.string)) *agrees = false;
    }
    return rc;
}

static int await_schema_agreement(sl_cql_session *session, sl_error *err)
{
    sl_arena *arena = sl_arena_new(8192);
    if (!arena) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int64_t deadline = sl_clock_monotonic_ms() + SCHEMA_AGREEMENT_MS;
    int rc;
    for (;;) {
        bool agrees = false;
        sl_arena_reset(arena);
        rc = schema_agrees(session, arena, &agrees, err);
        if (rc || agrees) break;
        if (sl_clock_monotonic_ms() >= deadline) {
            rc = sl_error_set(err, SL_ETIMEOUT, "the nodes did not agree on the schema within %d s",
                              SCHEMA_AGREEMENT_MS / 1000);
            break;
        }
        sl__cql_session_pump(session, 200);
    }
    sl_arena_free(arena);
    return rc;
}

int sl_cql_session_query(sl_cql_session *session, const char *cql, const uint8_t *values, size_t values_len,
                         uint16_t n_values, sl_cql_consistency consistency, sl_arena *arena,
                         sl_cql_response *out, sl_error *err)
{
    sl_cql_query_params params = { .consistency = consistency, .values = values, .values_len = values_len,
                                   .n_values = n_values };
    request r = { SL_CQL_OP_QUERY, sl_str_from(cql), &params };
    int rc = request_with_retry(session, pick_host(session, session->control), false, &r, arena, out, NULL, err);
    if (rc == SL_OK && out->opcode == SL_CQL_OP_RESULT && out->result_kind == SL_CQL_RESULT_SCHEMA_CHANGE)
        rc = await_schema_agreement(session, err);
    return rc;
}

size_t sl_cql_session_host_count(const sl_cql_session *session)
{
    return session->n_hosts;
}

const char *sl_cql_session_host_for_token(const sl_cql_session *session, int64_t token)
{
    if (session->n_hosts == 0) return NULL;
    int host = sl_cql_ring_owner(&session->ring, token, session->host_is_down, session->n_hosts);
    if (host < 0) host = sl_cql_ring_owner(&session->ring, token, NULL, session->n_hosts);
    return session->hosts[host < 0 ? 0 : host].address;
}

/* ---- closing ------------------------------------------------------------------ */

void sl_cql_session_close(sl_cql_session *session)
{
    if (!session) return;
    for (size_t h = 0; h < session->n_hosts; h++) sl__cql_host_close(&session->hosts[h], (size_t)session->config.connections_per_host);
    free(session->hosts);
    free(session->host_is_down);
    sl_cql_ring_free(&session->ring);
    while (session->statements) {
        sl_cql_statement *next = session->statements->next;
        statement_free(session->statements);
        session->statements = next;
    }
    free(session->pollfds);
    free(session->poll_conns);
    free(session->poll_hosts);
    sl_arena_free(session->scratch);
    sl_arena_free(session->prepare_scratch);
    if (session->tls) SSL_CTX_free(session->tls);
    for (size_t i = 0; i < session->n_owned_strings; i++) {
        if (session->owned_strings[i]) memset(session->owned_strings[i], 0, strlen(session->owned_strings[i]));
        free(session->owned_strings[i]);
    }
    free(session->owned_strings);
    free((void *)session->config.hosts);
    free(session);
}
