/* ui.h — the web UI's routes: GET / (index.html) and GET /ui/{file}, both
 * answered from the embedded table of ui_assets.h only, with an ETag,
 * If-None-Match (304) and Cache-Control: no-cache (a browser keeps the
 * files and asks each time whether they changed). */
#ifndef SL_UI_H
#define SL_UI_H

#include "server/http.h"

void sl_ui_index(void *context, const sl_http_request *request, sl_http_response *response);
void sl_ui_file(void *context, const sl_http_request *request, sl_http_response *response);

#endif
