/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loader's state, shared by its two files only: loader.c (probing, loading and
 * attaching) and loader_read.c (the iterators and the maps read back). Nothing else
 * includes this header.
 */
#ifndef TOOLWATCH_LOADER_INTERNAL_H
#define TOOLWATCH_LOADER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "kernel/loader.h"
#include "kernel/uprobes.h"

#define MAX_FAMILY_PROGS 6

struct toolwatch_bpf;

struct loader {
	struct toolwatch_bpf *skel;
	struct loader_config cfg;
	bool enabled[PROBE_MAX];
	int delayacct_restore; /* kernel.task_delayacct to put back at close; -1: untouched */
	struct bpf_link *links[PROBE_MAX][MAX_FAMILY_PROGS];
	struct bpf_link *libc_links[UPROBES_MAX_LINKS]; /* exec_failed_libc's, per site */
	bool argv_selective; /* argv_comms filled: exec records may leave argv out */
};

/*
 * Runs an iterator program whose output is a sequence of rec_size-byte records (0: none),
 * each handed to fn (fill: exec records completed from /proc first); 0 or -errno.
 */
int loader_run_iter(struct bpf_program *prog, size_t rec_size, bool fill,
		    void (*fn)(const void *rec, size_t size, void *ctx), void *ctx);

/* kernel.task_delayacct: 0 or 1, or -errno when it cannot be read. */
int loader_delayacct_read(void);

#endif /* TOOLWATCH_LOADER_INTERNAL_H */
