/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Turns kernel records into executions: matches exits to their execs, names tools, feeds
 * the registry and an optional sink (trace output). Pure: records in, state updates out.
 */
#ifndef TOOLWATCH_CONSUMER_H
#define TOOLWATCH_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include "toolwatch.h"
#include "events/registry.h"

enum exec_event_kind {
	EXEC_EVENT_START, /* an execution started (or was found running) */
	EXEC_EVENT_END,	  /* an execution ended */
	EXEC_EVENT_FAIL,  /* exec failed: a failed execution with no duration */
};

/* One execution as the sink sees it; pointers valid during the callback only. */
struct exec_event {
	enum exec_event_kind kind;
	const char *tool;
	unsigned int tool_id;
	uint32_t tgid, ppid, uid;
	uint64_t cgroup_id;
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC; end_ns 0 for START */
	uint32_t status;	   /* wait(2) status (END) */
	uint32_t flags;		   /* TW_F_* */
	bool success;
	enum error_type error; /* when !success */
	int exec_errno;	       /* FAIL: positive errno */
	const char *comm;
	const char *filename; /* START/FAIL; END when args are kept */
	const char *args;     /* NUL-separated argv, or NULL when not kept */
	size_t args_size;
	const struct tw_usage *usage; /* END: resources, NULL otherwise */
	/* END when args are kept: the names of the execution's earlier images, first first */
	const char *const *via;
	unsigned int via_count; /* entries of via, at most EXEC_VIA_MAX */
	bool blkio;		/* END: usage->blkio_wait_ns is measured (delay accounting on) */
	/* trace only (the consumer leaves them NULL): what the cgroup says, and names */
	const struct cgroup_identity *identity; /* NULL: not resolved */
	const struct kube_pod_names *names;	/* NULL: no name source or pod unknown */
};

/* Earlier images an execution's END event names at most (the first ones). */
#define EXEC_VIA_MAX 4

typedef void (*consumer_sink_fn)(const struct exec_event *ev, void *ctx);

struct consumer_config {
	struct registry *registry; /* required */
	bool keep_args;		   /* remember argv and path until the end (trace mode) */
	consumer_sink_fn sink;	   /* optional */
	void *sink_ctx;
};

struct consumer;

/* NULL + errno on failure. */
struct consumer *consumer__new(const struct consumer_config *cfg);
/* NULL-safe. */
void consumer__free(struct consumer *c);

/*
 * Handles one record of size bytes (a ring-buffer sample or an iterator record).
 * Malformed records are counted in the registry's agent stats and dropped. Returns 0.
 */
int consumer__handle(struct consumer *c, const void *data, size_t size);

struct rules;

/*
 * Names the executions that start from now on by rules first (rules.h), the default naming
 * for those no rule matches; NULL goes back to the default naming only. The consumer does
 * not own rules: the caller frees the previous rules after this call. username (may be
 * NULL) resolves {{.Username}}.
 */
void consumer__set_rules(struct consumer *c, struct rules *rules,
			 const char *(*username)(uint32_t uid, void *ctx), void *ctx);

struct identity_labels;

/*
 * The labels of an execution's series: its cgroup's identity (identity.h), NULL when it
 * has none. tgid is a process of the cgroup (it may have exited). Valid until the next call.
 */
typedef const struct identity_labels *(*consumer_labels_fn)(uint64_t cgroup_id, uint32_t tgid,
							    void *ctx);

/*
 * Also counts every execution in series, keyed by its tool name and labels()
 * (identity__key(); "other" when the tool is "other"), besides the per-tool registry.
 * series NULL turns that off. Call before the first record.
 */
void consumer__set_series(struct consumer *c, struct registry *series, consumer_labels_fn labels,
			  void *ctx);

/* Names are normalised by tool__normalize() before they are counted (default off). */
void consumer__set_normalize(struct consumer *c, bool normalize);

/* Executions currently tracked as running. */
size_t consumer__inflight(const struct consumer *c);

/*
 * Drops running executions for which alive() returned false at this call and the previous
 * one (their exit record was lost), counting each in exits_lost. Returns the number dropped.
 */
size_t consumer__reconcile(struct consumer *c,
			   bool (*alive)(uint32_t tgid, uint64_t start_ns, void *ctx), void *ctx);

/*
 * Live usage: begin_samples forgets the previous reading, each TW_REC_SAMPLE record given
 * to consumer__handle adds one task's counters to its execution, end_samples credits what
 * grew since the last reading to the tools' counters and recomputes their memory gauges.
 * Counters never go down; an execution's exit record settles its exact total.
 */
void consumer__begin_samples(struct consumer *c);
void consumer__end_samples(struct consumer *c);

/*
 * Off-CPU time that is neither run-queue nor block I/O wait (sleeps, locks, network,
 * waiting for children): duration - CPU - run-queue - block I/O (the latter only when
 * blkio), clamped at 0 because children running in parallel can use more CPU than the
 * wall-clock time of the execution.
 */
uint64_t usage__other_ns(uint64_t duration_ns, const struct tw_usage *u, bool blkio);

/* CPU split as the kernel does it: run time in the ratio utime:stime (all user if stime 0). */
void cpu__split(uint64_t cpu_ns, uint64_t utime, uint64_t stime, uint64_t *user, uint64_t *system);

#endif /* TOOLWATCH_CONSUMER_H */
