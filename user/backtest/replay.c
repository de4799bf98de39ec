// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/replay.h"

#define NS_PER_S 1000000000ULL

void replay__fini(struct replay *r)
{
	if (!r)
		return;
	free(r->events);
	r->events = NULL;
	r->nr_events = r->cap_events = 0;
}

struct collect {
	struct replay *r;
	uint64_t window;
	size_t row;
	int64_t end;
	int err;
};

static int on_change(const struct anomaly_state *s, void *ctx)
{
	struct collect *c = ctx;
	struct replay *r = c->r;

	if (r->nr_events == r->cap_events) {
		size_t cap = r->cap_events ? r->cap_events * 2 : 64;
		struct replay_event *ev = realloc(r->events, cap * sizeof(*ev));

		if (!ev) {
			c->err = -ENOMEM;
			return 1;
		}
		r->events = ev;
		r->cap_events = cap;
	}
	r->events[r->nr_events++] = (struct replay_event){
	    .window = c->window,
	    .row = c->row,
	    .end_unix_s = c->end,
	    .kind = s->kind,
	    .active = s->active,
	    .ratio = s->deviation_ratio,
	    .cause = s->cause,
	};
	return 0;
}

static void add_row(struct anomaly_tool_window *w, const struct history_row *row)
{
	w->executions += row->executions;
	w->failures += row->failures;
	w->cpu_seconds += row->cpu_seconds;
	hist__merge(&w->duration, &row->duration);
	hist__merge(&w->peak_memory, &row->peak_memory);
}

int replay__run(struct replay *r, const struct anomaly_config *cfg, const char *tool,
		const struct history *h)
{
	struct anomaly_detector *d;
	struct collect c = {.r = r};
	int64_t window_s, t0, step;
	size_t i = 0;
	int err = 0;

	if (!h->nr || !cfg || !cfg->window_ns || cfg->window_ns % NS_PER_S)
		return -EINVAL;
	window_s = (int64_t)(cfg->window_ns / NS_PER_S);
	step = history__step_s(h);
	if (step && window_s < step)
		return -ERANGE;
	if ((uint64_t)(h->rows[h->nr - 1].time_unix_s - h->rows[0].time_unix_s) /
		(uint64_t)window_s >=
	    REPLAY_WINDOWS_MAX)
		return -E2BIG;
	d = anomaly__new(cfg);
	if (!d)
		return -errno;
	t0 = h->rows[0].time_unix_s;
	r->first_end_unix_s = t0;
	for (uint64_t k = 0; i < h->nr; k++) {
		int64_t end = t0 + (int64_t)k * window_s;
		struct anomaly_tool_window w;
		bool any = false;

		memset(&w, 0, sizeof(w));
		while (i < h->nr && h->rows[i].time_unix_s <= end) {
			add_row(&w, &h->rows[i++]);
			any = true;
		}
		if (w.failures > w.executions) /* sums saturate nowhere near; kept consistent */
			w.failures = w.executions;
		err = anomaly__observe_tool(d, tool, &w, end);
		if (err)
			break;
		r->windows++;
		if (!any)
			r->empty_windows++;
		c.window = k;
		c.row = i - 1;
		c.end = end;
		anomaly__for_each_change(d, on_change, &c);
		if (c.err) {
			err = c.err;
			break;
		}
	}
	anomaly__free(d);
	return err;
}
