/* ui_test.c — the web UI's table compiled into the binary
 * (server/ui_assets.h): names are found only exactly (no path, no case
 * folding, no prefix), and every row holds the bytes of its file in ui/
 * (read here from the source tree, where make runs the tests), a content
 * type for its extension and an ETag of its own. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/ui/ui_assets.h"
#include "test_util.h"

Test(ui, finds_a_file_only_by_its_exact_name)
{
    const sl_ui_asset *index = sl_ui_asset_find("index.html");
    cr_assert_not_null(index);
    cr_assert_str_eq(index->name, "index.html");
    const char *misses[] = { "", "/index.html", "./index.html", "../index.html", "ui/index.html", "index.html/",
                             "INDEX.HTML", "index.htm", "index.html ", "index", "..", "." };
    for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++)
        cr_assert_null(sl_ui_asset_find(misses[i]), "found %s", misses[i]);
    cr_assert_null(sl_ui_asset_find(NULL));
}

Test(ui, every_row_holds_its_files_bytes_a_type_and_an_etag_of_its_own)
{
    size_t n = 0;
    for (const sl_ui_asset *asset = sl_ui_assets; asset->name; asset++, n++) {
        char path[512];
        snprintf(path, sizeof path, "ui/%s", asset->name);
        size_t len = 0;
        char *bytes = test_read_file(path, &len);
        cr_assert_eq(asset->len, len, "%s: %zu bytes compiled in, %zu in the file", asset->name, asset->len, len);
        cr_assert(memcmp(asset->bytes, bytes, len) == 0, "%s: the bytes differ", asset->name);
        free(bytes);
        const char *dot = strrchr(asset->name, '.');
        cr_assert_not_null(dot);
        if (strcmp(dot, ".js") == 0) cr_assert_str_eq(asset->content_type, "text/javascript; charset=utf-8");
        if (strcmp(dot, ".html") == 0) cr_assert_str_eq(asset->content_type, "text/html; charset=utf-8");
        if (strcmp(dot, ".css") == 0) cr_assert_str_eq(asset->content_type, "text/css; charset=utf-8");
        size_t etag_len = strlen(asset->etag);
        cr_assert(etag_len > 2 && asset->etag[0] == '"' && asset->etag[etag_len - 1] == '"', "%s", asset->etag);
        for (const sl_ui_asset *other = sl_ui_assets; other != asset; other++)
            cr_assert_str_neq(other->etag, asset->etag, "%s and %s share an ETag", other->name, asset->name);
    }
    cr_assert_gt(n, 5);
}
