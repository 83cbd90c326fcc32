#!/usr/bin/env python3
"""make_seeds.py — writes the seed corpora in tests/fuzz/corpus/<target>/.

The seeds are committed; this script says where each came from and makes
them again (`python3 tests/fuzz/make_seeds.py`). Sources: the SQL test files
(tests/sql/*.test) for the SQL and JSON targets, examples/*.yaml for the
config target, and byte layouts assembled here for the binary formats
(Kafka RecordBatch v2 with a correct CRC-32C, CQL v4 response frames, one of
them LZ4-compressed). Seeds are small: the fuzzer grows its own corpus.
"""
import hashlib
import re
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import kafka_batch  # noqa: E402  (CRC-32C)


def write(target, name, data):
    directory = HERE / "corpus" / target
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (directory / name).write_bytes(data)


def sql_cases():
    """(sql, [input JSON lines]) from tests/sql/*.test."""
    cases = []
    for path in sorted((REPO / "tests" / "sql").glob("*.test")):
        sql, inputs = None, []
        for line in path.read_text().splitlines():
            if line.startswith("sql:"):
                if sql:
                    cases.append((sql, inputs))
                sql, inputs = line[4:].strip(), []
            elif line.startswith("in:") and sql:
                inputs.append(line[3:].strip())
        if sql:
            cases.append((sql, inputs))
    return cases


def sql_and_json():
    for i, (sql, inputs) in enumerate(sql_cases()):
        write("fuzz_sql", f"case-{i:03d}", "\0".join([sql, *inputs]))
        for j, text in enumerate(inputs[:2]):
            write("fuzz_json", f"case-{i:03d}-{j}", text)
    users = re.search(r"sql: \|\n(.*?)\n    sink", (REPO / "examples" / "users.yaml").read_text(), re.S)
    if users:
        write("fuzz_sql", "users-yaml", " ".join(users.group(1).split()))
    write("fuzz_sql", "where-empty-object", "SELECT id, a.b[0] AS x FROM input WHERE age\0{}")
    write("fuzz_json", "nested", '{"a":[1,-2.5e3,true,false,null,{"b":"\\u00e9\\ud83d\\ude00\\n"}],"id":"x"}')
    write("fuzz_json", "numbers", "[0,-0,1e308,-1e-308,9223372036854775807,-9223372036854775808,18446744073709551616]")
    write("fuzz_json", "empty", "{}")


def configs():
    for path in sorted((REPO / "examples").glob("*.yaml")):
        write("fuzz_config", path.stem, path.read_text())
    write("fuzz_config", "file-to-stdio", """\
data_dir: ${DATA:-./data}
log: { level: warn, format: json }
pipelines:
  p:
    source: { file: { path: in.jsonl, format: csv } }
    transform: { sql: "SELECT a, CAST(b AS INT) AS b FROM input WHERE a IS NOT NULL" }
    sink: [ { stdio: {} }, { topic: { name: t, partitions: 2, key: a } } ]
""")


# ---- Kafka RecordBatch v2 -------------------------------------------------------

def varint(value):
    u = (value << 1) ^ (value >> 63)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def record_bytes(delta, key, value, headers, ts_delta=0):
    body = b"\x00" + varint(ts_delta) + varint(delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hkey, hvalue in headers:
        body += varint(len(hkey)) + hkey
        body += varint(-1) if hvalue is None else varint(len(hvalue)) + hvalue
    return varint(len(body)) + body


def batch(base_offset, records, timestamp=1_700_000_000_000):
    """records: [(key, value, headers)]."""
    body = b"".join(record_bytes(i, k, v, h, ts_delta=i) for i, (k, v, h) in enumerate(records))
    after_crc = struct.pack(">hiqqqhii", 0, len(records) - 1, timestamp, timestamp + len(records) - 1,
                            -1, -1, -1, len(records)) + body
    crc = kafka_batch.crc32c(after_crc)
    return struct.pack(">qiibI", base_offset, 9 + len(after_crc), 0, 2, crc) + after_crc


def log_formats():
    one = batch(0, [(b"key", b'{"n":1}', [(b"h", b"x")])])
    two = batch(1, [(None, b'{"n":2}', []), (b"k", None, [(b"error", None), (b"stage", b"sql")])])
    three = batch(3, [(b"u%d" % i, b'{"n":%d}' % i, []) for i in range(5)])
    write("fuzz_record_batch", "one-with-header", one)
    write("fuzz_record_batch", "three-batches", one + two + three)
    write("fuzz_record_batch", "torn-tail", one + two[:30])
    sep = b"\xffSEG"
    write("fuzz_segment", "three-batches", one + two + three)
    write("fuzz_segment", "torn-tail", one + two + three[:-3])
    # index entries: (relative offset, position) big-endian pairs
    index = struct.pack(">ii", 1, len(one)) + struct.pack(">ii", 3, len(one) + len(two))
    write("fuzz_segment", "with-index", one + two + three + sep + index)
    sealed = batch(0, [(None, b'{"old":%d}' % i, []) for i in range(8)])
    active = batch(8, [(b"a", b'{"new":1}', [])])
    write("fuzz_segment", "sealed-and-active", active + sep + sep + sealed)


# ---- CQL v4 responses --------------------------------------------------------------

def cql_short(v):
    return struct.pack(">H", v)


def cql_int(v):
    return struct.pack(">i", v)


def cql_string(text):
    data = text.encode()
    return cql_short(len(data)) + data


def cql_bytes(data):
    return cql_int(-1) if data is None else cql_int(len(data)) + data


def frame(opcode, body, flags=0, stream=1):
    return struct.pack(">BBhBI", 0x84, flags, stream, opcode, len(body)) + body


def lz4_literals(data):
    """One LZ4 block holding data as literals only (valid, if not small)."""
    n = len(data)
    if n < 15:
        return bytes([n << 4]) + data
    extra, rest = b"", n - 15
    while rest >= 255:
        extra += b"\xff"
        rest -= 255
    return b"\xf0" + extra + bytes([rest]) + data


def cql_formats():
    ERROR, READY, AUTHENTICATE, SUPPORTED, RESULT, EVENT, AUTH_SUCCESS = 0x00, 0x02, 0x03, 0x06, 0x08, 0x0C, 0x10
    # types: int 0x09, varchar 0x0D, bigint 0x02, uuid 0x0C, timestamp 0x0B, list 0x20, map 0x21, boolean 0x04
    columns = (cql_string("id") + cql_short(0x0C) + cql_string("name") + cql_short(0x0D) +
               cql_string("n") + cql_short(0x09) + cql_string("at") + cql_short(0x0B) +
               cql_string("tags") + cql_short(0x20) + cql_short(0x0D) +
               cql_string("m") + cql_short(0x21) + cql_short(0x0D) + cql_short(0x02))
    metadata = cql_int(0x0001) + cql_int(6) + cql_string("ks") + cql_string("t") + columns
    row = (cql_bytes(bytes(range(16))) + cql_bytes(b"Ann") + cql_bytes(cql_int(41)) +
           cql_bytes(struct.pack(">q", 1_700_000_000_000)) +
           cql_bytes(cql_int(2) + cql_bytes(b"a") + cql_bytes(b"b")) +
           cql_bytes(cql_int(1) + cql_bytes(b"k") + cql_bytes(struct.pack(">q", 7))))
    null_row = cql_bytes(bytes(16)) + cql_bytes(None) * 5
    rows = cql_int(2) + metadata + cql_int(2) + row + null_row
    write("fuzz_cql", "rows", frame(RESULT, rows))
    write("fuzz_cql", "rows-lz4", frame(RESULT, cql_int(len(rows)) + lz4_literals(rows), flags=0x01))
    prepared = (cql_int(4) + cql_short(3) + b"\x11\x22\x33" +
                cql_int(0x0001) + cql_int(3) + cql_int(2) + cql_short(2) + cql_short(0) +
                cql_string("ks") + cql_string("t") +
                cql_string("a") + cql_short(0x09) + cql_string("b") + cql_short(0x0D) +
                cql_string("c") + cql_short(0x02) +
                cql_int(0x0004) + cql_int(0))
    write("fuzz_cql", "prepared", frame(RESULT, prepared))
    write("fuzz_cql", "ready-void-keyspace",
          frame(READY, b"") + frame(RESULT, cql_int(1)) + frame(RESULT, cql_int(3) + cql_string("ks")))
    write("fuzz_cql", "error-unavailable",
          frame(ERROR, cql_int(0x1000) + cql_string("not enough replicas") + cql_short(4) + cql_int(3) + cql_int(1)))
    write("fuzz_cql", "auth", frame(AUTHENTICATE, cql_string("org.apache.cassandra.auth.PasswordAuthenticator")) +
          frame(AUTH_SUCCESS, cql_bytes(None)))
    supported = cql_short(2) + cql_string("COMPRESSION") + cql_short(2) + cql_string("lz4") + cql_string("snappy")
    supported += cql_string("CQL_VERSION") + cql_short(1) + cql_string("3.4.7")
    write("fuzz_cql", "supported", frame(SUPPORTED, supported))
    event = cql_string("STATUS_CHANGE") + cql_string("UP") + b"\x04" + bytes([127, 0, 0, 2]) + cql_int(9042)
    schema = cql_string("SCHEMA_CHANGE") + cql_string("CREATED") + cql_string("TABLE") + cql_string("ks") + cql_string("t")
    write("fuzz_cql", "events", frame(EVENT, event, stream=-1) + frame(EVENT, schema, stream=-1))
    warning = cql_short(1) + cql_string("batch too large")
    write("fuzz_cql", "warning-void", frame(RESULT, warning + cql_int(1), flags=0x08))


def line_reader():
    # Two bytes first: max_record_bytes - 1, then (kept whole - max_record_bytes) / 4.
    write("fuzz_line_reader", "crlf-and-blank", b"\x10\x00" + b'{"a":1}\r\n\n  \n{"b":2}\nlast-without-newline')
    write("fuzz_line_reader", "too-long", b"\x04\x04" + b"short\n" + b"x" * 40 + b"\r\nok\n" + b"y" * 20)
    write("fuzz_line_reader", "empty-lines", b"\x00\x00\n\n\n")


def quoted_names(path, pattern):
    """The distinct quoted names that pattern (a regex with one group) finds in a source file."""
    return sorted(set(re.findall(pattern, (REPO / path).read_text())))


def write_dict(target, words):
    """A libFuzzer dictionary: one quoted token a line (run-fuzz.sh passes it with -dict=)."""
    lines = [f'"{w}"' for w in words]
    (HERE / f"{target}.dict").write_text("# generated by make_seeds.py from the source tables\n" + "\n".join(lines) + "\n")


def dictionaries():
    keywords = quoted_names("src/sql/lexer.c", r'\{ "([a-z_]+)", SL_TOKEN_')
    functions = quoted_names("src/sql/functions.c", r'\{ *"([a-z_0-9]+)", *-?[0-9]+')
    types = quoted_names("src/sql/cast.c", r'\{ "([a-z ]+)", SL_TYPE_')
    # Whole phrases of the grammar the tables above do not hold: calls,
    # operators of two characters, grouping and windows.
    phrases = ["ILIKE", "ESCAPE", "TRY_CAST(", "round(", "split_part(", "sha256(", "greatest(", "->", "->>",
               "json_extract(", "element_at(", "~*", "regexp_replace(", "EXTRACT(", "date_trunc(", "to_timestamp(",
               "AT TIME ZONE", "position(", "date_add(", "murmur3(", "GROUP BY", "HAVING", "count(*)",
               "count(DISTINCT ", "approx_percentile(", "approx_count_distinct(", "stddev(", "first_value(",
               "TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), INTERVAL '1' SECOND))",
               "TABLE(HOP(TABLE input, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '3' SECOND))",
               "TABLE(CUMULATE(TABLE input, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '4' SECOND))",
               "TABLE(SESSION(TABLE input, DESCRIPTOR(ts), INTERVAL '2' SECOND))", "DESCRIPTOR(", "INTERVAL '"]
    # Words the parser reads in place (not lexer keywords): joins, views, windows.
    join_words = ["JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "ON", "WITH", "TABLE", "DESCRIPTOR",
                  "FOR SYSTEM_TIME AS OF PROCTIME()", "input a JOIN input b ON a.k = b.k",
                  "b.ts BETWEEN a.ts AND a.ts + INTERVAL '1' MINUTE", "a.window_start = b.window_start",
                  "a.window_end = b.window_end", "window_start", "window_end"]
    operators = ["||", "<>", "!=", "<=", ">=", "::", "'", '\\"', "(", ")", ",", ".", "[0]", "%", "/", "*", "-", "+"]
    write_dict("fuzz_sql", [w.upper() for w in keywords] + functions + [t.upper() for t in types] +
               ["input", "SELECT * FROM input", "TIMESTAMP '2024-01-01 00:00:00'"] + operators + phrases + join_words)
    options = quoted_names("src/runtime/plan.c", r'\{ "([a-z_]+)", SL_OPT_')
    for path in sorted((REPO / "src" / "connectors").glob("*.c")):
        options += quoted_names(path.relative_to(REPO), r'\{ "([a-z_]+)", SL_OPT_')
    connectors = quoted_names("src/connectors/registry.c", r'"([a-z]+)"') or ["file", "stdio", "topic", "sqlite"]
    write_dict("fuzz_config", sorted(set(options)) + connectors +
               [": ", "\\x0a  ", "{ ", " }", "[", "]", "${HOME}", "${X:-1}", "$${", "- "])


def zones_and_crons():
    """Real TZif files of the system's tz database (north, south, half-hour
    and no-DST zones) and cron expressions of every form."""
    for zone in ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]:
        path = Path("/usr/share/zoneinfo") / zone
        if path.exists():
            write("fuzz_tz", zone.replace("/", "_"), path.read_bytes())
    for i, expression in enumerate(["* * * * *", "*/15 9-17 * * mon-fri", "0 0 29 2 *", "5/10 1,2,3 1-31/2 jan-jun 7",
                                    "@daily", "@hourly", "0 0 31 * 1", "30 2 * 3 0"]):
        write("fuzz_cron", f"cron{i}", expression)


def main():
    dictionaries()
    zones_and_crons()
    sql_and_json()
    configs()
    log_formats()
    cql_formats()
    line_reader()
    count = sum(1 for _ in (HERE / "corpus").rglob("*") if _.is_file())
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((HERE / "corpus").rglob("*")) if p.is_file()))
    print(f"{count} seeds written under {HERE / 'corpus'} (sha256 {digest.hexdigest()[:12]})")


if __name__ == "__main__":
    main()
