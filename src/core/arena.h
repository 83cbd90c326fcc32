/* arena.h — bump allocator that owns every byte of one batch.
 *
 * Allocation is a pointer bump inside the current block; a new block (at least
 * twice the previous, or the request's size) is malloc'ed when it is full.
 * Nothing is freed alone: sl_arena_reset keeps one block as big as all it had, for reuse, and
 * sl_arena_free releases everything. Not thread-safe: one owner at a time.
 */
#ifndef SL_ARENA_H
#define SL_ARENA_H

#include <stddef.h>

typedef struct sl_arena sl_arena;

/* A new arena whose first block holds first_block bytes (0 = 64 KiB).
 * Returns NULL when out of memory. The caller owns it. */
sl_arena *sl_arena_new(size_t first_block);

/* Frees the arena and every allocation in it. Accepts NULL. */
void sl_arena_free(sl_arena *arena);

/* size bytes aligned to 8, or NULL when out of memory. Never zeroed. */
void *sl_arena_alloc(sl_arena *arena, size_t size);

/* size zeroed bytes aligned to 8, or NULL. */
void *sl_arena_calloc(sl_arena *arena, size_t size);

/* A NUL-terminated copy of len bytes of text, or NULL. */
char *sl_arena_strndup(sl_arena *arena, const char *text, size_t len);

/* Grows the most recent allocation ptr (of old_size bytes) to new_size,
 * in place when it is the last one made, else by copying. */
void *sl_arena_realloc(sl_arena *arena, void *ptr, size_t old_size, size_t new_size);

/* Forgets every allocation; keeps one block as big as all it had, for reuse. */
void sl_arena_reset(sl_arena *arena);

/* Bytes handed out since the last reset (what a batch weighs). */
size_t sl_arena_bytes_used(const sl_arena *arena);

#endif
