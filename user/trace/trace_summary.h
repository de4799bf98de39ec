/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-tool summaries of `toolwatch trace --summary` and `--interval`, pure: executions are
 * added over a period, then drawn as text (log2 histograms and a table) or JSON Lines.
 */
#ifndef TOOLWATCH_TRACE_SUMMARY_H
#define TOOLWATCH_TRACE_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include "events/consumer.h"
#include "lib/hist.h"
#include "events/registry.h"
#include "lib/strbuf.h"

#define TRACE_SUMMARY_HISTS 10 /* tools whose histogram a summary draws (busiest first) */

/*
 * Aggregates of one tool over a summary period. Bounded: no per-execution samples.
 *
 * Durations are kept twice, and not as a struct hist: the drawn histogram and its JSON
 * array need log2 slots of microseconds up to the largest uint64_t (54 slots reachable),
 * and the printed percentiles need 12.5% buckets (HIST_FINE_BUCKETS) narrowed to the
 * exact min and max so that equal durations print exactly. A struct hist holds at most
 * HIST_MAX_BOUNDS + 1 = 32 buckets (the anomaly state file stores that many per
 * histogram), so either would lose slots or precision. The bucket maths is hist.h's.
 */
struct trace_tool_stats {
	uint64_t count;	   /* finished executions, failed execs included */
	uint64_t failures; /* of count */
	uint64_t failures_by_type[ERROR_TYPE_MAX];
	uint64_t timed; /* executions with a duration: not failed execs */
	uint64_t min_ns, max_ns, sum_ns;
	uint64_t log2_us[HIST_LOG2_SLOTS]; /* durations in microseconds, drawn */
	uint64_t fine[HIST_FINE_BUCKETS];  /* durations in ns (hist_fine__bucket): percentiles */
	bool has_usage;			   /* some execution ended with usage figures */
	struct tw_usage
	    usage; /* of those: sums (saturating), peak_rss_bytes the largest, no tcp_* */
	/* where the time went, summed over timed executions with usage figures */
	uint64_t split_count;
	uint64_t split_cpu_ns, split_runq_ns, split_blkio_ns, split_other_ns;
	bool split_blkio_missing; /* one of them had no block I/O wait (accounting off) */
};

/*
 * The q-quantile of a tool's durations in ns (hist_fine__quantile): min_ns for q <= 0,
 * max_ns for q >= 1, else within one bucket width (12.5%). 0 without durations.
 */
uint64_t trace_stats__quantile(const struct trace_tool_stats *t, double q);

struct trace_summary;

/* A summary of at most max_tools tool names (the rest as "other"); NULL + errno. */
struct trace_summary *trace_summary__new(unsigned int max_tools);
/* NULL-safe. */
void trace_summary__free(struct trace_summary *s);

/* Adds one finished execution (END or FAIL; START is ignored). 0 or -ENOMEM (dropped). */
int trace_summary__add(struct trace_summary *s, const struct exec_event *ev);

/* Forgets everything added (a new --interval period). */
void trace_summary__reset(struct trace_summary *s);

/* The stats of one tool, or NULL when nothing of it was added. */
const struct trace_tool_stats *trace_summary__tool(const struct trace_summary *s, const char *tool);

/* Finished executions added since the last reset. */
uint64_t trace_summary__count(const struct trace_summary *s);

/* How a summary is labelled. */
struct trace_summary_view {
	uint64_t wall_ns;   /* when it is printed */
	uint64_t period_ns; /* how long it covers */
	long utc_offset_s;
	bool wide;	       /* separate net/disk directions, CPU and max duration columns */
	unsigned int measured; /* TRACE_MEASURE_*: the others show as "-" and null */
};

/*
 * Appends the summary as text: a header line (time, period, totals), log2 histograms of
 * duration in usecs for the TRACE_SUMMARY_HISTS busiest tools, then a table with one line
 * per tool, busiest first: TOOL COUNT FAIL P50 P95 P99 MAXRSS NET DISK (wide: CPU, MAX and
 * each direction apart). "no executions" when nothing was added.
 */
void trace_summary__text(const struct trace_summary *s, struct strbuf *sb,
			 const struct trace_summary_view *v);

/*
 * The summary text ends with a second table, where the time went: per tool the mean per
 * execution of CPU, run-queue wait, block I/O wait ("-" while delay accounting is off) and
 * other off-CPU time (usage__other_ns).
 *
 * Appends one JSON object per tool, busiest first (event "summary"): time, period_ns,
 * tool, count, failures, failures_by_type (object), duration_p50_ns, duration_p95_ns,
 * duration_p99_ns, duration_max_ns, duration_log2_us (array: slot i counts durations in
 * [2^i, 2^(i+1)) us, slot 0 also 0), max_peak_rss_bytes, cpu_user_ns, cpu_system_ns,
 * net_tx_bytes, net_rx_bytes, disk_read_bytes, disk_write_bytes (null: not measured),
 * split_executions and the sums over them of runq_wait_ns, blkio_wait_ns (null while
 * delay accounting is off) and other_ns.
 */
void trace_summary__json(const struct trace_summary *s, struct strbuf *sb,
			 const struct trace_summary_view *v);

#endif /* TOOLWATCH_TRACE_SUMMARY_H */
