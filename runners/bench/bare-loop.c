/*
 * bare-loop: the cost of a vDSO clock_gettime call from the tightest C loop, for
 * comparison with `vdsoconf bench` (same method: a warm-up, then 301 batches of
 * 2000 calls; the median and minimum of the per-call averages).
 *
 *   cc -O2 -o bare-loop bare-loop.c -ldl && ./bare-loop
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BATCH 2000
#define BATCHES 301

typedef int (*gettime_fn)(clockid_t, struct timespec *);

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void measure(gettime_fn f, clockid_t clock, const char *name)
{
    struct timespec ts;
    double per_call[BATCHES];
    for (int i = 0; i < 2 * BATCH; i++)
        f(clock, &ts);
    for (int b = 0; b < BATCHES; b++) {
        double start = now_ns();
        for (int i = 0; i < BATCH; i++) {
            f(clock, &ts);
            __asm__ volatile("" : : "r"(&ts) : "memory"); /* keep each call */
        }
        per_call[b] = (now_ns() - start) / BATCH;
    }
    qsort(per_call, BATCHES, sizeof(double), cmp);
    printf("%-18s median %6.1f ns  min %6.1f ns\n", name, per_call[BATCHES / 2], per_call[0]);
}

int main(void)
{
    /* glibc lists the vDSO among the loaded objects under its soname. */
    void *vdso = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!vdso) {
        fprintf(stderr, "bare-loop: no linux-vdso.so.1: %s\n", dlerror());
        return 1;
    }
    gettime_fn f = (gettime_fn)dlsym(vdso, "__vdso_clock_gettime");
    if (!f)
        f = (gettime_fn)dlsym(vdso, "__kernel_clock_gettime");
    if (!f) {
        fprintf(stderr, "bare-loop: no clock_gettime in the vDSO\n");
        return 1;
    }
    measure(f, CLOCK_REALTIME, "REALTIME");
    measure(f, CLOCK_MONOTONIC, "MONOTONIC");
    measure(f, CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE");
    return 0;
}
