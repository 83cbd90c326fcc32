/* redact.c — hiding secrets in text (see redact.h).
 *
 * The rewrite works on a copy and writes the result back, so each rule sees
 * the text the one before it left. URL passwords are found by their shape
 * ("://", user info up to the last '@' before the host ends); registered
 * secrets by plain search, longest first is not needed since each found
 * occurrence becomes "***", which no secret of 4 bytes or more contains.
 */
#include "core/redact.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[SL_REDACT_MAX_SECRETS];
static size_t n_secrets, next_slot;
static atomic_bool has_secrets;   /* read without the lock: most texts are redacted with none registered */

bool sl_redact_is_secret_key(const char *key)
{
    static const char *const words[] = { "password", "secret", "token", "passwd", NULL };
    if (!key) return false;
    for (size_t i = 0; words[i]; i++)
        if (strcasestr(key, words[i])) return true;
    return false;
}

void sl_redact_register(const char *secret)
{
    if (!secret || strlen(secret) < 4 || strcmp(secret, SL_REDACTED) == 0) return;
    pthread_mutex_lock(&secrets_lock);
    bool is_known = false;
    for (size_t i = 0; i < n_secrets && !is_known; i++) is_known = strcmp(secrets[i], secret) == 0;
    if (!is_known) {
        char *copy = strdup(secret);
        if (copy) {
            free(secrets[next_slot]);
            secrets[next_slot] = copy;
            next_slot = (next_slot + 1) % SL_REDACT_MAX_SECRETS;
            if (n_secrets < SL_REDACT_MAX_SECRETS) n_secrets++;
            atomic_store(&has_secrets, true);
        }
    }
    pthread_mutex_unlock(&secrets_lock);
}

/* Replaces text[start, end) by "***" in place (size bytes of room). */
static size_t replace_span(char *text, size_t size, size_t start, size_t end)
{
    size_t len = strlen(text), rest = len - end, mask = sizeof SL_REDACTED - 1;
    if (start + mask >= size) {   /* no room even for the mask: cut the text there */
        text[start] = '\0';
        return start;
    }
    if (start + mask + rest >= size) rest = size - 1 - start - mask;
    memmove(text + start + mask, text + end, rest);
    memcpy(text + start, SL_REDACTED, mask);
    text[start + mask + rest] = '\0';
    return start + mask;
}

/* Where a URL's host part ends: at '/', '?', '#', whitespace, a quote or
 * the end. */
static size_t authority_end(const char *text, size_t from)
{
    size_t i = from;
    while (text[i] && text[i] != '/' && text[i] != '?' && text[i] != '#' && !isspace((unsigned char)text[i]) &&
           text[i] != '"' && text[i] != '\'' && text[i] != '>' && text[i] != ',')
        i++;
    return i;
}

static void redact_urls(char *text, size_t size)
{
    size_t at = 0;
    char *scheme;
    while ((scheme = strstr(text + at, "://")) != NULL) {
        size_t start = (size_t)(scheme - text) + 3, end = authority_end(text, start);
        size_t at_sign = end;
        for (size_t i = start; i < end; i++)
            if (text[i] == '@') at_sign = i;
        at = start;
        if (at_sign == end) continue;
        const char *colon = memchr(text + start, ':', at_sign - start);
        if (!colon || (size_t)(colon - text) + 1 == at_sign) continue;
        at = replace_span(text, size, (size_t)(colon - text) + 1, at_sign);
    }
}

static void redact_password_parameters(char *text, size_t size)
{
    size_t at = 0;
    char *found;
    while ((found = strcasestr(text + at, "password=")) != NULL) {
        size_t start = (size_t)(found - text) + sizeof "password=" - 1, end = start;
        while (text[end] && text[end] != '&' && text[end] != '"' && !isspace((unsigned char)text[end])) end++;
        at = end > start ? replace_span(text, size, start, end) : end;
    }
}

static void redact_registered(char *text, size_t size)
{
    if (!atomic_load(&has_secrets)) return;
    pthread_mutex_lock(&secrets_lock);
    for (size_t i = 0; i < n_secrets; i++) {
        size_t at = 0, len = strlen(secrets[i]);
        char *found;
        while ((found = strstr(text + at, secrets[i])) != NULL)
            at = replace_span(text, size, (size_t)(found - text), (size_t)(found - text) + len);
    }
    pthread_mutex_unlock(&secrets_lock);
}

void sl_redact_text(char *text, size_t size)
{
    if (!text || size == 0) return;
    redact_registered(text, size);
    redact_urls(text, size);
    redact_password_parameters(text, size);
}

char *sl_redact_copy(const char *text)
{
    size_t size = strlen(text) + 1;
    char *copy = malloc(size);
    if (!copy) return NULL;
    memcpy(copy, text, size);
    sl_redact_text(copy, size);
    return copy;
}
