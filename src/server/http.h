/* http.h — the HTTP listener of `sluice server`: libmicrohttpd under a
 * table of routes.
 *
 * A route is a method, a path pattern whose `{name}` segments capture one
 * path segment each ("/api/v1/dags/{dag}/runs"), and a handler. Handlers
 * run on libmicrohttpd's threads, so they must not block on pipelines: they
 * read counters and post commands to the main thread (waiting for its
 * answer, which for a stop comes after the pipeline's drain). Request bodies over SL_HTTP_BODY_MAX are
 * refused with 413 before a handler runs; an unknown path is 404, a known
 * path with another method 405 with an Allow header.
 *
 * Each route has a role: before its handler runs, the authorizer given to
 * sl_http_start_config (server/auth.h) decides whether the request may
 * use it, filling the request's identity or answering 401/403 itself.
 * Role 0 means "by method": GET needs a viewer, any other method an
 * operator. Limits against hostile clients (connections, header bytes,
 * idle time) are set here once; see the defines below.
 */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buffer.h"
#include "core/error.h"

#define SL_HTTP_BODY_MAX (1024 * 1024)
#define SL_HTTP_MAX_PARAMS 4
#define SL_HTTP_MAX_HEADERS 6
#define SL_HTTP_MAX_CONNECTIONS 1000        /* at once; more are refused until some end */
#define SL_HTTP_HEADER_BYTES_MAX (64 * 1024) /* request line + headers; more is 431 */
#define SL_HTTP_IDLE_TIMEOUT_S 15           /* a connection quiet this long is closed */

/* Who may use a route, weakest first; a request's identity has one of the
 * last three. */
typedef enum sl_role {
    SL_ROLE_BY_METHOD = 0,     /* GET: viewer; other methods: operator */
    SL_ROLE_PUBLIC,            /* anyone, no token */
    SL_ROLE_VIEWER,
    SL_ROLE_OPERATOR,
    SL_ROLE_ADMIN,
} sl_role;

/* "public", "viewer", "operator", "admin" ("by method" for 0). */
const char *sl_role_name(int role);

/* SL_ROLE_VIEWER..SL_ROLE_ADMIN for their names, else -1. */
int sl_role_parse(const char *name);

/* The role a route needs for method: its own, or the one its method gives. */
int sl_role_for_route(int route_role, const char *method);

/* Who sent a request, as the authorizer found. */
typedef struct sl_http_identity {
    bool is_auth_on;           /* false: the server has no auth: and every route is open */
    char name[80];             /* the token's name ("" without auth) */
    int role;                  /* SL_ROLE_VIEWER..SL_ROLE_ADMIN */
    bool is_session;           /* by the session cookie (then non-GET requests carried the CSRF token) */
} sl_http_identity;

typedef struct sl_http_request {
    const char *method;
    const char *path;
    const char *body;      /* NUL-terminated; "" without one */
    size_t body_len;
    const char *param_names[SL_HTTP_MAX_PARAMS];
    char *param_values[SL_HTTP_MAX_PARAMS];   /* the captured {name} segments, decoded */
    size_t n_params;
    void *connection;      /* for sl_http_query */
    bool is_tls;           /* served over HTTPS */
    sl_http_identity who;  /* filled by the authorizer before the handler runs */
} sl_http_request;

typedef struct sl_http_response {
    int status;
    const char *content_type;   /* default application/json */
    sl_buffer body;
    /* Extra headers (sl_http_add_header); names and values are borrowed
     * and must outlive the request (string literals, the embedded UI's
     * table). Without a Cache-Control among them the answer says no-store. */
    const char *header_names[SL_HTTP_MAX_HEADERS];
    const char *header_values[SL_HTTP_MAX_HEADERS];
    size_t n_headers;
    /* When set, the answer's bytes instead of body: borrowed, never freed
     * or copied (the embedded UI files, which live as long as the process). */
    const void *static_body;
    size_t static_body_len;
    char *set_cookie;           /* a Set-Cookie value (malloc'ed; http.c frees it), or NULL */
} sl_http_response;

typedef void (*sl_http_handler)(void *context, const sl_http_request *request, sl_http_response *response);

typedef struct sl_http_route {
    const char *method;
    const char *pattern;
    sl_http_handler handler;
    const char *help;
    int role;                   /* sl_role; 0 = by method */
} sl_http_route;

typedef struct sl_http_server sl_http_server;

/* Decides whether request may use a route needing role (never
 * SL_ROLE_PUBLIC or 0: http.c resolves those). Returns true after filling
 * request->who, or false after filling response (401, 403). A 401 gets the
 * WWW-Authenticate header from http.c. */
typedef bool (*sl_http_authorize_fn)(void *context, sl_http_request *request, int role,
                                     sl_http_response *response);

typedef struct sl_http_config {
    const char *listen;          /* "HOST:PORT" */
    const char *tls_cert_pem;    /* both set: HTTPS (libmicrohttpd's TLS, GnuTLS) */
    const char *tls_key_pem;
    sl_http_authorize_fn authorize;   /* NULL: every route open, identity admin */
    void *authorize_context;
} sl_http_config;

/* As sl_http_start, with TLS and an authorizer. */
int sl_http_start_config(const sl_http_config *config, const sl_http_route *routes, void *context,
                         sl_http_server **out, sl_error *err);

/* Starts serving routes (a table ended by a row with a NULL method) on
 * listen ("HOST:PORT"; port 0 picks a free one). Failing to bind names the
 * address and the reason. */
int sl_http_start(const char *listen, const sl_http_route *routes, void *context, sl_http_server **out,
                  sl_error *err);

/* The port actually bound. */
int sl_http_port(const sl_http_server *server);

/* Stops accepting, finishes the requests in progress and frees. */
void sl_http_stop(sl_http_server *server);

/* The value of a request's ?name=..., or NULL. */
const char *sl_http_query(const sl_http_request *request, const char *name);

/* A request header's value (case-insensitive name), or NULL. */
const char *sl_http_header(const sl_http_request *request, const char *name);

/* Adds a header to the answer (both strings borrowed, see sl_http_response);
 * SL_EINVAL when SL_HTTP_MAX_HEADERS are set already. */
int sl_http_add_header(sl_http_response *response, const char *name, const char *value);

/* A cookie's value, or NULL. */
const char *sl_http_cookie(const sl_http_request *request, const char *name);

/* The capture called name, or NULL. */
const char *sl_http_param(const sl_http_request *request, const char *name);

/* Sets status and a JSON body {"error": message}. */
void sl_http_error(sl_http_response *response, int status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
