// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/prom_history.h"
#include "lib/strbuf.h"

#define NS_PER_S 1e9

static const char *const metric_of[PROM_Q_MAX] = {
    [PROM_Q_DURATION_BUCKETS] = "sum by (le) (tool_execution_duration_seconds_bucket",
    [PROM_Q_DURATION_SUM] = "sum(tool_execution_duration_seconds_sum",
    [PROM_Q_DURATION_COUNT] = "sum(tool_execution_duration_seconds_count",
    [PROM_Q_EXECUTIONS] = "sum(tool_executions_total",
    [PROM_Q_FAILURES] = "sum(tool_execution_failure_total",
    [PROM_Q_CPU] = "sum(tool_cpu_seconds_total",
    [PROM_Q_MEMORY_BUCKETS] = "sum by (le) (tool_peak_memory_bytes_bucket",
};

int prom_history__query(enum prom_query q, const char *tool, const char *selector, char *out,
			size_t out_size)
{
	size_t len = 0;
	int n;

	n = snprintf(out, out_size, "%s{tool=\"", metric_of[q]);
	if (n < 0 || (size_t)n >= out_size)
		return -ENAMETOOLONG;
	len = (size_t)n;
	/* a PromQL string: backslash and double quote escaped, newlines as \n */
	for (const char *p = tool; *p; p++) {
		const char *esc = *p == '\\'   ? "\\\\"
				  : *p == '"'  ? "\\\""
				  : *p == '\n' ? "\\n"
					       : NULL;
		size_t need = esc ? 2 : 1;

		if (len + need >= out_size)
			return -ENAMETOOLONG;
		if (esc)
			memcpy(out + len, esc, 2);
		else
			out[len] = *p;
		len += need;
	}
	n = snprintf(out + len, out_size - len, "\"%s%s})", selector[0] ? "," : "", selector);
	if (n < 0 || (size_t)n >= out_size - len)
		return -ENAMETOOLONG;
	return 0;
}

void prom_values__fini(struct prom_values *pv)
{
	if (!pv)
		return;
	for (size_t i = 0; i < pv->nr_series; i++)
		free(pv->v[i]);
	memset(pv, 0, sizeof(*pv));
}

bool prom_values__any(const struct prom_values *pv)
{
	return pv->nr_series > 0;
}

/* A sample value: "1.5", "+Inf", "NaN" (Prometheus' strings). NAN when malformed. */
static double value_of(const char *s)
{
	char *end;
	double v;

	if (!strcmp(s, "+Inf"))
		return INFINITY;
	if (!strcmp(s, "-Inf"))
		return -INFINITY;
	if (!*s || strpbrk(s, "xXnN"))
		return NAN;
	v = strtod(s, &end);
	return *end ? NAN : v;
}

/* The series of pv for le (NAN: without le), created when new. NULL when full or ENOMEM. */
static double *series_for(struct prom_values *pv, const struct prom_grid *g, double le)
{
	double *v;

	for (size_t i = 0; i < pv->nr_series; i++)
		if ((isnan(le) && isnan(pv->le[i])) || le == pv->le[i])
			return pv->v[i];
	if (pv->nr_series >= PROM_SERIES_MAX)
		return NULL;
	v = malloc(g->n * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t k = 0; k < g->n; k++)
		v[k] = NAN;
	pv->le[pv->nr_series] = le;
	pv->v[pv->nr_series++] = v;
	return v;
}

static int add_series(struct prom_values *pv, const struct prom_grid *g, json_t *s, char *err,
		      size_t err_size)
{
	json_t *metric = json_object_get(s, "metric"), *values = json_object_get(s, "values");
	json_t *le_json = metric ? json_object_get(metric, "le") : NULL;
	double le = NAN, *dst;
	size_t i;
	json_t *p;

	if (!json_is_object(metric) || !json_is_array(values)) {
		snprintf(err, err_size, "a series without metric or values");
		return -EINVAL;
	}
	if (le_json) {
		if (!json_is_string(le_json) || isnan(le = value_of(json_string_value(le_json))) ||
		    le < 0) {
			snprintf(err, err_size, "a series with a bad le label");
			return -EINVAL;
		}
	}
	dst = series_for(pv, g, le);
	if (!dst) {
		snprintf(err, err_size, "more than %d series in one answer", PROM_SERIES_MAX);
		return pv->nr_series >= PROM_SERIES_MAX ? -EINVAL : -ENOMEM;
	}
	json_array_foreach(values, i, p)
	{
		json_t *t = json_array_get(p, 0), *v = json_array_get(p, 1);
		double ts, k, x;

		if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_number(t) ||
		    !json_is_string(v)) {
			snprintf(err, err_size, "a malformed point");
			return -EINVAL;
		}
		ts = json_number_value(t);
		x = value_of(json_string_value(v));
		k = (ts - (double)g->start_s) / (double)g->step_s;
		if (!isfinite(k) || k < -0.001 || k > (double)g->n - 1 + 0.001 ||
		    fabs(k - round(k)) > 0.001) {
			snprintf(err, err_size, "a point at %.3f, off the grid of the query", ts);
			return -EINVAL;
		}
		if (isnan(x)) {
			snprintf(err, err_size, "a malformed sample value");
			return -EINVAL;
		}
		dst[(size_t)round(k)] = x;
	}
	return 0;
}

int prom_values__add_answer(struct prom_values *pv, const struct prom_grid *g, const char *body,
			    size_t len, char *err, size_t err_size)
{
	json_t *root, *status, *data, *result, *s;
	json_error_t jerr;
	int ret = 0;
	size_t i;

	if (!g->n || g->step_s <= 0) {
		snprintf(err, err_size, "an empty grid");
		return -EINVAL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, err_size, "not a Prometheus API answer (not JSON: %s)", jerr.text);
		str__one_line(err); /* jansson quotes the offending bytes */
		return -EINVAL;
	}
	status = json_object_get(root, "status");
	if (!json_is_string(status) || strcmp(json_string_value(status), "success")) {
		json_t *e = json_object_get(root, "error");

		snprintf(err, err_size, "the server refused the query: %.200s",
			 json_is_string(e) ? json_string_value(e) : "no reason given");
		ret = -EINVAL;
		goto out;
	}
	data = json_object_get(root, "data");
	result = data ? json_object_get(data, "result") : NULL;
	if (!json_is_object(data) || !json_is_string(json_object_get(data, "resultType")) ||
	    strcmp(json_string_value(json_object_get(data, "resultType")), "matrix") ||
	    !json_is_array(result)) {
		snprintf(err, err_size, "not a Prometheus API answer (no matrix result)");
		ret = -EINVAL;
		goto out;
	}
	json_array_foreach(result, i, s)
	{
		if (!json_is_object(s)) {
			snprintf(err, err_size, "a series that is not an object");
			ret = -EINVAL;
			goto out;
		}
		ret = add_series(pv, g, s, err, err_size);
		if (ret)
			goto out;
	}
out:
	if (ret)
		str__one_line(err); /* the server's reason and label values are outside input */
	json_decref(root);
	return ret;
}

/* What a cumulative value grew by from the grid time before: a fall is a reset. */
static double growth(const double *v, size_t k, double *last, bool *seen)
{
	double prev = *seen ? *last : 0, cur = v[k];

	if (isnan(cur) || !isfinite(cur))
		return 0; /* missing: no news */
	*last = cur;
	*seen = true;
	return cur >= prev ? cur - prev : cur;
}

static uint64_t count_of(double x)
{
	if (!(x > 0))
		return 0;
	return x >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(x);
}

/* Carries one query's last values and takes each series' growth per grid time. */
struct tracker {
	double last[PROM_SERIES_MAX];
	bool seen[PROM_SERIES_MAX];
};

/* Growth of the series without le (its first series), 0 when the query has none. */
static double scalar_growth(const struct prom_values *pv, struct tracker *t, size_t k)
{
	return pv->nr_series ? growth(pv->v[0], k, &t->last[0], &t->seen[0]) : 0;
}

/*
 * Per-bucket counts of one grid step from cumulative bucket series: each le lands in the
 * first bound of layout at least as large (scaled into base units), +Inf in the last.
 */
static uint64_t bucket_growth(const struct prom_values *pv, struct tracker *t, size_t k,
			      const struct hist_layout *layout, double scale, struct hist *h)
{
	double cum[HIST_MAX_BOUNDS + 1], g[PROM_SERIES_MAX];
	size_t order[PROM_SERIES_MAX];
	double prev = 0;
	uint64_t total = 0;

	for (size_t i = 0; i < pv->nr_series; i++) {
		g[i] = growth(pv->v[i], k, &t->last[i], &t->seen[i]);
		order[i] = i;
	}
	/* cumulative counts by rising le */
	for (size_t i = 1; i < pv->nr_series; i++)
		for (size_t j = i; j > 0 && pv->le[order[j]] < pv->le[order[j - 1]]; j--) {
			size_t x = order[j];

			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (unsigned int b = 0; b <= layout->nr_bounds; b++)
		cum[b] = -1;
	for (size_t i = 0; i < pv->nr_series; i++) {
		double le = pv->le[order[i]];
		unsigned int b =
		    isinf(le) ? layout->nr_bounds
			      : hist_layout__bucket(layout, (uint64_t)fmin(le * scale, 1.8e19));

		if (isnan(le))
			continue;
		cum[b] = fmax(cum[b], g[order[i]]);
	}
	memset(h->counts, 0, sizeof(h->counts));
	for (unsigned int b = 0; b <= layout->nr_bounds; b++) {
		double c;

		if (cum[b] < 0)
			continue;
		c = cum[b] - prev;
		h->counts[b] = count_of(c);
		total += h->counts[b];
		prev = fmax(prev, cum[b]);
	}
	h->count = total;
	return total;
}

int prom_history__build(struct history *h, const struct prom_grid *g,
			const struct prom_values pv[PROM_Q_MAX])
{
	struct tracker tr[PROM_Q_MAX];

	if (!g->n || g->step_s <= 0 || g->n > PROM_GRID_MAX)
		return -EINVAL;
	memset(tr, 0, sizeof(tr));
	for (size_t k = 0; k < g->n; k++) {
		struct history_row row;
		double sum_s, count, executions, failures, cpu;
		bool have_buckets = pv[PROM_Q_DURATION_BUCKETS].nr_series > 0;
		int ret;

		memset(&row, 0, sizeof(row));
		row.time_unix_s = g->start_s + (int64_t)k * g->step_s;
		if (have_buckets)
			bucket_growth(&pv[PROM_Q_DURATION_BUCKETS], &tr[PROM_Q_DURATION_BUCKETS], k,
				      &hist_duration_layout, NS_PER_S, &row.duration);
		sum_s = scalar_growth(&pv[PROM_Q_DURATION_SUM], &tr[PROM_Q_DURATION_SUM], k);
		count = scalar_growth(&pv[PROM_Q_DURATION_COUNT], &tr[PROM_Q_DURATION_COUNT], k);
		executions = scalar_growth(&pv[PROM_Q_EXECUTIONS], &tr[PROM_Q_EXECUTIONS], k);
		failures = scalar_growth(&pv[PROM_Q_FAILURES], &tr[PROM_Q_FAILURES], k);
		cpu = scalar_growth(&pv[PROM_Q_CPU], &tr[PROM_Q_CPU], k);
		if (pv[PROM_Q_MEMORY_BUCKETS].nr_series)
			bucket_growth(&pv[PROM_Q_MEMORY_BUCKETS], &tr[PROM_Q_MEMORY_BUCKETS], k,
				      &hist_memory_layout, 1, &row.peak_memory);
		if (!k)
			continue; /* the first grid time is where the differences start */
		if (!have_buckets && count > 0)
			history_row__set_duration(&row, count_of(count), sum_s / count);
		else
			row.duration.sum = count_of(sum_s * NS_PER_S);
		row.executions =
		    pv[PROM_Q_EXECUTIONS].nr_series ? count_of(executions) : count_of(count);
		row.failures = count_of(failures);
		if (row.failures > row.executions)
			row.failures = row.executions;
		row.cpu_seconds = cpu > 0 && isfinite(cpu) ? cpu : 0;
		ret = history__append(h, &row);
		if (ret)
			return ret;
	}
	return 0;
}
