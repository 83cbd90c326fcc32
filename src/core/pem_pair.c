/* pem_pair.c — reading and matching a certificate and key (see
 * pem_pair.h). OpenSSL parses both from memory (the same bytes
 * libmicrohttpd is given later) and X509_check_private_key says whether the
 * key is the certificate's. */
#include "core/pem_pair.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEM_MAX_BYTES (1024 * 1024)

static int read_file(const char *what, const char *path, char **out, sl_error *err)
{
    *out = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) return sl_error_set_permanent(err, SL_ECONFIG, "http.tls.%s %s: %s", what, path, strerror(errno));
    char *text = malloc(PEM_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, PEM_MAX_BYTES + 1, file) : 0;
    int failed = ferror(file);
    fclose(file);
    int rc = SL_OK;
    if (!text) rc = sl_error_set(err, SL_ENOMEM, "out of memory");
    else if (failed) rc = sl_error_set_permanent(err, SL_ECONFIG, "http.tls.%s %s: cannot read it", what, path);
    else if (n > PEM_MAX_BYTES)
        rc = sl_error_set_permanent(err, SL_ECONFIG, "http.tls.%s %s: over %d bytes: not a PEM file", what, path,
                                    PEM_MAX_BYTES);
    if (rc) {
        free(text);
        return rc;
    }
    text[n] = '\0';
    *out = text;
    return SL_OK;
}

void sl_pem_free_secret(char *text)
{
    if (!text) return;
    OPENSSL_cleanse(text, strlen(text));
    free(text);
}

int sl_pem_pair_load(const char *cert_path, const char *key_path, char **cert_pem, char **key_pem, sl_error *err)
{
    char *cert_text = NULL, *key_text = NULL;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    int rc = read_file("cert", cert_path, &cert_text, err);
    if (rc == SL_OK) rc = read_file("key", key_path, &key_text, err);
    if (rc) goto done;
    BIO *bio = BIO_new_mem_buf(cert_text, -1);
    cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!cert) {
        rc = sl_error_set_permanent(err, SL_ECONFIG, "http.tls.cert %s: not a PEM certificate", cert_path);
        goto done;
    }
    bio = BIO_new_mem_buf(key_text, -1);
    key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key) {
        rc = sl_error_set_permanent(err, SL_ECONFIG, "http.tls.key %s: not a PEM private key (an encrypted "
                                    "key is not supported)", key_path);
        goto done;
    }
    if (X509_check_private_key(cert, key) != 1) {
        rc = sl_error_set_permanent(err, SL_ECONFIG, "http.tls.key %s: not the key of the certificate %s",
                                    key_path, cert_path);
        goto done;
    }
    if (cert_pem) {
        *cert_pem = cert_text;
        cert_text = NULL;
    }
    if (key_pem) {
        *key_pem = key_text;
        key_text = NULL;
    }
done:
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    free(cert_text);
    sl_pem_free_secret(key_text);
    return rc;
}
