/* api_params.h — the query parameters and path names the topic, group and
 * dead-letter routes share, checked the same way everywhere: a bad one is a
 * 400 whose message names the parameter, the value and what is allowed.
 *
 * Each check returns true when the value is good; false after it has
 * written the 400 into the response, so a handler just returns.
 */
#ifndef SL_API_PARAMS_H
#define SL_API_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buffer.h"
#include "log/log.h"
#include "server/http.h"

#define SL_API_LIMIT_MAX 1000
/* Longest topic or group name the log accepts. */
#define SL_API_NAME_MAX 200

/* ?limit=: default_limit when absent, else an integer 1..SL_API_LIMIT_MAX. */
bool sl_api_param_limit(const char *text, int default_limit, int *limit, sl_http_response *response);

/* ?name=: an integer in [min, max]; *is_set false (and *value untouched)
 * when absent. */
bool sl_api_param_int(const char *name, const char *text, int64_t min, int64_t max, int64_t *value,
                      bool *is_set, sl_http_response *response);

/* A time parameter: ISO-8601 (2024-01-01T00:00:00Z, with an offset or a
 * fraction) or milliseconds since the epoch; *ms the instant. */
bool sl_api_param_time(const char *name, const char *text, int64_t *ms, sl_http_response *response);

/* A topic or group name as the log stores them: [A-Za-z0-9._-], 1 to
 * SL_API_NAME_MAX characters, not "." or "..". what is "topic" or "group". */
bool sl_api_param_name(const char *what, const char *name, sl_http_response *response);

/* ?cursor= of a list by name: NULL or "" means the first page (*after ""),
 * else a cursor that sl_api_cursor_write made for the same kind. */
bool sl_api_param_cursor(char kind, const char *cursor, char *after, size_t size, sl_http_response *response);

/* The embedded topic called name: 400 for a bad name, 404 when the log
 * has no such topic, 500 for a log failure. The log owns *topic. */
bool sl_api_topic_open(sl_log *log, const char *name, sl_topic **topic, sl_http_response *response);

/* ?partition= of topic: *partition -1 when absent; 400 when not an
 * integer, 404 naming the partitions the topic has when out of range. */
bool sl_api_param_partition(sl_topic *topic, const char *text, int32_t *partition, sl_http_response *response);

/* A page of a list paged by name: the indices of names[0..n) sorted by
 * name that come after `after` ("" for the first page), at most limit, in
 * *page (the caller frees it) and *n_page; next_after the page's last name
 * when more follow, else "". SL_ENOMEM only. */
int sl_api_page_by_name(const char *const *names, size_t n, const char *after, size_t limit, size_t **page,
                        size_t *n_page, char *next_after, size_t next_size);

/* Appends ,"next_cursor": the cursor of kind for next_after, or null when it is "". */
int sl_api_write_next_cursor(sl_buffer *out, char kind, const char *next_after);

#endif
