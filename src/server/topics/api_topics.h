/* api_topics.h — the topic routes of `sluice server` (docs/api.md,
 * "Topics"): the embedded log's topics listed and paged by name, one topic
 * with its partitions and the groups reading it, a page of its messages
 * (api: topic_browse.h), and a message produced into it through the
 * server's own sl_log (the data dir's single writer), or, for a topic of
 * the file's Kafka, to the brokers (api_produce.c, kafka_admin.h). The context of every
 * handler is the sl_server.
 */
#ifndef SL_API_TOPICS_H
#define SL_API_TOPICS_H

#include <stdbool.h>

#include "log/log.h"
#include "server/http.h"

void sl_api_topics_list(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_topics_get(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_topics_messages(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_topics_produce(void *context, const sl_http_request *request, sl_http_response *response);

/* A page of topic's messages with the dead-letter fields (the dead-letter
 * route's browse, with the same parameters). */
void sl_api_topics_browse_dead_letters(sl_topic *topic, const sl_http_request *request, sl_http_response *response);

#endif
