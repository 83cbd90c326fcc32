/* fingerprint.h — a 64-bit digest of a config subtree, so a reload can
 * tell a changed pipeline or DAG from an unchanged one. Two subtrees with
 * the same keys, values and shape (after ${VAR} expansion) have the same
 * fingerprint; positions and comments do not count. */
#ifndef SL_FINGERPRINT_H
#define SL_FINGERPRINT_H

#include <stdint.h>

#include "config/config.h"

/* Folds node (NULL counts as an absent node) into seed; chain calls to
 * digest several subtrees together. */
uint64_t sl_node_fingerprint(const sl_node *node, uint64_t seed);

#define SL_FINGERPRINT_SEED UINT64_C(0xcbf29ce484222325)

#endif
