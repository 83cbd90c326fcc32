/* conn.c — one CQL connection: connect with a timeout, TLS, the v4
 * handshake, stream ids, buffered output and incremental frame reassembly;
 * see conn.h. References: native_protocol_v4.spec §2.3 (stream ids, up to
 * 32768 per connection, negative ids for server events), §4.1.1 STARTUP,
 * §4.1.2 AUTH_RESPONSE, §4.2.2–§4.2.4 AUTHENTICATE / SUPPORTED, §5 (lz4).
 *
 * Input is one growing buffer: bytes read are appended, whole frames are
 * handed out in place from `in_pos`, and the consumed prefix is dropped at
 * the start of the next sl_cql_conn_io() (which is why a body stays valid
 * until then). Output is one buffer of frames with a `sent` offset; it is
 * compacted once fully written.
 *
 * Stream ids come from a stack of free ids; tags[stream] holds the owner's
 * tag while a stream is in use, SL_CQL_CONN_TAG_NONE once abandoned.
 */
#include "cql/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "cql/compress.h"

#define CONN_READ_CHUNK (64 * 1024)
#define CONN_MAX_READ_PER_IO (4 * 1024 * 1024)

struct sl_cql_conn {
    int fd;
    SSL *ssl;
    bool tls_wants_write;      /* an SSL call returned WANT_WRITE */
    bool is_broken;
    bool is_compressed;
    char name[300];            /* "host:port" */
    char peer[INET6_ADDRSTRLEN];
    sl_buffer out;
    size_t sent;
    sl_buffer in;
    size_t in_pos;             /* first byte not yet handed out */
    int max_streams;
    int16_t *free_ids;         /* stack of free stream ids */
    int n_free;
    uint32_t *tags;            /* per stream: owner's tag */
    bool *in_use;
    int lost_scan;             /* next stream take_lost looks at */
};

/* ---- TLS context ---------------------------------------------------------- */

static void tls_reason(char *buf, size_t size)
{
    unsigned long code = ERR_get_error();
    if (code) ERR_error_string_n(code, buf, size);
    else snprintf(buf, size, "unknown TLS error");
    ERR_clear_error();
}

int sl_cql_tls_context_new(const char *ca_file, bool verify, const char *cert_file, const char *key_file,
                           SSL_CTX **out, sl_error *err)
{
    char why[256];
    int rc = SL_ECONFIG;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        tls_reason(why, sizeof why);
        rc = sl_error_set(err, SL_ENOMEM, "cannot create a TLS context: %s", why);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (ca_file && *ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            tls_reason(why, sizeof why);
            sl_error_set(err, rc, "tls_ca %s: %s", ca_file, why);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        tls_reason(why, sizeof why);
        sl_error_set(err, rc, "cannot load the system's CA certificates: %s", why);
        goto fail;
    }
    if (cert_file && *cert_file && SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        tls_reason(why, sizeof why);
        sl_error_set(err, rc, "tls_cert %s: %s", cert_file, why);
        goto fail;
    }
    if (key_file && *key_file) {
        if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            tls_reason(why, sizeof why);
            sl_error_set(err, rc, "tls_key %s: %s", key_file, why);
            goto fail;
        }
    }
    *out = ctx;
    return SL_OK;
fail:
    SSL_CTX_free(ctx);
    return rc;
}

/* ---- small accessors ------------------------------------------------------ */

const char *sl_cql_conn_name(const sl_cql_conn *conn) { return conn->name; }
const char *sl_cql_conn_peer_address(const sl_cql_conn *conn) { return conn->peer; }
bool sl_cql_conn_is_compressed(const sl_cql_conn *conn) { return conn->is_compressed; }
int sl_cql_conn_fd(const sl_cql_conn *conn) { return conn->fd; }
bool sl_cql_conn_is_broken(const sl_cql_conn *conn) { return conn->is_broken; }
sl_buffer *sl_cql_conn_output(sl_cql_conn *conn) { return &conn->out; }
void sl_cql_conn_break(sl_cql_conn *conn) { conn->is_broken = true; }

size_t sl_cql_conn_in_flight(const sl_cql_conn *conn) { return (size_t)(conn->max_streams - conn->n_free); }
size_t sl_cql_conn_free_streams(const sl_cql_conn *conn) { return (size_t)conn->n_free; }

short sl_cql_conn_poll_events(const sl_cql_conn *conn)
{
    short events = POLLIN;
    if (conn->sent < conn->out.len || conn->tls_wants_write) events |= POLLOUT;
    return events;
}

void sl_cql_conn_free(sl_cql_conn *conn)
{
    if (!conn) return;
    if (conn->ssl) {
        if (!conn->is_broken) SSL_shutdown(conn->ssl);
        SSL_free(conn->ssl);
    }
    if (conn->fd >= 0) close(conn->fd);
    sl_buffer_free(&conn->out);
    sl_buffer_free(&conn->in);
    free(conn->free_ids);
    free(conn->tags);
    free(conn->in_use);
    free(conn);
}

/* ---- streams --------------------------------------------------------------- */

int sl_cql_conn_acquire(sl_cql_conn *conn, uint32_t tag)
{
    if (conn->is_broken || conn->n_free == 0) return -1;
    int stream = conn->free_ids[--conn->n_free];
    conn->tags[stream] = tag;
    conn->in_use[stream] = true;
    return stream;
}

void sl_cql_conn_release(sl_cql_conn *conn, int stream)
{
    if (stream < 0 || stream >= conn->max_streams || !conn->in_use[stream]) return;
    conn->in_use[stream] = false;
    conn->free_ids[conn->n_free++] = (int16_t)stream;
}

void sl_cql_conn_abandon(sl_cql_conn *conn, int stream)
{
    if (stream >= 0 && stream < conn->max_streams && conn->in_use[stream])
        conn->tags[stream] = SL_CQL_CONN_TAG_NONE;
}

bool sl_cql_conn_take_lost(sl_cql_conn *conn, uint32_t *tag)
{
    while (conn->lost_scan < conn->max_streams) {
        int stream = conn->lost_scan++;
        if (!conn->in_use[stream]) continue;
        uint32_t t = conn->tags[stream];
        sl_cql_conn_release(conn, stream);
        if (t == SL_CQL_CONN_TAG_NONE) continue;
        *tag = t;
        return true;
    }
    return false;
}

int sl_cql_conn_queued(sl_cql_conn *conn, size_t frame_start, sl_error *err)
{
    if (!conn->is_compressed) return SL_OK;
    return sl_cql_compress_frame(&conn->out, frame_start, err);
}

/* ---- I/O ----------------------------------------------------------------- */

static int broken(sl_cql_conn *conn, sl_error *err, const char *what)
{
    conn->is_broken = true;
    return sl_error_set(err, SL_EIO, "%s: %s", conn->name, what);
}

/* Writes pending output until done or the socket is full. */
static int flush_output(sl_cql_conn *conn, sl_error *err)
{
    conn->tls_wants_write = false;
    while (conn->sent < conn->out.len) {
        size_t left = conn->out.len - conn->sent;
        const char *from = conn->out.data + conn->sent;
        if (conn->ssl) {
            int n = SSL_write(conn->ssl, from, left > INT32_MAX ? INT32_MAX : (int)left);
            if (n > 0) {
                conn->sent += (size_t)n;
                continue;
            }
            int code = SSL_get_error(conn->ssl, n);
            if (code == SSL_ERROR_WANT_WRITE) {
                conn->tls_wants_write = true;
                return SL_OK;
            }
            if (code == SSL_ERROR_WANT_READ) return SL_OK;
            char why[256];
            tls_reason(why, sizeof why);
            return broken(conn, err, why);
        }
        ssize_t n = send(conn->fd, from, left, MSG_NOSIGNAL);
        if (n > 0) {
            conn->sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return SL_OK;
        return broken(conn, err, n < 0 ? strerror(errno) : "short write");
    }
    conn->out.len = 0;
    conn->sent = 0;
    return SL_OK;
}

/* Drops the handed-out prefix of the input. */
static void compact_input(sl_cql_conn *conn)
{
    if (conn->in_pos == 0) return;
    size_t left = conn->in.len - conn->in_pos;
    if (left) memmove(conn->in.data, conn->in.data + conn->in_pos, left);
    conn->in.len = left;
    conn->in_pos = 0;
}

/* Reads until the socket has nothing more, or a generous cap per call on a
 * plain socket (poll reports the rest). Over TLS it reads until OpenSSL
 * wants more from the socket: bytes OpenSSL has already decrypted would not
 * wake poll. */
static int read_input(sl_cql_conn *conn, sl_error *err)
{
    size_t total = 0;
    while (conn->ssl || total < CONN_MAX_READ_PER_IO) {
        if (sl_buffer_reserve(&conn->in, CONN_READ_CHUNK)) return broken(conn, err, "out of memory reading");
        char *to = conn->in.data + conn->in.len;
        size_t room = conn->in.capacity - conn->in.len;
        if (conn->ssl) {
            int n = SSL_read(conn->ssl, to, room > INT32_MAX ? INT32_MAX : (int)room);
            if (n > 0) {
                conn->in.len += (size_t)n;
                total += (size_t)n;
                continue;
            }
            int code = SSL_get_error(conn->ssl, n);
            if (code == SSL_ERROR_WANT_READ) return SL_OK;
            if (code == SSL_ERROR_WANT_WRITE) {
                conn->tls_wants_write = true;
                return SL_OK;
            }
            if (code == SSL_ERROR_ZERO_RETURN) return broken(conn, err, "server closed the connection");
            char why[256];
            tls_reason(why, sizeof why);
            return broken(conn, err, why);
        }
        ssize_t n = recv(conn->fd, to, room, 0);
        if (n > 0) {
            conn->in.len += (size_t)n;
            total += (size_t)n;
            continue;
        }
        if (n == 0) return broken(conn, err, "server closed the connection");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return SL_OK;
        return broken(conn, err, strerror(errno));
    }
    return SL_OK;
}

int sl_cql_conn_io(sl_cql_conn *conn, short revents, sl_error *err)
{
    if (conn->is_broken) return sl_error_set(err, SL_EIO, "%s: connection is broken", conn->name);
    if (revents & POLLNVAL) return broken(conn, err, "socket closed");
    compact_input(conn);
    int rc = flush_output(conn, err);
    if (rc == SL_OK && (revents & (POLLIN | POLLHUP | POLLERR) || conn->ssl)) rc = read_input(conn, err);
    /* A TLS read may have made room for a pending write. */
    if (rc == SL_OK && conn->ssl && conn->sent < conn->out.len) rc = flush_output(conn, err);
    return rc;
}

int sl_cql_conn_next(sl_cql_conn *conn, sl_cql_header *header, const uint8_t **body, uint32_t *tag,
                     sl_error *err)
{
    for (;;) {
        size_t left = conn->in.len - conn->in_pos;
        if (left < SL_CQL_HEADER_SIZE) return 0;
        const uint8_t *at = (const uint8_t *)conn->in.data + conn->in_pos;
        int rc = sl_cql_header_decode(at, left, SL_CQL_VERSION_RESPONSE, header, err);
        if (rc) {
            conn->is_broken = true;
            sl_error_prefix(err, "%s: ", conn->name);
            return rc;
        }
        if (left - SL_CQL_HEADER_SIZE < header->length) {
            /* Make room for the whole frame once, rather than growing chunk by chunk. */
            size_t need = SL_CQL_HEADER_SIZE + (size_t)header->length - left;
            if (sl_buffer_reserve(&conn->in, need + CONN_READ_CHUNK)) {
                conn->is_broken = true;
                return sl_error_set(err, SL_ENOMEM, "%s: out of memory for a %u-byte frame", conn->name,
                                    header->length);
            }
            return 0;
        }
        conn->in_pos += SL_CQL_HEADER_SIZE + header->length;
        int stream = header->stream;
        if (stream < 0) continue;  /* EVENT: not registered for, ignored */
        if (stream >= conn->max_streams || !conn->in_use[stream]) {
            conn->is_broken = true;
            return sl_error_set(err, SL_ECORRUPT, "%s: %s answer on stream %d, which has no request",
                                conn->name, sl_cql_opcode_name(header->opcode), stream);
        }
        uint32_t t = conn->tags[stream];
        sl_cql_conn_release(conn, stream);
        if (t == SL_CQL_CONN_TAG_NONE) continue;
        *body = at + SL_CQL_HEADER_SIZE;
        *tag = t;
        return 1;
    }
}

/* ---- connecting ------------------------------------------------------------ */

static int remaining_ms(int64_t deadline)
{
    int64_t left = deadline - sl_clock_monotonic_ms();
    return left < 0 ? 0 : (int)left;
}

/* Waits until fd is ready for events or the deadline passes: 1 ready (with
 * *revents), 0 timed out, -1 poll failed. */
static int wait_fd(int fd, short events, int64_t deadline, short *revents)
{
    for (;;) {
        struct pollfd p = { fd, events, 0 };
        int n = poll(&p, 1, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (revents) *revents = p.revents;
        return n;
    }
}

/* One address: non-blocking connect within the deadline. Returns the fd or
 * -1 with why filled. */
static int connect_address(const struct addrinfo *ai, int64_t deadline, char *why, size_t why_size)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        snprintf(why, why_size, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
    if (errno != EINPROGRESS) {
        snprintf(why, why_size, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    int ready = wait_fd(fd, POLLOUT, deadline, NULL);
    if (ready <= 0) {
        snprintf(why, why_size, ready == 0 ? "connect timed out" : "poll: %s", strerror(errno));
        close(fd);
        return -1;
    }
    int so_error = 0;
    socklen_t size = sizeof so_error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &size) < 0) so_error = errno;
    if (so_error) {
        snprintf(why, why_size, "%s", strerror(so_error));
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_tcp(sl_cql_conn *conn, const sl_cql_conn_options *options, int64_t deadline, sl_error *err)
{
    char port[16];
    snprintf(port, sizeof port, "%d", options->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(options->host, port, &hints, &list);
    if (gai) return sl_error_set(err, SL_EIO, "%s: cannot resolve host: %s", conn->name, gai_strerror(gai));
    char why[256] = "no address";
    for (const struct addrinfo *ai = list; ai && conn->fd < 0; ai = ai->ai_next) {
        conn->fd = connect_address(ai, deadline, why, sizeof why);
        if (conn->fd >= 0) {
            const void *address = ai->ai_family == AF_INET6
                                      ? (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                                      : (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
            inet_ntop(ai->ai_family, address, conn->peer, sizeof conn->peer);
        }
    }
    freeaddrinfo(list);
    if (conn->fd < 0) return sl_error_set(err, SL_EIO, "%s: cannot connect: %s", conn->name, why);
    int one = 1;
    setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return SL_OK;
}

static int tls_handshake(sl_cql_conn *conn, const sl_cql_conn_options *options, int64_t deadline, sl_error *err)
{
    char why[256];
    conn->ssl = SSL_new(options->tls);
    if (!conn->ssl || SSL_set_fd(conn->ssl, conn->fd) != 1) {
        tls_reason(why, sizeof why);
        return sl_error_set(err, SL_EIO, "%s: TLS: %s", conn->name, why);
    }
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, options->host, ip) == 1 || inet_pton(AF_INET6, options->host, ip) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(conn->ssl, options->host);
    if (options->tls_verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param(conn->ssl);
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, options->host)
                       : X509_VERIFY_PARAM_set1_host(param, options->host, 0);
        if (ok != 1) return sl_error_set(err, SL_EIO, "%s: TLS: cannot set the name to verify", conn->name);
    }
    for (;;) {
        int n = SSL_connect(conn->ssl);
        if (n == 1) return SL_OK;
        int code = SSL_get_error(conn->ssl, n);
        short events = code == SSL_ERROR_WANT_READ ? POLLIN : code == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!events) {
            long verify = SSL_get_verify_result(conn->ssl);
            /* A certificate that does not verify is settings (CA, host name), not weather: no retry. */
            if (verify != X509_V_OK)
                return sl_error_set(err, SL_ECONFIG, "%s: TLS certificate not accepted: %s", conn->name,
                                    X509_verify_cert_error_string(verify));
            tls_reason(why, sizeof why);
            return sl_error_set(err, SL_EIO, "%s: TLS handshake failed: %s", conn->name, why);
        }
        if (wait_fd(conn->fd, events, deadline, NULL) <= 0)
            return sl_error_set(err, SL_EIO, "%s: TLS handshake timed out", conn->name);
    }
}

/* Sends what is queued and waits for the answer on stream 0 (the handshake
 * has one request at a time), decoding it into arena. */
static int roundtrip(sl_cql_conn *conn, int64_t deadline, sl_arena *arena, sl_cql_response *response,
                     sl_error *err)
{
    for (;;) {
        sl_cql_header header;
        const uint8_t *body = NULL;
        uint32_t tag = 0;
        int got = sl_cql_conn_next(conn, &header, &body, &tag, err);
        if (got < 0) return got;
        if (got == 1) {
            int rc = sl_cql_decode_response(&header, body, header.length, arena, response, err);
            if (rc) sl_error_prefix(err, "%s: ", conn->name);
            return rc;
        }
        short revents = 0;
        int ready = conn->sent < conn->out.len ? 1 : wait_fd(conn->fd, sl_cql_conn_poll_events(conn), deadline,
                                                            &revents);
        if (ready == 0) return sl_error_set(err, SL_EIO, "%s: no answer to the handshake in time", conn->name);
        if (ready < 0) return sl_error_set(err, SL_EIO, "%s: poll: %s", conn->name, strerror(errno));
        int rc = sl_cql_conn_io(conn, revents, err);
        if (rc) return rc;
    }
}

static int expect(sl_cql_conn *conn, const sl_cql_response *response, uint8_t opcode, const char *step,
                  sl_error *err)
{
    if (response->opcode == opcode) return SL_OK;
    if (response->opcode == SL_CQL_OP_ERROR) {
        const sl_cql_server_error *e = &response->error;
        int rc = e->code == SL_CQL_ERR_AUTHENTICATION ? SL_ECONFIG : SL_EIO;
        return sl_error_set(err, rc, "%s: %s refused: %s: %.*s", conn->name, step, sl_cql_error_code_name(e->code),
                            (int)e->message.len, e->message.ptr);
    }
    return sl_error_set(err, SL_EIO, "%s: %s answered with %s, expected %s", conn->name, step,
                        sl_cql_opcode_name(response->opcode), sl_cql_opcode_name(opcode));
}

static bool offers_lz4(const sl_cql_response *supported)
{
    for (size_t i = 0; i < supported->n_supported; i++) {
        if (!sl_str_eq_cstr(supported->supported[i].key, "COMPRESSION")) continue;
        for (size_t v = 0; v < supported->supported[i].n_values; v++)
            if (sl_str_eq_cstr(supported->supported[i].values[v], "lz4")) return true;
    }
    return false;
}

/* STARTUP with CQL_VERSION, COMPRESSION and APPLICATION_NAME / DRIVER_NAME
 * (messages.h's builder carries only the first two). */
static int build_startup(sl_buffer *out, int stream, bool lz4, const char *application_name, sl_error *err)
{
    size_t start = out->len;
    sl_cql_header header = { SL_CQL_VERSION_REQUEST, 0, (int16_t)stream, SL_CQL_OP_STARTUP, 0 };
    uint8_t bytes[SL_CQL_HEADER_SIZE];
    sl_cql_header_encode(&header, bytes);
    sl_str keys[4] = { SL_STR_LIT("CQL_VERSION"), SL_STR_LIT("DRIVER_NAME") };
    sl_str values[4] = { SL_STR_LIT("3.0.0"), SL_STR_LIT("sluice") };
    size_t n = 2;
    if (lz4) {
        keys[n] = SL_STR_LIT("COMPRESSION");
        values[n++] = SL_STR_LIT("lz4");
    }
    if (application_name && *application_name) {
        keys[n] = SL_STR_LIT("APPLICATION_NAME");
        values[n++] = sl_str_from(application_name);
    }
    int rc = sl_buffer_append(out, bytes, sizeof bytes);
    if (rc == SL_OK) rc = sl_cql_put_string_map(out, keys, values, n);
    if (rc) {
        out->len = start;
        return sl_error_set(err, rc, "cannot build STARTUP: %s", sl_error_message(rc));
    }
    uint32_t body = (uint32_t)(out->len - start - SL_CQL_HEADER_SIZE);
    uint8_t *length = (uint8_t *)out->data + start + 5;
    length[0] = (uint8_t)(body >> 24);
    length[1] = (uint8_t)(body >> 16);
    length[2] = (uint8_t)(body >> 8);
    length[3] = (uint8_t)body;
    return SL_OK;
}

static int authenticate(sl_cql_conn *conn, const sl_cql_conn_options *options, const sl_cql_response *asked,
                        int64_t deadline, sl_arena *arena, sl_error *err)
{
    if (!options->username)
        return sl_error_set(err, SL_ECONFIG, "%s: the server requires authentication (%.*s); set username "
                            "and password", conn->name, (int)asked->authenticator.len, asked->authenticator.ptr);
    sl_buffer token = SL_BUFFER_INIT;
    int stream = 0;
    int rc = sl_cql_plain_token(&token, sl_str_from(options->username), sl_str_from(options->password));
    if (rc) {
        rc = sl_error_set(err, rc, "%s: cannot build the credentials", conn->name);
        goto done;
    }
    stream = sl_cql_conn_acquire(conn, 0);  /* the handshake has one request at a time */
    size_t at = conn->out.len;
    rc = sl_cql_build_auth_response(&conn->out, (int16_t)stream, token.data, (int64_t)token.len, err);
    if (rc == SL_OK) rc = sl_cql_conn_queued(conn, at, err);
    sl_cql_response response;
    if (rc == SL_OK) rc = roundtrip(conn, deadline, arena, &response, err);
    if (rc == SL_OK && response.opcode == SL_CQL_OP_AUTH_CHALLENGE)
        rc = sl_error_set(err, SL_ECONFIG, "%s: the authenticator %.*s sent a challenge; only PLAIN "
                          "(PasswordAuthenticator) is supported", conn->name, (int)asked->authenticator.len,
                          asked->authenticator.ptr);
    if (rc == SL_OK) rc = expect(conn, &response, SL_CQL_OP_AUTH_SUCCESS, "login", err);
done:
    /* The token holds the password: wipe it before giving the memory back. */
    if (token.data) memset(token.data, 0, token.capacity);
    sl_buffer_free(&token);
    return rc;
}

static int handshake(sl_cql_conn *conn, const sl_cql_conn_options *options, int64_t deadline, sl_error *err)
{
    sl_arena *arena = sl_arena_new(4096);
    if (!arena) return sl_error_set(err, SL_ENOMEM, "out of memory");
    sl_cql_response response;
    int stream = sl_cql_conn_acquire(conn, 0);  /* the handshake has one request at a time */
    int rc = sl_cql_build_options(&conn->out, (int16_t)stream, err);
    if (rc == SL_OK) rc = roundtrip(conn, deadline, arena, &response, err);
    if (rc == SL_OK) rc = expect(conn, &response, SL_CQL_OP_SUPPORTED, "OPTIONS", err);
    if (rc) goto done;
    bool lz4 = options->compression && offers_lz4(&response);
    stream = sl_cql_conn_acquire(conn, 0);  /* the handshake has one request at a time */
    rc = build_startup(&conn->out, stream, lz4, options->application_name, err);
    if (rc == SL_OK) rc = roundtrip(conn, deadline, arena, &response, err);
    if (rc) goto done;
    /* §5: after a STARTUP with COMPRESSION, every frame may be compressed. */
    conn->is_compressed = lz4;
    if (response.opcode == SL_CQL_OP_AUTHENTICATE)
        rc = authenticate(conn, options, &response, deadline, arena, err);
    else
        rc = expect(conn, &response, SL_CQL_OP_READY, "STARTUP", err);
done:
    sl_arena_free(arena);
    return rc;
}

int sl_cql_conn_open(const sl_cql_conn_options *options, sl_cql_conn **out, sl_error *err)
{
    int rc = SL_ENOMEM;
    int timeout = options->connect_timeout_ms > 0 ? options->connect_timeout_ms : 5000;
    int64_t deadline = sl_clock_monotonic_ms() + timeout;
    sl_cql_conn *conn = calloc(1, sizeof *conn);
    if (!conn) goto fail;
    conn->fd = -1;
    bool is_ipv6 = strchr(options->host, ':') != NULL;
    snprintf(conn->name, sizeof conn->name, is_ipv6 ? "[%s]:%d" : "%s:%d", options->host, options->port);
    int max = options->max_streams > 0 ? options->max_streams : 1024;
    conn->max_streams = max > 32768 ? 32768 : max;
    conn->free_ids = malloc((size_t)conn->max_streams * sizeof *conn->free_ids);
    conn->tags = malloc((size_t)conn->max_streams * sizeof *conn->tags);
    conn->in_use = calloc((size_t)conn->max_streams, sizeof *conn->in_use);
    if (!conn->free_ids || !conn->tags || !conn->in_use) {
        sl_error_set(err, rc, "out of memory");
        goto fail;
    }
    /* Lowest ids on top of the stack: the first request goes out on stream 0. */
    for (int i = 0; i < conn->max_streams; i++) conn->free_ids[i] = (int16_t)(conn->max_streams - 1 - i);
    conn->n_free = conn->max_streams;
    rc = connect_tcp(conn, options, deadline, err);
    if (rc == SL_OK && options->tls) rc = tls_handshake(conn, options, deadline, err);
    if (rc == SL_OK) rc = handshake(conn, options, deadline, err);
    if (rc) goto fail;
    *out = conn;
    return SL_OK;
fail:
    if (conn) conn->is_broken = true;
    sl_cql_conn_free(conn);
    return rc;
}
