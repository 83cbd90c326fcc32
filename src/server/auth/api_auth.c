/* api_auth.c — the handlers of the access-control routes (see
 * api_auth.h). Bodies are small JSON objects whose every field is a
 * string; anything else is a 400 naming the field. The work is auth.c's. */
#include "server/auth/api_auth.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/value.h"
#include "server/api_params.h"
#include "server/auth/auth.h"
#include "server/server.h"

#define FIELD_MAX 256

typedef struct body_field {
    const char *name;
    char value[FIELD_MAX];    /* "" when absent */
} body_field;

/* Reads body as {"name": "string", ...} with only fields' names; false
 * after a 400 in response. */
static bool read_fields(const sl_http_request *request, body_field *fields, size_t n_fields,
                        sl_http_response *response)
{
    sl_arena *arena = sl_arena_new(4096);
    if (!arena) {
        sl_http_error(response, 500, "out of memory");
        return false;
    }
    bool ok = false;
    sl_value object;
    sl_error err;
    sl_error_clear(&err);
    if (sl_json_parse(arena, request->body, request->body_len, &object, &err)) {
        sl_http_error(response, 400, "the request body is not JSON: %s", err.message);
        goto done;
    }
    if (object.type != SL_TYPE_OBJECT) {
        sl_http_error(response, 400, "the request body must be a JSON object, not %s", sl_type_name(object.type));
        goto done;
    }
    for (size_t m = 0; m < object.object.n_members; m++) {
        const sl_member *member = &object.object.members[m];
        body_field *field = NULL;
        for (size_t f = 0; f < n_fields && !field; f++)
            if (sl_str_eq_cstr(member->key, fields[f].name)) field = &fields[f];
        if (!field) {
            sl_http_error(response, 400, "unknown field '%.*s' in the request body", (int)member->key.len,
                          member->key.ptr);
            goto done;
        }
        const sl_value *value = &member->value;
        if (value->type != SL_TYPE_STRING || value->string.len == 0 || value->string.len >= FIELD_MAX ||
            memchr(value->string.ptr, '\0', value->string.len)) {
            sl_http_error(response, 400, "%s must be a string of 1 to %d characters", field->name, FIELD_MAX - 1);
            goto done;
        }
        memcpy(field->value, value->string.ptr, value->string.len);
        field->value[value->string.len] = '\0';
    }
    ok = true;
done:
    sl_arena_free(arena);
    return ok;
}

static void wipe_fields(body_field *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) memset(fields[i].value, 0, sizeof fields[i].value);
}

void sl_api_whoami(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)context;
    int rc;
    if (!request->who.is_auth_on) {
        rc = sl_buffer_append_cstr(&response->body, "{\"name\":null,\"role\":\"admin\",\"auth\":false}\n");
    } else {
        rc = sl_buffer_append_cstr(&response->body, "{\"name\":");
        if (rc == SL_OK) rc = sl_json_write_string(&response->body, request->who.name, strlen(request->who.name));
        if (rc == SL_OK)
            rc = sl_buffer_printf(&response->body, ",\"role\":\"%s\"}\n", sl_role_name(request->who.role));
    }
    if (rc) sl_http_error(response, 500, "out of memory");
}

void sl_api_login(void *context, const sl_http_request *request, sl_http_response *response)
{
    body_field fields[] = { { "token", "" } };
    if (!read_fields(request, fields, 1, response)) return;
    if (!fields[0].value[0]) {
        sl_http_error(response, 400, "the request body needs {\"token\": \"...\"}");
        return;
    }
    response->status = sl_auth_login(sl_server_auth(context), fields[0].value, request->is_tls,
                                     &response->set_cookie, &response->body);
    wipe_fields(fields, 1);
}

void sl_api_logout(void *context, const sl_http_request *request, sl_http_response *response)
{
    sl_auth_logout(sl_server_auth(context), sl_http_cookie(request, SL_AUTH_COOKIE), request->is_tls,
                   &response->set_cookie);
    if (sl_buffer_append_cstr(&response->body, "{\"logged_out\":true}\n")) sl_http_error(response, 500, "out of memory");
}

void sl_api_tokens_list(void *context, const sl_http_request *request, sl_http_response *response)
{
    int limit;
    char after[128];
    if (!sl_api_param_limit(sl_http_query(request, "limit"), 100, &limit, response) ||
        !sl_api_param_cursor('t', sl_http_query(request, "cursor"), after, sizeof after, response))
        return;
    sl_error err;
    sl_error_clear(&err);
    if (sl_auth_list_tokens(sl_server_auth(context), after, (size_t)limit, &response->body, &err))
        sl_http_error(response, 500, "listing tokens: %s", err.message);
}

void sl_api_tokens_create(void *context, const sl_http_request *request, sl_http_response *response)
{
    body_field fields[] = { { "name", "" }, { "role", "" } };
    if (!read_fields(request, fields, 2, response)) return;
    if (!fields[0].value[0] || !fields[1].value[0]) {
        sl_http_error(response, 400, "the request body needs {\"name\": \"...\", \"role\": \"viewer|operator|admin\"}");
        return;
    }
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_auth_create_token(sl_server_auth(context), fields[0].value, fields[1].value, &response->body, &err);
    if (rc == SL_OK) response->status = 201;
    else
        sl_http_error(response, rc == SL_EINVAL ? 400 : rc == SL_EEXIST || rc == SL_ECONFIG ? 409 : 500, "%s",
                      err.message);
}

void sl_api_tokens_delete(void *context, const sl_http_request *request, sl_http_response *response)
{
    const char *name = sl_http_param(request, "name");
    sl_error err;
    sl_error_clear(&err);
    int rc = sl_auth_delete_token(sl_server_auth(context), name, &err);
    if (rc) {
        sl_http_error(response, rc == SL_ENOTFOUND ? 404 : rc == SL_EINVAL ? 409 : 500, "%s", err.message);
        return;
    }
    if (sl_buffer_append_cstr(&response->body, "{\"deleted\":") ||
        sl_json_write_string(&response->body, name, strlen(name)) || sl_buffer_append_cstr(&response->body, "}\n"))
        sl_http_error(response, 500, "out of memory");
}

void sl_api_config(void *context, const sl_http_request *request, sl_http_response *response)
{
    (void)request;
    if (sl_server_config_json(context, &response->body)) sl_http_error(response, 500, "out of memory");
}
