/* plan_auth.h — the parts of a plan that guard `sluice server`'s HTTP port:
 * auth: (tokens, hashed at load), http.tls (files checked), the loopback
 * rule for a file without auth:, and the secrets of the whole file made
 * known to core/redact.h. plan.c calls it while it loads a file. */
#ifndef SL_PLAN_AUTH_H
#define SL_PLAN_AUTH_H

#include "config/diagnostics.h"
#include "runtime/plan.h"

/* Fills plan->has_auth, tokens, http_tls_*; every mistake goes to diags.
 * auth and tls are the blocks (NULL when absent), listen_node the node of
 * http.listen (NULL when defaulted). */
int sl__plan_load_auth(sl_plan *plan, const sl_node *auth, const sl_node *tls, const sl_node *listen_node,
                       sl_diagnostics *diags);

/* Whether listen ("HOST:PORT") is on a loopback address: 127.0.0.0/8,
 * ::1 or localhost. */
bool sl_plan_listen_is_loopback(const char *listen);

/* Frees the tokens and TLS paths of plan. */
void sl__plan_free_auth(sl_plan *plan);

#endif
