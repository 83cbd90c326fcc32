/* postgres_url.h — what messages may show of a PostgreSQL connection URL:
 * the URL with its password replaced by ***, and the password's text, so a
 * message quoting it (libpq's, about a bad URL) can be cleaned too.
 */
#ifndef SL_METADATA_POSTGRES_URL_H
#define SL_METADATA_POSTGRES_URL_H

#include <stddef.h>

/* url with the password of its user info ("user:PASSWORD@") and of a
 * password= query parameter shown as ***; malloc'ed, NULL without memory. */
char *sl_pg_url_redact(const char *url);

/* Replaces each occurrence of secret (when not empty) in text with ***, in
 * place, within size bytes (text stays NUL-terminated). */
void sl_pg_scrub(char *text, size_t size, const char *secret);

/* Writes into out (size bytes) the password's text as it appears in url
 * (user info, else password= parameter); "" when it has none. */
void sl_pg_url_password(const char *url, char *out, size_t size);

#endif
