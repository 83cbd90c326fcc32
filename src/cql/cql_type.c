/* cql_type.c — CQL type descriptors: read from the protocol's [option]
 * (native_protocol_v4.spec §4.2.5.2, the option ids under <col_spec_i>),
 * parsed from CQL type names as written in DDL, and formatted back.
 *
 * Both readers recurse for collections, tuples and UDTs; nesting deeper than
 * MAX_DEPTH is refused so that hostile input cannot exhaust the stack.
 * Strings in a tree are copied into the arena, so a tree outlives the frame
 * or text it was read from.
 *
 * Names: a known name gives its code; a single-quoted string is a custom
 * type's Java class; any other identifier ("address", "ks.address",
 * "\"Address\"") is taken as a reference to a user-defined type, with no
 * fields, because that is how system_schema spells UDT columns and the
 * fields are not in the name.
 */
#include "cql/cql_type.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "cql/frame.h"

#define MAX_DEPTH 32

/* ---- names ------------------------------------------------------------------ */

typedef struct type_name {
    const char *name;
    sl_cql_type_code code;
} type_name;

/* Name to code, for the parser; "text" and "varchar" both give VARCHAR. */
static const type_name type_names[] = {
    { "ascii", SL_CQL_ASCII },         { "bigint", SL_CQL_BIGINT },
    { "blob", SL_CQL_BLOB },           { "boolean", SL_CQL_BOOLEAN },
    { "counter", SL_CQL_COUNTER },     { "decimal", SL_CQL_DECIMAL },
    { "double", SL_CQL_DOUBLE },       { "float", SL_CQL_FLOAT },
    { "int", SL_CQL_INT },             { "timestamp", SL_CQL_TIMESTAMP },
    { "uuid", SL_CQL_UUID },           { "text", SL_CQL_VARCHAR },
    { "varchar", SL_CQL_VARCHAR },     { "varint", SL_CQL_VARINT },
    { "timeuuid", SL_CQL_TIMEUUID },   { "inet", SL_CQL_INET },
    { "date", SL_CQL_DATE },           { "time", SL_CQL_TIME },
    { "smallint", SL_CQL_SMALLINT },   { "tinyint", SL_CQL_TINYINT },
    { "duration", SL_CQL_DURATION },   { "list", SL_CQL_LIST },
    { "map", SL_CQL_MAP },             { "set", SL_CQL_SET },
    { "tuple", SL_CQL_TUPLE },
};
#define N_TYPE_NAMES (sizeof type_names / sizeof type_names[0])

const char *sl_cql_type_code_name(sl_cql_type_code code)
{
    switch (code) {
    case SL_CQL_ASCII: return "ascii";
    case SL_CQL_BIGINT: return "bigint";
    case SL_CQL_BLOB: return "blob";
    case SL_CQL_BOOLEAN: return "boolean";
    case SL_CQL_COUNTER: return "counter";
    case SL_CQL_DECIMAL: return "decimal";
    case SL_CQL_DOUBLE: return "double";
    case SL_CQL_FLOAT: return "float";
    case SL_CQL_INT: return "int";
    case SL_CQL_TIMESTAMP: return "timestamp";
    case SL_CQL_UUID: return "uuid";
    case SL_CQL_VARCHAR: return "text";
    case SL_CQL_VARINT: return "varint";
    case SL_CQL_TIMEUUID: return "timeuuid";
    case SL_CQL_INET: return "inet";
    case SL_CQL_DATE: return "date";
    case SL_CQL_TIME: return "time";
    case SL_CQL_SMALLINT: return "smallint";
    case SL_CQL_TINYINT: return "tinyint";
    case SL_CQL_DURATION: return "duration";
    case SL_CQL_LIST: return "list";
    case SL_CQL_MAP: return "map";
    case SL_CQL_SET: return "set";
    case SL_CQL_UDT: return "udt";
    case SL_CQL_TUPLE: return "tuple";
    case SL_CQL_CUSTOM:
    default: return "custom";
    }
}

static bool code_is_native(int code)
{
    return (code >= SL_CQL_ASCII && code <= SL_CQL_DURATION && code != 0x000A);
}

/* ---- [option] ---------------------------------------------------------------- */

static int copy_str(sl_arena *arena, sl_str in, sl_str *out, sl_error *err)
{
    char *copy = sl_arena_strndup(arena, in.ptr ? in.ptr : "", in.len);
    if (!copy) return sl_error_set(err, SL_ENOMEM, "out of memory reading a CQL type");
    out->ptr = copy;
    out->len = in.len;
    return SL_OK;
}

static sl_cql_type *new_type(sl_arena *arena, sl_cql_type_code code, size_t n_params)
{
    sl_cql_type *type = sl_arena_calloc(arena, sizeof *type);
    if (!type) return NULL;
    type->code = code;
    if (n_params) {
        type->params = sl_arena_calloc(arena, n_params * sizeof *type->params);
        if (!type->params) return NULL;
    }
    type->n_params = n_params;
    return type;
}

static int read_option(sl_cql_reader *reader, sl_arena *arena, int depth, sl_cql_type **out,
                       sl_error *err)
{
    size_t start = reader->pos;
    if (depth > MAX_DEPTH)
        return sl_error_set(err, SL_ECORRUPT,
                            "CQL type option at byte %zu nests deeper than %d levels", start, MAX_DEPTH);
    uint16_t id = 0;
    int rc = sl_cql_get_short(reader, &id, "type option id", err);
    if (rc) return rc;
    sl_cql_type *type = NULL;
    if (code_is_native(id)) {
        type = new_type(arena, (sl_cql_type_code)id, 0);
    } else if (id == SL_CQL_CUSTOM) {
        sl_str name = { NULL, 0 };
        rc = sl_cql_get_string(reader, &name, "custom type class name", err);
        if (rc) return rc;
        /* Protocol v4 has no duration code: Cassandra sends it as this custom class. */
        bool is_duration = sl_str_eq_cstr(name, "org.apache.cassandra.db.marshal.DurationType");
        type = new_type(arena, is_duration ? SL_CQL_DURATION : SL_CQL_CUSTOM, 0);
        if (type && !is_duration) {
            rc = copy_str(arena, name, &type->custom_class, err);
            if (rc) return rc;
        }
    } else if (id == SL_CQL_LIST || id == SL_CQL_SET || id == SL_CQL_MAP) {
        size_t n = id == SL_CQL_MAP ? 2 : 1;
        type = new_type(arena, (sl_cql_type_code)id, n);
        for (size_t i = 0; type && i < n; i++) {
            rc = read_option(reader, arena, depth + 1, &type->params[i], err);
            if (rc) return rc;
        }
    } else if (id == SL_CQL_TUPLE) {
        uint16_t n = 0;
        rc = sl_cql_get_short(reader, &n, "tuple field count", err);
        if (rc) return rc;
        if ((size_t)n * 2 > sl_cql_reader_left(reader))
            return sl_error_set(err, SL_ECORRUPT,
                                "CQL type option at byte %zu: tuple of %u fields cannot fit in %zu bytes",
                                start, (unsigned)n, sl_cql_reader_left(reader));
        type = new_type(arena, SL_CQL_TUPLE, n);
        for (size_t i = 0; type && i < n; i++) {
            rc = read_option(reader, arena, depth + 1, &type->params[i], err);
            if (rc) return rc;
        }
    } else if (id == SL_CQL_UDT) {
        sl_str keyspace = { NULL, 0 }, name = { NULL, 0 };
        uint16_t n = 0;
        rc = sl_cql_get_string(reader, &keyspace, "UDT keyspace", err);
        if (!rc) rc = sl_cql_get_string(reader, &name, "UDT name", err);
        if (!rc) rc = sl_cql_get_short(reader, &n, "UDT field count", err);
        if (rc) return rc;
        /* each field is at least a 2-byte name length and a 2-byte option id */
        if ((size_t)n * 4 > sl_cql_reader_left(reader))
            return sl_error_set(err, SL_ECORRUPT,
                                "CQL type option at byte %zu: UDT of %u fields cannot fit in %zu bytes",
                                start, (unsigned)n, sl_cql_reader_left(reader));
        type = new_type(arena, SL_CQL_UDT, n);
        if (type && n) {
            type->field_names = sl_arena_calloc(arena, (size_t)n * sizeof *type->field_names);
            if (!type->field_names) type = NULL;
        }
        if (type) rc = copy_str(arena, keyspace, &type->udt_keyspace, err);
        if (!rc && type) rc = copy_str(arena, name, &type->udt_name, err);
        for (size_t i = 0; !rc && type && i < n; i++) {
            sl_str field = { NULL, 0 };
            rc = sl_cql_get_string(reader, &field, "UDT field name", err);
            if (!rc) rc = copy_str(arena, field, &type->field_names[i], err);
            if (!rc) rc = read_option(reader, arena, depth + 1, &type->params[i], err);
        }
        if (rc) return rc;
    } else {
        return sl_error_set(err, SL_ECORRUPT, "CQL type option at byte %zu: unknown type id 0x%04x",
                            start, (unsigned)id);
    }
    if (!type) return sl_error_set(err, SL_ENOMEM, "out of memory reading a CQL type");
    *out = type;
    return SL_OK;
}

int sl_cql_type_read_option(const uint8_t *bytes, size_t len, size_t *used,
                            sl_arena *arena, sl_cql_type **out, sl_error *err)
{
    sl_cql_reader reader;
    sl_cql_reader_init(&reader, bytes, len);
    int rc = read_option(&reader, arena, 0, out, err);
    if (rc) return rc;
    if (used) *used = reader.pos;
    return SL_OK;
}

/* ---- type names ------------------------------------------------------------- */

typedef struct name_parser {
    sl_str text;
    size_t pos;
    sl_arena *arena;
    sl_error *err;
} name_parser;

static int name_error(name_parser *p, const char *expected)
{
    int shown = (int)(p->text.len > 200 ? 200 : p->text.len);
    if (p->pos >= p->text.len)
        return sl_error_set(p->err, SL_EPARSE, "CQL type '%.*s': %s at end of text", shown,
                            p->text.ptr, expected);
    return sl_error_set(p->err, SL_EPARSE, "CQL type '%.*s': %s at column %zu, found '%c'", shown,
                        p->text.ptr, expected, p->pos + 1, p->text.ptr[p->pos]);
}

static void skip_space(name_parser *p)
{
    while (p->pos < p->text.len && isspace((unsigned char)p->text.ptr[p->pos])) p->pos++;
}

static bool accept_char(name_parser *p, char c)
{
    skip_space(p);
    if (p->pos < p->text.len && p->text.ptr[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* A bare word, or a "quoted" identifier (case kept, "" for a quote). The
 * quoted form is copied into the arena without its quotes. */
static int parse_identifier(name_parser *p, sl_str *out, bool *quoted)
{
    skip_space(p);
    *quoted = false;
    size_t start = p->pos;
    if (p->pos < p->text.len && p->text.ptr[p->pos] == '"') {
        *quoted = true;
        char *copy = sl_arena_alloc(p->arena, p->text.len + 1);
        if (!copy) return sl_error_set(p->err, SL_ENOMEM, "out of memory parsing a CQL type");
        size_t n = 0;
        p->pos++;
        for (;;) {
            if (p->pos >= p->text.len) {
                p->pos = start;
                return name_error(p, "unterminated quoted name");
            }
            char c = p->text.ptr[p->pos++];
            if (c == '"') {
                if (p->pos < p->text.len && p->text.ptr[p->pos] == '"') {
                    p->pos++;
                } else {
                    break;
                }
            }
            copy[n++] = c;
        }
        copy[n] = '\0';
        out->ptr = copy;
        out->len = n;
        return SL_OK;
    }
    while (p->pos < p->text.len && is_word_char(p->text.ptr[p->pos])) p->pos++;
    if (p->pos == start) return name_error(p, "expected a type name");
    out->ptr = p->text.ptr + start;
    out->len = p->pos - start;
    return SL_OK;
}

static bool word_is(sl_str word, const char *name)
{
    size_t n = strlen(name);
    if (word.len != n) return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)word.ptr[i]) != name[i]) return false;
    return true;
}

static int parse_type(name_parser *p, int depth, sl_cql_type **out);

/* '<' type (',' type)* '>' into a fresh array; *n_params gets the count. */
static int parse_params(name_parser *p, int depth, sl_cql_type ***params, size_t *n_params)
{
    if (!accept_char(p, '<')) return name_error(p, "expected '<'");
    size_t capacity = 4, n = 0;
    sl_cql_type **list = sl_arena_alloc(p->arena, capacity * sizeof *list);
    if (!list) return sl_error_set(p->err, SL_ENOMEM, "out of memory parsing a CQL type");
    for (;;) {
        if (n == capacity) {
            list = sl_arena_realloc(p->arena, list, capacity * sizeof *list, 2 * capacity * sizeof *list);
            if (!list) return sl_error_set(p->err, SL_ENOMEM, "out of memory parsing a CQL type");
            capacity *= 2;
        }
        int rc = parse_type(p, depth + 1, &list[n]);
        if (rc) return rc;
        n++;
        if (accept_char(p, '>')) break;
        if (!accept_char(p, ',')) return name_error(p, "expected ',' or '>'");
    }
    *params = list;
    *n_params = n;
    return SL_OK;
}

static int check_arity(name_parser *p, size_t at, sl_str word, size_t n, size_t want)
{
    if (n == want) return SL_OK;
    int shown = (int)(p->text.len > 200 ? 200 : p->text.len);
    return sl_error_set(p->err, SL_EPARSE, "CQL type '%.*s': %.*s at column %zu takes %zu type%s, got %zu",
                        shown, p->text.ptr, (int)word.len, word.ptr, at + 1, want,
                        want == 1 ? "" : "s", n);
}

static int parse_custom(name_parser *p, sl_cql_type **out)
{
    size_t start = p->pos;
    p->pos++; /* the opening quote */
    char *copy = sl_arena_alloc(p->arena, p->text.len + 1);
    if (!copy) return sl_error_set(p->err, SL_ENOMEM, "out of memory parsing a CQL type");
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->text.len) {
            p->pos = start;
            return name_error(p, "unterminated quoted custom type");
        }
        char c = p->text.ptr[p->pos++];
        if (c == '\'') {
            if (p->pos < p->text.len && p->text.ptr[p->pos] == '\'') {
                p->pos++;
            } else {
                break;
            }
        }
        copy[n++] = c;
    }
    copy[n] = '\0';
    sl_cql_type *type = new_type(p->arena, SL_CQL_CUSTOM, 0);
    if (!type) return sl_error_set(p->err, SL_ENOMEM, "out of memory parsing a CQL type");
    type->custom_class.ptr = copy;
    type->custom_class.len = n;
    *out = type;
    return SL_OK;
}

static int parse_type(name_parser *p, int depth, sl_cql_type **out)
{
    skip_space(p);
    if (depth > MAX_DEPTH) return name_error(p, "type nests too deeply");
    if (p->pos < p->text.len && p->text.ptr[p->pos] == '\'') return parse_custom(p, out);
    size_t at = p->pos;
    sl_str word = { NULL, 0 };
    bool quoted;
    int rc = parse_identifier(p, &word, &quoted);
    if (rc) return rc;

    if (!quoted && word_is(word, "frozen")) {
        sl_cql_type **params;
        size_t n = 0;
        rc = parse_params(p, depth, &params, &n);
        if (!rc) rc = check_arity(p, at, word, n, 1);
        if (rc) return rc;
        *out = params[0];
        return SL_OK;
    }
    sl_cql_type_code code = SL_CQL_UDT;
    for (size_t i = 0; !quoted && i < N_TYPE_NAMES; i++) {
        if (word_is(word, type_names[i].name)) {
            code = type_names[i].code;
            break;
        }
    }
    sl_cql_type *type = new_type(p->arena, code, 0);
    if (!type) return sl_error_set(p->err, SL_ENOMEM, "out of memory parsing a CQL type");

    if (code == SL_CQL_LIST || code == SL_CQL_SET || code == SL_CQL_MAP || code == SL_CQL_TUPLE) {
        rc = parse_params(p, depth, &type->params, &type->n_params);
        if (rc) return rc;
        if (code == SL_CQL_MAP) rc = check_arity(p, at, word, type->n_params, 2);
        else if (code != SL_CQL_TUPLE) rc = check_arity(p, at, word, type->n_params, 1);
        if (rc) return rc;
    } else if (code == SL_CQL_UDT) {
        sl_str name = word, keyspace = { "", 0 };
        if (accept_char(p, '.')) {
            keyspace = word;
            rc = parse_identifier(p, &name, &quoted);
            if (rc) return rc;
        }
        rc = copy_str(p->arena, keyspace, &type->udt_keyspace, p->err);
        if (!rc) rc = copy_str(p->arena, name, &type->udt_name, p->err);
        if (rc) return rc;
    }
    *out = type;
    return SL_OK;
}

int sl_cql_type_parse_name(sl_str text, sl_arena *arena, sl_cql_type **out, sl_error *err)
{
    name_parser p = { .text = text, .pos = 0, .arena = arena, .err = err };
    if (!p.text.ptr) p.text.ptr = "";
    sl_cql_type *type;
    int rc = parse_type(&p, 0, &type);
    if (rc) return rc;
    skip_space(&p);
    if (p.pos != p.text.len) return name_error(&p, "unexpected text after the type");
    *out = type;
    return SL_OK;
}

/* ---- formatting ------------------------------------------------------------- */

typedef struct text_out {
    char *buf;
    size_t size;
    size_t len; /* bytes wanted so far; only size - 1 are kept */
} text_out;

static void put_text(text_out *t, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++, t->len++)
        if (t->len + 1 < t->size) t->buf[t->len] = text[i];
}

static void put_cstr(text_out *t, const char *text)
{
    put_text(t, text, strlen(text));
}

static void format_type(text_out *t, const sl_cql_type *type, int depth)
{
    if (depth > MAX_DEPTH) {
        put_cstr(t, "...");
        return;
    }
    switch (type->code) {
    case SL_CQL_CUSTOM:
        put_cstr(t, "'");
        put_text(t, type->custom_class.ptr, type->custom_class.len);
        put_cstr(t, "'");
        return;
    case SL_CQL_UDT:
        if (type->udt_keyspace.len) {
            put_text(t, type->udt_keyspace.ptr, type->udt_keyspace.len);
            put_cstr(t, ".");
        }
        put_text(t, type->udt_name.ptr, type->udt_name.len);
        return;
    case SL_CQL_LIST:
    case SL_CQL_SET:
    case SL_CQL_MAP:
    case SL_CQL_TUPLE:
        put_cstr(t, sl_cql_type_code_name(type->code));
        put_cstr(t, "<");
        for (size_t i = 0; i < type->n_params; i++) {
            if (i) put_cstr(t, ", ");
            format_type(t, type->params[i], depth + 1);
        }
        put_cstr(t, ">");
        return;
    default:
        put_cstr(t, sl_cql_type_code_name(type->code));
        return;
    }
}

char *sl_cql_type_format(const sl_cql_type *type, char *buf, size_t size)
{
    if (!buf || size == 0) return buf;
    text_out t = { buf, size, 0 };
    format_type(&t, type, 0);
    buf[t.len < size ? t.len : size - 1] = '\0';
    return buf;
}
