// The vDSO's clock_getres() answers the auxiliary clock ids (16-23) on a
// kernel built without CONFIG_POSIX_AUX_CLOCKS, where the system call
// rejects them with EINVAL; given a bad pointer it writes through it.
//
//   cc -O2 -o aux-clock-getres aux-clock-getres.c -ldl && ./aux-clock-getres
//
// Exit 0 when the vDSO agrees with the system call for every aux clock, 1
// when it does not (printing each disagreement). x86_64 names; on other
// architectures change VDSO_GETRES and VDSO_VERSION (e.g. "__kernel_clock_getres",
// "LINUX_2.6.39" on arm64).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define VDSO_GETRES "__vdso_clock_getres"
#define VDSO_VERSION "LINUX_2.6"
#define CLOCK_AUX 16
#define CLOCK_AUX_LAST 23

int main(void)
{
	void *vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
	if (!vdso) {
		fprintf(stderr, "no vDSO: %s\n", dlerror());
		return 2;
	}
	int (*getres)(clockid_t, struct timespec *) = dlvsym(vdso, VDSO_GETRES, VDSO_VERSION);
	if (!getres) {
		fprintf(stderr, "no %s@%s in the vDSO\n", VDSO_GETRES, VDSO_VERSION);
		return 2;
	}
	int wrong = 0;
	for (clockid_t id = CLOCK_AUX; id <= CLOCK_AUX_LAST; id++) {
		struct timespec v = { -1, -1 }, s = { -1, -1 };
		int vret = getres(id, &v);
		long sret = syscall(SYS_clock_getres, id, &s);
		int serr = sret ? errno : 0;
		if ((vret == 0) != (sret == 0) || (vret && -vret != serr)) {
			printf("clock %d: vDSO returns %d (res %ld.%09ld), syscall %ld (errno %d)\n",
			       id, vret, (long)v.tv_sec, v.tv_nsec, sret, serr);
			wrong = 1;
		}
	}
	if (!wrong)
		printf("the vDSO's clock_getres agrees with the system call on clocks %d-%d\n",
		       CLOCK_AUX, CLOCK_AUX_LAST);
	return wrong;
}
