/* session_open.c — opening a CQL session (see session.h): the config with
 * its defaults, the first contact point that answers, and the cluster's
 * hosts and token ring read from system.local and system.peers over that
 * control connection.
 *
 * The node the control connection reached is system.local, so it becomes
 * host 0 and keeps that connection; every peer is reached at its
 * rpc_address (or `peer` when rpc_address is 0.0.0.0) on the contact
 * point's port. The hosts array is never resized after open, so the
 * address strings sl_cql_session_host_for_token returns stay put.
 */
#include "core/address.h"
#include "cql/session_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOPOLOGY_COLUMNS 16

/* ---- config ----------------------------------------------------------------- */

static int own_string(sl_cql_session *session, const char **field)
{
    if (!*field) return SL_OK;
    char *copy = strdup(*field);
    if (!copy) return SL_ENOMEM;
    session->owned_strings[session->n_owned_strings++] = copy;
    *field = copy;
    return SL_OK;
}

static int default_int(int value, int fallback)
{
    return value > 0 ? value : fallback;
}

static int copy_config(sl_cql_session *session, const sl_cql_session_config *config, sl_error *err)
{
    sl_cql_session_config *c = &session->config;
    *c = *config;
    c->port = default_int(c->port, 9042);
    c->connect_timeout_ms = default_int(c->connect_timeout_ms, 5000);
    c->request_timeout_ms = default_int(c->request_timeout_ms, 12000);
    c->retry_window_ms = default_int(c->retry_window_ms, 30000);
    c->first_backoff_ms = default_int(c->first_backoff_ms, 100);
    c->max_backoff_ms = default_int(c->max_backoff_ms, 5000);
    if (c->max_backoff_ms < c->first_backoff_ms) c->max_backoff_ms = c->first_backoff_ms;
    c->connections_per_host = default_int(c->connections_per_host, 2);
    c->max_in_flight_per_connection = default_int(c->max_in_flight_per_connection, 1024);
    if (c->max_in_flight_per_connection > 32768) c->max_in_flight_per_connection = 32768;
    size_t n_strings = config->n_hosts + 6;
    session->owned_strings = calloc(n_strings, sizeof *session->owned_strings);
    const char **hosts = calloc(config->n_hosts ? config->n_hosts : 1, sizeof *hosts);
    c->hosts = hosts;
    if (!session->owned_strings || !hosts) return sl_error_set(err, SL_ENOMEM, "out of memory");
    int rc = SL_OK;
    for (size_t i = 0; i < config->n_hosts && rc == SL_OK; i++) {
        hosts[i] = config->hosts[i];
        rc = own_string(session, &hosts[i]);
    }
    const char **fields[] = { &c->username, &c->password, &c->tls_ca_file, &c->tls_cert_file, &c->tls_key_file,
                              &c->application_name };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && rc == SL_OK; i++) rc = own_string(session, fields[i]);
    if (rc) return sl_error_set(err, SL_ENOMEM, "out of memory");
    if (config->n_hosts == 0) return sl_error_set(err, SL_ECONFIG, "no contact point (hosts) given");
    return SL_OK;
}

static void set_address(sl__cql_host *h, const char *ip, int port)
{
    snprintf(h->ip, sizeof h->ip, "%s", ip);
    h->port = port;
    snprintf(h->address, sizeof h->address, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, port);
}

static int host_init(sl_cql_session *session, sl__cql_host *h, const char *ip, int port)
{
    set_address(h, ip, port);
    h->conns = calloc((size_t)session->config.connections_per_host, sizeof *h->conns);
    return h->conns ? SL_OK : SL_ENOMEM;
}

/* ---- contact points ----------------------------------------------------------- */

/* Connects to the first contact point that answers; session->hosts is then
 * that one host with the connection in slot 0. */
static int connect_contact_point(sl_cql_session *session, sl_error *err)
{
    char tried[1024] = "";
    size_t used = 0;
    session->hosts = calloc(1, sizeof *session->hosts);
    session->host_is_down = calloc(1, sizeof *session->host_is_down);
    if (!session->hosts || !session->host_is_down) return sl_error_set(err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < session->config.n_hosts; i++) {
        char host[256];
        int port = 0;
        int rc = sl_address_parse(session->config.hosts[i], session->config.port, false, host, sizeof host, &port,
                                  err);
        if (rc) {
            sl_error_prefix(err, "contact point ");
            return rc;
        }
        sl_cql_conn_options options = {
            .host = host,
            .port = port,
            .username = session->config.username,
            .password = session->config.password,
            .compression = session->config.compression,
            .tls = session->tls,
            .tls_verify = session->config.tls_verify,
            .connect_timeout_ms = session->config.connect_timeout_ms,
            .max_streams = session->config.max_in_flight_per_connection,
            .application_name = session->config.application_name,
        };
        sl_cql_conn *conn = NULL;
        sl_error why;
        rc = sl_cql_conn_open(&options, &conn, &why);
        if (rc == SL_OK) {
            rc = host_init(session, &session->hosts[0], sl_cql_conn_peer_address(conn), port);
            if (rc) {
                sl_cql_conn_free(conn);
                return sl_error_set(err, rc, "out of memory");
            }
            session->hosts[0].conns[0] = conn;
            session->n_hosts = 1;
            return SL_OK;
        }
        /* Refused credentials are refused by every node alike. */
        if (rc != SL_EIO) {
            if (err) *err = why;
            return rc;
        }
        int n = snprintf(tried + used, sizeof tried - used, "%s%s", used ? "; " : "", why.message);
        if (n > 0) used = used + (size_t)n < sizeof tried ? used + (size_t)n : sizeof tried - 1;
    }
    return sl_error_set(err, SL_EIO, "no Cassandra contact point answered: %s", tried);
}

/* ---- topology -------------------------------------------------------------------- */

typedef struct node_row {
    sl_value address;   /* STRING, or null */
    sl_value datacenter;
    sl_value tokens;    /* ARRAY of STRING */
} node_row;

/* Reads one system.local / system.peers row's address, data center and tokens. */
static int read_node(const sl_cql_rows *rows, const sl_cql_cell *cells, const char *fallback_column,
                     const char *fallback_address, sl_arena *arena, node_row *out, sl_error *err)
{
    int rc = sl__cql_cell_value(rows, cells, sl__cql_column_index(rows, "rpc_address"), arena, &out->address, err);
    bool unusable = out->address.type != SL_TYPE_STRING || sl_str_eq_cstr(out->address.string, "0.0.0.0") ||
                    sl_str_eq_cstr(out->address.string, "::");
    if (rc == SL_OK && unusable && fallback_column)
        rc = sl__cql_cell_value(rows, cells, sl__cql_column_index(rows, fallback_column), arena, &out->address, err);
    else if (rc == SL_OK && unusable)
        out->address = sl_value_string(sl_str_from(fallback_address));
    if (rc == SL_OK)
        rc = sl__cql_cell_value(rows, cells, sl__cql_column_index(rows, "data_center"), arena, &out->datacenter, err);
    if (rc == SL_OK)
        rc = sl__cql_cell_value(rows, cells, sl__cql_column_index(rows, "tokens"), arena, &out->tokens, err);
    return rc;
}

static int add_host(sl_cql_session *session, sl__cql_host *hosts, size_t index, const node_row *node, int port,
                    sl_error *err)
{
    char ip[INET6_ADDRSTRLEN];
    if (node->address.type != SL_TYPE_STRING || node->address.string.len >= sizeof ip)
        return sl_error_set(err, SL_ECORRUPT, "system tables: a node without a usable address");
    memcpy(ip, node->address.string.ptr, node->address.string.len);
    ip[node->address.string.len] = '\0';
    sl__cql_host *h = &hosts[index];
    h->conns = NULL;
    set_address(h, ip, port);
    if (node->datacenter.type == SL_TYPE_STRING)
        snprintf(h->datacenter, sizeof h->datacenter, "%.*s", (int)node->datacenter.string.len,
                 node->datacenter.string.ptr);
    if (node->tokens.type != SL_TYPE_ARRAY) return SL_OK;
    for (size_t t = 0; t < node->tokens.array.n_items; t++) {
        const sl_value *item = &node->tokens.array.items[t];
        char text[32];
        if (item->type != SL_TYPE_STRING || item->string.len >= sizeof text) continue;
        memcpy(text, item->string.ptr, item->string.len);
        text[item->string.len] = '\0';
        char *stop = NULL;
        errno = 0;
        long long token = strtoll(text, &stop, 10);
        if (errno || *stop)
            return sl_error_set(err, SL_ECORRUPT, "%s: token \"%s\" is not a Murmur3 token (only "
                                "Murmur3Partitioner is supported)", h->address, text);
        if (sl_cql_ring_add(&session->ring, (int64_t)token, (uint32_t)index))
            return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    return SL_OK;
}

static int read_topology(sl_cql_session *session, sl_arena *arena, sl_error *err)
{
    sl_cql_response local, peers;
    int rc = sl__cql_query_rows(session, 0, true,
                                "SELECT rpc_address, data_center, tokens FROM system.local WHERE key='local'",
                                arena, &local, err);
    if (rc == SL_OK)
        rc = sl__cql_query_rows(session, 0, true, "SELECT peer, rpc_address, data_center, tokens FROM system.peers",
                                arena, &peers, err);
    if (rc) return rc;
    if (local.rows.metadata.n_columns > MAX_TOPOLOGY_COLUMNS || peers.rows.metadata.n_columns > MAX_TOPOLOGY_COLUMNS)
        return sl_error_set(err, SL_ECORRUPT, "system tables: unexpected columns");
    size_t n_hosts = 1 + (size_t)(peers.rows.n_rows > 0 ? peers.rows.n_rows : 0);
    sl__cql_host *hosts = calloc(n_hosts, sizeof *hosts);
    bool *is_down = calloc(n_hosts, sizeof *is_down);
    if (!hosts || !is_down) {
        free(hosts);
        free(is_down);
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    sl__cql_host *control = &session->hosts[0];
    sl_cql_cell cells[MAX_TOPOLOGY_COLUMNS];
    sl_cql_row_iter iter;
    node_row node;
    size_t n = 0;
    sl_cql_rows_begin(&local.rows, &iter);
    if (sl_cql_rows_next(&iter, cells, err) == 1) {
        rc = read_node(&local.rows, cells, NULL, control->ip, arena, &node, err);
        if (rc == SL_OK) rc = add_host(session, hosts, n++, &node, control->port, err);
    } else {
        node = (node_row){ sl_value_string(sl_str_from(control->ip)), sl_value_null(), sl_value_null() };
        rc = add_host(session, hosts, n++, &node, control->port, err);
    }
    sl_cql_rows_begin(&peers.rows, &iter);
    while (rc == SL_OK && n < n_hosts && sl_cql_rows_next(&iter, cells, err) == 1) {
        rc = read_node(&peers.rows, cells, "peer", NULL, arena, &node, err);
        if (rc == SL_OK) rc = add_host(session, hosts, n++, &node, control->port, err);
    }
    for (size_t i = 1; i < n && rc == SL_OK; i++) {
        hosts[i].conns = calloc((size_t)session->config.connections_per_host, sizeof *hosts[i].conns);
        if (!hosts[i].conns) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    }
    if (rc) {
        for (size_t i = 1; i < n; i++) free(hosts[i].conns);
        free(hosts);
        free(is_down);
        return rc;
    }
    /* The node answering system.local is the one the control connection reached. */
    hosts[0].conns = control->conns;
    control->conns = NULL;
    set_address(&hosts[0], control->ip, control->port);
    sl__cql_host_close(control, (size_t)session->config.connections_per_host);
    free(session->hosts);
    free(session->host_is_down);
    session->hosts = hosts;
    session->host_is_down = is_down;
    session->n_hosts = n;
    session->control = 0;
    sl_cql_ring_sort(&session->ring);
    return SL_OK;
}

int sl_cql_session_open(const sl_cql_session_config *config, sl_cql_session **out, sl_error *err)
{
    int rc = SL_ENOMEM;
    sl_arena *arena = NULL;
    sl_cql_session *session = calloc(1, sizeof *session);
    if (!session) goto fail;
    rc = copy_config(session, config, err);
    if (rc) goto fail;
    rc = SL_ENOMEM;
    session->scratch = sl_arena_new(16 * 1024);
    session->prepare_scratch = sl_arena_new(4096);
    arena = sl_arena_new(16 * 1024);
    if (!session->scratch || !session->prepare_scratch || !arena) goto fail;
    if (session->config.tls) {
        rc = sl_cql_tls_context_new(session->config.tls_ca_file, session->config.tls_verify,
                                    session->config.tls_cert_file, session->config.tls_key_file, &session->tls, err);
        if (rc) goto fail;
    }
    rc = connect_contact_point(session, err);
    if (rc == SL_OK) rc = read_topology(session, arena, err);
    if (rc) goto fail;
    sl_arena_free(arena);
    *out = session;
    return SL_OK;
fail:
    if (rc == SL_ENOMEM && err && err->code != SL_ENOMEM) sl_error_set(err, rc, "out of memory opening a CQL session");
    sl_arena_free(arena);
    sl_cql_session_close(session);
    return rc;
}
