/* key_text.c — what a value at a key path becomes as a message key (see
 * key_text.h for the table). Strings are used as they are; every other
 * non-null value is written as compact JSON, so numbers hash as their
 * decimal text, as they would once a Java producer's StringSerializer had
 * turned them into text. */
#include "core/key_text.h"

#include "core/error.h"
#include "core/json.h"

int sl_key_text(const sl_value *value, sl_buffer *scratch, sl_str *key)
{
    *key = (sl_str){ NULL, 0 };
    if (!value || value->type == SL_TYPE_NULL) return SL_OK;
    if (value->type == SL_TYPE_STRING || value->type == SL_TYPE_BYTES) {
        /* An empty string may carry no pointer; the key must, to stay non-null. */
        *key = value->string.ptr ? value->string : (sl_str){ "", 0 };
        return SL_OK;
    }
    sl_buffer_clear(scratch);
    int rc = sl_json_write(scratch, value);
    if (rc) return rc;
    const char *text = scratch->data;
    size_t len = scratch->len;
    if ((value->type == SL_TYPE_TIMESTAMP || value->type == SL_TYPE_INTERVAL) && len >= 2 && text[0] == '"') {
        text++; /* the ISO text has nothing to escape: drop the quotes only */
        len -= 2;
    }
    *key = (sl_str){ text, len };
    return SL_OK;
}
