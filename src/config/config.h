/* config.h — a YAML configuration file loaded into a tree of nodes.
 *
 * Every node remembers the file, line and column it came from so later
 * checks (unknown key, wrong type, missing setting) can point at it. Scalars
 * have `${VAR}` and `${VAR:-default}` expanded from the environment when the
 * file is loaded (an unset variable without a default is an error naming
 * it and its position; `$${` gives a literal `${`). YAML anchors/aliases are
 * resolved; duplicate keys in one mapping are errors.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef enum sl_node_kind {
    SL_NODE_SCALAR,
    SL_NODE_MAP,
    SL_NODE_LIST,
} sl_node_kind;

typedef struct sl_node sl_node;

typedef struct sl_node_pair {
    const char *key;
    sl_node *value;
    int key_line, key_column;   /* where the key itself stands */
} sl_node_pair;

struct sl_node {
    sl_node_kind kind;
    const char *file;          /* borrowed from the document */
    int line, column;          /* 1-based, where the node starts */
    /* SL_NODE_SCALAR: the expanded text; is_quoted for '...' and "..." */
    const char *scalar;
    bool is_quoted;
    /* Where the scalar's text stands in the file, when it stands there
     * verbatim (see sl_node_text_position): its first line and column, and
     * whether it is a literal block (| ...), whose lines are the file's. */
    bool has_text_position;
    bool is_block;
    int text_line, text_column;
    bool is_null;              /* plain `~`, `null` or empty */
    /* SL_NODE_MAP */
    sl_node_pair *pairs;
    size_t n_pairs;
    /* SL_NODE_LIST */
    sl_node **items;
    size_t n_items;
};

typedef struct sl_config_doc sl_config_doc;

/* Loads and parses path. Errors (SL_ECONFIG / SL_EIO) read
 * "path:line:column: what". The caller owns *out. */
int sl_config_load_file(const char *path, sl_config_doc **out, sl_error *err);

/* The same from text in memory; `name` stands in for the path in messages. */
int sl_config_load_string(const char *name, const char *text, size_t len,
                          sl_config_doc **out, sl_error *err);

void sl_config_free(sl_config_doc *doc);

/* The document's root node (a map for a sluice config); NULL for an empty file. */
const sl_node *sl_config_root(const sl_config_doc *doc);

/* The value under key in a map node, or NULL (also when node is not a map). */
const sl_node *sl_node_get(const sl_node *map, const char *key);

/* The file line and column of line:column (1-based) of a scalar's text,
 * for texts the file holds verbatim: one line, plain or quoted without
 * escapes, or a literal block (`|`). false when the text cannot be placed
 * (an escape, a folded block, a `${...}` reference, several plain lines):
 * then only the node's own position is known. */
bool sl_node_text_position(const sl_node *node, int line, int column, int *file_line, int *file_column);

/* The pair under key (for its key position), or NULL. */
const sl_node_pair *sl_node_get_pair(const sl_node *map, const char *key);

/* "kind" words for messages: "scalar", "mapping", "list". */
const char *sl_node_kind_name(sl_node_kind kind);

/* Fills err with "file:line:column: <message>" at node's position; returns SL_ECONFIG. */
int sl_node_error(sl_error *err, const sl_node *node, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
