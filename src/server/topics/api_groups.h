/* api_groups.h — the consumer-group routes of `sluice server` (docs/api.md,
 * "Consumer groups"): the embedded log's groups (groups/<group>/) and,
 * when the file maps its topics onto Kafka, Kafka's (kafka_admin.h), each
 * with its committed offsets, the partitions' ends and the lag. The
 * context of every handler is the sl_server.
 */
#ifndef SL_API_GROUPS_H
#define SL_API_GROUPS_H

#include "server/http.h"

void sl_api_groups_list(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_groups_get(void *context, const sl_http_request *request, sl_http_response *response);

#endif
