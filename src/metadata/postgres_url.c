/* postgres_url.c — the password of a PostgreSQL connection URL
 * (postgres://user:password@host:port/db?password=...), found and hidden
 * for messages (see postgres_url.h).
 */
#include "metadata/postgres_url.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The span of the password in url: [*start, *end); false when none. The
 * user info ends at the last '@' before the path, query or fragment. */
static bool userinfo_password(const char *url, size_t *start, size_t *end)
{
    const char *scheme = strstr(url, "://");
    if (!scheme) return false;
    size_t authority = (size_t)(scheme - url) + 3;
    size_t authority_end = authority + strcspn(url + authority, "/?#");
    size_t at = 0;
    bool has_at = false;
    for (size_t i = authority; i < authority_end; i++) {
        if (url[i] == '@') {
            at = i;
            has_at = true;
        }
    }
    if (!has_at) return false;
    const char *colon = memchr(url + authority, ':', at - authority);
    if (!colon) return false;
    *start = (size_t)(colon - url) + 1;
    *end = at;
    return true;
}

/* The span of the value of a password= query parameter. */
static bool query_password(const char *url, size_t *start, size_t *end)
{
    const char *query = strchr(url, '?');
    if (!query) return false;
    const char *p = query + 1;
    while (*p && *p != '#') {
        size_t len = strcspn(p, "&#");
        if (strncmp(p, "password=", 9) == 0) {
            *start = (size_t)(p - url) + 9;
            *end = (size_t)(p - url) + len;
            return true;
        }
        p += len;
        if (*p == '&') p++;
    }
    return false;
}

char *sl_pg_url_redact(const char *url)
{
    size_t len = strlen(url);
    /* Each of the two passwords may grow to "***". */
    char *out = malloc(len + 7);
    if (!out) return NULL;
    memcpy(out, url, len + 1);
    size_t start, end;
    if (userinfo_password(out, &start, &end)) {
        memmove(out + start + 3, out + end, strlen(out + end) + 1);
        memcpy(out + start, "***", 3);
    }
    if (query_password(out, &start, &end)) {
        memmove(out + start + 3, out + end, strlen(out + end) + 1);
        memcpy(out + start, "***", 3);
    }
    return out;
}

void sl_pg_url_password(const char *url, char *out, size_t size)
{
    size_t start, end;
    if (size == 0) return;
    out[0] = '\0';
    if (!userinfo_password(url, &start, &end) && !query_password(url, &start, &end)) return;
    size_t len = end - start;
    if (len >= size) len = size - 1;
    memcpy(out, url + start, len);
    out[len] = '\0';
}

void sl_pg_scrub(char *text, size_t size, const char *secret)
{
    size_t secret_len = secret ? strlen(secret) : 0;
    if (secret_len == 0) return;
    char *found = text;
    while ((found = strstr(found, secret)) != NULL) {
        size_t rest = strlen(found + secret_len);
        size_t at = (size_t)(found - text);
        /* The text after it moves to just past "***", cut at size. */
        if (at + 3 + rest + 1 > size) rest = size > at + 4 ? size - at - 4 : 0;
        if (at + 3 >= size) {
            text[at] = '\0';
            return;
        }
        memmove(found + 3, found + secret_len, rest);
        found[3 + rest] = '\0';
        memcpy(found, "***", 3);
        found += 3;
    }
}
