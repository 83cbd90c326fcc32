/* alerts_api.c — GET /api/v1/alerts: the evaluator's states, read under
 * its lock (alerts.h), never waiting on a round, a store or a webhook.
 * ?state=inactive|pending|firing keeps the alerts in that state, paged by
 * rule name (?limit=, default 100, and ?cursor=); any other parameter is
 * refused with 400 naming it, so a filter the server does not
 * apply is never mistaken for one it did. */
#include "server/alerts/alerts_api.h"

#include <microhttpd.h>
#include <string.h>

#include "server/alerts/alerts_rules.h"

#include "server/alerts/alerts.h"
#include "server/api_params.h"
#include "server/server.h"

static enum MHD_Result find_unknown(void *context, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    if (strcmp(key, "state") == 0 || strcmp(key, "limit") == 0 || strcmp(key, "cursor") == 0) return MHD_YES;
    *(const char **)context = key;
    return MHD_NO;
}

void sl_api_alerts_list(void *context, const sl_http_request *request, sl_http_response *response)
{
    const char *unknown = NULL;
    if (request->connection)
        MHD_get_connection_values(request->connection, MHD_GET_ARGUMENT_KIND, find_unknown, &unknown);
    if (unknown) {
        sl_http_error(response, 400, "unknown parameter '%.100s': GET /api/v1/alerts takes state, limit and cursor",
                      unknown);
        return;
    }
    const char *state_text = sl_http_query(request, "state");
    int state = -1;
    for (int i = 0; state_text && sl_alert_state_names[i]; i++)
        if (strcmp(state_text, sl_alert_state_names[i]) == 0) state = i;
    if (state_text && state < 0) {
        sl_http_error(response, 400, "state: '%.100s' is not inactive, pending or firing", state_text);
        return;
    }
    int limit;
    char after[256];
    if (!sl_api_param_limit(sl_http_query(request, "limit"), 100, &limit, response) ||
        !sl_api_param_cursor('a', sl_http_query(request, "cursor"), after, sizeof after, response))
        return;
    if (sl_alerts_write_json(sl_server_alerts(context), state, after, (size_t)limit, &response->body))
        sl_http_error(response, 500, "out of memory");
}
