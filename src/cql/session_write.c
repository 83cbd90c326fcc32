/* session_write.c — sl_cql_session_write: many EXECUTEs / UNLOGGED BATCHes
 * in flight at once over every host's connections (see session.h).
 *
 * Each write moves through: fresh (not sent yet) -> in flight -> done, or
 * back to waiting (a retryable failure: its backoff, then sent again, maybe
 * to another host). One loop sends while fewer than max_in_flight writes
 * are out, then pumps every connection with poll() until the next timer
 * (an attempt's timeout or a backoff's end). Frames go straight into the
 * connections' output buffers, so everything sent in one round leaves in
 * one write() per connection.
 *
 * The retry window runs from the start of the call: once it has passed, no
 * new attempt starts, writes still in flight may finish, and every other
 * unfinished write gets the failure that kept it from finishing.
 */
#include "cql/session_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

typedef enum write_phase {
    PHASE_FRESH = 0,
    PHASE_WAITING,      /* in the waiting list, until ready_at */
    PHASE_IN_FLIGHT,
    PHASE_DONE,
} write_phase;

typedef struct write_state {
    write_phase phase;
    int backoff_ms;
    int64_t ready_at;
    int64_t sent_at;
    int64_t sent_at_us;     /* for the write's latency */
    sl_cql_conn *conn;
    int stream;
    size_t host;
    size_t in_flight_slot;  /* position in call->in_flight */
    bool gave_up;           /* still retryable when the window ended */
} write_state;

struct sl__cql_write_call {
    sl_cql_write *writes;
    size_t n_writes;
    write_state *states;
    size_t *in_flight;      /* write indexes */
    size_t n_in_flight;
    size_t *waiting;        /* write indexes */
    size_t n_waiting;
    size_t next_fresh;
    size_t n_done;
    int max_in_flight;
    sl_cql_consistency consistency;
};

/* ---- outcomes -------------------------------------------------------------- */

static void leave_in_flight(sl__cql_write_call *call, size_t w)
{
    write_state *state = &call->states[w];
    size_t slot = state->in_flight_slot;
    size_t last = call->in_flight[--call->n_in_flight];
    call->in_flight[slot] = last;
    call->states[last].in_flight_slot = slot;
    state->conn = NULL;
}

static void finish(sl__cql_write_call *call, size_t w, int status)
{
    call->writes[w].status = status;
    call->states[w].phase = PHASE_DONE;
    call->n_done++;
}

/* A failure worth another attempt: remembered, then the write waits out its backoff. */
static void retry_later(sl_cql_session *session, sl__cql_write_call *call, size_t w, int code, int32_t server_code,
                        const sl_error *why, int delay_ms)
{
    write_state *state = &call->states[w];
    sl_cql_write *write = &call->writes[w];
    write->status = code;
    write->server_code = server_code;
    write->error = *why;
    if (delay_ms < 0) {
        state->backoff_ms = sl__cql_next_backoff(session, state->backoff_ms);
        delay_ms = state->backoff_ms;
    }
    state->ready_at = sl_clock_monotonic_ms() + delay_ms;
    state->phase = PHASE_WAITING;
    call->waiting[call->n_waiting++] = w;
}

void sl__cql_write_answered(sl_cql_session *session, uint32_t tag, size_t host, const sl_cql_header *header,
                            const uint8_t *body)
{
    sl__cql_write_call *call = session->write_call;
    if (!call || tag >= call->n_writes || call->states[tag].phase != PHASE_IN_FLIGHT) return;
    size_t w = tag;
    leave_in_flight(call, w);
    sl_cql_write *write = &call->writes[w];
    if (header->opcode == SL_CQL_OP_RESULT) {
        write->server_code = -1;
        write->latency_us = sl_clock_monotonic_us() - call->states[w].sent_at_us;
        finish(call, w, SL_OK);
        return;
    }
    sl_arena_reset(session->scratch);
    sl_cql_response response;
    sl_error why;
    int rc = sl_cql_decode_response(header, body, header->length, session->scratch, &response, &why);
    if (rc == SL_OK && response.opcode != SL_CQL_OP_ERROR)
        rc = sl_error_set(&why, SL_ECORRUPT, "%s answered a write with %s", session->hosts[host].address,
                          sl_cql_opcode_name(response.opcode));
    if (rc) {
        write->server_code = -1;
        write->error = why;
        finish(call, w, rc);
        return;
    }
    const sl_cql_server_error *e = &response.error;
    sl_error_set(&why, SL_ESINK, "%s: %s: %.*s", session->hosts[host].address, sl_cql_error_code_name(e->code),
                 (int)e->message.len, e->message.ptr);
    if (e->code == SL_CQL_ERR_UNPREPARED) {
        /* The node forgot the statement (restarted): prepare it there again, then resend at once. */
        ((sl_cql_statement *)write->statement)->is_prepared_on[host] = false;
        retry_later(session, call, w, SL_ESINK, e->code, &why, 0);
    } else if (sl_cql_error_is_retryable(e)) {
        retry_later(session, call, w, SL_ESINK, e->code, &why, -1);
    } else {
        write->server_code = e->code;
        write->error = why;
        finish(call, w, SL_ESINK);
    }
}

void sl__cql_write_lost(sl_cql_session *session, uint32_t tag, const sl_error *why)
{
    sl__cql_write_call *call = session->write_call;
    if (!call || tag >= call->n_writes || call->states[tag].phase != PHASE_IN_FLIGHT) return;
    leave_in_flight(call, tag);
    retry_later(session, call, tag, SL_EIO, -1, why, -1);
}

/* ---- sending ----------------------------------------------------------------- */

/* The host a write goes to: its token's owner (skipping down hosts), or
 * round robin over live hosts. -1 when every host is down. */
static int route(sl_cql_session *session, const sl_cql_write *write)
{
    if (write->has_token && session->ring.n_entries)
        return sl_cql_ring_owner(&session->ring, write->token, session->host_is_down, session->n_hosts);
    int h = sl__cql_live_host_from(session, session->next_host);
    if (h >= 0) session->next_host = (size_t)h + 1;
    return h;
}

static int build_frame(const sl__cql_write_call *call, const sl_cql_write *write, sl_buffer *out, int stream,
                       sl_error *err)
{
    const sl_cql_statement *statement = write->statement;
    size_t n_values = (size_t)statement->params.n_columns;
    if (write->n_rows == 1) {
        sl_cql_query_params params = { .consistency = call->consistency, .values = write->rows[0].data,
                                       .values_len = write->rows[0].len, .n_values = n_values };
        return sl_cql_build_execute(out, (int16_t)stream, statement->id, &params, err);
    }
    sl_cql_batch_builder builder;
    int rc = sl_cql_batch_begin(out, (int16_t)stream, SL_CQL_BATCH_UNLOGGED, &builder, err);
    for (size_t r = 0; r < write->n_rows && rc == SL_OK; r++) {
        sl_cql_batch_statement item = { .prepared_id = statement->id, .values = write->rows[r].data,
                                        .values_len = write->rows[r].len, .n_values = n_values };
        rc = sl_cql_batch_add(out, &builder, &item, err);
        if (rc) sl_cql_batch_cancel(out, &builder);
    }
    if (rc == SL_OK) {
        sl_cql_batch_options options = { .consistency = call->consistency };
        rc = sl_cql_batch_end(out, &builder, &options, err);
    }
    return rc;
}

/* Sends write w. Returns SL_OK when it is in flight or has a final status,
 * SL_EAGAIN when no stream is free on its host (it stays where it was), or
 * a failure the caller retries later (why filled). */
static int unreachable(sl_error *why)
{
    char last[sizeof why->message];
    snprintf(last, sizeof last, "%s", why->message[0] ? why->message : "every node is marked down");
    return sl_error_set(why, SL_EIO, "no Cassandra node is reachable (last: %s)", last);
}

static int send_write(sl_cql_session *session, sl__cql_write_call *call, size_t w, sl_error *why)
{
    sl_cql_write *write = &call->writes[w];
    write_state *state = &call->states[w];
    if (write->n_rows == 0 || !write->statement) {
        finish(call, w, write->statement ? SL_OK : SL_EINVAL);
        return SL_OK;
    }
    for (size_t tries = 0; tries <= session->n_hosts; tries++) {
        int host = route(session, write);
        if (host < 0) return unreachable(why);
        sl_cql_statement *statement = (sl_cql_statement *)write->statement;
        int rc = SL_OK;
        if (!statement->is_prepared_on[host]) rc = sl__cql_prepare_on(session, statement, (size_t)host, why);
        if (rc == SL_EIO) {
            /* Unreachable while preparing: that host is down, routing moves on. */
            if (!session->hosts[host].is_down) sl__cql_host_mark_down(session, (size_t)host);
            continue;
        }
        if (rc == SL_ECONFIG || rc == SL_ESINK || rc == SL_ECORRUPT || rc == SL_ENOMEM) {
            write->server_code = -1;
            write->error = *why;
            finish(call, w, rc == SL_ECONFIG ? SL_ESINK : rc);
            return SL_OK;
        }
        sl_cql_conn *conn = NULL;
        if (rc == SL_OK) rc = sl__cql_host_conn(session, (size_t)host, &conn, why);
        if (rc == SL_EAGAIN) return rc;
        if (rc == SL_ECONFIG) {
            write->server_code = -1;
            write->error = *why;
            finish(call, w, SL_ECONFIG);
            return SL_OK;
        }
        if (rc) {
            /* Unreachable: that host is now down, so routing moves on to the next. */
            if (!session->hosts[host].is_down) sl__cql_host_mark_down(session, (size_t)host);
            continue;
        }
        int stream = sl_cql_conn_acquire(conn, (uint32_t)w);
        sl_buffer *out = sl_cql_conn_output(conn);
        size_t start = out->len;
        rc = build_frame(call, write, out, stream, why);
        if (rc == SL_OK) rc = sl_cql_conn_queued(conn, start, why);
        if (rc) {
            out->len = start;
            sl_cql_conn_release(conn, stream);
            write->server_code = -1;
            write->error = *why;
            finish(call, w, rc);
            return SL_OK;
        }
        state->phase = PHASE_IN_FLIGHT;
        state->conn = conn;
        state->stream = stream;
        state->host = (size_t)host;
        state->sent_at = sl_clock_monotonic_ms();
        state->sent_at_us = sl_clock_monotonic_us();
        state->in_flight_slot = call->n_in_flight;
        call->in_flight[call->n_in_flight++] = w;
        return SL_OK;
    }
    return unreachable(why);
}

/* Sends waiting writes whose time has come, then fresh ones, while there is room. */
static void send_ready(sl_cql_session *session, sl__cql_write_call *call, int64_t now)
{
    size_t i = 0;
    while (i < call->n_waiting && call->n_in_flight < (size_t)call->max_in_flight) {
        size_t w = call->waiting[i];
        if (call->states[w].ready_at > now) {
            i++;
            continue;
        }
        call->waiting[i] = call->waiting[--call->n_waiting];
        sl_error why = call->writes[w].error;
        int rc = send_write(session, call, w, &why);
        if (rc == SL_EAGAIN) {
            call->waiting[call->n_waiting++] = w;
            return;
        }
        if (rc) retry_later(session, call, w, rc, -1, &why, -1);
    }
    while (call->next_fresh < call->n_writes && call->n_in_flight < (size_t)call->max_in_flight) {
        size_t w = call->next_fresh;
        sl_error why;
        sl_error_clear(&why);
        int rc = send_write(session, call, w, &why);
        if (rc == SL_EAGAIN) return;
        call->next_fresh++;
        if (rc) retry_later(session, call, w, rc, -1, &why, -1);
    }
}

/* Attempts past request_timeout_ms are given up (their streams abandoned) and retried. */
static void expire_attempts(sl_cql_session *session, sl__cql_write_call *call, int64_t now)
{
    size_t i = 0;
    while (i < call->n_in_flight) {
        size_t w = call->in_flight[i];
        write_state *state = &call->states[w];
        if (now - state->sent_at < session->config.request_timeout_ms) {
            i++;
            continue;
        }
        sl_cql_conn_abandon(state->conn, state->stream);
        sl_error why;
        sl_error_set(&why, SL_ETIMEOUT, "%s: no answer within %d ms", session->hosts[state->host].address,
                     session->config.request_timeout_ms);
        leave_in_flight(call, w);
        retry_later(session, call, w, SL_ETIMEOUT, -1, &why, -1);
    }
}

/* How long the loop may sleep in poll: until the next attempt times out or
 * the next waiting write is due (at most 100 ms). */
static int next_timer_ms(const sl_cql_session *session, const sl__cql_write_call *call, int64_t now)
{
    int64_t soonest = now + 100;
    for (size_t i = 0; i < call->n_in_flight; i++) {
        int64_t t = call->states[call->in_flight[i]].sent_at + session->config.request_timeout_ms;
        if (t < soonest) soonest = t;
    }
    for (size_t i = 0; i < call->n_waiting; i++)
        if (call->states[call->waiting[i]].ready_at < soonest) soonest = call->states[call->waiting[i]].ready_at;
    if (call->n_waiting && call->n_in_flight < (size_t)call->max_in_flight && soonest < now + 1) soonest = now + 1;
    return soonest <= now ? 0 : (int)(soonest - now);
}

/* The window has passed: every write not in flight fails with what stopped it. */
static void give_up_waiting(sl__cql_write_call *call)
{
    for (size_t i = 0; i < call->n_waiting; i++) {
        size_t w = call->waiting[i];
        call->states[w].gave_up = true;
        finish(call, w, call->writes[w].status);
    }
    call->n_waiting = 0;
    for (; call->next_fresh < call->n_writes; call->next_fresh++) {
        sl_cql_write *write = &call->writes[call->next_fresh];
        sl_error_set(&write->error, SL_ETIMEOUT, "not sent: the retry window ended first");
        call->states[call->next_fresh].gave_up = true;
        finish(call, call->next_fresh, SL_ETIMEOUT);
    }
}

int sl_cql_session_write(sl_cql_session *session, sl_cql_write *writes, size_t n_writes,
                         const sl_cql_write_options *options, sl_error *err)
{
    if (n_writes == 0) return SL_OK;
    if (n_writes >= SL__CQL_TAG_SYNC) return sl_error_set(err, SL_EINVAL, "too many writes in one call");
    sl__cql_write_call call = {
        .writes = writes,
        .n_writes = n_writes,
        .max_in_flight = options && options->max_in_flight > 0 ? options->max_in_flight : 256,
        .consistency = options ? options->consistency : SL_CQL_ONE,
    };
    call.states = calloc(n_writes, sizeof *call.states);
    call.in_flight = malloc(n_writes * sizeof *call.in_flight);
    call.waiting = malloc(n_writes * sizeof *call.waiting);
    int rc = SL_OK;
    if (!call.states || !call.in_flight || !call.waiting) {
        rc = sl_error_set(err, SL_ENOMEM, "out of memory for %zu writes", n_writes);
        goto done;
    }
    for (size_t w = 0; w < n_writes; w++) {
        writes[w].status = SL_OK;
        writes[w].server_code = -1;
        sl_error_clear(&writes[w].error);
    }
    session->write_call = &call;
    int64_t deadline = sl_clock_monotonic_ms() + session->config.retry_window_ms;
    while (call.n_done < n_writes) {
        int64_t now = sl_clock_monotonic_ms();
        sl__cql_hosts_refresh(session, now);
        expire_attempts(session, &call, now);
        if (now < deadline) send_ready(session, &call, now);
        else give_up_waiting(&call);
        if (call.n_done == n_writes) break;
        sl__cql_session_pump(session, next_timer_ms(session, &call, sl_clock_monotonic_ms()));
    }
    session->write_call = NULL;
    /* The first write that failed while still retryable decides the return value. */
    for (size_t w = 0; w < n_writes; w++) {
        if (!call.states[w].gave_up) continue;
        rc = sl_error_set(err, writes[w].status ? writes[w].status : SL_EIO, "%s", writes[w].error.message);
        break;
    }
done:
    free(call.states);
    free(call.in_flight);
    free(call.waiting);
    return rc;
}
