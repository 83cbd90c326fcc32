/* alerts_api.h — the handler of GET /api/v1/alerts (docs/api.md): every
 * rule's alert with its state, value, labels and last notification. */
#ifndef SL_ALERTS_API_H
#define SL_ALERTS_API_H

#include "server/http.h"

void sl_api_alerts_list(void *context, const sl_http_request *request, sl_http_response *response);

#endif
