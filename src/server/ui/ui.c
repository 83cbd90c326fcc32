/* ui.c — serves the web UI (see ui.h) from the table the build compiled
 * in (ui_assets.h).
 *
 * A request names a file; the file is looked up by its exact name in the
 * table, so "..", slashes or any other path can reach nothing but the
 * table's rows: there is no file system path here at all. Every answer
 * carries the file's ETag and Cache-Control: no-cache, so a browser keeps
 * the files and revalidates them; an If-None-Match that lists the current
 * ETag (or "*") is answered 304 without a body. The page's scripts and
 * styles come from this origin only (Content-Security-Policy); http.c's
 * nosniff on every answer keeps browsers to the table's content types.
 */
#include "server/ui/ui.h"

#include <stdbool.h>
#include <string.h>

#include "server/ui/ui_assets.h"

#define UI_CACHE_CONTROL "no-cache"
#define UI_CONTENT_SECURITY_POLICY                                                                         \
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const sl_ui_asset *sl_ui_asset_find(const char *name)
{
    if (!name) return NULL;
    for (const sl_ui_asset *asset = sl_ui_assets; asset->name; asset++)
        if (strcmp(asset->name, name) == 0) return asset;
    return NULL;
}

/* Whether an If-None-Match value (a comma-separated list of entity tags,
 * each maybe weak: W/"...") names etag or is "*" (RFC 9110 13.1.2: weak
 * comparison). */
static bool etag_listed(const char *header, const char *etag)
{
    size_t etag_len = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        if (*p == '*') return true;
        if (p[0] == 'W' && p[1] == '/') p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == etag_len && memcmp(p, etag, len) == 0) return true;
        p += strcspn(p, ",");
    }
    return false;
}

static void serve(const sl_ui_asset *asset, const char *name, const sl_http_request *request,
                  sl_http_response *response)
{
    if (!asset) {
        sl_http_error(response, 404, "the web UI has no file called %s", name ? name : "(none)");
        return;
    }
    if (sl_http_add_header(response, "ETag", asset->etag) ||
        sl_http_add_header(response, "Cache-Control", UI_CACHE_CONTROL) ||
        sl_http_add_header(response, "Content-Security-Policy", UI_CONTENT_SECURITY_POLICY)) {
        sl_http_error(response, 500, "too many headers for %s", asset->name);
        return;
    }
    response->content_type = asset->content_type;
    const char *if_none_match = sl_http_header(request, "If-None-Match");
    if (if_none_match && etag_listed(if_none_match, asset->etag)) {
        response->status = 304;
        return;
    }
    response->static_body = asset->bytes;
    response->static_body_len = asset->len;
}

void sl_ui_index(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)context;
    serve(sl_ui_asset_find("index.html"), "index.html", request, response);
}

void sl_ui_file(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)context;
    const char *name = sl_http_param(request, "file");
    serve(sl_ui_asset_find(name), name, request, response);
}
