/* auth.c — tokens, the check cache and sessions of `sluice server` (see
 * auth.h).
 *
 * One mutex guards everything here; a request holds it for a cache lookup
 * (an HMAC), and only a token seen for the first time since the tokens
 * last changed pays the PBKDF2 of each known token under it. The cache is
 * direct-mapped (a slot per digest prefix), remembers misses too, and is
 * emptied by bumping `generation` whenever the tokens change. Tokens made
 * on another server sharing a PostgreSQL store are found by reading the
 * store again on a miss, at most every STORE_REFRESH_US.
 */
#include "server/auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/logger.h"
#include "core/timefmt.h"
#include "core/token_hash.h"
#include "metadata/metadata.h"
#include "server/api_params.h"

#define CACHE_SLOTS 1024
#define STORE_REFRESH_US (2 * 1000000LL)
#define TOKEN_RANDOM_BYTES 32
#define SESSION_ID_BYTES 32

typedef struct known_token {
    char name[SL_TOKEN_NAME_MAX + 1];
    int role;
    sl_token_hash hash;
    bool is_stored;      /* from the metadata store, else from the file */
    int64_t created_at_us;   /* a stored one's; 0 for the file's */
} known_token;

typedef struct cache_slot {
    uint8_t digest[32];
    uint64_t generation;  /* 0: empty */
    int token;            /* index in tokens, -1 for a token known to be wrong */
} cache_slot;

typedef struct session {
    char id[2 * SESSION_ID_BYTES + 1];   /* "" when free */
    char csrf[2 * SESSION_ID_BYTES + 1];
    char name[SL_TOKEN_NAME_MAX + 1];
    int64_t idle_until_us, ends_us;
} session;

struct sl_auth {
    pthread_mutex_t mutex;
    const char *metadata;
    bool is_on;
    known_token *tokens;
    size_t n_tokens;
    uint64_t generation;
    int64_t store_read_us;
    uint8_t cache_key[32];
    cache_slot cache[CACHE_SLOTS];
    session sessions[SL_AUTH_SESSIONS_MAX];
};

int sl_auth_new(const char *metadata, sl_auth **out, sl_error *err)
{
    *out = NULL;
    sl_auth *auth = calloc(1, sizeof *auth);
    if (!auth) return sl_error_set(err, SL_ENOMEM, "out of memory");
    if (RAND_bytes(auth->cache_key, sizeof auth->cache_key) != 1) {
        free(auth);
        return sl_error_set(err, SL_EIO, "auth: OpenSSL has no random bytes");
    }
    pthread_mutex_init(&auth->mutex, NULL);
    auth->metadata = metadata;
    auth->generation = 1;
    *out = auth;
    return SL_OK;
}

void sl_auth_free(sl_auth *auth)
{
    if (!auth) return;
    free(auth->tokens);
    pthread_mutex_destroy(&auth->mutex);
    OPENSSL_cleanse(auth, sizeof *auth);
    free(auth);
}

bool sl_auth_is_on(sl_auth *auth)
{
    pthread_mutex_lock(&auth->mutex);
    bool is_on = auth->is_on;
    pthread_mutex_unlock(&auth->mutex);
    return is_on;
}

/* ---- the token list ---- */

static int add_token(known_token **tokens, size_t *n, const char *name, int role, const sl_token_hash *hash,
                     bool is_stored, int64_t created_at_us)
{
    known_token *grown = realloc(*tokens, (*n + 1) * sizeof *grown);
    if (!grown) return SL_ENOMEM;
    *tokens = grown;
    known_token *token = &grown[(*n)++];
    memset(token, 0, sizeof *token);
    snprintf(token->name, sizeof token->name, "%s", name);
    token->role = role;
    token->hash = *hash;
    token->is_stored = is_stored;
    token->created_at_us = created_at_us;
    return SL_OK;
}

typedef struct store_read {
    known_token *tokens;
    size_t n_tokens;
    sl_error *err;
} store_read;

static int take_stored(void *context, const sl_meta_token *stored)
{
    store_read *read = context;
    sl_token_hash hash;
    int role = sl_role_parse(stored->role);
    if (role < 0 || sl_token_hash_parse(stored->token_hash, &hash, NULL) != SL_OK) {
        sl_warn("auth", "the stored token %s has a bad role or hash; it is ignored", stored->name);
        return SL_OK;
    }
    for (size_t i = 0; i < read->n_tokens; i++)
        if (strcmp(read->tokens[i].name, stored->name) == 0) {
            sl_warn("auth", "the stored token %s has the name of a token of the file; the file's counts",
                    stored->name);
            return SL_OK;
        }
    if (add_token(&read->tokens, &read->n_tokens, stored->name, role, &hash, true, stored->created_at_us))
        return sl_error_set(read->err, SL_ENOMEM, "out of memory");
    return SL_OK;
}

/* Replaces the stored tokens with what the store holds now. Called with
 * the mutex held. */
static int read_store(sl_auth *auth, sl_error *err)
{
    store_read read = { .err = err };
    for (size_t i = 0; i < auth->n_tokens; i++)
        if (!auth->tokens[i].is_stored &&
            add_token(&read.tokens, &read.n_tokens, auth->tokens[i].name, auth->tokens[i].role,
                      &auth->tokens[i].hash, false, 0)) {
            free(read.tokens);
            return sl_error_set(err, SL_ENOMEM, "out of memory");
        }
    sl_metadata *store = NULL;
    int rc = sl_metadata_open(auth->metadata, &store, err);
    if (rc == SL_OK) rc = sl_metadata_token_list(store, take_stored, &read, err);
    sl_metadata_close(store);
    auth->store_read_us = sl_clock_monotonic_us();
    if (rc) {
        free(read.tokens);
        return rc;
    }
    free(auth->tokens);
    auth->tokens = read.tokens;
    auth->n_tokens = read.n_tokens;
    auth->generation++;
    return SL_OK;
}

int sl_auth_apply(sl_auth *auth, const sl_plan *plan, sl_error *err)
{
    known_token *tokens = NULL;
    size_t n = 0;
    for (size_t i = 0; i < plan->n_tokens; i++)
        if (add_token(&tokens, &n, plan->tokens[i].name, sl_role_parse(plan->tokens[i].role), &plan->tokens[i].hash,
                      false, 0)) {
            free(tokens);
            return sl_error_set(err, SL_ENOMEM, "out of memory");
        }
    pthread_mutex_lock(&auth->mutex);
    free(auth->tokens);
    auth->tokens = tokens;
    auth->n_tokens = n;
    auth->is_on = plan->has_auth;
    auth->generation++;
    int rc = auth->is_on ? read_store(auth, err) : SL_OK;
    pthread_mutex_unlock(&auth->mutex);
    return rc;
}

static const known_token *token_named(sl_auth *auth, const char *name)
{
    for (size_t i = 0; i < auth->n_tokens; i++)
        if (strcmp(auth->tokens[i].name, name) == 0) return &auth->tokens[i];
    return NULL;
}

static cache_slot *slot_of(sl_auth *auth, const uint8_t *digest)
{
    return &auth->cache[((size_t)digest[0] << 8 | digest[1]) % CACHE_SLOTS];
}

/* The index in tokens[0, n) whose hash token (len bytes) is, or -1;
 * only_stored skips the file's. Costs a PBKDF2 per token tried. */
static int match(const known_token *tokens, size_t n, const char *token, size_t len, bool only_stored)
{
    for (size_t i = 0; i < n; i++)
        if ((!only_stored || tokens[i].is_stored) && sl_token_hash_matches(&tokens[i].hash, token, len)) return (int)i;
    return -1;
}

/* Copies of tokens (for matching without the mutex); NULL without memory. */
static known_token *copy_tokens(const sl_auth *auth)
{
    known_token *copy = malloc((auth->n_tokens ? auth->n_tokens : 1) * sizeof *copy);
    if (copy && auth->n_tokens) memcpy(copy, auth->tokens, auth->n_tokens * sizeof *copy);
    return copy;
}

/* Finds the token whose text is token (len bytes): true with a copy of it
 * in *out. Called without the mutex, which it takes only to look at the
 * cache and the list: the PBKDF2s of a token not seen before run outside
 * it, so a flood of wrong tokens never holds up requests whose token is
 * cached. */
static bool find_token(sl_auth *auth, const char *token, size_t len, known_token *out)
{
    uint8_t digest[32];
    unsigned int digest_len = sizeof digest;
    if (!HMAC(EVP_sha256(), auth->cache_key, sizeof auth->cache_key, (const unsigned char *)token, len, digest,
              &digest_len))
        return false;
    pthread_mutex_lock(&auth->mutex);
    cache_slot *slot = slot_of(auth, digest);
    bool is_cached = slot->generation == auth->generation && CRYPTO_memcmp(slot->digest, digest, sizeof digest) == 0;
    /* A file's token cached is the answer. A stored one, or one known to
     * be wrong, holds only until the store may have changed (a token made
     * or revoked on another server sharing it): then the store is read
     * again first, which empties the cache. */
    if (is_cached && (slot->token < 0 || auth->tokens[slot->token].is_stored) &&
        sl_clock_monotonic_us() - auth->store_read_us > STORE_REFRESH_US) {
        sl_error err;
        sl_error_clear(&err);
        if (read_store(auth, &err) != SL_OK) sl_warn("auth", "reading the stored tokens: %s", err.message);
        is_cached = slot->generation == auth->generation;
    }
    if (is_cached) {
        bool is_known = slot->token >= 0;
        if (is_known) *out = auth->tokens[slot->token];
        pthread_mutex_unlock(&auth->mutex);
        return is_known;
    }
    bool is_refresh_due = sl_clock_monotonic_us() - auth->store_read_us > STORE_REFRESH_US;
    uint64_t generation = auth->generation;
    size_t n = auth->n_tokens;
    known_token *tokens = copy_tokens(auth);
    pthread_mutex_unlock(&auth->mutex);
    if (!tokens) return false;
    int found = match(tokens, n, token, len, false);
    if (found < 0 && is_refresh_due) {
        /* Perhaps made on another server sharing the store. */
        OPENSSL_cleanse(tokens, n * sizeof *tokens);
        free(tokens);
        sl_error err;
        sl_error_clear(&err);
        pthread_mutex_lock(&auth->mutex);
        if (read_store(auth, &err) != SL_OK) sl_warn("auth", "reading the stored tokens: %s", err.message);
        generation = auth->generation;
        n = auth->n_tokens;
        tokens = copy_tokens(auth);
        pthread_mutex_unlock(&auth->mutex);
        if (!tokens) return false;
        found = match(tokens, n, token, len, true);
    }
    if (found >= 0) *out = tokens[found];
    pthread_mutex_lock(&auth->mutex);
    if (auth->generation == generation) {   /* else the list changed meanwhile: leave the cache to the next look */
        slot = slot_of(auth, digest);
        memcpy(slot->digest, digest, sizeof digest);
        slot->generation = generation;
        slot->token = found;
    }
    pthread_mutex_unlock(&auth->mutex);
    OPENSSL_cleanse(tokens, n * sizeof *tokens);
    free(tokens);
    return found >= 0;
}

/* ---- sessions ---- */

static session *find_session(sl_auth *auth, const char *id, int64_t now)
{
    if (!id || strlen(id) != 2 * SESSION_ID_BYTES) return NULL;
    for (size_t i = 0; i < SL_AUTH_SESSIONS_MAX; i++) {
        session *s = &auth->sessions[i];
        if (!s->id[0] || CRYPTO_memcmp(s->id, id, 2 * SESSION_ID_BYTES) != 0) continue;
        if (now > s->idle_until_us || now > s->ends_us || !token_named(auth, s->name)) {
            memset(s, 0, sizeof *s);
            return NULL;
        }
        return s;
    }
    return NULL;
}

/* A free slot, or the one closest to its end (the oldest login). */
static session *new_session(sl_auth *auth, int64_t now)
{
    session *pick = &auth->sessions[0];
    for (size_t i = 0; i < SL_AUTH_SESSIONS_MAX; i++) {
        session *s = &auth->sessions[i];
        if (!s->id[0] || now > s->idle_until_us || now > s->ends_us) return s;
        if (s->ends_us < pick->ends_us) pick = s;
    }
    return pick;
}

static char *session_cookie(const char *id, int max_age, bool is_tls)
{
    char *cookie = malloc(256);
    if (cookie)
        snprintf(cookie, 256, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", SL_AUTH_COOKIE, id,
                 max_age, is_tls ? "; Secure" : "");
    return cookie;
}

/* ---- checking requests ---- */

static bool deny(sl_http_response *response, int status, const char *message, const char *detail)
{
    sl_http_error(response, status, "%s%s", message, detail ? detail : "");
    return false;
}

bool sl_auth_authorize(void *context, sl_http_request *request, int role, sl_http_response *response)
{
    sl_auth *auth = context;
    const char *authorization = sl_http_header(request, "Authorization");
    const char *cookie = sl_http_cookie(request, SL_AUTH_COOKIE);
    if (!sl_auth_is_on(auth)) {
        request->who = (sl_http_identity){ .is_auth_on = false, .role = SL_ROLE_ADMIN };
        return true;
    }
    known_token token;
    bool is_session = false;
    if (authorization) {
        if (strncasecmp(authorization, "Bearer ", 7) != 0)
            return deny(response, 401, "the Authorization header must be: Bearer TOKEN", NULL);
        const char *text = authorization + 7;
        while (*text == ' ') text++;
        if (!find_token(auth, text, strlen(text), &token)) return deny(response, 401, "unknown token", NULL);
    } else if (cookie) {
        int64_t now = sl_clock_monotonic_us();
        pthread_mutex_lock(&auth->mutex);
        if (now - auth->store_read_us > STORE_REFRESH_US) {   /* its token may be revoked on another server */
            sl_error err;
            sl_error_clear(&err);
            if (read_store(auth, &err) != SL_OK) sl_warn("auth", "reading the stored tokens: %s", err.message);
        }
        session *s = find_session(auth, cookie, now);
        const char *refusal = NULL;
        if (!s) {
            refusal = "the session has ended or is unknown: log in again (POST /api/v1/login)";
        } else if (strcmp(request->method, "GET") != 0 && strcmp(request->method, "HEAD") != 0) {
            const char *csrf = sl_http_header(request, SL_AUTH_CSRF_HEADER);
            if (!csrf)
                refusal = "a request authenticated by the session cookie must send the X-CSRF-Token header that "
                          "POST /api/v1/login answered with";
            else if (strlen(csrf) != strlen(s->csrf) || CRYPTO_memcmp(csrf, s->csrf, strlen(s->csrf)) != 0)
                refusal = "the X-CSRF-Token header is not this session's";
        }
        if (!refusal) {
            s->idle_until_us = now + SL_AUTH_SESSION_IDLE_S * 1000000LL;
            token = *token_named(auth, s->name);   /* find_session checked it exists */
        }
        pthread_mutex_unlock(&auth->mutex);
        if (refusal) return deny(response, s ? 403 : 401, refusal, NULL);
        is_session = true;
    } else {
        return deny(response, 401, "this route needs a token: send Authorization: Bearer TOKEN, or log in "
                                   "(POST /api/v1/login)", NULL);
    }
    if (token.role < role) {
        char detail[256];
        snprintf(detail, sizeof detail, " needs the %s role; token %s is %s", sl_role_name(role), token.name,
                 sl_role_name(token.role));
        char message[1400];
        snprintf(message, sizeof message, "%s %.1000s", request->method, request->path);
        return deny(response, 403, message, detail);
    }
    request->who = (sl_http_identity){ .is_auth_on = true, .role = token.role, .is_session = is_session };
    snprintf(request->who.name, sizeof request->who.name, "%s", token.name);
    return true;
}

/* ---- the routes' work ---- */

static int write_identity(sl_buffer *out, const char *name, int role)
{
    int rc = sl_buffer_append_cstr(out, "{\"name\":");
    if (rc == SL_OK) rc = sl_json_write_string(out, name, strlen(name));
    if (rc == SL_OK) rc = sl_buffer_printf(out, ",\"role\":\"%s\"", sl_role_name(role));
    return rc;
}

int sl_auth_login(sl_auth *auth, const char *token, bool is_tls, char **set_cookie, sl_buffer *answer)
{
    *set_cookie = NULL;
    if (!sl_auth_is_on(auth)) {
        sl_buffer_append_cstr(answer, "{\"error\":\"no auth: configured: every route is open, there is nothing "
                                      "to log in to\"}\n");
        return 409;
    }
    known_token copy;
    if (!find_token(auth, token, strlen(token), &copy)) {
        sl_buffer_append_cstr(answer, "{\"error\":\"unknown token\"}\n");
        return 401;
    }
    const known_token *found = &copy;
    int status = 200;
    pthread_mutex_lock(&auth->mutex);
    int64_t now = sl_clock_monotonic_us();
    session *s = new_session(auth, now);
    memset(s, 0, sizeof *s);
    if (sl_token_random_hex(s->id, SESSION_ID_BYTES, NULL) || sl_token_random_hex(s->csrf, SESSION_ID_BYTES, NULL)) {
        memset(s, 0, sizeof *s);
        status = 500;
        sl_buffer_append_cstr(answer, "{\"error\":\"no random bytes for a session\"}\n");
        goto done;
    }
    memcpy(s->name, found->name, sizeof s->name);   /* both SL_TOKEN_NAME_MAX + 1, NUL-ended */
    s->idle_until_us = now + SL_AUTH_SESSION_IDLE_S * 1000000LL;
    s->ends_us = now + SL_AUTH_SESSION_MAX_S * 1000000LL;
    *set_cookie = session_cookie(s->id, SL_AUTH_SESSION_MAX_S, is_tls);
    if (!*set_cookie || write_identity(answer, found->name, found->role) ||
        sl_buffer_append_cstr(answer, ",\"csrf_token\":") || sl_json_write_string(answer, s->csrf, strlen(s->csrf)) ||
        sl_buffer_append_cstr(answer, "}\n"))
        status = 500;
    sl_info("auth", "%s logged in (a session of the UI)", found->name);
done:
    pthread_mutex_unlock(&auth->mutex);
    return status;
}

void sl_auth_logout(sl_auth *auth, const char *cookie, bool is_tls, char **set_cookie)
{
    pthread_mutex_lock(&auth->mutex);
    session *s = find_session(auth, cookie, sl_clock_monotonic_us());
    if (s) memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&auth->mutex);
    *set_cookie = session_cookie("", 0, is_tls);
}

int sl_auth_list_tokens(sl_auth *auth, const char *after, size_t limit, sl_buffer *answer, sl_error *err)
{
    pthread_mutex_lock(&auth->mutex);
    int rc = auth->is_on ? read_store(auth, err) : SL_OK;
    const char **names = calloc(auth->n_tokens ? auth->n_tokens : 1, sizeof *names);
    size_t *page = NULL, n_page = 0;
    char next_after[SL_TOKEN_NAME_MAX + 1];
    if (rc == SL_OK && !names) rc = SL_ENOMEM;
    for (size_t i = 0; rc == SL_OK && i < auth->n_tokens; i++) names[i] = auth->tokens[i].name;
    if (rc == SL_OK) rc = sl_api_page_by_name(names, auth->n_tokens, after, limit, &page, &n_page, next_after,
                                              sizeof next_after);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(answer, "{\"auth\":");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(answer, auth->is_on ? "true" : "false");
    if (rc == SL_OK) rc = sl_buffer_append_cstr(answer, ",\"tokens\":[");
    for (size_t p = 0; p < n_page && rc == SL_OK; p++) {
        size_t i = page[p];
        if (p) rc = sl_buffer_append_byte(answer, ',');
        if (rc == SL_OK) rc = write_identity(answer, auth->tokens[i].name, auth->tokens[i].role);
        if (rc == SL_OK && auth->tokens[i].is_stored) {
            char when[SL_TIME_ISO_MAX];
            sl_time_format_iso(auth->tokens[i].created_at_us, when);
            rc = sl_buffer_printf(answer, ",\"source\":\"store\",\"created_at\":\"%s\"}", when);
        } else if (rc == SL_OK) {
            rc = sl_buffer_append_cstr(answer, ",\"source\":\"file\"}");
        }
    }
    if (rc == SL_OK) rc = sl_buffer_append_byte(answer, ']');
    if (rc == SL_OK) rc = sl_api_write_next_cursor(answer, 't', next_after);
    if (rc == SL_OK) rc = sl_buffer_append_cstr(answer, "}\n");
    pthread_mutex_unlock(&auth->mutex);
    free(names);
    free(page);
    if (rc == SL_ENOMEM) sl_error_set(err, rc, "out of memory");
    return rc;
}

int sl_auth_create_token(sl_auth *auth, const char *name, const char *role_name, sl_buffer *answer, sl_error *err)
{
    int role = sl_role_parse(role_name);
    if (!sl_token_name_is_valid(name))
        return sl_error_set_permanent(err, SL_EINVAL, "name '%.64s': use 1 to %d letters, digits, . _ or -", name,
                                      SL_TOKEN_NAME_MAX);
    if (role < 0)
        return sl_error_set_permanent(err, SL_EINVAL, "role '%.32s': give viewer, operator or admin", role_name);
    char token[4 + 2 * TOKEN_RANDOM_BYTES + 1] = "slt_";
    char hash_text[SL_TOKEN_HASH_TEXT_SIZE];
    sl_token_hash hash;
    int rc = sl_token_random_hex(token + 4, TOKEN_RANDOM_BYTES, err);
    if (rc == SL_OK) rc = sl_token_hash_make(token, strlen(token), &hash, hash_text, err);
    if (rc) goto wipe;
    pthread_mutex_lock(&auth->mutex);
    if (!auth->is_on) {
        rc = sl_error_set_permanent(err, SL_ECONFIG, "no auth: configured: every route is open, and a token "
                                    "would guard nothing; add auth: to the file first");
    } else if (token_named(auth, name) && !token_named(auth, name)->is_stored) {
        rc = sl_error_set_permanent(err, SL_EEXIST, "a token called %s is defined in the config file", name);
    } else {
        sl_metadata *store = NULL;
        bool created = false;
        rc = sl_metadata_open(auth->metadata, &store, err);
        if (rc == SL_OK) rc = sl_metadata_token_create(store, name, role_name, hash_text, &created, err);
        sl_metadata_close(store);
        if (rc == SL_OK && !created) rc = sl_error_set_permanent(err, SL_EEXIST, "a token called %s exists", name);
        if (rc == SL_OK) rc = read_store(auth, err);
        if (rc == SL_OK) sl_info("auth", "token %s (%s) created through the API", name, role_name);
    }
    pthread_mutex_unlock(&auth->mutex);
    if (rc == SL_OK) {
        rc = write_identity(answer, name, role);
        if (rc == SL_OK) rc = sl_buffer_append_cstr(answer, ",\"token\":");
        if (rc == SL_OK) rc = sl_json_write_string(answer, token, strlen(token));
        if (rc == SL_OK) rc = sl_buffer_append_cstr(answer, "}\n");
        if (rc) sl_error_set(err, rc, "out of memory");
    }
wipe:
    OPENSSL_cleanse(token, sizeof token);
    return rc;
}

int sl_auth_delete_token(sl_auth *auth, const char *name, sl_error *err)
{
    pthread_mutex_lock(&auth->mutex);
    const known_token *token = token_named(auth, name);
    int rc = SL_OK;
    if (token && !token->is_stored) {
        rc = sl_error_set_permanent(err, SL_EINVAL, "token %s is defined in the config file: remove it there and "
                                    "reload", name);
    } else {
        sl_metadata *store = NULL;
        bool found = false;
        rc = sl_metadata_open(auth->metadata, &store, err);
        if (rc == SL_OK) rc = sl_metadata_token_delete(store, name, &found, err);
        sl_metadata_close(store);
        if (rc == SL_OK && !found) rc = sl_error_set_permanent(err, SL_ENOTFOUND, "no token called %s", name);
        if (rc == SL_OK) rc = read_store(auth, err);
        if (rc == SL_OK) sl_info("auth", "token %s revoked through the API", name);
    }
    pthread_mutex_unlock(&auth->mutex);
    return rc;
}
