// The vDSO's getrandom() accepts GRND_INSECURE|GRND_RANDOM and returns
// bytes, where the system call rejects the combination with EINVAL
// (drivers/char/random.c).
//
//   cc -O2 -o getrandom-insecure-random getrandom-insecure-random.c -ldl && ./getrandom-insecure-random
//
// Exit 0 when the vDSO rejects it as the system call does, 1 when it does
// not. x86_64 names (the vDSO's getrandom exists since 6.11, with
// CONFIG_VDSO_GETRANDOM).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VDSO_GETRANDOM "__vdso_getrandom"
#define VDSO_VERSION "LINUX_2.6"
#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

struct vgetrandom_opaque_params {
	unsigned int size_of_opaque_state, mmap_prot, mmap_flags, reserved[13];
};

int main(void)
{
	void *vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
	if (!vdso) {
		fprintf(stderr, "no vDSO: %s\n", dlerror());
		return 2;
	}
	long (*vgetrandom)(void *, size_t, unsigned int, void *, size_t) =
		dlvsym(vdso, VDSO_GETRANDOM, VDSO_VERSION);
	if (!vgetrandom) {
		fprintf(stderr, "no %s@%s in the vDSO\n", VDSO_GETRANDOM, VDSO_VERSION);
		return 2;
	}
	struct vgetrandom_opaque_params params;
	if (vgetrandom(NULL, 0, 0, &params, ~0UL) != 0) {
		fprintf(stderr, "the vDSO did not describe its state\n");
		return 2;
	}
	void *state = mmap(NULL, 4096, params.mmap_prot, params.mmap_flags, -1, 0);
	if (state == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	unsigned char buf[16];
	unsigned int flags = GRND_INSECURE | GRND_RANDOM;
	long vret = vgetrandom(buf, sizeof(buf), flags, state, params.size_of_opaque_state);
	long sret = syscall(SYS_getrandom, buf, sizeof(buf), flags);
	int serr = sret < 0 ? errno : 0;
	printf("GRND_INSECURE|GRND_RANDOM: vDSO returns %ld, syscall %ld (errno %d)\n", vret, sret,
	       serr);
	return (vret < 0 && -vret == serr) ? 0 : 1;
}
