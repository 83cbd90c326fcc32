#!/usr/bin/env python3
"""cql_ping.py — checks that a Cassandra node accepts a real CQL login, for
tests/servers/cassandra.sh. Python's standard library only.

    python3 tests/servers/cql_ping.py [--host H] [--port P] [--user U] [--password PW] [--timeout S]
                                      [--tls CAFILE [--cert PEM --key PEM]] [--verbose]

Speaks the CQL native protocol v4 over one socket, synchronously (stream 0):
OPTIONS -> SUPPORTED, STARTUP -> READY, or AUTHENTICATE answered by an
AUTH_RESPONSE carrying the SASL PLAIN token "\\0user\\0password" (then
AUTH_CHALLENGE rounds until AUTH_SUCCESS), then QUERY
"SELECT release_version FROM system.local" at consistency ONE. Prints the
release version and exits 0; on any failure prints the reason to stderr and
exits 1. A listening port is not enough: with PasswordAuthenticator the port
opens before the default superuser exists, and only a login proves it does.

--tls CAFILE speaks the same over TLS (Python's ssl module): the server's
certificate must chain to CAFILE and name --host (an IP address is matched
against the certificate's IP subjectAltName). --cert/--key add a client
certificate for servers that ask for one. --verbose also prints, to stderr, the
TLS version, cipher and verified subject, and how the login went.
"""
import argparse
import socket
import ssl
import struct
import sys

VERSION_REQUEST = 0x04
VERSION_RESPONSE = 0x84
FLAG_TRACING = 0x02
FLAG_CUSTOM_PAYLOAD = 0x04
FLAG_WARNING = 0x08

OP_ERROR = 0x00
OP_STARTUP = 0x01
OP_READY = 0x02
OP_AUTHENTICATE = 0x03
OP_OPTIONS = 0x05
OP_SUPPORTED = 0x06
OP_QUERY = 0x07
OP_RESULT = 0x08
OP_AUTH_CHALLENGE = 0x0E
OP_AUTH_RESPONSE = 0x0F
OP_AUTH_SUCCESS = 0x10

RESULT_ROWS = 0x0002
ROWS_GLOBAL_TABLES_SPEC = 0x0001
ROWS_HAS_MORE_PAGES = 0x0002
ROWS_NO_METADATA = 0x0004
CONSISTENCY_ONE = 0x0001
MAX_AUTH_ROUNDS = 8

OPCODE_NAMES = {OP_ERROR: "ERROR", OP_READY: "READY", OP_AUTHENTICATE: "AUTHENTICATE",
                OP_SUPPORTED: "SUPPORTED", OP_RESULT: "RESULT", OP_AUTH_CHALLENGE: "AUTH_CHALLENGE",
                OP_AUTH_SUCCESS: "AUTH_SUCCESS"}


class PingError(Exception):
    """Why the login or the query did not succeed (the text is printed as is)."""


class Reader:
    """Reads the protocol's notations ([int], [short], [string], ...) from one frame body."""

    def __init__(self, data, what):
        self.data = data
        self.pos = 0
        self.what = what

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise PingError(f"{self.what}: body ends at byte {len(self.data)}, "
                            f"needed {n} more bytes at byte {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def read_int(self):
        return struct.unpack(">i", self.take(4))[0]

    def read_short(self):
        return struct.unpack(">H", self.take(2))[0]

    def read_string(self):
        return self.take(self.read_short()).decode("utf-8", errors="replace")

    def read_string_list(self):
        return [self.read_string() for _ in range(self.read_short())]

    def read_bytes(self):
        n = self.read_int()
        return None if n < 0 else self.take(n)

    def read_string_multimap(self):
        return {self.read_string(): self.read_string_list() for _ in range(self.read_short())}

    def read_option(self):
        """A column type [option]; collections, UDTs and tuples are read through."""
        kind = self.read_short()
        if kind == 0x0000:
            self.read_string()
        elif kind in (0x0020, 0x0022):
            self.read_option()
        elif kind == 0x0021:
            self.read_option()
            self.read_option()
        elif kind == 0x0030:
            self.read_string()
            self.read_string()
            for _ in range(self.read_short()):
                self.read_string()
                self.read_option()
        elif kind == 0x0031:
            for _ in range(self.read_short()):
                self.read_option()
        return kind


def string_bytes(text):
    raw = text.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def string_map_bytes(pairs):
    return struct.pack(">H", len(pairs)) + b"".join(string_bytes(k) + string_bytes(v) for k, v in pairs.items())


def tls_context(cafile, certfile, keyfile):
    """A client SSLContext that verifies the server against cafile (and its host name)."""
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as e:
        raise PingError(f"--tls {cafile}: cannot load the CA certificates: {e}") from None
    if certfile or keyfile:
        if not (certfile and keyfile):
            raise PingError("--cert and --key go together")
        try:
            context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as e:
            raise PingError(f"--cert {certfile} --key {keyfile}: cannot load the client certificate: {e}") from None
    return context


class Connection:
    def __init__(self, host, port, timeout, context=None):
        self.where = f"{host}:{port}"
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise PingError(f"cannot connect to {host}:{port}: {e.strerror or e}") from None
        self.tls = None
        if context is not None:
            try:
                self.sock = context.wrap_socket(self.sock, server_hostname=host)
            except ssl.SSLCertVerificationError as e:
                self.sock.close()
                raise PingError(f"{self.where}: TLS certificate check failed: {e.verify_message or e}") from None
            except socket.timeout:
                self.sock.close()
                raise PingError(f"{self.where}: no TLS handshake within the timeout") from None
            except (OSError, ssl.SSLError) as e:
                self.sock.close()
                raise PingError(f"{self.where}: TLS handshake failed: {e}") from None
            cipher = self.sock.cipher()
            subject = dict(part for rdn in self.sock.getpeercert().get("subject", ()) for part in rdn)
            self.tls = (f"{self.sock.version()} {cipher[0] if cipher else '?'}, server certificate "
                        f"'{subject.get('commonName', '?')}' verified for {host}")

    def close(self):
        self.sock.close()

    def _recv_exactly(self, n):
        out = bytearray()
        while len(out) < n:
            try:
                chunk = self.sock.recv(n - len(out))
            except socket.timeout:
                raise PingError(f"{self.where}: no answer within the timeout") from None
            except OSError as e:
                raise PingError(f"{self.where}: receive failed: {e.strerror or e}") from None
            if not chunk:
                raise PingError(f"{self.where}: the server closed the connection")
            out += chunk
        return bytes(out)

    def request(self, opcode, body):
        """Sends one request frame on stream 0 and returns (opcode, body reader) of its response."""
        header = struct.pack(">BBhBi", VERSION_REQUEST, 0, 0, opcode, len(body))
        try:
            self.sock.sendall(header + body)
        except OSError as e:
            raise PingError(f"{self.where}: send failed: {e.strerror or e}") from None
        while True:
            version, flags, stream, op, length = struct.unpack(">BBhBi", self._recv_exactly(9))
            if version != VERSION_RESPONSE:
                raise PingError(f"{self.where}: response frame version 0x{version:02x}, expected 0x84 "
                                f"(protocol v4 not accepted?)")
            if length < 0 or length > 256 << 20:
                raise PingError(f"{self.where}: response frame length {length} out of range")
            data = self._recv_exactly(length)
            if stream < 0:
                continue  # a server-pushed EVENT; not ours
            if stream != 0:
                raise PingError(f"{self.where}: response on stream {stream}, expected 0")
            reader = Reader(data, f"{OPCODE_NAMES.get(op, hex(op))} from {self.where}")
            if flags & FLAG_TRACING:
                reader.take(16)
            if flags & FLAG_WARNING:
                reader.read_string_list()
            if flags & FLAG_CUSTOM_PAYLOAD:
                for _ in range(reader.read_short()):
                    reader.read_string()
                    reader.read_bytes()
            if op == OP_ERROR:
                code = reader.read_int()
                raise PingError(f"{self.where} answered ERROR 0x{code:04x}: {reader.read_string()}")
            return op, reader


def expect(op, wanted, step):
    if op not in wanted:
        names = " or ".join(OPCODE_NAMES.get(w, hex(w)) for w in wanted)
        raise PingError(f"{step}: got {OPCODE_NAMES.get(op, hex(op))}, expected {names}")


def login(conn, user, password):
    op, reader = conn.request(OP_OPTIONS, b"")
    expect(op, (OP_SUPPORTED,), "OPTIONS")
    supported = reader.read_string_multimap()
    cql_versions = supported.get("CQL_VERSION") or ["3.0.0"]
    op, reader = conn.request(OP_STARTUP, string_map_bytes({"CQL_VERSION": cql_versions[0]}))
    expect(op, (OP_READY, OP_AUTHENTICATE), "STARTUP")
    if op == OP_READY:
        return "no authentication required"
    authenticator = reader.read_string()
    token = b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")
    for _ in range(MAX_AUTH_ROUNDS):
        op, reader = conn.request(OP_AUTH_RESPONSE, struct.pack(">i", len(token)) + token)
        expect(op, (OP_AUTH_SUCCESS, OP_AUTH_CHALLENGE), "AUTH_RESPONSE")
        if op == OP_AUTH_SUCCESS:
            return f"logged in as {user} ({authenticator})"
        token = b""  # SASL PLAIN has nothing more to say to a challenge
    raise PingError(f"no AUTH_SUCCESS after {MAX_AUTH_ROUNDS} AUTH_RESPONSE rounds ({authenticator})")


def release_version(conn):
    query = b"SELECT release_version FROM system.local"
    body = struct.pack(">i", len(query)) + query + struct.pack(">HB", CONSISTENCY_ONE, 0)
    op, reader = conn.request(OP_QUERY, body)
    expect(op, (OP_RESULT,), "QUERY")
    kind = reader.read_int()
    if kind != RESULT_ROWS:
        raise PingError(f"QUERY: result kind 0x{kind:04x}, expected Rows (0x0002)")
    flags = reader.read_int()
    columns = reader.read_int()
    if flags & ROWS_HAS_MORE_PAGES:
        reader.read_bytes()
    if not flags & ROWS_NO_METADATA:
        if flags & ROWS_GLOBAL_TABLES_SPEC:
            reader.read_string()
            reader.read_string()
        for _ in range(columns):
            if not flags & ROWS_GLOBAL_TABLES_SPEC:
                reader.read_string()
                reader.read_string()
            reader.read_string()
            reader.read_option()
    rows = reader.read_int()
    if rows != 1 or columns != 1:
        raise PingError(f"QUERY: {rows} rows of {columns} columns from system.local, expected 1 of 1")
    value = reader.read_bytes()
    if value is None:
        raise PingError("QUERY: release_version is null")
    return value.decode("utf-8", errors="replace")


def main():
    parser = argparse.ArgumentParser(description="Log in to a Cassandra node over CQL v4 and print its version.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9042)
    parser.add_argument("--user", default="cassandra")
    parser.add_argument("--password", default="cassandra")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per network step (default 5)")
    parser.add_argument("--tls", metavar="CAFILE", help="connect over TLS, verifying the server against CAFILE")
    parser.add_argument("--cert", metavar="PEM", help="with --tls: client certificate (mutual TLS)")
    parser.add_argument("--key", metavar="PEM", help="with --tls: the client certificate's private key")
    parser.add_argument("--verbose", action="store_true", help="also print how the login went")
    args = parser.parse_args()
    if (args.cert or args.key) and not args.tls:
        parser.error("--cert and --key need --tls CAFILE")
    try:
        context = tls_context(args.tls, args.cert, args.key) if args.tls else None
        conn = Connection(args.host, args.port, args.timeout, context)
        try:
            how = login(conn, args.user, args.password)
            version = release_version(conn)
        finally:
            conn.close()
    except PingError as e:
        print(f"cql_ping: {e}", file=sys.stderr)
        return 1
    if args.verbose:
        if conn.tls:
            print(f"cql_ping: {conn.tls}", file=sys.stderr)
        print(f"cql_ping: {how}", file=sys.stderr)
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
