/* value_key.c — values as the bytes of a grouping or lookup key (see
 * value_key.h). */
#include "core/value_key.h"

#include <math.h>
#include <string.h>

#include "core/json.h"

int sl_value_append_key(sl_buffer *out, const sl_value *v)
{
    unsigned char tag = (unsigned char)v->type;
    switch (v->type) {
    case SL_TYPE_NULL: return sl_buffer_append_byte(out, 0);
    case SL_TYPE_BOOL: {
        int rc = sl_buffer_append_byte(out, tag);
        return rc ? rc : sl_buffer_append_byte(out, v->boolean ? 1 : 0);
    }
    case SL_TYPE_DOUBLE:
        if (isfinite(v->number) && v->number == floor(v->number) && fabs(v->number) < 9.2e18) {
            sl_value as_int = sl_value_int((int64_t)v->number);
            return sl_value_append_key(out, &as_int);
        }
        {
            int rc = sl_buffer_append_byte(out, tag);
            double d = v->number == 0 ? 0.0 : v->number;   /* -0 groups with 0 */
            return rc ? rc : sl_buffer_append(out, &d, sizeof d);
        }
    case SL_TYPE_INT: {
        int rc = sl_buffer_append_byte(out, (unsigned char)SL_TYPE_INT);
        return rc ? rc : sl_buffer_append(out, &v->integer, sizeof v->integer);
    }
    case SL_TYPE_TIMESTAMP: {
        int rc = sl_buffer_append_byte(out, tag);
        return rc ? rc : sl_buffer_append(out, &v->timestamp, sizeof v->timestamp);
    }
    case SL_TYPE_INTERVAL: {
        /* As PostgreSQL groups them: a month is 30 days, a day 24 hours. */
        __int128 micros = (__int128)v->interval.micros + (__int128)v->interval.days * 86400000000 +
                          (__int128)v->interval.months * 30 * 86400000000;
        int rc = sl_buffer_append_byte(out, tag);
        return rc ? rc : sl_buffer_append(out, &micros, sizeof micros);
    }
    case SL_TYPE_STRING:
    case SL_TYPE_BYTES: {
        uint64_t len = v->string.len;
        int rc = sl_buffer_append_byte(out, tag);
        if (rc == SL_OK) rc = sl_buffer_append(out, &len, sizeof len);
        return rc ? rc : sl_buffer_append(out, v->string.ptr, v->string.len);
    }
    default: {
        /* Arrays and objects: their JSON text, length first. */
        size_t at = out->len;
        uint64_t len = 0;
        int rc = sl_buffer_append_byte(out, tag);
        if (rc == SL_OK) rc = sl_buffer_append(out, &len, sizeof len);
        size_t body = out->len;
        if (rc == SL_OK) rc = sl_json_write(out, v);
        if (rc) return rc;
        len = out->len - body;
        memcpy(out->data + at + 1, &len, sizeof len);
        return SL_OK;
    }
    }
}

