/* auth.h — who may use `sluice server`'s HTTP API: named tokens with roles
 * (viewer < operator < admin), from the file's auth: (hashed when it is
 * loaded, runtime/plan_auth.c) and from the metadata store (made through
 * POST /api/v1/tokens), and UI sessions made by POST /api/v1/login.
 *
 * Only salted hashes are kept (core/token_hash.h). Checking a token costs
 * a PBKDF2 per token known the first time it is seen; after that a cache
 * keyed by HMAC-SHA-256(a random per-process key, token) answers, so no
 * token text is kept even there. Sessions live in memory only: at most
 * SL_AUTH_SESSIONS_MAX, each ending SL_AUTH_SESSION_IDLE_S after its last
 * use or SL_AUTH_SESSION_MAX_S after login; a session follows its token,
 * so revoking the token or reloading a file without it ends the session.
 *
 * Thread safe: the authorizer and the handlers run on libmicrohttpd's
 * threads, sl_auth_apply on the main thread.
 */
#ifndef SL_AUTH_H
#define SL_AUTH_H

#include <stdbool.h>

#include "core/buffer.h"
#include "core/error.h"
#include "runtime/plan.h"
#include "server/http.h"

#define SL_AUTH_SESSIONS_MAX 1024
#define SL_AUTH_SESSION_IDLE_S 3600
#define SL_AUTH_SESSION_MAX_S (8 * 3600)
#define SL_AUTH_COOKIE "sluice_session"
#define SL_AUTH_CSRF_HEADER "X-CSRF-Token"

typedef struct sl_auth sl_auth;

/* A guard with no tokens (every route open) whose API tokens live in the
 * metadata store at metadata (a path or postgres:// URL; borrowed for the
 * guard's life). */
int sl_auth_new(const char *metadata, sl_auth **out, sl_error *err);

void sl_auth_free(sl_auth *auth);

/* Takes plan's auth: (on at start and on each reload): its tokens replace
 * the file's old ones; with auth on, the store's tokens are read again. */
int sl_auth_apply(sl_auth *auth, const sl_plan *plan, sl_error *err);

bool sl_auth_is_on(sl_auth *auth);

/* The sl_http_authorize_fn of the server (context: the sl_auth). */
bool sl_auth_authorize(void *context, sl_http_request *request, int role, sl_http_response *response);

/* The routes' work (api_auth.c answers with these): */

/* Checks token (as login's body gives it) and opens a session: fills the
 * cookie value to set and the answer {"name","role","csrf_token"}; 401
 * for an unknown token. Returns the HTTP status. */
int sl_auth_login(sl_auth *auth, const char *token, bool is_tls, char **set_cookie, sl_buffer *answer);

/* Ends the session of cookie (NULL: none); fills the cookie that clears it. */
void sl_auth_logout(sl_auth *auth, const char *cookie, bool is_tls, char **set_cookie);

/* {"auth","tokens":[{"name","role","source","created_at"}],"next_cursor"}:
 * a page by name, after `after` ("" for the first page), at most limit. */
int sl_auth_list_tokens(sl_auth *auth, const char *after, size_t limit, sl_buffer *answer, sl_error *err);

/* Makes a token called name with role, stores its hash, and answers
 * {"name","role","token"} (the only time the token is shown). SL_EEXIST
 * for a name taken, SL_EINVAL for a bad name or role, SL_ECONFIG without
 * auth:. */
int sl_auth_create_token(sl_auth *auth, const char *name, const char *role, sl_buffer *answer, sl_error *err);

/* Removes the stored token called name: SL_ENOTFOUND when there is none,
 * SL_EINVAL when it is one of the file's. */
int sl_auth_delete_token(sl_auth *auth, const char *name, sl_error *err);

#endif
