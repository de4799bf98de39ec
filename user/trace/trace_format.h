/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `toolwatch trace` prints, pure: text lines, JSON Lines, status words, human units,
 * table cells, anomaly lines and log2 histograms drawn like BCC's runqlat. Strings in,
 * strings out. Per-tool summaries (aggregation) are trace_summary.h.
 */
#ifndef TOOLWATCH_TRACE_FORMAT_H
#define TOOLWATCH_TRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/consumer.h"
#include "lib/json.h"
#include "events/registry.h"
#include "lib/strbuf.h"

#define TRACE_WIDTH_DEFAULT 80 /* columns when stdout is not a terminal */
#define TRACE_ARGS_MIN_COLS 8  /* argv keeps this much even on a narrow terminal */

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
 * cursor or break the line, in the visible form of label values and --json tool names
 * (utf8__visible_token(): injective, `\` as `\\`, \n, \t, \r by name, other controls,
 * format characters and bytes that are not well-formed UTF-8 as \xNN). NULs become spaces
 * when nul_as_space (argv), \x00 otherwise. At most max_cols columns (one per character)
 * are written; when s does not fit, or `cut` says s itself was cut short, the text ends in
 * "..." within those columns. Returns the columns written.
 */
size_t trace_format__text(struct strbuf *sb, const char *s, size_t len, bool nul_as_space, bool cut,
			  size_t max_cols);

/*
 * Appends ev's command line for a terminal (escaped as trace_format__text, at most
 * max_cols): argv with spaces between words, else the executable path, else "[comm]".
 * Trailing NULs are not shown; argv cut short by the kernel, or to max_args words (0: all),
 * ends in "...". quote puts each word in double quotes, a `"` in a word as `\"` (as
 * execsnoop -q). Returns the columns written.
 */
size_t trace_format__argv(struct strbuf *sb, const struct exec_event *ev, size_t max_cols,
			  bool quote, uint32_t max_args);

/* Output layout: which columns, how wide the terminal is, what is measured. */
struct trace_layout {
	bool wide;	       /* every column, argv not truncated */
	bool uid;	       /* a UID column (wide has one anyway) */
	bool quote;	       /* argv words in double quotes */
	uint32_t max_args;     /* argv words shown (text) and given (JSON); 0: all */
	bool relative;	       /* TIME(s): seconds since start_ns instead of the time of day */
	uint64_t start_ns;     /* CLOCK_MONOTONIC, with relative */
	unsigned int width;    /* terminal columns (TRACE_WIDTH_DEFAULT when not a terminal) */
	unsigned int measured; /* TRACE_MEASURE_* */
};

/*
 * Appends the column titles and a newline. Default: TIME TOOL PID PPID DURATION STATUS
 * ARGS within 80 columns (uid: UID after PPID); wide adds UID CONTAINER (the container id's first
 * 12 digits, "-" outside one) CPU MAXRSS NET_TX NET_RX DISK_R DISK_W.
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
 * whatever the bytes of names, paths and argv. Fields (docs/tracing.md, JSON Lines): time, event
 * ("exec" or "exit"), tool, comm, pid, ppid, uid, cgroup_id, container_id and pod_uid ("" when
 * none or not resolved), namespace, pod and container (only when ev->names is set),
 * filename, argv (array, full),
 * argv_truncated, partial; exit events add start_time, duration_ns, status, status_text,
 * exit_code, signal, core_dumped, error, wait_status, reexec and the usage fields
 * peak_rss_bytes, cpu_user_ns, cpu_system_ns, net_tx_bytes, net_rx_bytes,
 * disk_read_bytes, disk_write_bytes, tcp_connects, tcp_retransmits (null when not in
 * l->measured). Only l->measured and l->max_args (argv cut to that many words,
 * argv_truncated then true) are used from l.
 */
void trace_format__json(struct strbuf *sb, const struct trace_layout *l,
			const struct trace_clock *c, const struct exec_event *ev);

/*
 * One line for an anomaly flag that was raised or cleared, at wall time wall_ns: text
 * ("HH:MM:SS.mmm ANOMALY raised KIND severity ratio=R tool=NAME" or "... host") or a
 * JSON object with event "anomaly", tool (null for the host), kind, severity, state
 * ("raised"/"cleared"), deviation_ratio, raised_total and cause (the component of the
 * time that grew most, or NULL: text "cause=C " before the tool, JSON null). Ends with a
 * newline.
 */
void trace_format__anomaly(struct strbuf *sb, const struct trace_clock *c, uint64_t wall_ns,
			   const char *tool, const char *kind, const char *severity, bool active,
			   double ratio, uint64_t raised_total, const char *cause, bool json);

/*
 * Appends a log2 histogram (slots as hist_log2__slot() counts them) as BCC's
 * print_log2_hist draws it (runqlat): a title line with unit ("usecs"), then one
 * "low -> high : count |stars|" line per slot from 0 to the last non-empty one, 40 stars
 * for the largest count (20 when slots above 32 are drawn). Appends nothing when every slot
 * is empty.
 */
void trace_log2__print(struct strbuf *sb, const uint64_t *slots, unsigned int nr_slots,
		       const char *unit);

/* When ev happened (CLOCK_MONOTONIC): its start, its end, the failed attempt. */
uint64_t trace_format__event_ns(const struct exec_event *ev);

/* True when ev is the end of an execution whose whole duration was observed. */
bool trace_format__has_duration(const struct exec_event *ev);

/*
 * Table cells for the text output: each appends its text padded to width, then one space.
 * Left-aligned plain ASCII text.
 */
void trace_cell__left(struct strbuf *sb, const char *s, size_t width);
/* Right-aligned plain ASCII text. */
void trace_cell__right(struct strbuf *sb, const char *s, size_t width);
/* v in decimal, right-aligned. */
void trace_cell__u64(struct strbuf *sb, uint64_t v, size_t width);
/* trace_format__bytes() of v right-aligned, "-" when not measured. */
void trace_cell__bytes(struct strbuf *sb, bool measured, uint64_t v, size_t width);
/* trace_format__duration() of ns right-aligned, "-" when not known. */
void trace_cell__duration(struct strbuf *sb, bool known, uint64_t ns, size_t width);
/* A name escaped for the terminal (trace_format__text), cut to width unless wide. */
void trace_cell__name(struct strbuf *sb, const char *s, size_t width, bool wide);

/* Titles of the wide usage columns: CPU (cpu_width) MAXRSS NET_TX NET_RX DISK_R DISK_W. */
void trace_cell__usage_titles(struct strbuf *sb, size_t cpu_width);
/*
 * The cells of u under those titles: CPU time (user + system, saturating), peak RSS, each
 * direction of network and disk bytes; "-" for the figures not in measured
 * (TRACE_MEASURE_*), and for all of them when u is NULL.
 */
void trace_cell__usage(struct strbuf *sb, const struct tw_usage *u, unsigned int measured,
		       size_t cpu_width);

/* Ends the line that starts at sb offset line_start: trailing spaces dropped, newline. */
void trace_format__end_line(struct strbuf *sb, size_t line_start);

/* A member key of o: wall_ns in RFC 3339 UTC (trace_format__utc_time), null when unknown. */
void trace_format__json_time(struct json_object *o, const char *key, bool known, uint64_t wall_ns);

/*
 * The usage members of u in o: rss_key (the peak RSS), cpu_user_ns, cpu_system_ns,
 * net_tx_bytes, net_rx_bytes, disk_read_bytes, disk_write_bytes and, when tcp,
 * tcp_connects and tcp_retransmits; null for the figures not in measured
 * (TRACE_MEASURE_*), and for all of them when u is NULL.
 */
void trace_format__json_usage(struct json_object *o, const struct tw_usage *u,
			      unsigned int measured, const char *rss_key, bool tcp);

#endif /* TOOLWATCH_TRACE_FORMAT_H */
