/* config.c — a YAML file turned into a tree of sl_node (see config.h).
 *
 * libyaml's event parser drives a recursive builder: each node is made from
 * its start event, with the 0-based libyaml mark turned into a 1-based
 * line/column. Everything (nodes, pair arrays, strings, the file name) lives
 * in the document's one arena, so sl_config_free frees it all at once; the
 * children of a mapping or list are gathered in a malloc'ed scratch vector and
 * copied into the arena when the collection ends.
 *
 * Choices worth knowing:
 *   - Scalar values (never keys) are `${VAR}`-expanded here (interpolate.c).
 *     References are hidden behind same-width placeholders before libyaml
 *     sees the text, so `{ a: ${X} }` parses; each scalar gets them back.
 *   - An alias shares its anchored node: positions then point at the anchor,
 *     where the text was written. An anchor is registered only when its node
 *     is complete, so a node cannot contain itself (no cycles to walk).
 *   - Duplicate keys are found by sorting the finished mapping's pairs, so a
 *     mapping with many keys costs n log n, not n^2.
 *   - One document per file; nesting deeper than CONFIG_MAX_DEPTH is refused
 *     so hostile input cannot exhaust the stack.
 *   - Tags (`!!str` and the like) are accepted and ignored.
 */
#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/interpolate.h"
#include "core/arena.h"

#define CONFIG_MAX_DEPTH 256
#define CONFIG_MAX_FILE_BYTES (16u * 1024 * 1024)

struct sl_config_doc {
    sl_arena *arena;
    const char *file;     /* the name used in messages, in the arena */
    sl_node *root;
};

typedef struct anchor {
    const char *name;     /* in the arena */
    sl_node *node;
} anchor;

typedef struct loader {
    yaml_parser_t parser;
    sl_config_doc *doc;
    const char *text;     /* the text libyaml reads, to place reader errors */
    size_t len;
    sl_reference_table refs;  /* `${...}` hidden from libyaml (interpolate.h) */
    anchor *anchors;      /* malloc'ed; later definitions shadow earlier ones */
    size_t n_anchors, anchors_capacity;
    sl_error *err;
} loader;

/* A growable malloc'ed vector of fixed-size elements, for gathering children. */
typedef struct scratch {
    void *items;
    size_t n_items, capacity, item_size;
} scratch;

static int scratch_push(scratch *vec, const void *item)
{
    if (vec->n_items == vec->capacity) {
        size_t capacity = vec->capacity ? vec->capacity * 2 : 8;
        void *grown = realloc(vec->items, capacity * vec->item_size);
        if (!grown) return SL_ENOMEM;
        vec->items = grown;
        vec->capacity = capacity;
    }
    memcpy((char *)vec->items + vec->n_items * vec->item_size, item, vec->item_size);
    vec->n_items++;
    return SL_OK;
}

/* Copies the gathered items into the arena (NULL when there are none). */
static void *scratch_to_arena(sl_arena *arena, const scratch *vec, int *rc)
{
    *rc = SL_OK;
    if (vec->n_items == 0) return NULL;
    void *copy = sl_arena_alloc(arena, vec->n_items * vec->item_size);
    if (!copy) {
        *rc = SL_ENOMEM;
        return NULL;
    }
    memcpy(copy, vec->items, vec->n_items * vec->item_size);
    return copy;
}

const char *sl_node_kind_name(sl_node_kind kind)
{
    switch (kind) {
    case SL_NODE_SCALAR: return "scalar";
    case SL_NODE_MAP: return "mapping";
    case SL_NODE_LIST: return "list";
    }
    return "node";
}

int sl_node_error(sl_error *err, const sl_node *node, const char *format, ...)
{
    char what[sizeof err->message];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    if (!node) return sl_error_set(err, SL_ECONFIG, "%s", what);
    return sl_error_set(err, SL_ECONFIG, "%s:%d:%d: %s", node->file, node->line, node->column,
                        what);
}

static int loader_error_at(loader *ld, yaml_mark_t mark, int code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int loader_error_at(loader *ld, yaml_mark_t mark, int code, const char *format, ...)
{
    char what[sizeof ld->err->message];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    return sl_error_set(ld->err, code, "%s:%zu:%zu: %s", ld->doc->file, mark.line + 1,
                        mark.column + 1, what);
}

/* Line and column (0-based, columns in characters) of a byte offset. */
static yaml_mark_t mark_of_offset(const char *text, size_t len, size_t offset)
{
    yaml_mark_t mark = { offset, 0, 0 };
    if (offset > len) offset = len;
    for (size_t at = 0; at < offset; at++) {
        unsigned char c = (unsigned char)text[at];
        if (c == '\n') {
            mark.line++;
            mark.column = 0;
        } else if ((c & 0xC0) != 0x80) {
            mark.column++;   /* count characters, not continuation bytes */
        }
    }
    return mark;
}

/* Turns libyaml's failure into "file:line:column: problem (context)". */
static int loader_syntax_error(loader *ld)
{
    yaml_parser_t *parser = &ld->parser;
    const char *problem = parser->problem ? parser->problem : "invalid YAML";
    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        return sl_error_set(ld->err, SL_ENOMEM, "%s: out of memory parsing YAML", ld->doc->file);
    case YAML_READER_ERROR: {
        yaml_mark_t mark = mark_of_offset(ld->text, ld->len, parser->problem_offset);
        if (parser->problem_value != -1)
            return loader_error_at(ld, mark, SL_ECONFIG, "%s (byte 0x%02X)", problem,
                                   (unsigned)parser->problem_value & 0xFFu);
        return loader_error_at(ld, mark, SL_ECONFIG, "%s", problem);
    }
    default:
        if (parser->context)
            return loader_error_at(ld, parser->problem_mark, SL_ECONFIG, "%s (%s)", problem,
                                   parser->context);
        return loader_error_at(ld, parser->problem_mark, SL_ECONFIG, "%s", problem);
    }
}

static int next_event(loader *ld, yaml_event_t *event)
{
    if (!yaml_parser_parse(&ld->parser, event)) return loader_syntax_error(ld);
    return SL_OK;
}

static int anchor_define(loader *ld, const unsigned char *name, sl_node *node)
{
    if (!name) return SL_OK;
    if (ld->n_anchors == ld->anchors_capacity) {
        size_t capacity = ld->anchors_capacity ? ld->anchors_capacity * 2 : 8;
        anchor *grown = realloc(ld->anchors, capacity * sizeof *grown);
        if (!grown) return sl_error_set(ld->err, SL_ENOMEM, "out of memory");
        ld->anchors = grown;
        ld->anchors_capacity = capacity;
    }
    const char *copy = sl_arena_strndup(ld->doc->arena, (const char *)name,
                                        strlen((const char *)name));
    if (!copy) return sl_error_set(ld->err, SL_ENOMEM, "out of memory");
    ld->anchors[ld->n_anchors].name = copy;
    ld->anchors[ld->n_anchors].node = node;
    ld->n_anchors++;
    return SL_OK;
}

static sl_node *anchor_find(const loader *ld, const char *name)
{
    for (size_t i = ld->n_anchors; i > 0; i--)
        if (strcmp(ld->anchors[i - 1].name, name) == 0) return ld->anchors[i - 1].node;
    return NULL;
}

static sl_node *node_new(loader *ld, sl_node_kind kind, yaml_mark_t mark)
{
    sl_node *node = sl_arena_calloc(ld->doc->arena, sizeof *node);
    if (!node) return NULL;
    node->kind = kind;
    node->file = ld->doc->file;
    node->line = (int)(mark.line + 1);
    node->column = (int)(mark.column + 1);
    return node;
}

static bool is_null_text(const char *text, size_t len)
{
    return len == 0 || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
           strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

/* Whether the file holds the scalar's text verbatim, and where (see
 * sl_node_text_position): a one-line plain or quoted scalar whose source is
 * its text (no escape, no reference), or a literal block whose lines are
 * the source lines after its indicator, less their common indentation. */
static void place_text(const loader *ld, const yaml_event_t *event, const char *text, size_t len, sl_node *node)
{
    size_t start = event->start_mark.index, end = event->end_mark.index;
    if (start > end || end > ld->len) return;
    const char *source = ld->text + start;
    size_t source_len = end - start;
    yaml_scalar_style_t style = event->data.scalar.style;
    if (style == YAML_PLAIN_SCALAR_STYLE || style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
        style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        size_t quote = style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1;
        if (memchr(text, '\n', len) || source_len != len + 2 * quote || memcmp(source + quote, text, len) != 0)
            return;
        node->has_text_position = true;
        node->text_line = node->line;
        node->text_column = node->column + (int)quote;
        return;
    }
    if (style != YAML_LITERAL_SCALAR_STYLE) return;
    const char *line_end = memchr(source, '\n', source_len);
    if (!line_end) return;
    const char *body = line_end + 1, *body_end = ld->text + end;
    /* The indentation: that of the first line with something on it. */
    size_t indent = 0;
    for (const char *p = body; p < body_end; p++) {
        if (*p == ' ') {
            indent++;
        } else if (*p == '\n') {
            indent = 0;
        } else {
            break;
        }
    }
    /* Every line of the text must be its source line less the indentation. */
    const char *at = body, *t = text, *t_end = text + len;
    while (t < t_end) {
        const char *t_line_end = memchr(t, '\n', (size_t)(t_end - t));
        size_t t_line_len = t_line_end ? (size_t)(t_line_end - t) : (size_t)(t_end - t);
        const char *s_line_end = memchr(at, '\n', (size_t)(ld->text + ld->len - at));
        size_t s_line_len = s_line_end ? (size_t)(s_line_end - at) : (size_t)(ld->text + ld->len - at);
        bool is_same = t_line_len == 0 ? s_line_len <= indent
                                       : s_line_len == indent + t_line_len && memcmp(at + indent, t, t_line_len) == 0;
        if (!is_same) return;
        if (!t_line_end || !s_line_end) break;
        t = t_line_end + 1;
        at = s_line_end + 1;
    }
    node->has_text_position = true;
    node->is_block = true;
    node->text_line = node->line + 1;
    node->text_column = (int)indent + 1;
}

static int build_scalar(loader *ld, yaml_event_t *event, bool is_key, sl_node **out)
{
    const char *raw = (const char *)event->data.scalar.value;
    size_t raw_len = event->data.scalar.length;
    yaml_scalar_style_t style = event->data.scalar.style;
    const char *text = NULL;
    size_t len = 0;
    if (sl_config_restore_references(&ld->refs, ld->doc->arena, raw, raw_len, &text, &len))
        return sl_error_set(ld->err, SL_ENOMEM, "out of memory");
    if (memchr(text, '\0', len))
        return loader_error_at(ld, event->start_mark, SL_ECONFIG,
                               "value contains a NUL character");

    sl_node *node = node_new(ld, SL_NODE_SCALAR, event->start_mark);
    if (!node) return sl_error_set(ld->err, SL_ENOMEM, "out of memory");
    node->is_quoted = style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                      style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    node->is_null = style == YAML_PLAIN_SCALAR_STYLE && is_null_text(text, len);
    if (!is_key && raw_len == len && memcmp(raw, text, len) == 0) place_text(ld, event, text, len, node);
    if (is_key) {
        node->scalar = sl_arena_strndup(ld->doc->arena, text, len);
        if (!node->scalar) return sl_error_set(ld->err, SL_ENOMEM, "out of memory");
    } else {
        char *expanded = NULL;
        size_t expanded_len = 0;
        int rc = sl_config_interpolate(ld->doc->arena, text, len, &expanded, &expanded_len,
                                       ld->err);
        if (rc) {
            if (rc == SL_ECONFIG) sl_node_error(ld->err, node, "%s", ld->err->message);
            return rc;
        }
        node->scalar = expanded;
    }
    *out = node;
    return anchor_define(ld, event->data.scalar.anchor, node);
}

static int build_node(loader *ld, yaml_event_t *event, int depth, bool is_key, sl_node **out);

static int build_list(loader *ld, yaml_event_t *start, int depth, sl_node **out)
{
    int rc;
    scratch items = { NULL, 0, 0, sizeof(sl_node *) };
    sl_node *node = node_new(ld, SL_NODE_LIST, start->start_mark);
    if (!node) {
        rc = sl_error_set(ld->err, SL_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        yaml_event_t event;
        rc = next_event(ld, &event);
        if (rc) goto done;
        if (event.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&event);
            break;
        }
        sl_node *item = NULL;
        rc = build_node(ld, &event, depth + 1, false, &item);
        if (rc) goto done;
        rc = scratch_push(&items, &item);
        if (rc) {
            sl_error_set(ld->err, rc, "out of memory");
            goto done;
        }
    }
    node->items = scratch_to_arena(ld->doc->arena, &items, &rc);
    node->n_items = items.n_items;
    if (rc) {
        sl_error_set(ld->err, rc, "out of memory");
        goto done;
    }
    *out = node;
    rc = anchor_define(ld, start->data.sequence_start.anchor, node);
done:
    free(items.items);
    return rc;
}

static int compare_pair_pointers(const void *a, const void *b)
{
    const sl_node_pair *left = *(const sl_node_pair *const *)a;
    const sl_node_pair *right = *(const sl_node_pair *const *)b;
    int order = strcmp(left->key, right->key);
    if (order) return order;
    return left < right ? -1 : left > right;
}

/* Reports the duplicate key that comes first in the file, if any. */
static int check_duplicates(loader *ld, const sl_node *map)
{
    if (map->n_pairs < 2) return SL_OK;
    const sl_node_pair **sorted = malloc(map->n_pairs * sizeof *sorted);
    if (!sorted) return sl_error_set(ld->err, SL_ENOMEM, "out of memory");
    for (size_t i = 0; i < map->n_pairs; i++) sorted[i] = &map->pairs[i];
    qsort(sorted, map->n_pairs, sizeof *sorted, compare_pair_pointers);

    const sl_node_pair *duplicate = NULL, *first = NULL;
    for (size_t i = 1; i < map->n_pairs; i++) {
        if (strcmp(sorted[i]->key, sorted[i - 1]->key) != 0) continue;
        /* Within a run of equal keys the pointers ascend: the run's second
         * element is its earliest repeat, its first element the original. */
        if (i >= 2 && strcmp(sorted[i - 2]->key, sorted[i]->key) == 0) continue;
        if (!duplicate || sorted[i] < duplicate) {
            duplicate = sorted[i];
            first = sorted[i - 1];
        }
    }
    free(sorted);
    if (!duplicate) return SL_OK;
    return sl_error_set(ld->err, SL_ECONFIG, "%s:%d:%d: duplicate key '%s' (first at line %d)",
                        map->file, duplicate->key_line, duplicate->key_column, duplicate->key,
                        first->key_line);
}

static int build_map(loader *ld, yaml_event_t *start, int depth, sl_node **out)
{
    int rc;
    scratch pairs = { NULL, 0, 0, sizeof(sl_node_pair) };
    sl_node *node = node_new(ld, SL_NODE_MAP, start->start_mark);
    if (!node) {
        rc = sl_error_set(ld->err, SL_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        yaml_event_t event;
        rc = next_event(ld, &event);
        if (rc) goto done;
        if (event.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&event);
            break;
        }
        sl_node *key = NULL, *value = NULL;
        rc = build_node(ld, &event, depth + 1, true, &key);
        if (rc) goto done;
        if (key->kind != SL_NODE_SCALAR) {
            rc = sl_node_error(ld->err, key, "mapping keys must be scalars, found a %s",
                               sl_node_kind_name(key->kind));
            goto done;
        }
        rc = next_event(ld, &event);
        if (rc) goto done;
        rc = build_node(ld, &event, depth + 1, false, &value);
        if (rc) goto done;
        sl_node_pair pair = { key->scalar, value, key->line, key->column };
        rc = scratch_push(&pairs, &pair);
        if (rc) {
            sl_error_set(ld->err, rc, "out of memory");
            goto done;
        }
    }
    node->pairs = scratch_to_arena(ld->doc->arena, &pairs, &rc);
    node->n_pairs = pairs.n_items;
    if (rc) {
        sl_error_set(ld->err, rc, "out of memory");
        goto done;
    }
    rc = check_duplicates(ld, node);
    if (rc) goto done;
    *out = node;
    rc = anchor_define(ld, start->data.mapping_start.anchor, node);
done:
    free(pairs.items);
    return rc;
}

/* Builds the node that starts with event, taking ownership of the event. */
static int build_node(loader *ld, yaml_event_t *event, int depth, bool is_key, sl_node **out)
{
    int rc;
    if (depth > CONFIG_MAX_DEPTH) {
        rc = loader_error_at(ld, event->start_mark, SL_ECONFIG,
                             "nesting deeper than %d levels", CONFIG_MAX_DEPTH);
        goto done;
    }
    switch (event->type) {
    case YAML_SCALAR_EVENT:
        rc = build_scalar(ld, event, is_key, out);
        break;
    case YAML_SEQUENCE_START_EVENT:
        rc = build_list(ld, event, depth, out);
        break;
    case YAML_MAPPING_START_EVENT:
        rc = build_map(ld, event, depth, out);
        break;
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)event->data.alias.anchor;
        *out = anchor_find(ld, name);
        rc = SL_OK;
        if (!*out)
            rc = loader_error_at(ld, event->start_mark, SL_ECONFIG,
                                 "alias '*%s' names no anchor defined before it", name);
        break;
    }
    default:
        rc = loader_error_at(ld, event->start_mark, SL_ECONFIG, "unexpected YAML event %d",
                             (int)event->type);
        break;
    }
done:
    yaml_event_delete(event);
    return rc;
}

/* Reads the stream: at most one document, whose root becomes doc->root. */
static int load_stream(loader *ld)
{
    yaml_event_t event;
    int rc = next_event(ld, &event);          /* STREAM-START */
    if (rc) return rc;
    yaml_event_delete(&event);
    bool has_document = false;
    for (;;) {
        rc = next_event(ld, &event);
        if (rc) return rc;
        yaml_event_type_t type = event.type;
        yaml_mark_t mark = event.start_mark;
        yaml_event_delete(&event);
        if (type == YAML_STREAM_END_EVENT) return SL_OK;
        if (type != YAML_DOCUMENT_START_EVENT)
            return loader_error_at(ld, mark, SL_ECONFIG, "expected a YAML document");
        if (has_document)
            return loader_error_at(ld, mark, SL_ECONFIG,
                                   "a config file holds one YAML document, found a second");
        has_document = true;
        rc = next_event(ld, &event);
        if (rc) return rc;
        rc = build_node(ld, &event, 0, false, &ld->doc->root);
        if (rc) return rc;
        rc = next_event(ld, &event);          /* DOCUMENT-END */
        if (rc) return rc;
        yaml_event_delete(&event);
    }
}

int sl_config_load_string(const char *name, const char *text, size_t len,
                          sl_config_doc **out, sl_error *err)
{
    int rc = SL_ENOMEM;
    sl_error local;
    if (!err) err = &local;
    if (!text) text = "";   /* len is then 0: an empty file */
    loader ld;
    memset(&ld, 0, sizeof ld);
    ld.err = err;
    bool has_parser = false;

    sl_config_doc *doc = calloc(1, sizeof *doc);
    if (doc) doc->arena = sl_arena_new(len < 8192 ? 16 * 1024 : 2 * len);
    if (doc && doc->arena) doc->file = sl_arena_strndup(doc->arena, name, strlen(name));
    if (doc && doc->arena && doc->file) rc = sl_config_hide_references(text, len, &ld.refs);
    if (!doc || !doc->arena || !doc->file || rc || !yaml_parser_initialize(&ld.parser)) {
        rc = SL_ENOMEM;
        sl_error_set(err, SL_ENOMEM, "%s: out of memory loading the config", name);
        goto fail;
    }
    has_parser = true;
    ld.doc = doc;
    ld.text = ld.refs.text ? ld.refs.text : text;
    ld.len = ld.refs.text ? ld.refs.len : len;
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)ld.text, ld.len);
    rc = load_stream(&ld);
    if (rc) goto fail;
    /* A document that is only `~` or empty counts as an empty file. */
    if (doc->root && doc->root->kind == SL_NODE_SCALAR && doc->root->is_null) doc->root = NULL;
    yaml_parser_delete(&ld.parser);
    free(ld.anchors);
    sl_reference_table_free(&ld.refs);
    *out = doc;
    return SL_OK;
fail:
    if (has_parser) yaml_parser_delete(&ld.parser);
    free(ld.anchors);
    sl_reference_table_free(&ld.refs);
    sl_config_free(doc);
    return rc;
}

int sl_config_load_file(const char *path, sl_config_doc **out, sl_error *err)
{
    int rc;
    char *text = NULL;
    size_t len = 0, capacity = 0;
    FILE *file = fopen(path, "rb");
    if (!file) {
        rc = sl_error_set(err, SL_EIO, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }
    /* Read in chunks rather than trusting a size: pipes and /dev/stdin work too. */
    for (;;) {
        if (capacity - len < 4096) {
            capacity = capacity ? capacity * 2 : 16384;
            char *grown = realloc(text, capacity);
            if (!grown) {
                rc = sl_error_set(err, SL_ENOMEM, "%s: out of memory reading", path);
                goto done;
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, capacity - len, file);
        len += got;
        if (len > CONFIG_MAX_FILE_BYTES) {
            rc = sl_error_set(err, SL_ETOOBIG, "%s: config file is larger than %u MiB", path,
                              CONFIG_MAX_FILE_BYTES / (1024 * 1024));
            goto done;
        }
        if (got == 0) break;
    }
    if (ferror(file)) {
        rc = sl_error_set(err, SL_EIO, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }
    rc = sl_config_load_string(path, text ? text : "", len, out, err);
done:
    if (file) fclose(file);
    free(text);
    return rc;
}

void sl_config_free(sl_config_doc *doc)
{
    if (!doc) return;
    sl_arena_free(doc->arena);
    free(doc);
}

const sl_node *sl_config_root(const sl_config_doc *doc)
{
    return doc ? doc->root : NULL;
}

const sl_node_pair *sl_node_get_pair(const sl_node *map, const char *key)
{
    if (!map || map->kind != SL_NODE_MAP) return NULL;
    for (size_t i = 0; i < map->n_pairs; i++)
        if (strcmp(map->pairs[i].key, key) == 0) return &map->pairs[i];
    return NULL;
}

bool sl_node_text_position(const sl_node *node, int line, int column, int *file_line, int *file_column)
{
    if (!node || !node->has_text_position || line < 1 || column < 1) return false;
    if (!node->is_block && line != 1) return false;
    *file_line = node->text_line + line - 1;
    *file_column = node->text_column + column - 1;
    return true;
}

const sl_node *sl_node_get(const sl_node *map, const char *key)
{
    const sl_node_pair *pair = sl_node_get_pair(map, key);
    return pair ? pair->value : NULL;
}
