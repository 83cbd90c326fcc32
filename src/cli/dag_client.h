/* dag_client.h — `sluice dag` talking to a running `sluice server` over
 * HTTP (libcurl): one request, its status, content type and body. */
#ifndef SL_DAG_CLIENT_H
#define SL_DAG_CLIENT_H

#include <stddef.h>

#include "core/buffer.h"
#include "core/error.h"

typedef struct sl_dag_answer {
    int status;
    char content_type[128];
    sl_buffer body;
} sl_dag_answer;

/* Sends method path (with its query, already escaped) to the server at
 * base_url, with body as JSON when it is not NULL. SL_EIO naming the URL
 * when no answer came (refused, timed out); any answer, a 4xx or 5xx too,
 * is SL_OK with its status. The caller frees answer->body. */
int sl_dag_client_request(const char *base_url, const char *method, const char *path, const char *body,
                          sl_dag_answer *answer, sl_error *err);

/* Appends text to out with every byte but RFC 3986's unreserved ones
 * percent-encoded (for a path segment or a query value). */
int sl_dag_client_escape(sl_buffer *out, const char *text);

#endif
