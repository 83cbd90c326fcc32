/* redact.h — the one place that decides what of a secret may be shown:
 * nothing. Every path that shows text a user or an operator sees (log lines,
 * API answers, the config as JSON, server.json) runs it through here.
 *
 * Three rules, all replacing the secret with "***":
 *   - a setting whose key names a secret (sl_redact_is_secret_key: keys
 *     containing "password", "secret" or "token", like sasl.password,
 *     ssl.key.password, token_hash) never shows its value;
 *   - a URL's user info password ("scheme://user:PASSWORD@host") and a
 *     password=VALUE parameter or keyword never show;
 *   - a value registered with sl_redact_register (the secret-bearing
 *     settings of the loaded config) is cut out of any text it turns up in,
 *     such as a connector's error message quoting a URL or a server's answer.
 */
#ifndef SL_REDACT_H
#define SL_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define SL_REDACTED "***"

/* Whether a setting called key (a last path segment or a dotted property
 * name) holds a secret. Case-insensitive. */
bool sl_redact_is_secret_key(const char *key);

/* Remembers secret (copied; values under 4 bytes are ignored, they would
 * cut ordinary words) so sl_redact_text hides it from then on. Thread safe;
 * bounded: past SL_REDACT_MAX_SECRETS the oldest are forgotten. */
#define SL_REDACT_MAX_SECRETS 256
void sl_redact_register(const char *secret);

/* Rewrites text (NUL-terminated, within size bytes) in place: URL
 * passwords, password=VALUE and registered secrets become ***. The result
 * is never longer than size - 1; a text cut by that stays redacted. */
void sl_redact_text(char *text, size_t size);

/* A malloc'ed redacted copy of text (NULL without memory). */
char *sl_redact_copy(const char *text);

#endif
