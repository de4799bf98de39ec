// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "naming/tools.h"
#include "anomaly/windows.h"

/* What a tool's counters read at the previous window close. */
struct mark {
	uint32_t generation; /* the registry's for the id: a reused id starts from zero */
	uint64_t executions;
	uint64_t failures;
	uint64_t cpu_ns_ended;
	uint64_t observed_executions;
	uint64_t observed_duration_ns;
	uint64_t observed_cpu_ns;
	uint64_t observed_wait_ns[WAIT_REASONS];
	struct hist duration;
	struct hist peak_memory;
};

struct windows {
	struct mark *marks; /* by tool id */
	size_t nr_marks;
};

struct windows *windows__new(void)
{
	return calloc(1, sizeof(struct windows));
}

void windows__free(struct windows *w)
{
	if (!w)
		return;
	free(w->marks);
	free(w);
}

static uint64_t failures_of(const struct tool_stats *s)
{
	uint64_t n = 0;

	for (int t = 0; t < ERROR_TYPE_MAX; t++)
		n += s->failures[t];
	return n;
}

static void mark_take(struct mark *m, const struct tool_stats *s)
{
	m->executions = s->executions;
	m->failures = failures_of(s);
	m->cpu_ns_ended = s->cpu_ns_ended;
	m->observed_executions = s->observed_executions;
	m->observed_duration_ns = s->observed_duration_ns;
	m->observed_cpu_ns = s->observed_cpu_ns;
	memcpy(m->observed_wait_ns, s->observed_wait_ns, sizeof(m->observed_wait_ns));
	m->duration = s->duration;
	m->peak_memory = s->peak_memory;
}

/*
 * Where the time of the window's fully observed executions went: CPU, run-queue and block
 * I/O wait, and the rest of their summed durations (clamped at 0).
 */
static void window_split(struct anomaly_tool_window *win, const struct tool_stats *s,
			 const struct mark *m)
{
	double dur = (double)(s->observed_duration_ns - m->observed_duration_ns) / 1e9, rest;
	double *sp = win->split_seconds;

	win->split_executions = s->observed_executions - m->observed_executions;
	sp[ANOMALY_SPLIT_CPU] = (double)(s->observed_cpu_ns - m->observed_cpu_ns) / 1e9;
	sp[ANOMALY_SPLIT_RUNQUEUE] =
	    (double)(s->observed_wait_ns[WAIT_RUNQUEUE] - m->observed_wait_ns[WAIT_RUNQUEUE]) / 1e9;
	sp[ANOMALY_SPLIT_BLKIO] =
	    (double)(s->observed_wait_ns[WAIT_BLKIO] - m->observed_wait_ns[WAIT_BLKIO]) / 1e9;
	rest = dur - sp[ANOMALY_SPLIT_CPU] - sp[ANOMALY_SPLIT_RUNQUEUE] - sp[ANOMALY_SPLIT_BLKIO];
	sp[ANOMALY_SPLIT_OTHER] = rest > 0 ? rest : 0;
}

int windows__close(struct windows *w, const struct registry *r, struct anomaly_detector *d,
		   double host_cpu, int64_t now_unix_s)
{
	const struct tool_table *tools = registry__tools(r);
	unsigned int nr = tool_table__count(tools);
	int observed = 0;

	if (nr > w->nr_marks) {
		struct mark *m = realloc(w->marks, nr * sizeof(*m));

		if (!m)
			return -ENOMEM;
		/* a tool first seen in this window starts from zero */
		memset(m + w->nr_marks, 0, (nr - w->nr_marks) * sizeof(*m));
		w->marks = m;
		w->nr_marks = nr;
	}
	for (unsigned int id = 1; id < nr; id++) {
		const struct tool_stats *s = registry__stats((struct registry *)r, id);
		struct anomaly_tool_window win = {};
		struct mark *m = &w->marks[id];

		if (!s || !tool_table__name(tools, id))
			continue;
		if (m->generation != registry__generation(r, id)) {
			memset(m, 0, sizeof(*m));
			m->generation = registry__generation(r, id);
		}
		win.executions = s->executions - m->executions;
		win.failures = failures_of(s) - m->failures;
		if (win.failures > win.executions)
			win.failures = win.executions;
		win.cpu_seconds = (double)(s->cpu_ns_ended - m->cpu_ns_ended) / 1e9;
		hist__delta(&win.duration, &s->duration, &m->duration);
		hist__delta(&win.peak_memory, &s->peak_memory, &m->peak_memory);
		window_split(&win, s, m);
		mark_take(m, s);
		if (!anomaly__observe_tool(d, tool_table__name(tools, id), &win, now_unix_s))
			observed++;
	}
	if (host_cpu >= 0) {
		struct anomaly_host_window hw = {.cpu_utilisation = host_cpu > 1 ? 1 : host_cpu};

		anomaly__observe_host(d, &hw, now_unix_s);
	}
	return observed;
}

struct copy_ctx {
	struct snapshot *s;
	size_t cap;
	int err;
};

static int copy_one(const struct anomaly_state *st, void *ctx)
{
	struct copy_ctx *c = ctx;
	struct snapshot_anomaly *a;

	if (c->s->nr_anomalies == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;

		a = realloc(c->s->anomalies, cap * sizeof(*a));
		if (!a)
			goto nomem;
		c->s->anomalies = a;
		c->cap = cap;
	}
	a = &c->s->anomalies[c->s->nr_anomalies];
	a->tool = NULL;
	if (st->tool && !(a->tool = strdup(st->tool)))
		goto nomem;
	a->kind = st->kind;
	a->active = st->active;
	a->deviation_ratio = st->deviation_ratio;
	a->raised_total = st->raised_total;
	a->cause = st->cause;
	c->s->nr_anomalies++;
	return 0;
nomem:
	c->err = -ENOMEM;
	return 1;
}

int windows__snapshot(const struct anomaly_detector *d, struct snapshot *s)
{
	struct copy_ctx c = {.s = s};

	anomaly__for_each(d, copy_one, &c);
	s->anomaly_enabled = true;
	return c.err;
}
