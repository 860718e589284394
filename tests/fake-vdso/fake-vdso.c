/*
 * A fake x86_64 vDSO with five bugs the conformance checks do not enumerate,
 * for the tests of `vdsoconf fuzz-live --load-vdso`: each function makes its
 * system call itself (there is no data page to read), then misbehaves for
 * inputs only a generator reaches.
 *
 * 1. clock_gettime rejects (EINVAL) the thread CPU clock of another thread;
 *    the checks read only the calling thread's.
 * 2. clock_getres answers ids 40-47 with 1 ns where the syscall says EINVAL;
 *    the checks try 12-15, 24 and the extremes.
 * 3. clock_getres of the clock of a closed fd writes through NULL (SIGSEGV).
 * 4. getrandom with GRND_NONBLOCK returns one byte short for 257-511 bytes;
 *    the checks ask 1, 32, 256, 4096 and 1 MiB bytes without flags.
 * 5. clock_gettime reads CLOCK_BOOTTIME from CLOCK_MONOTONIC: the same on a
 *    machine that never slept, until a time namespace gives the two clocks
 *    different offsets.
 *
 * Built by tests/fuzz_live.rs (fake-vdso.lds: one PT_LOAD from
 * offset 0, no relocations, as the kernel links its vDSO).
 */

typedef unsigned long size_t;

struct timespec {
    long tv_sec;
    long tv_nsec;
};

struct vgetrandom_opaque_params {
    unsigned int size_of_opaque_state, mmap_prot, mmap_flags, reserved[13];
};

enum {
    SYS_fcntl = 72,
    SYS_gettimeofday = 96,
    SYS_gettid = 186,
    SYS_time = 201,
    SYS_clock_gettime = 228,
    SYS_clock_getres = 229,
    SYS_getcpu = 309,
    SYS_getrandom = 318,
};

static long sys3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The pid or tid of a CPU clock id, 0 for its caller; -1 for another id. */
static long cpu_clock_owner(int clock)
{
    return clock < 0 && (clock & 3) != 3 ? ~(long)(clock >> 3) : -1;
}

int __vdso_clock_gettime(int clock, struct timespec *ts)
{
    if (clock == 7 /* CLOCK_BOOTTIME */)
        return sys3(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)ts, 0); /* bug 5 */
    long ret = sys3(SYS_clock_gettime, clock, (long)ts, 0);
    long owner = cpu_clock_owner(clock);
    if (ret == 0 && (clock & 4) && owner > 0 && owner != sys3(SYS_gettid, 0, 0, 0))
        return -22; /* bug 1 */
    return ret;
}

int __vdso_clock_getres(int clock, struct timespec *res)
{
    if (clock >= 40 && clock <= 47) { /* bug 2 */
        if (res) {
            res->tv_sec = 0;
            res->tv_nsec = 1;
        }
        return 0;
    }
    if (clock < 0 && (clock & 7) == 3) {
        long fd = ~(long)(clock >> 3);
        if (sys3(SYS_fcntl, fd, 1 /* F_GETFD */, 0) < 0)
            *(volatile int *)0 = 0; /* bug 3 */
    }
    return sys3(SYS_clock_getres, clock, (long)res, 0);
}

int __vdso_gettimeofday(void *tv, void *tz)
{
    return sys3(SYS_gettimeofday, (long)tv, (long)tz, 0);
}

long __vdso_time(long *t)
{
    return sys3(SYS_time, (long)t, 0, 0);
}

int __vdso_getcpu(unsigned int *cpu, unsigned int *node, void *tcache)
{
    return sys3(SYS_getcpu, (long)cpu, (long)node, (long)tcache);
}

long __vdso_getrandom(void *buf, size_t len, unsigned int flags, void *state, size_t state_len)
{
    if (!buf && !len && !flags && state_len == ~0UL) {
        struct vgetrandom_opaque_params *p = state;
        p->size_of_opaque_state = 256;
        p->mmap_prot = 3;     /* PROT_READ | PROT_WRITE */
        p->mmap_flags = 0x22; /* MAP_PRIVATE | MAP_ANONYMOUS */
        return 0;
    }
    long ret = sys3(SYS_getrandom, (long)buf, len, flags);
    if ((flags & 1) && ret > 256 && ret < 512)
        return ret - 1; /* bug 4 */
    return ret;
}
