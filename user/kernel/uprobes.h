/* SPDX-License-Identifier: GPL-2.0 */
/* Uprobes of the exec_failed_libc probe family, attached for the loader. */
#ifndef TOOLWATCH_UPROBES_H
#define TOOLWATCH_UPROBES_H

#include <bpf/libbpf.h>

#include "kernel/libc.h"

#define UPROBES_MAX_LINKS (LIBC_MAX_FILES * LIBC_MAX_SITES)

/*
 * Attaches execve (path in the first argument) and execveat (second) at every exec
 * syscall site of the C libraries in use (libc__find, libc__sites), for every process;
 * the links go into links[UPROBES_MAX_LINKS]. Logs the files covered and those not.
 * Returns how many were attached.
 */
unsigned int uprobes__attach_libc(struct bpf_program *execve, struct bpf_program *execveat,
				  struct bpf_link **links);

#endif /* TOOLWATCH_UPROBES_H */
