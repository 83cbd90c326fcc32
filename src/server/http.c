/* http.c — routes over libmicrohttpd (see http.h).
 *
 * The listening socket is made here and handed to libmicrohttpd, so a port
 * in use or a bad address gets its own errno in the message, and port 0 can
 * be read back. A request's body arrives in pieces: each is appended to the
 * connection's buffer, and the route runs once the body is whole.
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
#include "core/json.h"
#include "core/logger.h"

#define HTTP_THREADS 2
#define HTTP_CONNECTION_TIMEOUT_S 30

struct sl_http_server {
    struct MHD_Daemon *daemon;
    int socket;
    int port;
    const sl_http_route *routes;
    void *context;
};

typedef struct connection_state {
    sl_buffer body;
    bool is_too_big;
} connection_state;

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

void sl_http_error(sl_http_response *response, int status, const char *format, ...)
{
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
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
    if (ok == MHD_YES && allow) ok = MHD_add_response_header(reply, MHD_HTTP_HEADER_ALLOW, allow);
    if (ok == MHD_YES) ok = MHD_queue_response(connection, (unsigned int)response->status, reply);
    MHD_destroy_response(reply);
    return ok;
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
    };
    char allow[128] = "";
    const sl_http_route *found = NULL;
    if (state->is_too_big) {
        sl_http_error(&response, MHD_HTTP_CONTENT_TOO_LARGE, "the request body is over %d bytes", SL_HTTP_BODY_MAX);
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
        if (found) found->handler(server->context, &request, &response);
        else if (allow[0]) sl_http_error(&response, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s; use %s",
                                         method, url, allow);
        else sl_http_error(&response, MHD_HTTP_NOT_FOUND, "no such path: %s", url);
    }
    sl_debug("http", "%s %s -> %d", method, url, response.status);
    enum MHD_Result result = send_response(connection, &response, found ? NULL : (allow[0] ? allow : NULL));
    free_params(&request);
    sl_buffer_free(&response.body);
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
        return MHD_YES;
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

/* ---- decoding ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* libmicrohttpd's %XX decoding of paths and query values, in place, except
 * that %00 stays as it is: a decoded NUL would end the C string early, and
 * "/ui/index.html%00.png" would be taken for "/ui/index.html". */
static size_t unescape_keeping_nul(void *cls, struct MHD_Connection *connection, char *text)
{
    (void)cls;
    (void)connection;
    char *read = text, *write = text;
    while (*read) {
        int high = read[0] == '%' ? hex_digit(read[1]) : -1;
        int low = high >= 0 ? hex_digit(read[2]) : -1;
        if (low >= 0 && (high | low) != 0) {
            *write++ = (char)(high * 16 + low);
            read += 3;
        } else {
            *write++ = *read++;
        }
    }
    *write = '\0';
    return (size_t)(write - text);
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
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 64) != 0) {
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
    *out = NULL;
    sl_http_server *server = calloc(1, sizeof *server);
    if (!server) return sl_error_set(err, SL_ENOMEM, "out of memory");
    server->routes = routes;
    server->context = context;
    bool is_ipv6 = false;
    int rc = open_listener(listen_text, &server->socket, &server->port, &is_ipv6, err);
    if (rc) {
        free(server);
        return rc;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (is_ipv6 ? MHD_USE_IPv6 : 0);
    server->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, server,
                                      MHD_OPTION_LISTEN_SOCKET, server->socket,
                                      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
                                      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_CONNECTION_TIMEOUT_S,
                                      MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                      MHD_OPTION_UNESCAPE_CALLBACK, unescape_keeping_nul, NULL,
                                      MHD_OPTION_END);
    if (!server->daemon) {
        close(server->socket);
        free(server);
        return sl_error_set(err, SL_EIO, "http.listen %s: libmicrohttpd could not start", listen_text);
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
