/* cmd_auth.c — `sluice auth hash-token`: reads a token on stdin (one line;
 * the newline is not part of it) and prints its "<salt>$<hash>"
 * (core/token_hash.h) for an auth.tokens[].token_hash in a config file, so
 * the file need not hold the token itself. The verb table below is the one
 * list of auth verbs. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/token_hash.h"

#define TOKEN_MAX 1024
#define TOKEN_MIN 16

typedef struct auth_verb {
    const char *name;
    int (*run)(void);
    const char *help;
} auth_verb;

static int hash_token(void)
{
    char token[TOKEN_MAX + 2];
    int rc = SL_EXIT_OK;
    if (!fgets(token, sizeof token, stdin)) {
        fprintf(stderr, "sluice auth hash-token: no token on stdin (give it as one line)\n");
        return SL_EXIT_USAGE;
    }
    size_t len = strcspn(token, "\r\n");
    if (token[len] == '\0' && len > TOKEN_MAX) {
        fprintf(stderr, "sluice auth hash-token: the token is over %d bytes\n", TOKEN_MAX);
        rc = SL_EXIT_USAGE;
        goto done;
    }
    token[len] = '\0';
    if (len < TOKEN_MIN) {
        fprintf(stderr, "sluice auth hash-token: the token is shorter than %d characters (the server refuses it)\n",
                TOKEN_MIN);
        rc = SL_EXIT_USAGE;
        goto done;
    }
    sl_token_hash hash;
    char text[SL_TOKEN_HASH_TEXT_SIZE];
    sl_error err;
    sl_error_clear(&err);
    if (sl_token_hash_make(token, len, &hash, text, &err)) {
        fprintf(stderr, "sluice auth hash-token: %s\n", err.message);
        rc = SL_EXIT_FAILURE;
        goto done;
    }
    printf("%s\n", text);
done:
    OPENSSL_cleanse(token, sizeof token);
    return rc;
}

static const auth_verb verbs[] = {
    { "hash-token", hash_token,
      "read a token on stdin, print its \"<salt>$<hash>\" for auth.tokens[].token_hash" },
};

static void auth_usage(FILE *out)
{
    fprintf(out, "usage: sluice auth VERB\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].help);
    fprintf(out, "\nexample: printf '%%s\\n' \"$SLUICE_ADMIN_TOKEN\" | sluice auth hash-token\n"
                 "Exit codes: 0 ok, 1 failure, 2 usage error (no token, too short).\n");
}

int sl_cmd_auth(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        auth_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SL_EXIT_USAGE : SL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0) {
            if (argc > 2) {
                auth_usage(stderr);
                return SL_EXIT_USAGE;
            }
            return verbs[i].run();
        }
    fprintf(stderr, "sluice auth: unknown verb '%s'\n", argv[1]);
    auth_usage(stderr);
    return SL_EXIT_USAGE;
}
