/* address.c — parsing "host:port" text (see address.h). */
#include "core/address.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int sl_address_parse(const char *text, int default_port, bool allow_zero, char *host, size_t size, int *port,
                     sl_error *err)
{
    const char *start = text;
    const char *colon = strrchr(text, ':');
    const char *end = text + strlen(text);
    *port = default_port;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (close[1] && close[1] != ':'))
            return sl_error_set(err, SL_ECONFIG, "\"%s\": expected [address]:port", text);
        start = text + 1;
        end = close;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon && strchr(text, ':') != colon) {
        colon = NULL;   /* several colons without brackets: a bare IPv6 address */
    } else if (colon) {
        end = colon;
    }
    if (colon) {
        char *stop = NULL;
        errno = 0;
        long value = strtol(colon + 1, &stop, 10);
        if (errno || *stop || colon[1] == '\0' || value < (allow_zero ? 0 : 1) || value > 65535)
            return sl_error_set(err, SL_ECONFIG, "\"%s\": the port \"%s\" is not a number from %d to 65535", text,
                                colon + 1, allow_zero ? 0 : 1);
        *port = (int)value;
    } else if (default_port < 0) {
        return sl_error_set(err, SL_ECONFIG, "\"%s\": expected HOST:PORT, like 127.0.0.1:8080", text);
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= size) return sl_error_set(err, SL_ECONFIG, "\"%s\": the host is missing or too long", text);
    memcpy(host, start, len);
    host[len] = '\0';
    return SL_OK;
}
