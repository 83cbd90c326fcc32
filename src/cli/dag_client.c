/* dag_client.c — one HTTP request of `sluice dag` with libcurl (see
 * dag_client.h). Each request has its own easy handle; the process-wide
 * init is curl's own, done once on first use (the CLI has one thread).
 * For a server with auth:, the token comes from SLUICE_TOKEN (sent as
 * Authorization: Bearer, never on the command line where ps shows it); for
 * one with a certificate of its own (http.tls), SLUICE_CA_CERT names the
 * PEM file to trust. */
#include "cli/dag_client.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buffer.h"

/* Seconds to connect, and for the whole request (a log can be large). */
#define CONNECT_TIMEOUT_S 5L
#define REQUEST_TIMEOUT_S 120L

static size_t on_body(char *data, size_t size, size_t n, void *context)
{
    sl_buffer *body = context;
    return sl_buffer_append(body, data, size * n) == SL_OK ? size * n : 0;
}

int sl_dag_client_request(const char *base_url, const char *method, const char *path, const char *body,
                          sl_dag_answer *answer, sl_error *err)
{
    static bool is_initialised = false;
    if (!is_initialised) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return sl_error_set(err, SL_EIO, "libcurl could not start");
        is_initialised = true;
    }
    *answer = (sl_dag_answer){ 0 };
    size_t len = strlen(base_url);
    while (len && base_url[len - 1] == '/') len--;
    sl_buffer url = { 0 };
    if (sl_buffer_printf(&url, "%.*s%s", (int)len, base_url, path))
        return sl_error_set(err, SL_ENOMEM, "out of memory");
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    int rc = SL_OK;
    if (!curl) {
        rc = sl_error_set(err, SL_ENOMEM, "libcurl: no handle");
        goto done;
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    const char *token = getenv("SLUICE_TOKEN");
    if (token && token[0]) {
        sl_buffer bearer = { 0 };
        if (sl_buffer_printf(&bearer, "Authorization: Bearer %s", token) == SL_OK)
            headers = curl_slist_append(headers, (const char *)bearer.data);
        sl_buffer_free(&bearer);
    }
    const char *ca = getenv("SLUICE_CA_CERT");
    if (ca && ca[0]) curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
    curl_easy_setopt(curl, CURLOPT_URL, url.data);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer->body);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        rc = sl_error_set(err, SL_EIO, "%s %s: %s", method, url.data, curl_easy_strerror(code));
        goto done;
    }
    long status = 0;
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    answer->status = (int)status;
    snprintf(answer->content_type, sizeof answer->content_type, "%s", type ? type : "");
done:
    if (rc) sl_buffer_free(&answer->body);
    curl_slist_free_all(headers);
    if (curl) curl_easy_cleanup(curl);
    sl_buffer_free(&url);
    return rc;
}

int sl_dag_client_escape(sl_buffer *out, const char *text)
{
    static const char digits[] = "0123456789ABCDEF";
    int rc = SL_OK;
    for (const unsigned char *c = (const unsigned char *)text; *c && rc == SL_OK; c++) {
        bool is_unreserved = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                             *c == '-' || *c == '.' || *c == '_' || *c == '~';
        if (is_unreserved) {
            rc = sl_buffer_append_byte(out, (char)*c);
        } else {
            char escaped[3] = { '%', digits[*c >> 4], digits[*c & 15] };
            rc = sl_buffer_append(out, escaped, 3);
        }
    }
    return rc;
}
