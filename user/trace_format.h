/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `toolwatch trace` prints, pure: text lines, JSON Lines, status words, human units,
 * log2 histograms drawn like BCC's runqlat and per-tool summaries. Strings in, strings out.
 */
#ifndef TOOLWATCH_TRACE_FORMAT_H
#define TOOLWATCH_TRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer.h"
#include "registry.h"
#include "strbuf.h"

#define TRACE_WIDTH_DEFAULT 80 /* columns when stdout is not a terminal */
#define TRACE_ARGS_MIN_COLS 8  /* argv keeps this much even on a narrow terminal */
#define TRACE_LOG2_SLOTS    64 /* log2 histogram slots: any uint64_t value */
#define TRACE_FINE_SUB	    8  /* linear sub-buckets per power of two (percentiles) */
#define TRACE_FINE_BUCKETS  (2 * TRACE_FINE_SUB + (64 - 4) * TRACE_FINE_SUB)
#define TRACE_SUMMARY_HISTS 10 /* tools whose histogram a summary draws (busiest first) */

/* Converts the kernel's CLOCK_MONOTONIC timestamps to wall-clock time. */
struct trace_clock {
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, sampled at start */
	long utc_offset_s;	    /* local time zone, seconds east of UTC */
};

/* Wall-clock ns since the epoch of a CLOCK_MONOTONIC timestamp. */
uint64_t trace_clock__wall_ns(const struct trace_clock *c, uint64_t mono_ns);

/* "HH:MM:SS.mmm" of wall_ns in a zone utc_offset_s east of UTC. buf needs 13 bytes. */
void trace_format__local_time(char *buf, size_t size, uint64_t wall_ns, long utc_offset_s);

/* RFC 3339 UTC with nanoseconds, "2025-01-31T23:59:59.123456789Z". buf needs 31 bytes. */
void trace_format__utc_time(char *buf, size_t size, uint64_t wall_ns);

/*
 * A duration in at most 6 characters with 3 significant digits: "850ns", "12.3us",
 * "1.20ms", "3.40s", "2m05s", "1h02m", "250h". Returns strlen of the result.
 */
size_t trace_format__duration(char *buf, size_t size, uint64_t ns);

/*
 * A byte count in at most 5 characters, powers of 1024: "0", "1023", "1.5K", "12K", "1.2M",
 * "512M", "3.0G". Values are rounded down. Returns strlen of the result.
 */
size_t trace_format__bytes(char *buf, size_t size, uint64_t bytes);

/* "SIGKILL" for 9 (Linux numbering), "SIG40" for a signal without a name. */
const char *trace_format__signal_name(int sig, char *buf, size_t size);

/* "ENOENT" for 2, "errno 999" for a number without a name. */
const char *trace_format__errno_name(int err, char *buf, size_t size);

/*
 * How an event ended, in words: "ok", "exit 3", "SIGKILL", "SIGSEGV core", "oom",
 * "exec failed: ENOENT"; "exec" for an execution start.
 */
void trace_format__status(char *buf, size_t size, const struct exec_event *ev);

/*
 * The kind of ending, as the error_type label of the metrics: "ok", "exit_code", "signal",
 * "core_dump", "exec_failed", "oom_kill"; "running" for an execution start.
 */
const char *trace_format__status_kind(const struct exec_event *ev);

/* Usage figures the loaded kernel programs measure; the others show as "-" and null. */
enum trace_measure {
	TRACE_MEASURE_CPU = 1u << 0,	/* cpu_user_ns, cpu_system_ns */
	TRACE_MEASURE_MEMORY = 1u << 1, /* peak_rss_bytes */
	TRACE_MEASURE_DISK = 1u << 2,	/* disk_read_bytes, disk_write_bytes */
	TRACE_MEASURE_NET = 1u << 3,	/* net_tx_bytes, net_rx_bytes */
	TRACE_MEASURE_TCP = 1u << 4,	/* tcp_connects, tcp_retransmits */
	TRACE_MEASURE_ALL = (1u << 5) - 1,
};

/* True when ev carries the usage figures `what` (TRACE_MEASURE_*) and they are measured. */
bool trace_format__measured(const struct exec_event *ev, unsigned int measured, unsigned int what);

/*
 * Appends len bytes of s for a terminal, escaped so that nothing in it can move the
 * cursor or break the line: \n, \t, \r by name, other C0 controls, DEL and bytes that are
 * not well-formed UTF-8 as \xNN, C1 controls as \u0080..\u009f. NULs become spaces when
 * nul_as_space (argv), \x00 otherwise. At most max_cols columns (one per character)
 * are written; when s does not fit, or `cut` says s itself was cut short, the text ends in
 * "..." within those columns. Returns the columns written.
 */
size_t trace_format__text(struct strbuf *sb, const char *s, size_t len, bool nul_as_space, bool cut,
			  size_t max_cols);

/*
 * Appends ev's command line for a terminal (trace_format__text, at most max_cols): argv
 * with spaces between words, else the executable path, else "[comm]". Trailing NULs are
 * not shown; argv cut short by the kernel ends in "...". Returns the columns written.
 */
size_t trace_format__argv(struct strbuf *sb, const struct exec_event *ev, size_t max_cols);

/* Output layout: which columns, how wide the terminal is, what is measured. */
struct trace_layout {
	bool wide;	       /* every column, argv not truncated */
	unsigned int width;    /* terminal columns (TRACE_WIDTH_DEFAULT when not a terminal) */
	unsigned int measured; /* TRACE_MEASURE_* */
};

/*
 * Appends the column titles and a newline. Default: TIME TOOL PID PPID DURATION STATUS
 * ARGS within 80 columns; wide adds UID CPU MAXRSS NET_TX NET_RX DISK_R DISK_W.
 */
void trace_format__header(struct strbuf *sb, const struct trace_layout *l);

/*
 * Appends one event as an aligned text line and a newline: time, tool (cut to its column
 * unless wide), pid, ppid, duration, status words, argv cut to the terminal width
 * (unless wide). Columns whose values do not apply or are not measured show "-".
 */
void trace_format__line(struct strbuf *sb, const struct trace_layout *l,
			const struct trace_clock *c, const struct exec_event *ev);

/*
 * Appends one event as a JSON object and a newline (JSON Lines). Always valid UTF-8 JSON
 * whatever the bytes of names, paths and argv. Fields (README "Tracing"): time, event
 * ("exec" or "exit"), tool, comm, pid, ppid, uid, cgroup_id, filename, argv (array, full),
 * argv_truncated, partial; exit events add start_time, duration_ns, status, status_text,
 * exit_code, signal, core_dumped, error, wait_status, reexec and the usage fields
 * peak_rss_bytes, cpu_user_ns, cpu_system_ns, net_tx_bytes, net_rx_bytes,
 * disk_read_bytes, disk_write_bytes, tcp_connects, tcp_retransmits (null when not in
 * l->measured). Only l->measured is used from l.
 */
void trace_format__json(struct strbuf *sb, const struct trace_layout *l,
			const struct trace_clock *c, const struct exec_event *ev);

/*
 * One line for an anomaly flag that was raised or cleared, at wall time wall_ns: text
 * ("HH:MM:SS.mmm ANOMALY raised KIND severity ratio=R tool=NAME" or "... host") or a JSON object with event
 * "anomaly", tool (null for the host), kind, severity, state ("raised"/"cleared"),
 * deviation_ratio and raised_total. Ends with a newline.
 */
void trace_format__anomaly(struct strbuf *sb, const struct trace_clock *c, uint64_t wall_ns,
			   const char *tool, const char *kind, const char *severity, bool active,
			   double ratio, uint64_t raised_total, bool json);

/* Slot of v in a log2 histogram: 0 holds 0 and 1, slot i >= 1 holds [2^i, 2^(i+1)). */
unsigned int trace_log2__slot(uint64_t v);

/*
 * Appends a log2 histogram as BCC's print_log2_hist draws it (runqlat): a title line with
 * unit ("usecs"), then one "low -> high : count |stars|" line per slot from 0 to the last
 * non-empty one, 40 stars for the largest count (20 when slots above 32 are drawn).
 * Appends nothing when every slot is empty.
 */
void trace_log2__print(struct strbuf *sb, const uint64_t *slots, unsigned int nr_slots,
		       const char *unit);

/* Aggregates of one tool over a summary period. Bounded: no per-execution samples. */
struct trace_tool_stats {
	uint64_t count;	   /* finished executions, failed execs included */
	uint64_t failures; /* of count */
	uint64_t failures_by_type[ERROR_TYPE_MAX];
	uint64_t timed; /* executions with a duration: not failed execs */
	uint64_t min_ns, max_ns, sum_ns;
	uint64_t log2_us[TRACE_LOG2_SLOTS]; /* durations in microseconds, drawn */
	uint64_t fine[TRACE_FINE_BUCKETS];  /* durations in ns, 8 per power of two: percentiles */
	bool has_usage;			    /* some execution ended with usage figures */
	uint64_t max_peak_rss_bytes;
	uint64_t cpu_user_ns, cpu_system_ns;
	uint64_t net_tx_bytes, net_rx_bytes;
	uint64_t disk_read_bytes, disk_write_bytes;
};

/* Bucket of a duration (ns) in trace_tool_stats.fine. */
unsigned int trace_fine__bucket(uint64_t ns);

/*
 * The q-quantile of a tool's durations in ns: min_ns for q <= 0, max_ns for q >= 1, else
 * the bucket of the nearest-rank sample, narrowed to [min_ns, max_ns] and interpolated
 * linearly (off by at most one bucket width, 12.5%). 0 without durations.
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
 * Appends one JSON object per tool, busiest first (event "summary"): time, period_ns,
 * tool, count, failures, failures_by_type (object), duration_p50_ns, duration_p95_ns,
 * duration_p99_ns, duration_max_ns, duration_log2_us (array: slot i counts durations in
 * [2^i, 2^(i+1)) us, slot 0 also 0), max_peak_rss_bytes, cpu_user_ns, cpu_system_ns,
 * net_tx_bytes, net_rx_bytes, disk_read_bytes, disk_write_bytes (null: not measured).
 */
void trace_summary__json(const struct trace_summary *s, struct strbuf *sb,
			 const struct trace_summary_view *v);

#endif /* TOOLWATCH_TRACE_FORMAT_H */
