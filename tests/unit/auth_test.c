/* auth_test.c — the pieces of access control below HTTP: redaction of
 * secrets in text and in the config as JSON, salted token hashes, the
 * loopback rule, auth: in a file (tokens hashed and wiped, mistakes
 * reported), and the guard's tokens and sessions over a real SQLite
 * metadata store, also with threads logging in while the main thread
 * reloads (run under TSan). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_json.h"
#include "config/diagnostics.h"
#include "core/buffer.h"
#include "core/redact.h"
#include "core/token_hash.h"
#include "runtime/plan.h"
#include "runtime/plan_auth.h"
#include "server/auth/auth.h"
#include "test_util.h"

#define ADMIN_TOKEN "admin-token-0123456789abcdef"
#define VIEWER_TOKEN "viewer-token-0123456789abcdef"

static char dir[256];

static void setup(void)
{
    test_make_temp_dir(dir, sizeof dir, "auth");
}

static void teardown(void)
{
    test_remove_tree(dir);
}

TestSuite(auth, .init = setup, .fini = teardown);

static void redacted(const char *in, const char *expected)
{
    char text[512];
    snprintf(text, sizeof text, "%s", in);
    sl_redact_text(text, sizeof text);
    cr_assert_str_eq(text, expected, "from '%s'", in);
}

Test(auth, url_passwords_and_password_parameters_are_hidden_in_any_text)
{
    redacted("connecting to postgres://u:pw1@db:5432/x failed", "connecting to postgres://u:***@db:5432/x failed");
    redacted("a=http://x:y@h/ b=https://p:q@r", "a=http://x:***@h/ b=https://p:***@r");
    redacted("http://user@host/ stays", "http://user@host/ stays");
    redacted("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api");
    redacted("host=db password=hunter2 user=u", "host=db password=*** user=u");
    redacted("no secret here", "no secret here");
    /* Cut short by the room it has, it stays redacted. */
    char small[22] = "postgres://u:p@host/x";   /* "***" is longer than "p": no room for the end */
    sl_redact_text(small, sizeof small);
    cr_assert_str_eq(small, "postgres://u:***@host");
}

Test(auth, error_messages_and_diagnostics_never_carry_a_url_password)
{
    sl_error err = { 0 };
    sl_error_set(&err, SL_EIO, "sink: cannot reach https://bob:hunter22@api.example.com/x: refused");
    cr_assert_str_eq(err.message, "sink: cannot reach https://bob:***@api.example.com/x: refused");
}

Test(auth, registered_secrets_are_cut_out_of_text)
{
    sl_redact_register("s3cr3t-value-1");
    sl_redact_register("abc");   /* too short to register: it would cut words */
    redacted("librdkafka said: bad password s3cr3t-value-1 (twice: s3cr3t-value-1)",
             "librdkafka said: bad password *** (twice: ***)");
    redacted("abc stays", "abc stays");
    cr_assert(sl_redact_is_secret_key("sasl.password"));
    cr_assert(sl_redact_is_secret_key("ssl.key.password"));
    cr_assert(sl_redact_is_secret_key("client_secret"));
    cr_assert(sl_redact_is_secret_key("token_hash"));
    cr_assert(sl_redact_is_secret_key("API_TOKEN"));
    cr_assert_not(sl_redact_is_secret_key("brokers"));
    cr_assert_not(sl_redact_is_secret_key("key"));
}

Test(auth, token_hashes_are_salted_and_checked)
{
    sl_token_hash a, b, parsed;
    char text_a[SL_TOKEN_HASH_TEXT_SIZE], text_b[SL_TOKEN_HASH_TEXT_SIZE];
    sl_error err = { 0 };
    cr_assert_eq(sl_token_hash_make(ADMIN_TOKEN, strlen(ADMIN_TOKEN), &a, text_a, &err), SL_OK);
    cr_assert_eq(sl_token_hash_make(ADMIN_TOKEN, strlen(ADMIN_TOKEN), &b, text_b, &err), SL_OK);
    cr_assert_str_neq(text_a, text_b, "two hashes of one token share a salt");
    cr_assert_eq(strlen(text_a), SL_TOKEN_HASH_TEXT_SIZE - 1);
    cr_assert_null(strstr(text_a, ADMIN_TOKEN));
    cr_assert_eq(sl_token_hash_parse(text_a, &parsed, &err), SL_OK, "%s", err.message);
    cr_assert(sl_token_hash_matches(&parsed, ADMIN_TOKEN, strlen(ADMIN_TOKEN)));
    cr_assert_not(sl_token_hash_matches(&parsed, VIEWER_TOKEN, strlen(VIEWER_TOKEN)));
    cr_assert_not(sl_token_hash_matches(&parsed, ADMIN_TOKEN, strlen(ADMIN_TOKEN) - 1));
    cr_assert_eq(sl_token_hash_parse("nodollar", &parsed, &err), SL_EINVAL);
    cr_assert_eq(sl_token_hash_parse("00$11", &parsed, &err), SL_EINVAL);
    text_a[3] = 'g';
    cr_assert_eq(sl_token_hash_parse(text_a, &parsed, &err), SL_EINVAL);
    cr_assert(strstr(err.message, "hex"), "%s", err.message);
}

Test(auth, only_loopback_addresses_are_loopback)
{
    cr_assert(sl_plan_listen_is_loopback("127.0.0.1:8080"));
    cr_assert(sl_plan_listen_is_loopback("127.1.2.3:0"));
    cr_assert(sl_plan_listen_is_loopback("[::1]:8080"));
    cr_assert(sl_plan_listen_is_loopback("localhost:8080"));
    cr_assert_not(sl_plan_listen_is_loopback("0.0.0.0:8080"));
    cr_assert_not(sl_plan_listen_is_loopback("[::]:8080"));
    cr_assert_not(sl_plan_listen_is_loopback("10.0.0.1:8080"));
}

static sl_plan *plan_of(const char *auth_block, sl_diagnostics *diags)
{
    char path[512], text[4096];
    snprintf(path, sizeof path, "%s/server.yaml", dir);
    snprintf(text, sizeof text,
             "data_dir: %s/data\n"
             "pipelines:\n"
             "  feed:\n"
             "    source: { generator: { kind: sequence, count: 5 } }\n"
             "    sink:\n"
             "      kafka: { brokers: \"127.0.0.1:1\", topic: t, properties: { sasl.password: pw-in-file-1 } }\n"
             "metadata: postgres://u:pg-secret-2@127.0.0.1:1/db\n"
             "%s",
             dir, auth_block);
    test_write_text(path, text);
    sl_diagnostics_init(diags, path);
    sl_plan *plan = NULL;
    sl_plan_check(path, &plan, diags);
    return plan;
}

Test(auth, a_file_s_tokens_are_hashed_and_its_config_json_shows_no_secret)
{
    sl_diagnostics diags;
    sl_plan *plan = plan_of("auth:\n  tokens:\n"
                            "    - { name: root, token: \"" ADMIN_TOKEN "\", role: admin }\n"
                            "    - { name: watcher, token: \"" VIEWER_TOKEN "\", role: viewer }\n",
                            &diags);
    cr_assert_not_null(plan, "%zu diagnostics", diags.n_items);
    cr_assert(plan->has_auth);
    cr_assert_eq(plan->n_tokens, 2);
    cr_assert_str_eq(plan->tokens[0].name, "root");
    cr_assert_str_eq(plan->tokens[1].role, "viewer");
    cr_assert(sl_token_hash_matches(&plan->tokens[0].hash, ADMIN_TOKEN, strlen(ADMIN_TOKEN)));
    sl_buffer json = { 0 };
    cr_assert_eq(sl_config_json_write(&json, sl_config_root(plan->doc)), SL_OK);
    sl_buffer_append_byte(&json, '\0');
    const char *text = (const char *)json.data;
    cr_assert_null(strstr(text, ADMIN_TOKEN), "%s", text);
    cr_assert_null(strstr(text, "pw-in-file-1"), "%s", text);
    cr_assert_null(strstr(text, "pg-secret-2"), "%s", text);
    cr_assert(strstr(text, "\"sasl.password\":\"***\""), "%s", text);
    cr_assert(strstr(text, "\"metadata\":\"postgres://u:***@127.0.0.1:1/db\""), "%s", text);
    cr_assert(strstr(text, "{\"name\":\"root\",\"token\":\"***\",\"role\":\"admin\"}"), "%s", text);
    cr_assert(strstr(text, "\"count\":5"), "%s", text);
    /* The registered secrets are cut out of any later log line or answer. */
    char line[200] = "kafka: SASL authentication with pw-in-file-1 failed";
    sl_redact_text(line, sizeof line);
    cr_assert_str_eq(line, "kafka: SASL authentication with *** failed");
    sl_buffer_free(&json);
    sl_plan_free(plan);
    sl_diagnostics_free(&diags);
}

static bool has_diagnostic(const sl_diagnostics *diags, const char *part)
{
    for (size_t i = 0; i < diags->n_items; i++) {
        char line[1200];
        sl_diagnostic_format(&diags->items[i], line, sizeof line);
        if (strstr(line, part)) return true;
    }
    return false;
}

Test(auth, mistakes_in_auth_are_each_reported)
{
    sl_diagnostics diags;
    sl_plan *plan = plan_of("http: { listen: \"0.0.0.0:8080\" }\n"
                            "auth:\n  tokens:\n"
                            "    - { name: a, token: short, role: admin }\n"
                            "    - { name: a, token_hash: \"zz$yy\", role: viewer }\n"
                            "    - { name: \"b c\", token: \"" ADMIN_TOKEN "\", token_hash: \"x$y\", role: admin }\n"
                            "    - { name: d, token: \"" VIEWER_TOKEN "\", role: root }\n",
                            &diags);
    cr_assert_null(plan);
    cr_assert(has_diagnostic(&diags, "auth.tokens[0].token: shorter than 16 characters"));
    cr_assert(has_diagnostic(&diags, "auth.tokens[1].name: a second token called a"));
    cr_assert(has_diagnostic(&diags, "auth.tokens[1].token_hash:"));
    cr_assert(has_diagnostic(&diags, "auth.tokens[2].name 'b c'"));
    cr_assert(has_diagnostic(&diags, "auth.tokens[2]: give either token or token_hash"));
    cr_assert(has_diagnostic(&diags, "root"));
    /* With auth:, any address is allowed. */
    cr_assert_not(has_diagnostic(&diags, "http.listen"));
    sl_diagnostics_free(&diags);

    plan = plan_of("http: { listen: \"0.0.0.0:8080\" }\n", &diags);
    cr_assert_null(plan);
    cr_assert(has_diagnostic(&diags, "http.listen 0.0.0.0:8080: without auth:"));
    sl_diagnostics_free(&diags);
}

static sl_auth *guard_of(sl_plan **plan_out)
{
    char metadata[512];
    static char kept[512];
    snprintf(metadata, sizeof metadata, "%s/metadata.db", dir);
    snprintf(kept, sizeof kept, "%s", metadata);
    sl_diagnostics diags;
    sl_plan *plan = plan_of("auth:\n  tokens:\n"
                            "    - { name: root, token: \"" ADMIN_TOKEN "\", role: admin }\n"
                            "    - { name: watcher, token: \"" VIEWER_TOKEN "\", role: viewer }\n",
                            &diags);
    cr_assert_not_null(plan);
    sl_diagnostics_free(&diags);
    sl_auth *auth = NULL;
    sl_error err = { 0 };
    cr_assert_eq(sl_auth_new(kept, &auth, &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_auth_apply(auth, plan, &err), SL_OK, "%s", err.message);
    *plan_out = plan;
    return auth;
}

Test(auth, tokens_made_through_the_guard_log_in_and_are_revoked)
{
    sl_plan *plan;
    sl_auth *auth = guard_of(&plan);
    sl_error err = { 0 };
    sl_buffer answer = { 0 };
    cr_assert_eq(sl_auth_create_token(auth, "bot", "operator", &answer, &err), SL_OK, "%s", err.message);
    sl_buffer_append_byte(&answer, '\0');
    const char *at = strstr((const char *)answer.data, "\"token\":\"");
    cr_assert_not_null(at);
    char token[200];
    snprintf(token, sizeof token, "%.*s", (int)strcspn(at + 9, "\""), at + 9);
    cr_assert_eq(sl_auth_create_token(auth, "bot", "viewer", &answer, &err), SL_EEXIST);
    cr_assert_eq(sl_auth_create_token(auth, "root", "viewer", &answer, &err), SL_EEXIST);
    cr_assert_eq(sl_auth_create_token(auth, "a b", "viewer", &answer, &err), SL_EINVAL);
    cr_assert_eq(sl_auth_create_token(auth, "c", "god", &answer, &err), SL_EINVAL);
    sl_buffer_clear(&answer);
    char *cookie = NULL;
    cr_assert_eq(sl_auth_login(auth, token, false, &cookie, &answer), 200);
    cr_assert(strstr(cookie, "HttpOnly; SameSite=Strict"), "%s", cookie);
    cr_assert_null(strstr(cookie, "Secure"));
    free(cookie);
    sl_buffer_clear(&answer);
    cr_assert_eq(sl_auth_login(auth, "not-a-token-xxxxxxxxxx", true, &cookie, &answer), 401);
    cr_assert_null(cookie);
    sl_buffer_clear(&answer);
    cr_assert_eq(sl_auth_list_tokens(auth, "", 100, &answer, &err), SL_OK);
    sl_buffer_append_byte(&answer, '\0');
    cr_assert(strstr((const char *)answer.data, "{\"name\":\"bot\",\"role\":\"operator\",\"source\":\"store\",\"created_at\":\"20"), "%s",
              (const char *)answer.data);
    cr_assert_null(strstr((const char *)answer.data, token));
    cr_assert_eq(sl_auth_delete_token(auth, "root", &err), SL_EINVAL);
    cr_assert_eq(sl_auth_delete_token(auth, "bot", &err), SL_OK, "%s", err.message);
    cr_assert_eq(sl_auth_delete_token(auth, "bot", &err), SL_ENOTFOUND);
    sl_buffer_clear(&answer);
    cr_assert_eq(sl_auth_login(auth, token, false, &cookie, &answer), 401, "a revoked token still logs in");
    sl_buffer_free(&answer);
    sl_auth_free(auth);
    sl_plan_free(plan);
}

typedef struct login_thread {
    sl_auth *auth;
    int logged_in;
} login_thread;

static void *log_in_often(void *context)
{
    login_thread *t = context;
    for (int i = 0; i < 40; i++) {
        sl_buffer answer = { 0 };
        char *cookie = NULL;
        if (sl_auth_login(t->auth, i % 2 ? ADMIN_TOKEN : VIEWER_TOKEN, false, &cookie, &answer) == 200) t->logged_in++;
        free(cookie);
        sl_buffer_free(&answer);
    }
    return NULL;
}

Test(auth, logins_on_several_threads_while_the_tokens_are_reloaded, .timeout = 300)
{
    sl_plan *plan;
    sl_auth *auth = guard_of(&plan);
    login_thread threads[4];
    pthread_t ids[4];
    for (int i = 0; i < 4; i++) {
        threads[i] = (login_thread){ auth, 0 };
        cr_assert_eq(pthread_create(&ids[i], NULL, log_in_often, &threads[i]), 0);
    }
    sl_error err = { 0 };
    for (int i = 0; i < 10; i++) cr_assert_eq(sl_auth_apply(auth, plan, &err), SL_OK, "%s", err.message);
    for (int i = 0; i < 4; i++) {
        pthread_join(ids[i], NULL);
        cr_assert_eq(threads[i].logged_in, 40, "thread %d: %d logins", i, threads[i].logged_in);
    }
    sl_auth_free(auth);
    sl_plan_free(plan);
}
