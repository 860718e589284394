/*
 * vdso-probe: what the vDSO of a process looks like, for targets the Rust suite
 * cannot be built for (no Debian Rust standard library for the architecture).
 * Built static with the target's cross C compiler and run under qemu-user by
 * runners/qemu/matrix; its observation is judged on the host with
 * `vdsoconf run --arch A --provider P --observed absent|FILE`.
 *
 *   vdso-probe FILE    prints "absent", or dumps the vDSO to FILE and prints "present"
 *
 * The extent of the image is the end of its last PT_LOAD's file contents; the
 * header is the process's own (native class and byte order).
 */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    unsigned long base = getauxval(AT_SYSINFO_EHDR);
    if (base == 0) {
        puts("absent");
        return 0;
    }
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) {
        fprintf(stderr, "vdso-probe: AT_SYSINFO_EHDR 0x%lx is not an ELF header\n", base);
        return 1;
    }
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
    unsigned long end = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > end)
            end = ph[i].p_offset + ph[i].p_filesz;
    }
    if (end == 0) {
        fprintf(stderr, "vdso-probe: the vDSO at 0x%lx has no PT_LOAD\n", base);
        return 1;
    }
    FILE *out = fopen(argv[1], "wb");
    if (out == NULL || fwrite((const void *)base, 1, end, out) != end || fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    puts("present");
    return 0;
}
