/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The consumer's state, shared by its two files only: consumer.c (records in, executions
 * tracked and named) and consumer_usage.c (usage credited to the tools). Nothing else
 * includes this header.
 */
#ifndef TOOLWATCH_CONSUMER_INTERNAL_H
#define TOOLWATCH_CONSUMER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/consumer.h"
#include "naming/rules.h"

/* Cumulative usage in the units the tools' counters use. */
struct usage_totals {
	uint64_t cpu_ns[2];
	uint64_t net_bytes[2];
	uint64_t disk_bytes[2];
	uint64_t tcp_connects;
	uint64_t tcp_retransmits;
	uint64_t wait_ns[WAIT_REASONS];
};

/* The latest live reading of one execution, summed over its tasks. */
struct live {
	struct tw_raw_usage raw;
	struct tw_usage usage;
	uint64_t rss_bytes;
	uint64_t net_bytes[2]; /* threads' bytes not yet folded into usage */
	bool seen;
};

struct inflight {
	uint32_t tgid; /* 0: empty slot (pid 0 never execs) */
	unsigned int tool_id;
	unsigned int series_id; /* in the series registry, when there is one */
	uint64_t start_ns;
	uint32_t flags;
	bool suspect;		      /* the kernel did not know it at the last reconcile */
	bool shell;		      /* its image is a shell (argv[0] or the path names one) */
	struct usage_totals credited; /* already added to the tool's counters */
	struct live live;
	char *path; /* keep_args only */
	char *args;
	size_t args_size;
	char *via[EXEC_VIA_MAX]; /* keep_args only: tool names of the earlier images */
	unsigned int via_count;
};

struct consumer {
	struct consumer_config cfg;
	struct inflight *slots;
	size_t cap; /* power of two */
	size_t used;
	struct rules *rules; /* not owned; NULL: default naming only */
	bool normalize;	     /* random-looking words of names become "*" */
	const char *(*username)(uint32_t uid, void *ctx);
	void *username_ctx;
	struct registry *series; /* not owned; NULL: per tool only */
	consumer_labels_fn labels;
	void *labels_ctx;
	bool match_error_logged[RULES_MATCH_ERROR_MAX];
};

/* The running execution of tgid, NULL when none is tracked. */
struct inflight *consumer_inflight_find(struct consumer *c, uint32_t tgid);

/* Converts an execution's usage into the tools' units. */
void consumer_totals_from_usage(struct usage_totals *t, const struct tw_usage *u);

/* Counts one ended execution in s (NULL: nothing), crediting final beyond done. */
void consumer_account_end(struct tool_stats *s, const struct tw_exit_rec *rec,
			  const struct exec_event *ev, const struct usage_totals *final,
			  struct usage_totals *done);

/* Adds a sample record to its running execution's live reading (between begin/end_samples). */
void consumer_handle_sample(struct consumer *c, const struct tw_sample_rec *rec);

#endif /* TOOLWATCH_CONSUMER_INTERNAL_H */
