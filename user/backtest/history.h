/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tool's history for `toolwatch backtest`: one row per span of time with what finished
 * in it, as the detector takes a window (struct anomaly_tool_window). Rows come from a CSV
 * file (history__parse_csv()) or from a Prometheus server (prom_history.h). Pure: no I/O.
 *
 * The CSV form: a header line naming the columns, then one row per span, in any column
 * order; `timestamp` is required, every other column is optional:
 *
 *   timestamp          end of the span: `YYYY-MM-DD HH:MM:SS[.frac]` or
 *                      `YYYY-MM-DDTHH:MM:SS[.frac][Z]` (UTC) or Unix seconds
 *   executions         executions that finished in the span (default
 *                      HISTORY_DEFAULT_EXECUTIONS)
 *   failures           of them failed (default 0)
 *   duration_seconds   their mean duration (default: none, no duration figures)
 *   cpu_seconds        their CPU time, summed (default 0)
 *   peak_memory_bytes  their mean peak memory (default: none)
 *   value              the Numenta Anomaly Benchmark's column: the same as
 *                      duration_seconds (so NAB's `timestamp,value` files read as is)
 *
 * A span given by its mean duration is taken as `executions` executions that each lasted
 * the mean (their histogram holds them all in the mean's bucket, their sum is exact), and
 * likewise for peak memory. Durations and sizes below 0 are taken as 0. Rows with the same
 * timestamp belong to the same window; a row whose timestamp is earlier than the row
 * before (a clock stepped back) is taken at that row's time (and counted in clamped). Blank lines
 * and a trailing CR are ignored.
 */
#ifndef TOOLWATCH_HISTORY_H
#define TOOLWATCH_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hist.h"

#define HISTORY_DEFAULT_EXECUTIONS 10	    /* executions of a row without that column */
#define HISTORY_ROWS_MAX	   10000000 /* rows one history holds at most */

/* What finished in one span of time (the span ends at time_unix_s). */
struct history_row {
	int64_t time_unix_s;
	uint64_t executions;	 /* failures included */
	uint64_t failures;	 /* <= executions */
	struct hist duration;	 /* hist_duration_layout (ns) */
	double cpu_seconds;	 /* >= 0, finite */
	struct hist peak_memory; /* hist_memory_layout (bytes); may be empty */
};

struct history {
	struct history_row *rows; /* time_unix_s never falling */
	size_t nr;
	size_t cap;
	size_t clamped; /* CSV rows moved forward to the time of the row before */
};

/* Frees h's rows and empties it; NULL-safe. */
void history__fini(struct history *h);

/*
 * Appends a copy of row (time not before the last row's). Returns 0, -EINVAL for an
 * earlier time, failures > executions or a negative or non-finite cpu_seconds, -E2BIG beyond
 * HISTORY_ROWS_MAX rows, -ENOMEM.
 */
int history__append(struct history *h, const struct history_row *row);

/*
 * Parses the CSV form described above, len bytes of buf (need not be NUL terminated),
 * appending its rows to h. Returns 0, or -EINVAL (malformed: err holds one line naming
 * the line number and what is wrong; h keeps the rows before it), -E2BIG, -ENOMEM.
 */
int history__parse_csv(struct history *h, const char *buf, size_t len, char *err, size_t err_size);

/*
 * Parses a timestamp as the `timestamp` column takes it (NUL terminated). Returns 0 with
 * *unix_s set (fractions of a second truncated towards the past), or -EINVAL.
 */
int history__parse_time(const char *s, int64_t *unix_s);

/*
 * Fills row's duration histogram with n executions that each lasted seconds (< 0 taken
 * as 0; the sum saturates), replacing what it held.
 */
void history_row__set_duration(struct history_row *row, uint64_t n, double seconds);

/* The same for the peak memory histogram, bytes per execution. */
void history_row__set_memory(struct history_row *row, uint64_t n, double bytes);

/* The smallest positive gap between consecutive rows in seconds; 0 when there is none. */
int64_t history__step_s(const struct history *h);

#endif /* TOOLWATCH_HISTORY_H */
