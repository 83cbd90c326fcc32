/* conn.h — one CQL connection: a non-blocking TCP (optionally TLS) socket
 * that has done the native protocol v4 handshake, with stream ids, an
 * output buffer of frames waiting to be written and incremental reassembly
 * of the frames read (native_protocol_v4.spec §2, §4.1.1–§4.1.2, §5).
 *
 * The connection does no waiting of its own after open: its owner (the
 * session) polls the descriptor for sl_cql_conn_poll_events(), calls
 * sl_cql_conn_io() when poll says so, then takes the complete responses
 * with sl_cql_conn_next(). Requests are appended straight into the output
 * buffer by the message builders, so many frames leave in one write().
 *
 * Every request in flight holds a stream id and a caller tag (a 32-bit
 * number the owner uses to find its request again). A request given up by
 * its owner (timed out) is abandoned: its stream stays taken until the
 * server answers, and that answer is dropped, so a late answer can never be
 * taken for another request's. EVENT frames (stream -1) are skipped.
 *
 * A connection that fails (peer closed, i/o error, corrupt frame) is
 * broken for good: sl_cql_conn_take_lost() hands back every tag still in
 * flight so the owner can retry those requests elsewhere.
 */
#ifndef SL_CQL_CONN_H
#define SL_CQL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "core/arena.h"
#include "core/buffer.h"
#include "core/error.h"
#include "cql/frame.h"
#include "cql/messages.h"

/* The tag of an abandoned request: its answer is dropped. */
#define SL_CQL_CONN_TAG_NONE UINT32_MAX

typedef struct sl_cql_conn sl_cql_conn;

typedef struct sl_cql_conn_options {
    const char *host;              /* name or numeric IPv4/IPv6 address */
    int port;
    const char *username;          /* NULL: no credentials */
    const char *password;
    bool compression;              /* ask for lz4 when the server offers it */
    SSL_CTX *tls;                  /* NULL: plain TCP; borrowed, must outlive the connection */
    bool tls_verify;               /* check the certificate names host */
    int connect_timeout_ms;        /* whole open: TCP, TLS and handshake; 0 = 5000 */
    int max_streams;               /* stream ids in use at once; 0 = 1024, at most 32768 */
    const char *application_name;  /* STARTUP APPLICATION_NAME, optional */
} sl_cql_conn_options;

/* A TLS client context: CA file (or the system's default paths), peer
 * verification when verify, client certificate and key when given.
 * SL_ECONFIG naming the file OpenSSL refused. Free with SSL_CTX_free. */
int sl_cql_tls_context_new(const char *ca_file, bool verify, const char *cert_file, const char *key_file,
                           SSL_CTX **out, sl_error *err);

/* Connects (every address the host resolves to, in turn) and performs the
 * handshake: OPTIONS, STARTUP (+ lz4 when asked and offered), and PLAIN
 * authentication when the server asks for it. Blocks at most
 * connect_timeout_ms. Errors: SL_ECONFIG for refused credentials (or a
 * server that wants credentials none were given for), with the server's
 * message; SL_EIO for anything else, naming host:port. */
int sl_cql_conn_open(const sl_cql_conn_options *options, sl_cql_conn **out, sl_error *err);

/* Closes the socket and frees the connection. Accepts NULL. */
void sl_cql_conn_free(sl_cql_conn *conn);

/* "host:port" as given to open. */
const char *sl_cql_conn_name(const sl_cql_conn *conn);

/* The numeric address of the peer ("127.0.0.1", "::1"). */
const char *sl_cql_conn_peer_address(const sl_cql_conn *conn);

/* Whether lz4 was negotiated. */
bool sl_cql_conn_is_compressed(const sl_cql_conn *conn);

int sl_cql_conn_fd(const sl_cql_conn *conn);

/* POLLIN, plus POLLOUT while output waits (or TLS needs to write). */
short sl_cql_conn_poll_events(const sl_cql_conn *conn);

bool sl_cql_conn_is_broken(const sl_cql_conn *conn);

/* Streams in use (including abandoned ones) and free. */
size_t sl_cql_conn_in_flight(const sl_cql_conn *conn);
size_t sl_cql_conn_free_streams(const sl_cql_conn *conn);

/* Takes a free stream id for a request with this tag; -1 when none is free
 * or the connection is broken. */
int sl_cql_conn_acquire(sl_cql_conn *conn, uint32_t tag);

/* Gives back a stream whose frame was never queued (the build failed). */
void sl_cql_conn_release(sl_cql_conn *conn, int stream);

/* The buffer frames are appended to. After appending one whole frame that
 * begins at frame_start, call sl_cql_conn_queued. */
sl_buffer *sl_cql_conn_output(sl_cql_conn *conn);

/* Finishes the frame at frame_start: compresses its body when lz4 is on. */
int sl_cql_conn_queued(sl_cql_conn *conn, size_t frame_start, sl_error *err);

/* Forgets the request on stream: its answer will be dropped. */
void sl_cql_conn_abandon(sl_cql_conn *conn, int stream);

/* Writes what it can of the output and reads what is there (call it after
 * poll, with the revents it gave; 0 just tries). A failure breaks the
 * connection and returns SL_EIO naming host:port and why. Bodies returned
 * by sl_cql_conn_next stay valid until the next call of this function. */
int sl_cql_conn_io(sl_cql_conn *conn, short revents, sl_error *err);

/* The next complete response for a request still wanted: returns 1 and
 * fills header, body (len = header->length) and the request's tag, its
 * stream freed; 0 when no whole frame is buffered; SL_ECORRUPT (the
 * connection is then broken) for a bad header or an answer on a stream
 * with no request. */
int sl_cql_conn_next(sl_cql_conn *conn, sl_cql_header *header, const uint8_t **body, uint32_t *tag,
                     sl_error *err);

/* After a break: hands back the tag of one request still in flight (its
 * stream freed) and returns true, or false when none is left. */
bool sl_cql_conn_take_lost(sl_cql_conn *conn, uint32_t *tag);

/* Marks the connection broken (the owner gave up on it). */
void sl_cql_conn_break(sl_cql_conn *conn);

#endif
