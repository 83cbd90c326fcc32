/* http.c — routes over libmicrohttpd (see http.h).
 *
 * The listening socket is made here and handed to libmicrohttpd, so a port
 * in use or a bad address gets its own errno in the message, and port 0 can
 * be read back. A request's body arrives in pieces: each is appended to the
 * connection's buffer, and the route runs once the body is whole.
 *
 * Before a handler runs, its route's role is resolved (by method when 0)
 * and the authorizer decides (server/auth.c). Hostile input is stopped
 * here, before any handler: a Content-Length over SL_HTTP_BODY_MAX is
 * answered 413 without reading the body, bad percent-encoding or a NUL
 * byte in the path or query is 400 (our own unescape callback marks it),
 * headers past SL_HTTP_HEADER_BYTES_MAX are 431 (libmicrohttpd's memory
 * limit), and connections are bounded in number and idle time, so a crowd
 * of slow clients (slowloris) holds file descriptors, never threads: the
 * daemon polls every connection with epoll from a small pool.
 */
#include "server/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/address.h"
#include "core/arena.h"
#include "core/json.h"
#include "core/logger.h"
#include "core/redact.h"

#define HTTP_THREADS 2
#define HTTP_LISTEN_BACKLOG 256
/* What our unescape callback leaves in place of a bad %XX or a %00: a byte
 * no decoded path or parameter may hold, so dispatch refuses it. */
#define BAD_ESCAPE '\x01'

struct sl_http_server {
    struct MHD_Daemon *daemon;
    int socket;
    int port;
    bool is_tls;
    const sl_http_route *routes;
    void *context;
    sl_http_authorize_fn authorize;
    void *authorize_context;
};

typedef struct connection_state {
    sl_buffer body;
    bool is_too_big;
} connection_state;

/* ---- roles ---- */

const char *sl_role_name(int role)
{
    switch (role) {
    case SL_ROLE_PUBLIC: return "public";
    case SL_ROLE_VIEWER: return "viewer";
    case SL_ROLE_OPERATOR: return "operator";
    case SL_ROLE_ADMIN: return "admin";
    default: return "by method";
    }
}

int sl_role_parse(const char *name)
{
    for (int role = SL_ROLE_VIEWER; role <= SL_ROLE_ADMIN; role++)
        if (name && strcmp(name, sl_role_name(role)) == 0) return role;
    return -1;
}

int sl_role_for_route(int route_role, const char *method)
{
    if (route_role != SL_ROLE_BY_METHOD) return route_role;
    return strcmp(method, "GET") == 0 ? SL_ROLE_VIEWER : SL_ROLE_OPERATOR;
}

/* ---- matching ---- */

/* Whether path fits pattern; fills the request's captures when it does. */
static bool route_matches(const char *pattern, const char *path, sl_http_request *request)
{
    request->n_params = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p != '/' || *q != '/') return false;
        p++;
        q++;
        size_t p_len = strcspn(p, "/"), q_len = strcspn(q, "/");
        if (p_len > 2 && p[0] == '{' && p[p_len - 1] == '}') {
            if (q_len == 0 || request->n_params == SL_HTTP_MAX_PARAMS) return false;
            char *value = strndup(q, q_len);
            char *name = strndup(p + 1, p_len - 2);
            if (!value || !name) {
                free(value);
                free(name);
                return false;
            }
            request->param_names[request->n_params] = name;
            request->param_values[request->n_params++] = value;
        } else if (p_len != q_len || memcmp(p, q, p_len) != 0) {
            return false;
        }
        p += p_len;
        q += q_len;
    }
    return *p == '\0' && *q == '\0';
}

static void free_params(sl_http_request *request)
{
    for (size_t i = 0; i < request->n_params; i++) {
        free((char *)request->param_names[i]);
        free(request->param_values[i]);
    }
    request->n_params = 0;
}

const char *sl_http_param(const sl_http_request *request, const char *name)
{
    for (size_t i = 0; i < request->n_params; i++)
        if (strcmp(request->param_names[i], name) == 0) return request->param_values[i];
    return NULL;
}

const char *sl_http_query(const sl_http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *sl_http_header(const sl_http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

int sl_http_add_header(sl_http_response *response, const char *name, const char *value)
{
    if (response->n_headers == SL_HTTP_MAX_HEADERS) return SL_EINVAL;
    response->header_names[response->n_headers] = name;
    response->header_values[response->n_headers++] = value;
    return SL_OK;
}

const char *sl_http_cookie(const sl_http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_COOKIE_KIND, name);
}

/* ---- unescaping ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* libmicrohttpd's unescaping of the path and of each query parameter, in
 * place, with BAD_ESCAPE where a '%' is not followed by two hex digits or
 * decodes to NUL (libmicrohttpd's own would keep the first and cut the
 * string at the second). '+' stays itself, as with libmicrohttpd's own
 * (run ids hold "+00:00"). */
static size_t unescape(void *cls, struct MHD_Connection *connection, char *text)
{
    (void)cls;
    (void)connection;
    char *out = text;
    for (const char *in = text; *in; in++) {
        if (*in != '%') {
            *out++ = *in;
            continue;
        }
        int high = hex_digit(in[1]), low = high < 0 ? -1 : hex_digit(in[2]);
        if (high < 0 || low < 0 || (high == 0 && low == 0)) {
            *out++ = BAD_ESCAPE;
            if (high >= 0 && low >= 0) in += 2;
            continue;
        }
        *out++ = (char)(high << 4 | low);
        in += 2;
    }
    *out = '\0';
    return (size_t)(out - text);
}

static enum MHD_Result find_bad_argument(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    bool *is_bad = cls;
    if ((key && strchr(key, BAD_ESCAPE)) || (value && strchr(value, BAD_ESCAPE))) {
        *is_bad = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Whether the path or a query parameter held a bad escape or a control byte. */
static bool is_bad_target(struct MHD_Connection *connection, const char *url)
{
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) return true;
    bool is_bad = false;
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, find_bad_argument, &is_bad);
    return is_bad;
}

void sl_http_error(sl_http_response *response, int status, const char *format, ...)
{
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    sl_redact_text(message, sizeof message);   /* an answer never quotes a secret */
    response->status = status;
    response->static_body = NULL;
    response->static_body_len = 0;
    sl_buffer_clear(&response->body);
    if (sl_buffer_append_cstr(&response->body, "{\"error\":") ||
        sl_json_write_string(&response->body, message, strlen(message)) ||
        sl_buffer_append_cstr(&response->body, "}\n"))
        response->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* ---- answering ---- */

static enum MHD_Result send_response(struct MHD_Connection *connection, sl_http_response *response,
                                     const char *allow)
{
    struct MHD_Response *reply =
        response->static_body
            ? MHD_create_response_from_buffer(response->static_body_len, (void *)response->static_body,
                                              MHD_RESPMEM_PERSISTENT)
            : MHD_create_response_from_buffer(response->body.len, response->body.data, MHD_RESPMEM_MUST_COPY);
    if (!reply) return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                 response->content_type ? response->content_type
                                                                        : "application/json");
    bool has_cache_control = false;
    for (size_t i = 0; i < response->n_headers && ok == MHD_YES; i++) {
        if (strcasecmp(response->header_names[i], MHD_HTTP_HEADER_CACHE_CONTROL) == 0) has_cache_control = true;
        ok = MHD_add_response_header(reply, response->header_names[i], response->header_values[i]);
    }
    if (ok == MHD_YES && !has_cache_control)
        ok = MHD_add_response_header(reply, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (ok == MHD_YES) ok = MHD_add_response_header(reply, "X-Content-Type-Options", "nosniff");
    if (ok == MHD_YES && allow) ok = MHD_add_response_header(reply, MHD_HTTP_HEADER_ALLOW, allow);
    if (ok == MHD_YES && response->set_cookie)
        ok = MHD_add_response_header(reply, MHD_HTTP_HEADER_SET_COOKIE, response->set_cookie);
    if (ok == MHD_YES && response->status == MHD_HTTP_UNAUTHORIZED)
        ok = MHD_add_response_header(reply, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sluice\"");
    if (ok == MHD_YES) ok = MHD_queue_response(connection, (unsigned int)response->status, reply);
    MHD_destroy_response(reply);
    return ok;
}

/* Whether a body (not empty) is JSON: every route that takes a body takes
 * JSON, and a route that takes none must not act on a garbled request. */
static bool body_is_json(const connection_state *state, sl_http_response *response)
{
    size_t start = 0;
    while (start < state->body.len && strchr(" \t\r\n", state->body.data[start])) start++;
    if (start == state->body.len) return true;
    sl_arena *arena = sl_arena_new(4096);
    if (!arena) {
        sl_http_error(response, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return false;
    }
    sl_value ignored;
    sl_error err;
    sl_error_clear(&err);
    bool is_json = sl_json_parse(arena, (const char *)state->body.data, state->body.len, &ignored, &err) == SL_OK;
    if (!is_json) sl_http_error(response, MHD_HTTP_BAD_REQUEST, "the request body is not JSON: %s", err.message);
    sl_arena_free(arena);
    return is_json;
}

/* Whether request may use route; when not, response says why. */
static bool authorize(sl_http_server *server, const sl_http_route *route, sl_http_request *request,
                      sl_http_response *response)
{
    int role = sl_role_for_route(route->role, request->method);
    if (role == SL_ROLE_PUBLIC) return true;
    if (!server->authorize) {
        request->who.role = SL_ROLE_ADMIN;
        return true;
    }
    return server->authorize(server->authorize_context, request, role, response);
}

/* 413 at once for a declared body over the limit, before reading any of it. */
static enum MHD_Result refuse_declared_size(struct MHD_Connection *connection)
{
    const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!length) return MHD_YES;
    char *end = NULL;
    unsigned long long declared = strtoull(length, &end, 10);
    if (end == length || *end != '\0' || declared <= SL_HTTP_BODY_MAX) return MHD_YES;
    sl_http_response response = { .status = MHD_HTTP_CONTENT_TOO_LARGE };
    sl_http_error(&response, MHD_HTTP_CONTENT_TOO_LARGE, "the request body is over %d bytes (Content-Length %s)",
                  SL_HTTP_BODY_MAX, length);
    enum MHD_Result result = send_response(connection, &response, NULL);
    sl_buffer_free(&response.body);
    return result == MHD_YES ? MHD_YES : MHD_NO;
}

static enum MHD_Result dispatch(sl_http_server *server, struct MHD_Connection *connection, const char *url,
                                const char *method, connection_state *state)
{
    sl_http_response response = { .status = MHD_HTTP_OK };
    sl_http_request request = {
        .method = method,
        .path = url,
        .body = state->body.len ? state->body.data : "",
        .body_len = state->body.len,
        .connection = connection,
        .is_tls = server->is_tls,
    };
    char allow[128] = "";
    const sl_http_route *found = NULL;
    if (state->is_too_big) {
        sl_http_error(&response, MHD_HTTP_CONTENT_TOO_LARGE, "the request body is over %d bytes", SL_HTTP_BODY_MAX);
    } else if (is_bad_target(connection, url)) {
        sl_http_error(&response, MHD_HTTP_BAD_REQUEST, "the path or query has a bad percent-encoding (%%XX needs "
                      "two hex digits), a NUL or a control character");
        url = "(bad path)";
    } else {
        for (const sl_http_route *route = server->routes; route->method && !found; route++) {
            if (!route_matches(route->pattern, url, &request)) {
                free_params(&request);
                continue;
            }
            if (strcmp(route->method, method) == 0) {
                found = route;
                break;
            }
            size_t len = strlen(allow);
            if (!strstr(allow, route->method))
                snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "", route->method);
            free_params(&request);
        }
        if (found) {
            /* Else the authorizer or the body check has answered. */
            if (authorize(server, found, &request, &response) && body_is_json(state, &response))
                found->handler(server->context, &request, &response);
        } else if (allow[0]) {
            sl_http_error(&response, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s; use %s", method, url,
                          allow);
        } else {
            sl_http_error(&response, MHD_HTTP_NOT_FOUND, "no such path: %s", url);
        }
    }
    sl_debug("http", "%s %s -> %d%s%s", method, url, response.status, request.who.name[0] ? " by token " : "",
             request.who.name);
    enum MHD_Result result = send_response(connection, &response, found ? NULL : (allow[0] ? allow : NULL));
    free_params(&request);
    sl_buffer_free(&response.body);
    free(response.set_cookie);
    return result;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **connection_cls)
{
    (void)version;
    sl_http_server *server = cls;
    connection_state *state = *connection_cls;
    if (!state) {
        state = calloc(1, sizeof *state);
        if (!state) return MHD_NO;
        *connection_cls = state;
        return refuse_declared_size(connection);
    }
    if (*upload_data_size > 0) {
        if (state->body.len + *upload_data_size > SL_HTTP_BODY_MAX) state->is_too_big = true;
        else if (sl_buffer_append(&state->body, upload_data, *upload_data_size)) return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (sl_buffer_append_byte(&state->body, '\0')) return MHD_NO;
    state->body.len--;   /* a NUL after the body, not in it */
    return dispatch(server, connection, url, method, state);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **connection_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)connection;
    (void)code;
    connection_state *state = *connection_cls;
    if (!state) return;
    sl_buffer_free(&state->body);
    free(state);
    *connection_cls = NULL;
}

/* ---- listening ---- */

static int open_listener(const char *listen_text, int *out_socket, int *out_port, bool *is_ipv6, sl_error *err)
{
    char host[256];
    int port;
    int rc = sl_address_parse(listen_text, -1, true, host, sizeof host, &port, err);
    if (rc) return rc;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *found = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &found);
    if (gai) return sl_error_set_permanent(err, SL_ECONFIG, "http.listen %s: %s", listen_text, gai_strerror(gai));
    int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
    if (fd < 0) {
        rc = sl_error_set(err, SL_EIO, "http.listen %s: socket: %s", listen_text, strerror(errno));
        freeaddrinfo(found);
        return rc;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, HTTP_LISTEN_BACKLOG) != 0) {
        int saved = errno;
        rc = sl_error_set_permanent(err, SL_EIO, "http.listen %s: cannot listen: %s%s", listen_text,
                                    strerror(saved),
                                    saved == EADDRINUSE ? " (another sluice server? pick another port in "
                                                          "http.listen)" : "");
        close(fd);
        freeaddrinfo(found);
        return rc;
    }
    *is_ipv6 = found->ai_family == AF_INET6;
    freeaddrinfo(found);
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0) {
        rc = sl_error_set(err, SL_EIO, "http.listen %s: getsockname: %s", listen_text, strerror(errno));
        close(fd);
        return rc;
    }
    *out_port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *out_socket = fd;
    return SL_OK;
}

int sl_http_start(const char *listen_text, const sl_http_route *routes, void *context, sl_http_server **out,
                  sl_error *err)
{
    sl_http_config config = { .listen = listen_text };
    return sl_http_start_config(&config, routes, context, out, err);
}

int sl_http_start_config(const sl_http_config *config, const sl_http_route *routes, void *context,
                         sl_http_server **out, sl_error *err)
{
    *out = NULL;
    const char *listen_text = config->listen;
    bool is_tls = config->tls_cert_pem && config->tls_key_pem;
    if (is_tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return sl_error_set_permanent(err, SL_ECONFIG, "http.tls: this libmicrohttpd was built without TLS");
    sl_http_server *server = calloc(1, sizeof *server);
    if (!server) return sl_error_set(err, SL_ENOMEM, "out of memory");
    server->routes = routes;
    server->context = context;
    server->is_tls = is_tls;
    server->authorize = config->authorize;
    server->authorize_context = config->authorize_context;
    bool is_ipv6 = false;
    int rc = open_listener(listen_text, &server->socket, &server->port, &is_ipv6, err);
    if (rc) {
        free(server);
        return rc;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (is_ipv6 ? MHD_USE_IPv6 : 0) |
                         (is_tls ? MHD_USE_TLS : 0);
    /* The TLS options come last so that without TLS they are left off
     * (MHD_OPTION_END ends the list there). */
    server->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, server,
                                      MHD_OPTION_LISTEN_SOCKET, server->socket,
                                      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
                                      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SL_HTTP_IDLE_TIMEOUT_S,
                                      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SL_HTTP_MAX_CONNECTIONS,
                                      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SL_HTTP_HEADER_BYTES_MAX,
                                      MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                                      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                      is_tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, config->tls_cert_pem,
                                      MHD_OPTION_HTTPS_MEM_KEY, config->tls_key_pem,
                                      MHD_OPTION_END);
    if (!server->daemon) {
        close(server->socket);
        free(server);
        return sl_error_set(err, SL_EIO, "http.listen %s: libmicrohttpd could not start%s", listen_text,
                            is_tls ? " (is http.tls.cert a certificate GnuTLS reads?)" : "");
    }
    *out = server;
    return SL_OK;
}

int sl_http_port(const sl_http_server *server)
{
    return server->port;
}

void sl_http_stop(sl_http_server *server)
{
    if (!server) return;
    MHD_stop_daemon(server->daemon);   /* closes the listening socket too */
    free(server);
}
