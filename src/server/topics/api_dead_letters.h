/* api_dead_letters.h — the dead-letter routes of `sluice server`
 * (docs/api.md, "Dead letters"): the dead-letter topics with their counts
 * and reasons, and their messages with the error, stage and original
 * position the pipeline's dead-letter writer (runtime/dlq.c) put in the
 * sluice.* headers.
 *
 * A dead-letter topic is one a pipeline of the current file names in its
 * dlq setting (`<pipeline>.dlq` by default), or any topic whose name ends
 * in ".dlq" (a pipeline since removed from the file).
 */
#ifndef SL_API_DEAD_LETTERS_H
#define SL_API_DEAD_LETTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/plan.h"
#include "server/http.h"

/* Whether topic is a dead-letter topic; *pipeline (when not NULL) the
 * pipeline whose it is (or the name without ".dlq"). */
bool sl_api_dead_letter_topic(const sl_plan *plan, const char *topic, char *pipeline, size_t size);

void sl_api_dead_letters_list(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_dead_letters_messages(void *context, const sl_http_request *request, sl_http_response *response);

#endif
