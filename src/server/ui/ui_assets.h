/* ui_assets.h — the web UI's files, compiled into the binary.
 *
 * The table is generated at build time from the files of ui/ by scripts/ui_embed.c
 * (build/gen/ui_assets.c); the Makefile regenerates it when a file of ui/
 * changes. Nothing is read from the disk when the UI is served: a name not
 * in this table does not exist, whatever the path asked for.
 */
#ifndef SL_UI_ASSETS_H
#define SL_UI_ASSETS_H

#include <stddef.h>

typedef struct sl_ui_asset {
    const char *name;           /* the file's name in ui/, served as /ui/NAME */
    const char *content_type;   /* from its extension */
    const unsigned char *bytes; /* static: lives as long as the process */
    size_t len;
    const char *etag;           /* a quoted hash of the bytes ("...") */
} sl_ui_asset;

/* Ended by a row with a NULL name. */
extern const sl_ui_asset sl_ui_assets[];

/* The asset called name (exactly), or NULL. */
const sl_ui_asset *sl_ui_asset_find(const char *name);

#endif
