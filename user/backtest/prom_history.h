/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tool's history from Prometheus query_range answers, pure (jansson, no I/O). Every
 * query is evaluated at the same grid of times (start + k x step); its answers are kept
 * dense, one array per series (told apart by their `le` label), and the rows of a history
 * are the differences between consecutive grid times of the agent's cumulative counters
 * and histogram buckets, as the agent differences its registry every window.
 */
#ifndef TOOLWATCH_PROM_HISTORY_H
#define TOOLWATCH_PROM_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backtest/history.h"

#define PROM_SERIES_MAX 48	/* series of one query: the buckets of a histogram and some */
#define PROM_POINTS_MAX 10000	/* grid times one query_range asks for (Prometheus: 11,000) */
#define PROM_GRID_MAX	1000000 /* grid times of one history */

/* The times every query is evaluated at: start_s + k x step_s, k < n. */
struct prom_grid {
	int64_t start_s;
	int64_t step_s;
	size_t n;
};

/* One query's values on the grid. */
struct prom_values {
	size_t nr_series;
	double le[PROM_SERIES_MAX]; /* the series' `le` in base units x 1; NAN: no le label */
	double *v[PROM_SERIES_MAX]; /* grid.n values each; NAN where the answer had none */
};

/* The queries a history is built from (prom_history__query() gives their PromQL). */
enum prom_query {
	PROM_Q_DURATION_BUCKETS, /* sum by (le) of tool_execution_duration_seconds_bucket */
	PROM_Q_DURATION_SUM,	 /* sum of tool_execution_duration_seconds_sum */
	PROM_Q_DURATION_COUNT,	 /* sum of tool_execution_duration_seconds_count */
	PROM_Q_EXECUTIONS,	 /* sum of tool_executions_total */
	PROM_Q_FAILURES,	 /* sum of tool_execution_failure_total */
	PROM_Q_CPU,		 /* sum of tool_cpu_seconds_total */
	PROM_Q_MEMORY_BUCKETS,	 /* sum by (le) of tool_peak_memory_bytes_bucket */
	PROM_Q_MAX,
};

/*
 * Writes the PromQL of query q for the tool (a label value, escaped here) and the extra
 * matchers selector ("" none) into out. Returns 0, or -ENAMETOOLONG when it does not fit.
 */
int prom_history__query(enum prom_query q, const char *tool, const char *selector, char *out,
			size_t out_size);

/* Frees pv's arrays and empties it; NULL-safe. */
void prom_values__fini(struct prom_values *pv);

/*
 * Adds one query_range answer (len bytes of body, JSON) to pv: each point lands at the
 * grid time it was evaluated at (points off the grid are refused). Returns 0, or -EINVAL
 * with one line in err: not JSON, not a successful matrix answer (the server's error is
 * quoted), a malformed series or value, more than PROM_SERIES_MAX series; -ENOMEM.
 */
int prom_values__add_answer(struct prom_values *pv, const struct prom_grid *g, const char *body,
			    size_t len, char *err, size_t err_size);

/* Whether pv holds at least one value. */
bool prom_values__any(const struct prom_values *pv);

/*
 * Appends to h one row per grid time after the first: what the cumulative values grew by
 * since the time before (a value lower than the one before is a counter reset: the row
 * takes the new value; a missing value repeats the last one, 0 before the first).
 * Executions come from tool_executions_total, else from the duration count; durations
 * from the buckets (cumulative by `le`, mapped onto hist_duration_layout, each to the
 * first bound at least as large) and their sum; without buckets, from the count and sum
 * (each execution taken at the mean). Returns 0, -EINVAL for an inconsistent grid,
 * -ENOMEM, -E2BIG.
 */
int prom_history__build(struct history *h, const struct prom_grid *g,
			const struct prom_values pv[PROM_Q_MAX]);

#endif /* TOOLWATCH_PROM_HISTORY_H */
