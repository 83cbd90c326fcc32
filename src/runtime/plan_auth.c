/* plan_auth.c — auth:, http.tls and the secrets of a file (see
 * plan_auth.h).
 *
 * A token given as itself is hashed here and its text wiped from the
 * document, so nothing that outlives the load (the plan, GET
 * /api/v1/config) holds it. Secret-bearing settings anywhere in the file
 * (keys naming a password, secret or token, and URL passwords) are
 * registered with core/redact.h, so a message that quotes one (a
 * connector's error with its URL, a driver's answer) shows *** instead.
 */
#include "runtime/plan_auth.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/pem_pair.h"
#include "core/redact.h"
#include "metadata/postgres_url.h"
#include "runtime/plan_settings.h"

#define TOKEN_MIN_CHARS 16

bool sl_plan_listen_is_loopback(const char *listen)
{
    char host[256];
    int port;
    if (sl_address_parse(listen, -1, true, host, sizeof host, &port, NULL) != SL_OK) return false;
    if (strcmp(host, "localhost") == 0) return true;
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1) return memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
    return false;
}

/* Wipes a scalar's text in the document (it lives in the document's arena). */
static void wipe_scalar(const sl_node *node)
{
    if (node && node->kind == SL_NODE_SCALAR && node->scalar) memset((char *)node->scalar, 0, strlen(node->scalar));
}

/* Whether an item before index in tokens has the name of tokens[index]. */
static bool is_second_name(const sl_node *tokens, size_t index)
{
    const sl_node *name = sl_node_get(tokens->items[index], "name");
    if (!name || name->kind != SL_NODE_SCALAR || !name->scalar) return false;
    for (size_t i = 0; i < index; i++) {
        const sl_node *earlier = sl_node_get(tokens->items[i], "name");
        if (earlier && earlier->kind == SL_NODE_SCALAR && earlier->scalar && strcmp(earlier->scalar, name->scalar) == 0)
            return true;
    }
    return false;
}

static int load_token(sl_plan *plan, const sl_node *item, size_t index, sl_diagnostics *diags)
{
    char where[64];
    snprintf(where, sizeof where, "auth.tokens[%zu]", index);
    sl_auth_token_conf conf = { 0 };
    int rc = sl_options_apply_all(sl_auth_token_options, item, &conf, where, diags);
    if (rc == SL_ENOMEM) goto done;
    if (conf.name && !sl_token_name_is_valid(conf.name))
        rc = sl_diag_error_at(diags, sl_node_get(item, "name"), "%s.name '%.64s': use 1 to %d letters, digits, "
                              ". _ or -", where, conf.name, SL_TOKEN_NAME_MAX);
    if ((conf.token != NULL) == (conf.token_hash != NULL)) {
        rc = sl_diag_error_at(diags, item, "%s: give either token or token_hash", where);
        goto done;
    }
    sl_plan_token token = { 0 };
    sl_error err;
    sl_error_clear(&err);
    if (conf.token) {
        if (strlen(conf.token) < TOKEN_MIN_CHARS) {
            rc = sl_diag_error_at(diags, sl_node_get(item, "token"), "%s.token: shorter than %d characters",
                                  where, TOKEN_MIN_CHARS);
            goto done;
        }
        int hash_rc = sl_token_hash_make(conf.token, strlen(conf.token), &token.hash, NULL, &err);
        if (hash_rc) {
            rc = sl_diag_error_at(diags, sl_node_get(item, "token"), "%s.token: %s", where, err.message);
            goto done;
        }
    } else if (sl_token_hash_parse(conf.token_hash, &token.hash, &err) != SL_OK) {
        rc = sl_diag_error_at(diags, sl_node_get(item, "token_hash"), "%s.token_hash: %s", where, err.message);
        goto done;
    }
    if (rc || !conf.name || !conf.role) goto done;
    sl_plan_token *grown = realloc(plan->tokens, (plan->n_tokens + 1) * sizeof *grown);
    if (!grown) {
        rc = sl_diag_error_at(diags, NULL, "out of memory");
        rc = SL_ENOMEM;
        goto done;
    }
    plan->tokens = grown;
    token.name = conf.name;
    token.role = conf.role;
    conf.name = conf.role = NULL;
    plan->tokens[plan->n_tokens++] = token;
done:
    if (conf.token) memset(conf.token, 0, strlen(conf.token));
    wipe_scalar(sl_node_get(item, "token"));
    sl_options_free(sl_auth_token_options, &conf);
    return rc;
}

static int load_tokens(sl_plan *plan, const sl_node *auth, sl_diagnostics *diags)
{
    sl_auth_conf conf = { 0 };
    int rc = sl_options_apply_all(sl_auth_options, auth, &conf, "auth", diags);
    if (rc == SL_ENOMEM || !conf.tokens) goto done;
    if (conf.tokens->n_items == 0) rc = sl_diag_error_at(diags, conf.tokens, "auth.tokens: empty; give at least one");
    for (size_t i = 0; i < conf.tokens->n_items && rc != SL_ENOMEM; i++) {
        const sl_node *item = conf.tokens->items[i];
        int token_rc = item->kind == SL_NODE_MAP
                           ? load_token(plan, item, i, diags)
                           : sl_diag_error_at(diags, item, "auth.tokens[%zu]: expected { name, token, role }", i);
        if (token_rc) rc = token_rc;
        if (item->kind == SL_NODE_MAP && is_second_name(conf.tokens, i))
            rc = sl_diag_error_at(diags, sl_node_get(item, "name"), "auth.tokens[%zu].name: a second token called "
                                  "%s", i, sl_node_get(item, "name")->scalar);
    }
done:
    sl_options_free(sl_auth_options, &conf);
    return rc;
}

static int load_tls(sl_plan *plan, const sl_node *tls, sl_diagnostics *diags)
{
    sl_http_tls_conf conf = { 0 };
    int rc = sl_options_apply_all(sl_http_tls_options, tls, &conf, "http.tls", diags);
    if (rc == SL_OK && conf.cert && conf.key) {
        sl_error err;
        sl_error_clear(&err);
        if (sl_pem_pair_load(conf.cert, conf.key, NULL, NULL, &err) != SL_OK) {
            bool is_key = strncmp(err.message, "http.tls.key", 12) == 0;
            rc = sl_diag_error_at(diags, sl_node_get(tls, is_key ? "key" : "cert"), "%s", err.message);
        } else {
            plan->http_tls_cert = conf.cert;
            plan->http_tls_key = conf.key;
            conf.cert = conf.key = NULL;
        }
    }
    sl_options_free(sl_http_tls_options, &conf);
    return rc;
}

/* Registers every secret-bearing scalar under node (outside auth:, whose
 * tokens are wiped instead) with core/redact.h. */
static void register_secrets(const sl_node *node, const char *key)
{
    if (!node) return;
    if (node->kind == SL_NODE_SCALAR && node->scalar) {
        if (key && sl_redact_is_secret_key(key)) sl_redact_register(node->scalar);
        if (strstr(node->scalar, "://")) {
            char password[256];
            sl_pg_url_password(node->scalar, password, sizeof password);
            sl_redact_register(password);
        }
    } else if (node->kind == SL_NODE_MAP) {
        for (size_t i = 0; i < node->n_pairs; i++) {
            if (!key && strcmp(node->pairs[i].key, "auth") == 0) continue;
            register_secrets(node->pairs[i].value, node->pairs[i].key);
        }
    } else {
        for (size_t i = 0; i < node->n_items; i++) register_secrets(node->items[i], key);
    }
}

int sl__plan_load_auth(sl_plan *plan, const sl_node *auth, const sl_node *tls, const sl_node *listen_node,
                       sl_diagnostics *diags)
{
    register_secrets(sl_config_root(plan->doc), NULL);
    int rc = SL_OK;
    plan->has_auth = auth != NULL;
    if (auth) rc = load_tokens(plan, auth, diags);
    if (rc != SL_ENOMEM && tls) {
        int tls_rc = load_tls(plan, tls, diags);
        if (tls_rc) rc = tls_rc;
    }
    if (rc != SL_ENOMEM && !auth && plan->http_listen && !sl_plan_listen_is_loopback(plan->http_listen))
        rc = sl_diag_error_at(diags, listen_node, "http.listen %s: without auth: the HTTP API is open to anyone "
                              "who reaches it, so it listens on a loopback address only (127.0.0.1, ::1, "
                              "localhost); add auth: tokens to listen there", plan->http_listen);
    return rc;
}

void sl__plan_free_auth(sl_plan *plan)
{
    for (size_t i = 0; i < plan->n_tokens; i++) {
        free(plan->tokens[i].name);
        free(plan->tokens[i].role);
    }
    free(plan->tokens);
    free(plan->http_tls_cert);
    free(plan->http_tls_key);
}
