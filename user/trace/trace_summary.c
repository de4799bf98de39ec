// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "naming/tools.h"
#include "trace/trace_format.h"
#include "trace/trace_summary.h"

#define NS_PER_US 1000ULL

/* Column widths of the summary table. */
#define SUM_TOOL      20
#define SUM_TOOL_WIDE 28
#define SUM_COUNT     7
#define SUM_FAIL      6
#define SUM_DURATION  7
#define SUM_BYTES     6 /* as the byte columns of trace lines */

uint64_t trace_stats__quantile(const struct trace_tool_stats *t, double q)
{
	return hist_fine__quantile(t->fine, t->timed, t->min_ns, t->max_ns, q);
}

struct trace_summary {
	unsigned int max_tools;
	struct tool_table *tools;
	struct trace_tool_stats **stats; /* by tool id; NULL until a tool is seen */
	size_t nr_stats;
	uint64_t count, failures;
};

struct trace_summary *trace_summary__new(unsigned int max_tools)
{
	struct trace_summary *s = calloc(1, sizeof(*s));

	if (s)
		s->tools = tool_table__new(max_tools);
	if (!s || !s->tools) {
		free(s); /* errno is calloc's or tool_table__new's */
		return NULL;
	}
	s->max_tools = max_tools;
	return s;
}

void trace_summary__free(struct trace_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nr_stats; i++)
		free(s->stats[i]);
	free(s->stats);
	tool_table__free(s->tools);
	free(s);
}

void trace_summary__reset(struct trace_summary *s)
{
	struct tool_table *fresh = tool_table__new(s->max_tools);

	for (size_t i = 0; i < s->nr_stats; i++) {
		free(s->stats[i]);
		s->stats[i] = NULL;
	}
	/* new names: the cap counts the tools of one period, not of every period */
	if (fresh) {
		tool_table__free(s->tools);
		s->tools = fresh;
	}
	s->count = s->failures = 0;
}

static struct trace_tool_stats *stats_of(struct trace_summary *s, unsigned int id)
{
	if (id >= s->nr_stats) {
		size_t n = s->nr_stats ? s->nr_stats : 16;
		struct trace_tool_stats **grown;

		while (n <= id)
			n *= 2;
		grown = realloc(s->stats, n * sizeof(*grown));
		if (!grown)
			return NULL;
		memset(grown + s->nr_stats, 0, (n - s->nr_stats) * sizeof(*grown));
		s->stats = grown;
		s->nr_stats = n;
	}
	if (!s->stats[id])
		s->stats[id] = calloc(1, sizeof(*s->stats[id]));
	return s->stats[id];
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void add_usage(struct trace_tool_stats *t, const struct tw_usage *u)
{
	struct tw_usage *sum = &t->usage;

	t->has_usage = true;
	if (u->peak_rss_bytes > sum->peak_rss_bytes)
		sum->peak_rss_bytes = u->peak_rss_bytes;
	sum->cpu_user_ns = sat_add(sum->cpu_user_ns, u->cpu_user_ns);
	sum->cpu_system_ns = sat_add(sum->cpu_system_ns, u->cpu_system_ns);
	sum->net_tx_bytes = sat_add(sum->net_tx_bytes, u->net_tx_bytes);
	sum->net_rx_bytes = sat_add(sum->net_rx_bytes, u->net_rx_bytes);
	sum->disk_read_bytes = sat_add(sum->disk_read_bytes, u->disk_read_bytes);
	sum->disk_write_bytes = sat_add(sum->disk_write_bytes, u->disk_write_bytes);
}

int trace_summary__add(struct trace_summary *s, const struct exec_event *ev)
{
	struct trace_tool_stats *t;
	enum error_type type = ERROR_EXEC_FAILED;
	bool ok = false;

	if (ev->kind == EXEC_EVENT_START)
		return 0;
	t = stats_of(s, tool_table__intern(s->tools, ev->tool ? ev->tool : TOOL_UNKNOWN_NAME));
	if (!t)
		return -ENOMEM;
	if (ev->kind == EXEC_EVENT_END)
		ok = execution__classify(ev->status, ev->flags, &type);
	t->count++;
	s->count++;
	if (!ok) {
		t->failures++;
		t->failures_by_type[type]++;
		s->failures++;
	}
	if (trace_format__has_duration(ev)) {
		uint64_t ns = ev->end_ns - ev->start_ns;

		if (!t->timed || ns < t->min_ns)
			t->min_ns = ns;
		if (ns > t->max_ns)
			t->max_ns = ns;
		t->timed++;
		t->sum_ns = sat_add(t->sum_ns, ns);
		t->log2_us[hist_log2__slot(ns / NS_PER_US)]++;
		t->fine[hist_fine__bucket(ns)]++;
	}
	if (ev->kind == EXEC_EVENT_END && ev->usage)
		add_usage(t, ev->usage);
	if (ev->kind == EXEC_EVENT_END && ev->usage && trace_format__has_duration(ev)) {
		const struct tw_usage *u = ev->usage;

		t->split_count++;
		t->split_cpu_ns =
		    sat_add(t->split_cpu_ns, sat_add(u->cpu_user_ns, u->cpu_system_ns));
		t->split_runq_ns = sat_add(t->split_runq_ns, u->runq_wait_ns);
		if (ev->blkio)
			t->split_blkio_ns = sat_add(t->split_blkio_ns, u->blkio_wait_ns);
		else
			t->split_blkio_missing = true;
		t->split_other_ns = sat_add(
		    t->split_other_ns, usage__other_ns(ev->end_ns - ev->start_ns, u, ev->blkio));
	}
	return 0;
}

const struct trace_tool_stats *trace_summary__tool(const struct trace_summary *s, const char *tool)
{
	int id = tool_table__lookup(s->tools, tool);

	if (id < 0 || (size_t)id >= s->nr_stats)
		return NULL;
	return s->stats[id];
}

uint64_t trace_summary__count(const struct trace_summary *s)
{
	return s->count;
}

struct ranked {
	const char *name;
	const struct trace_tool_stats *t;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->t->count != y->t->count)
		return x->t->count > y->t->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Tools with executions, busiest first; *n set. NULL when none (or no memory). */
static struct ranked *rank_tools(const struct trace_summary *s, size_t *n)
{
	struct ranked *r = NULL;

	*n = 0;
	for (size_t i = 0; i < s->nr_stats; i++)
		if (s->stats[i] && s->stats[i]->count)
			(*n)++;
	if (!*n || !(r = calloc(*n, sizeof(*r)))) {
		*n = 0;
		return NULL;
	}
	*n = 0;
	for (size_t i = 0; i < s->nr_stats; i++) {
		if (!s->stats[i] || !s->stats[i]->count)
			continue;
		r[*n].name = tool_table__name(s->tools, (unsigned int)i);
		if (!r[*n].name)
			r[*n].name = TOOL_UNKNOWN_NAME;
		r[*n].t = s->stats[i];
		(*n)++;
	}
	qsort(r, *n, sizeof(*r), ranked_cmp);
	return r;
}

static void summary_table_header(struct strbuf *sb, bool wide)
{
	size_t start = sb->len;

	trace_cell__left(sb, "TOOL", wide ? SUM_TOOL_WIDE : SUM_TOOL);
	trace_cell__right(sb, "COUNT", SUM_COUNT);
	trace_cell__right(sb, "FAIL", SUM_FAIL);
	trace_cell__right(sb, "P50", SUM_DURATION);
	trace_cell__right(sb, "P95", SUM_DURATION);
	trace_cell__right(sb, "P99", SUM_DURATION);
	if (wide) {
		trace_cell__right(sb, "MAX", SUM_DURATION);
		trace_cell__usage_titles(sb, SUM_DURATION);
	} else {
		trace_cell__right(sb, "MAXRSS", SUM_BYTES);
		trace_cell__right(sb, "NET", SUM_BYTES);
		trace_cell__right(sb, "DISK", SUM_BYTES);
	}
	trace_format__end_line(sb, start);
}

/* The tool's usage figures, NULL when none of its executions had them. */
static const struct tw_usage *stats_usage(const struct trace_tool_stats *t)
{
	return t->has_usage ? &t->usage : NULL;
}

static void summary_table_row(struct strbuf *sb, const struct ranked *r,
			      const struct trace_summary_view *v)
{
	const struct trace_tool_stats *t = r->t;
	const struct tw_usage *u = &t->usage;
	unsigned int measured = t->has_usage ? v->measured : 0;
	bool timed = t->timed, wide = v->wide;
	size_t start = sb->len;

	trace_cell__name(sb, r->name, wide ? SUM_TOOL_WIDE : SUM_TOOL, wide);
	trace_cell__u64(sb, t->count, SUM_COUNT);
	trace_cell__u64(sb, t->failures, SUM_FAIL);
	trace_cell__duration(sb, timed, trace_stats__quantile(t, 0.50), SUM_DURATION);
	trace_cell__duration(sb, timed, trace_stats__quantile(t, 0.95), SUM_DURATION);
	trace_cell__duration(sb, timed, trace_stats__quantile(t, 0.99), SUM_DURATION);
	if (wide) {
		trace_cell__duration(sb, timed, t->max_ns, SUM_DURATION);
		trace_cell__usage(sb, stats_usage(t), v->measured, SUM_DURATION);
	} else {
		trace_cell__bytes(sb, measured & TRACE_MEASURE_MEMORY, u->peak_rss_bytes,
				  SUM_BYTES);
		trace_cell__bytes(sb, measured & TRACE_MEASURE_NET,
				  sat_add(u->net_tx_bytes, u->net_rx_bytes), SUM_BYTES);
		trace_cell__bytes(sb, measured & TRACE_MEASURE_DISK,
				  sat_add(u->disk_read_bytes, u->disk_write_bytes), SUM_BYTES);
	}
	trace_format__end_line(sb, start);
}

/* Where the time went: mean per execution of each component, one line per tool. */
static void summary_split_table(struct strbuf *sb, const struct ranked *r, size_t n, bool wide)
{
	static const char *const titles[] = {"CPU", "RUNQ", "BLKIO", "OTHER"};
	size_t start = sb->len, shown = 0;

	for (size_t i = 0; i < n; i++)
		shown += r[i].t->split_count > 0;
	if (!shown)
		return;
	strbuf__puts(sb, "\nwhere the time went (mean per execution):\n");
	trace_cell__left(sb, "TOOL", wide ? SUM_TOOL_WIDE : SUM_TOOL);
	for (size_t k = 0; k < 4; k++)
		trace_cell__right(sb, titles[k], SUM_DURATION);
	trace_format__end_line(sb, start);
	for (size_t i = 0; i < n; i++) {
		const struct trace_tool_stats *t = r[i].t;
		uint64_t c = t->split_count;

		if (!c)
			continue;
		start = sb->len;
		trace_cell__name(sb, r[i].name, wide ? SUM_TOOL_WIDE : SUM_TOOL, wide);
		trace_cell__duration(sb, true, t->split_cpu_ns / c, SUM_DURATION);
		trace_cell__duration(sb, true, t->split_runq_ns / c, SUM_DURATION);
		trace_cell__duration(sb, !t->split_blkio_missing, t->split_blkio_ns / c,
				     SUM_DURATION);
		trace_cell__duration(sb, true, t->split_other_ns / c, SUM_DURATION);
		trace_format__end_line(sb, start);
	}
}

void trace_summary__text(const struct trace_summary *s, struct strbuf *sb,
			 const struct trace_summary_view *v)
{
	char when[16], period[16];
	struct ranked *r;
	size_t n, drawn = 0;

	trace_format__local_time(when, sizeof(when), v->wall_ns, v->utc_offset_s);
	trace_format__duration(period, sizeof(period), v->period_ns);
	r = rank_tools(s, &n);
	strbuf__appendf(sb,
			"%s summary of %s: %" PRIu64 " executions, %" PRIu64 " failed, %zu %s\n",
			when, period, s->count, s->failures, n, n == 1 ? "tool" : "tools");
	if (!n) {
		strbuf__puts(sb, "no executions\n");
		free(r);
		return;
	}
	for (size_t i = 0; i < n && drawn < TRACE_SUMMARY_HISTS; i++) {
		if (!r[i].t->timed)
			continue;
		strbuf__puts(sb, "\ntool = ");
		trace_format__text(sb, r[i].name, strlen(r[i].name), false, false, SIZE_MAX);
		strbuf__putc(sb, '\n');
		trace_log2__print(sb, r[i].t->log2_us, HIST_LOG2_SLOTS, "usecs");
		drawn++;
	}
	if (drawn == TRACE_SUMMARY_HISTS && n > drawn)
		strbuf__appendf(sb, "\n(histograms of the %u busiest tools of %zu)\n",
				TRACE_SUMMARY_HISTS, n);
	strbuf__putc(sb, '\n');
	summary_table_header(sb, v->wide);
	for (size_t i = 0; i < n; i++)
		summary_table_row(sb, &r[i], v);
	summary_split_table(sb, r, n, v->wide);
	free(r);
}

void trace_summary__json(const struct trace_summary *s, struct strbuf *sb,
			 const struct trace_summary_view *v)
{
	struct ranked *r;
	size_t n;

	r = rank_tools(s, &n);
	for (size_t i = 0; i < n; i++) {
		const struct trace_tool_stats *t = r[i].t;
		struct json_object w, inner;
		bool timed = t->timed;
		int last = -1;

		json_object__begin(&w, sb);
		trace_format__json_time(&w, "time", true, v->wall_ns);
		json_object__string(&w, "event", "summary");
		json_object__u64(&w, "period_ns", v->period_ns);
		json_object__string(&w, "tool", r[i].name);
		json_object__u64(&w, "count", t->count);
		json_object__u64(&w, "failures", t->failures);
		json_object__key(&w, "failures_by_type");
		json_object__begin(&inner, sb);
		for (int e = 0; e < ERROR_TYPE_MAX; e++)
			json_object__u64(&inner, error_type__name(e), t->failures_by_type[e]);
		json_object__end(&inner);
		json_object__u64_or_null(&w, "duration_p50_ns", timed,
					 trace_stats__quantile(t, 0.50));
		json_object__u64_or_null(&w, "duration_p95_ns", timed,
					 trace_stats__quantile(t, 0.95));
		json_object__u64_or_null(&w, "duration_p99_ns", timed,
					 trace_stats__quantile(t, 0.99));
		json_object__u64_or_null(&w, "duration_max_ns", timed, t->max_ns);
		json_object__key(&w, "duration_log2_us");
		for (int k = 0; k < HIST_LOG2_SLOTS; k++)
			if (t->log2_us[k])
				last = k;
		strbuf__putc(sb, '[');
		for (int k = 0; k <= last; k++)
			strbuf__appendf(sb, "%s%" PRIu64, k ? "," : "", t->log2_us[k]);
		strbuf__putc(sb, ']');
		trace_format__json_usage(&w, stats_usage(t), v->measured, "max_peak_rss_bytes",
					 false);
		json_object__u64(&w, "split_executions", t->split_count);
		json_object__u64_or_null(&w, "runq_wait_ns", t->split_count, t->split_runq_ns);
		json_object__u64_or_null(&w, "blkio_wait_ns",
					 t->split_count && !t->split_blkio_missing,
					 t->split_blkio_ns);
		json_object__u64_or_null(&w, "other_ns", t->split_count, t->split_other_ns);
		json_object__end(&w);
		strbuf__putc(sb, '\n');
	}
	free(r);
}
