/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C libraries whose exec calls the exec_failed_libc probe watches, and the places in
 * them where a failed execve or execveat returns: the instruction after the x86-64
 * `syscall` of `mov $nr,%eax; syscall` inside the library's execve and fexecve (every
 * other exec function but execveat(3) calls one of them). Reads files only; no libbpf.
 */
#ifndef TOOLWATCH_LIBC_H
#define TOOLWATCH_LIBC_H

#include <limits.h>
#include <stdint.h>

#define LIBC_MAX_FILES 8 /* distinct C library files watched */
#define LIBC_MAX_SITES 8 /* exec syscall sites in one of them */

enum libc_call {
	LIBC_EXECVE,   /* the path is the first argument */
	LIBC_EXECVEAT, /* the path is the second argument */
};

struct libc_site {
	uint64_t offset; /* file offset of the instruction after the syscall */
	enum libc_call call;
};

/*
 * The C libraries in use: the ones this process and PID 1 map (PID 1's through
 * /proc/1/root: the host's, for an agent in a container sharing the host's PID
 * namespace), one path per file (device and inode). Returns how many went into paths.
 */
unsigned int libc__find(char paths[][PATH_MAX], unsigned int max);

/*
 * The exec syscall sites of the ELF file at path (at most max into out). Returns their
 * number (0: none recognised, e.g. another architecture or a compiler's other order), or
 * -errno when the file cannot be read or is no ELF64 shared object.
 */
int libc__sites(const char *path, struct libc_site *out, unsigned int max);

#endif /* TOOLWATCH_LIBC_H */
