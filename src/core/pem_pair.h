/* pem_pair.h — a TLS certificate and its private key, read from PEM files
 * and checked to belong together (OpenSSL), for http.tls. */
#ifndef SL_PEM_PAIR_H
#define SL_PEM_PAIR_H

#include "core/error.h"

/* Reads cert_path and key_path whole; SL_ECONFIG naming the file that is
 * unreadable, not PEM, or (the key) not the certificate's. With cert_pem
 * and key_pem not NULL, their texts (malloc'ed, NUL-terminated; the caller
 * frees them, the key with sl_pem_free_secret). */
int sl_pem_pair_load(const char *cert_path, const char *key_path, char **cert_pem, char **key_pem, sl_error *err);

/* Wipes and frees a key's text (NULL is fine). */
void sl_pem_free_secret(char *text);

#endif
