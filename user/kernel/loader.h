/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probes the kernel, opens, configures, loads and attaches the BPF programs, degrading
 * per probe family. The only code besides the ring-buffer glue that touches the skeleton.
 */
#ifndef TOOLWATCH_LOADER_H
#define TOOLWATCH_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "toolwatch.h"
#include "kernel/probes.h"
#include "events/snapshot.h"

#include "kernel/filter.h"

struct loader_config {
	uint64_t ringbuf_bytes;	 /* power of two, >= page size */
	uint32_t max_processes;	 /* entries of the in-flight maps */
	uint64_t wakeup_bytes;	 /* 0: wake the consumer per record */
	bool disable[PROBE_MAX]; /* disabled on purpose */
	bool timer_stats;	 /* measure the exit timer's run time (--bpf.stats) */
	bool bpf_stats;		 /* --bpf.stats asked for (capability report) */
	bool cgroup_by_id;	 /* --metrics.labels opens cgroups by id (capability report) */
	struct loader_filter filter;
	/*
	 * false: exec records carry argv only for scripts, fds' execs and the comm keys in
	 * argv_keys (tool__argv_keys()); true (or no keys): every exec record carries it
	 */
	bool args_all;
	const char (*argv_keys)[TW_COMM_LEN];
	size_t nr_argv_keys;
};

struct loader;

/* Loads and attaches; NULL + errno when even the core cannot run (reason logged). */
struct loader *loader__open(const struct loader_config *cfg);
/* Detaches and frees everything; NULL-safe. */
void loader__close(struct loader *l);

/* Whether every exec record carries argv from now on (see loader_config.args_all). */
void loader__set_args_all(struct loader *l, bool all);

/* Whether probe family p is loaded and attached. */
bool loader__probe_enabled(const struct loader *l, enum probe p);
/* Copies which probe families are loaded and attached, indexed by enum probe. */
void loader__probes_enabled(const struct loader *l, bool out[PROBE_MAX]);
/* The ring buffer map fd. */
int loader__events_fd(const struct loader *l);
/*
 * Runs the task iterator: fn gets one tw_exec_rec per process running now (TW_F_PARTIAL),
 * with filename and argv filled in from /proc where readable. 0 or -errno.
 */
int loader__dump_tasks(struct loader *l, void (*fn)(const void *rec, size_t size, void *ctx),
		       void *ctx);
/* Copies the kernel's drop counters (indexed by enum tw_lost_reason). */
void loader__lost(const struct loader *l, uint64_t lost[TW_LOST_MAX]);
/* How exits got their final run time: the exit timer's state and the inexact ones. */
void loader__exit_stats(const struct loader *l, struct exit_stats *out);
/* True while the kernel still tracks the execution (tgid, start_ns). */
/*
 * Emits the exits of zombies that nobody reaps (they are never freed) when the sampler,
 * which does the same, is off; 0 or -errno.
 */
int loader__reap(struct loader *l);

bool loader__exec_alive(const struct loader *l, uint32_t tgid, uint64_t start_ns);
/*
 * Run time and count of each loaded program (needs kernel.bpf_stats_enabled), at most max
 * of them into out; returns how many. Names live as long as the loader.
 */
unsigned int loader__prog_stats(const struct loader *l, struct snapshot_prog *out,
				unsigned int max);
/*
 * Runs the sampling iterator: fn gets one tw_sample_rec per task of a running execution.
 * sockets: first charge live TCP sockets' bytes to their executions (a walk of the
 * kernel's whole established-socket hash table: its cost grows with the table, not with
 * the sockets). 0 or -errno (-EOPNOTSUPP when the sampler probe is off).
 */
int loader__sample(struct loader *l, bool sockets,
		   void (*fn)(const void *rec, size_t size, void *ctx), void *ctx);
/* Whether kernel.task_delayacct is on now (block I/O wait of tasks is measured). */
bool loader__delayacct(const struct loader *l);
/* Reads the kernel's host histograms and counters (summed over CPUs) into h. */
void loader__host(const struct loader *l, struct host_stats *h);

#endif /* TOOLWATCH_LOADER_H */
