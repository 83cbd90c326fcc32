/* criterion_arena.c — lets Criterion's test runner start under
 * ThreadSanitizer. Linked into the TSan unit-test binaries only.
 *
 * Criterion (through BoxFort) maps its shared arena at a random address
 * from 0x200000000000 + rand_r() * 16 MiB, and gives up after 10 tries that
 * land on mapped pages. Under TSan nearly all of that range is TSan's own
 * (shadow, metadata, protected gaps); only 0x550000000000-0x568000000000,
 * where PIE binaries go, is the application's. So it fails most runs with
 * "Could not initialize inheritable arena". This rand_r, which the
 * dynamic linker binds in place of libc's (nothing in sluice calls rand_r),
 * walks offsets inside that range instead; BoxFort still checks each page
 * is free before mapping it.
 */
#include <stdlib.h>

int rand_r(unsigned int *seed)
{
    /* (0x550000000000 - 0x200000000000) / 16 MiB, and the range's size in 16 MiB steps */
    const unsigned int first = 0x350000, span = 0x18000;
    *seed = *seed * 1103515245u + 12345u;
    return (int)(first + (*seed >> 8) % span);
}
