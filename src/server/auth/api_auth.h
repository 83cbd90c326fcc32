/* api_auth.h — the routes of access control (docs/api.md, "Access
 * control"): whoami, login, logout, the tokens API and the redacted config.
 * The context of each is the sl_server. */
#ifndef SL_API_AUTH_H
#define SL_API_AUTH_H

#include "server/http.h"

void sl_api_whoami(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_login(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_logout(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_tokens_list(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_tokens_create(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_tokens_delete(void *context, const sl_http_request *request, sl_http_response *response);
void sl_api_config(void *context, const sl_http_request *request, sl_http_response *response);

#endif
