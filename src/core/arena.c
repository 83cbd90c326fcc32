/* arena.c — bump allocator for batches (see arena.h).
 *
 * Blocks form a singly linked list, newest (and largest) first. A reset
 * leaves one block as big as all the blocks were, so a reused batch arena
 * settles at one block of the size its batches need and stops calling
 * malloc (and taking page faults) for every batch.
 */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
} arena_block;

struct sl_arena {
    arena_block *head;    /* current block, where allocations go */
    size_t bytes_used;
    void *last_ptr;       /* most recent allocation, for in-place realloc */
};

static arena_block *block_new(size_t size)
{
    arena_block *block = malloc(sizeof *block + size);
    if (!block) return NULL;
    block->next = NULL;
    block->size = size;
    block->used = 0;
    return block;
}

sl_arena *sl_arena_new(size_t first_block)
{
    if (first_block == 0) first_block = 64 * 1024;
    sl_arena *arena = calloc(1, sizeof *arena);
    if (!arena) return NULL;
    arena->head = block_new(first_block);
    if (!arena->head) {
        free(arena);
        return NULL;
    }
    return arena;
}

void sl_arena_free(sl_arena *arena)
{
    if (!arena) return;
    arena_block *block = arena->head;
    while (block) {
        arena_block *next = block->next;
        free(block);
        block = next;
    }
    free(arena);
}

void *sl_arena_alloc(sl_arena *arena, size_t size)
{
    size_t aligned = (size + 7) & ~(size_t)7;
    if (aligned < size) return NULL;
    arena_block *block = arena->head;
    if (block->size - block->used < aligned) {
        size_t next_size = block->size * 2;
        if (next_size < aligned) next_size = aligned;
        arena_block *fresh = block_new(next_size);
        if (!fresh) return NULL;
        fresh->next = block;
        arena->head = fresh;
        block = fresh;
    }
    void *ptr = block->data + block->used;
    block->used += aligned;
    arena->bytes_used += aligned;
    arena->last_ptr = ptr;
    return ptr;
}

void *sl_arena_calloc(sl_arena *arena, size_t size)
{
    void *ptr = sl_arena_alloc(arena, size);
    if (ptr) memset(ptr, 0, size);
    return ptr;
}

char *sl_arena_strndup(sl_arena *arena, const char *text, size_t len)
{
    char *copy = sl_arena_alloc(arena, len + 1);
    if (!copy) return NULL;
    if (len) memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

void *sl_arena_realloc(sl_arena *arena, void *ptr, size_t old_size, size_t new_size)
{
    if (ptr && ptr == arena->last_ptr) {
        arena_block *block = arena->head;
        size_t offset = (size_t)((unsigned char *)ptr - block->data);
        size_t old_aligned = (old_size + 7) & ~(size_t)7;
        size_t new_aligned = (new_size + 7) & ~(size_t)7;
        if (new_aligned <= old_aligned || offset + new_aligned <= block->size) {
            block->used = offset + new_aligned;
            arena->bytes_used = arena->bytes_used - old_aligned + new_aligned;
            return ptr;
        }
    }
    void *fresh = sl_arena_alloc(arena, new_size);
    if (fresh && ptr) memcpy(fresh, ptr, old_size < new_size ? old_size : new_size);
    return fresh;
}

void sl_arena_reset(sl_arena *arena)
{
    /* A batch that needed several blocks gets one block as big as all of
     * them, so the arena settles at a single block reused batch after batch
     * (fresh blocks cost page faults on every batch). If that allocation
     * fails, the newest (largest) block is kept instead. */
    arena_block *keep = arena->head;
    if (keep->next) {
        size_t total = 0;
        for (arena_block *block = keep; block; block = block->next) total += block->size;
        arena_block *merged = block_new(total);
        if (merged) {
            merged->next = keep;
            keep = merged;
        }
    }
    arena_block *block = keep->next;
    while (block) {
        arena_block *next = block->next;
        free(block);
        block = next;
    }
    keep->next = NULL;
    arena->head = keep;
    keep->used = 0;
    arena->bytes_used = 0;
    arena->last_ptr = NULL;
}

size_t sl_arena_bytes_used(const sl_arena *arena)
{
    return arena->bytes_used;
}
