/* config_json.c — a node tree written as redacted JSON (see
 * config_json.h). The one redaction rule set is core/redact.h's; here it
 * is only applied: by key while walking maps, by text on every scalar. */
#include "config/config_json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/redact.h"

/* Whether text is a JSON number: -?digits(.digits)?([eE][+-]?digits)? */
static bool is_json_number(const char *text)
{
    const char *c = text;
    if (*c == '-') c++;
    if (!isdigit((unsigned char)*c)) return false;
    if (*c == '0' && isdigit((unsigned char)c[1])) return false;
    while (isdigit((unsigned char)*c)) c++;
    if (*c == '.') {
        c++;
        if (!isdigit((unsigned char)*c)) return false;
        while (isdigit((unsigned char)*c)) c++;
    }
    if (*c == 'e' || *c == 'E') {
        c++;
        if (*c == '+' || *c == '-') c++;
        if (!isdigit((unsigned char)*c)) return false;
        while (isdigit((unsigned char)*c)) c++;
    }
    return *c == '\0';
}

static int write_scalar(sl_buffer *out, const sl_node *node)
{
    if (node->is_null) return sl_buffer_append_cstr(out, "null");
    const char *text = node->scalar ? node->scalar : "";
    if (!node->is_quoted && (strcmp(text, "true") == 0 || strcmp(text, "false") == 0 || is_json_number(text)))
        return sl_buffer_append_cstr(out, text);
    char *shown = sl_redact_copy(text);
    if (!shown) return SL_ENOMEM;
    int rc = sl_json_write_string(out, shown, strlen(shown));
    free(shown);
    return rc;
}

static int write_node(sl_buffer *out, const sl_node *node, bool is_secret)
{
    if (!node) return sl_buffer_append_cstr(out, "null");
    if (is_secret && node->kind == SL_NODE_SCALAR && !node->is_null)
        return sl_buffer_append_cstr(out, "\"" SL_REDACTED "\"");
    int rc = SL_OK;
    switch (node->kind) {
    case SL_NODE_SCALAR: return write_scalar(out, node);
    case SL_NODE_MAP:
        rc = sl_buffer_append_byte(out, '{');
        for (size_t i = 0; i < node->n_pairs && rc == SL_OK; i++) {
            const char *key = node->pairs[i].key;
            if (i) rc = sl_buffer_append_byte(out, ',');
            if (rc == SL_OK) rc = sl_json_write_string(out, key, strlen(key));
            if (rc == SL_OK) rc = sl_buffer_append_byte(out, ':');
            /* A map's keys decide for themselves (auth.tokens holds names and roles beside each token). */
            if (rc == SL_OK) rc = write_node(out, node->pairs[i].value, sl_redact_is_secret_key(key));
        }
        return rc == SL_OK ? sl_buffer_append_byte(out, '}') : rc;
    case SL_NODE_LIST:
        rc = sl_buffer_append_byte(out, '[');
        for (size_t i = 0; i < node->n_items && rc == SL_OK; i++) {
            if (i) rc = sl_buffer_append_byte(out, ',');
            if (rc == SL_OK) rc = write_node(out, node->items[i], is_secret);
        }
        return rc == SL_OK ? sl_buffer_append_byte(out, ']') : rc;
    }
    return SL_EINVAL;
}

int sl_config_json_write(sl_buffer *out, const sl_node *node)
{
    return write_node(out, node, false);
}
