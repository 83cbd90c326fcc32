/* fingerprint.c — FNV-1a over a canonical walk of a config subtree (see
 * fingerprint.h). Each node contributes its kind, then its text or its
 * children with their count, so no two shapes share a byte sequence. */
#include "config/fingerprint.h"

#include <string.h>

static uint64_t mix(uint64_t hash, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= UINT64_C(0x100000001b3);
    }
    return hash;
}

static uint64_t mix_text(uint64_t hash, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    hash = mix(hash, &len, sizeof len);
    return mix(hash, text ? text : "", len);
}

uint64_t sl_node_fingerprint(const sl_node *node, uint64_t seed)
{
    unsigned char kind = node ? (unsigned char)(node->kind + 1) : 0;
    uint64_t hash = mix(seed, &kind, 1);
    if (!node) return hash;
    switch (node->kind) {
    case SL_NODE_SCALAR: {
        unsigned char flags = (unsigned char)(node->is_null | node->is_quoted << 1);
        hash = mix(hash, &flags, 1);
        return mix_text(hash, node->is_null ? NULL : node->scalar);
    }
    case SL_NODE_MAP:
        hash = mix(hash, &node->n_pairs, sizeof node->n_pairs);
        for (size_t i = 0; i < node->n_pairs; i++) {
            hash = mix_text(hash, node->pairs[i].key);
            hash = sl_node_fingerprint(node->pairs[i].value, hash);
        }
        return hash;
    case SL_NODE_LIST:
        hash = mix(hash, &node->n_items, sizeof node->n_items);
        for (size_t i = 0; i < node->n_items; i++) hash = sl_node_fingerprint(node->items[i], hash);
        return hash;
    }
    return hash;
}
