/* Preloaded into the fuzz targets by fuzz/ci: getrandom(2) answers a fixed
 * sequence, so the hash maps' seeds (std's RandomState, in the spec loader's
 * dependencies) are the same in every run and coverage-guided fuzzing from a
 * fixed seed makes the same choices every time. Never used outside fuzz/ci. */
#include <stddef.h>
#include <sys/types.h>
static unsigned long long state = 0x9e3779b97f4a7c15ull;
ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    (void)flags;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        p[i] = (unsigned char)state;
    }
    return (ssize_t)len;
}
