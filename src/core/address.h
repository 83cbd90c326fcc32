/* address.h — "host:port" text as people write it for a server to reach or
 * a port to listen on: "host", "host:port", "[v6]:port" or a bare IPv6
 * address. One parser for the CQL contact points and http.listen. */
#ifndef SL_ADDRESS_H
#define SL_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Splits text into host (NUL-terminated, at most size - 1 bytes, without
 * brackets) and *port. Without a port, *port is default_port; a
 * default_port below 0 makes the port required. Port 0 is accepted only
 * when allow_zero (a listener asking for any free port). A mistake is
 * SL_ECONFIG with a message that quotes text. */
int sl_address_parse(const char *text, int default_port, bool allow_zero, char *host, size_t size, int *port,
                     sl_error *err);

#endif
