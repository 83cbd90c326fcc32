/* value.h — the tagged union every record carries.
 *
 * A value is 24 bytes: a type tag and a union. Strings, arrays and objects
 * point into memory owned by someone else, normally the arena of the batch
 * that holds the record, so a value is copied by struct assignment and never
 * freed alone. Objects keep their keys in insertion order; lookups scan,
 * which beats hashing for the handful of keys records have.
 */
#ifndef SL_VALUE_H
#define SL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/* Bytes with a length; not NUL-terminated unless said so. */
typedef struct sl_str {
    const char *ptr;
    size_t len;
} sl_str;

#define SL_STR_LIT(text) ((sl_str){ (text), sizeof(text) - 1 })

sl_str sl_str_from(const char *text);          /* NULL gives an empty str */
bool sl_str_eq(sl_str a, sl_str b);
bool sl_str_eq_cstr(sl_str a, const char *text);

typedef enum sl_type {
    SL_TYPE_NULL = 0,
    SL_TYPE_BOOL,
    SL_TYPE_INT,       /* int64 */
    SL_TYPE_DOUBLE,
    SL_TYPE_STRING,    /* UTF-8 */
    SL_TYPE_BYTES,
    SL_TYPE_TIMESTAMP, /* microseconds since the Unix epoch, UTC */
    SL_TYPE_ARRAY,
    SL_TYPE_OBJECT,
    SL_TYPE_INTERVAL,  /* months, days and µs, PostgreSQL's three fields (core/interval.h) */
} sl_type;

typedef struct sl_value sl_value;
typedef struct sl_member sl_member;

/* A span of time as PostgreSQL keeps it: months and days move on the
 * calendar (a month is not always 30 days, a day not always 24 hours across
 * DST), micros is exact. The fields are independent, each with its own sign. */
typedef struct sl_interval_value {
    int32_t months;
    int32_t days;
    int64_t micros;
} sl_interval_value;

struct sl_value {
    sl_type type;
    union {
        bool boolean;
        int64_t integer;
        double number;
        sl_str string;      /* STRING and BYTES */
        int64_t timestamp;  /* µs since epoch */
        sl_interval_value interval;
        struct {
            sl_value *items;
            size_t n_items;
        } array;
        struct {
            sl_member *members;
            size_t n_members;
        } object;
    };
};

_Static_assert(sizeof(sl_value) == 24, "a value is 24 bytes");

struct sl_member {
    sl_str key;
    sl_value value;
};

const char *sl_type_name(sl_type type);   /* "null", "int", "object", ... */

static inline sl_value sl_value_null(void) { sl_value v = { .type = SL_TYPE_NULL }; return v; }
static inline sl_value sl_value_bool(bool b) { sl_value v = { .type = SL_TYPE_BOOL, .boolean = b }; return v; }
static inline sl_value sl_value_int(int64_t i) { sl_value v = { .type = SL_TYPE_INT, .integer = i }; return v; }
static inline sl_value sl_value_double(double d) { sl_value v = { .type = SL_TYPE_DOUBLE, .number = d }; return v; }
static inline sl_value sl_value_string(sl_str s) { sl_value v = { .type = SL_TYPE_STRING, .string = s }; return v; }
static inline sl_value sl_value_timestamp(int64_t us) { sl_value v = { .type = SL_TYPE_TIMESTAMP, .timestamp = us }; return v; }
static inline sl_value sl_value_interval(int32_t months, int32_t days, int64_t micros)
{
    sl_value v = { .type = SL_TYPE_INTERVAL, .interval = { months, days, micros } };
    return v;
}

/* A string value holding a copy of text in arena; NULL-string on no memory. */
int sl_value_string_copy(sl_arena *arena, const char *text, size_t len, sl_value *out);

/* The member named key in an object, or NULL (also for non-objects). */
const sl_value *sl_value_get(const sl_value *object, sl_str key);

/* Follows a path of keys (location, city) through nested objects;
 * NULL when any step is missing or not an object. */
const sl_value *sl_value_get_path(const sl_value *value, const sl_str *keys, size_t n_keys);

/* Splits "a.b.c" into keys pointing into path (no copies); returns the count
 * or -1 when there are more than max_keys parts or a part is empty. */
int sl_path_split(sl_str path, sl_str *keys, size_t max_keys);

/* Object builder: a growable list of members living in an arena. */
typedef struct sl_object_builder {
    sl_arena *arena;
    sl_member *members;
    size_t n_members;
    size_t capacity;
} sl_object_builder;

void sl_object_begin(sl_object_builder *builder, sl_arena *arena, size_t expected);
/* Appends key (not copied: must outlive the value) → value. */
int sl_object_add(sl_object_builder *builder, sl_str key, sl_value value);
/* Appends key → a copy of text. */
int sl_object_add_cstr(sl_object_builder *builder, const char *key, const char *text);
sl_value sl_object_end(sl_object_builder *builder);

/* Deep equality (int 1 != double 1.0; object members compared in order). */
bool sl_value_equal(const sl_value *a, const sl_value *b);

/* Deep copy of value into arena (strings, arrays, objects copied). */
int sl_value_clone(sl_arena *arena, const sl_value *value, sl_value *out);

#endif
