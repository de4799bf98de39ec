// SPDX-License-Identifier: GPL-2.0
/*
 * Baselines and anomaly flags. The approach (decayed histograms and decayed reservoir
 * samples, trust gates, hysteresis, poisoning guard, seasonality) is described in
 * anomaly.h; this file adds the why of the less obvious choices. The statistics are in
 * stats.c, the tool table in anomaly_tools.c, the save format in baseline_codec.c, a
 * window's verdicts and cause in anomaly_judge.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/anomaly_internal.h"

#define NS_PER_S    1000000000ULL
#define CHANGES_MAX 4096

static const int kind_group[ANOMALY_KIND_MAX] = {
    [ANOMALY_LATENCY_DEGRADATION] = GROUP_DURATION,
    [ANOMALY_STATISTICAL_OUTLIER] = GROUP_DURATION,
    [ANOMALY_FAILURE_RATE] = GROUP_NONE,
    [ANOMALY_CPU_SPIKE] = GROUP_CPU,
    [ANOMALY_MEMORY_SPIKE] = GROUP_MEMORY,
    [ANOMALY_NEW_TOOL] = GROUP_NONE,
};

void anomaly_config__init(struct anomaly_config *cfg)
{
	*cfg = (struct anomaly_config){
	    .window_ns = 60 * NS_PER_S,
	    .baseline_ns = 7 * 24 * 3600 * NS_PER_S,
	    .seasonal = false,
	    .min_windows = 60,
	    .min_samples = 100,
	    .raise_after = 2,
	    .outlier_raise_after = 3,
	    .clear_after = 3,
	    .latency_ratio = 1.5,
	    .outlier_sigmas = 3.0,
	    .outlier_min_sigma = 0.02,
	    .tail_alpha = 0.001,
	    .failure_rate = 0.05,
	    .failure_min_executions = 20,
	    .failure_alpha = 0.05,
	    .cpu_ratio = 1.3,
	    .cpu_min_excess_s = 0.005,
	    .host_cpu_ratio = 1.3,
	    .host_cpu_min_utilisation = 0.5,
	    .memory_ratio = 1.5,
	    .new_tool_learning_ns = 24 * 3600 * NS_PER_S,
	    .new_tool_hold_ns = 3600 * NS_PER_S,
	    .relearn_after_ns = 24 * 3600 * NS_PER_S,
	    .max_tools = 2048,
	};
}

/* --- small helpers --- */

static uint64_t div_round_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

static double clamp_value(double x)
{
	if (!(x > 0)) /* also NaN */
		return 0;
	return x > VALUE_MAX ? VALUE_MAX : x;
}

static uint32_t sat_inc32(uint32_t v)
{
	return v == UINT32_MAX ? v : v + 1;
}

static uint64_t sat_add64(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* A count held in a double (a sum of bucket counts), saturated into a uint64_t. */
static uint64_t count_of(double x)
{
	if (!(x > 0))
		return 0;
	return x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x;
}

/* --- baselines --- */

static void baseline_reset_group(struct baseline *b, int g)
{
	b->windows[g] = 0;
	b->samples[g] = 0;
	switch (g) {
	case GROUP_DURATION:
		memset(&b->duration, 0, sizeof(b->duration));
		b->mean_duration.n = 0;
		memset(&b->split, 0, sizeof(b->split));
		break;
	case GROUP_CPU:
		b->cpu.n = 0;
		break;
	case GROUP_MEMORY:
		memset(&b->memory, 0, sizeof(b->memory));
		break;
	}
}

/* --- the detector --- */

struct anomaly_detector *anomaly__new(const struct anomaly_config *cfg)
{
	struct anomaly_config defaults;
	struct anomaly_detector *d;
	int err;

	if (!cfg) {
		anomaly_config__init(&defaults);
		cfg = &defaults;
	}
	if (!cfg->window_ns || cfg->baseline_ns < cfg->window_ns || !cfg->raise_after ||
	    !cfg->outlier_raise_after || !cfg->clear_after || !cfg->max_tools ||
	    !(cfg->latency_ratio > 0) || !(cfg->outlier_sigmas > 0) ||
	    !(cfg->outlier_min_sigma >= 0) || !(cfg->outlier_spike_sigmas >= 0) ||
	    !isfinite(cfg->outlier_spike_sigmas) || !(cfg->outlier_log_offset >= 0) ||
	    !isfinite(cfg->outlier_log_offset) || !(cfg->tail_alpha > 0 && cfg->tail_alpha <= 1) ||
	    !(cfg->failure_alpha > 0 && cfg->failure_alpha <= 1) || !(cfg->failure_rate >= 0) ||
	    !(cfg->cpu_ratio > 0) || !(cfg->cpu_min_excess_s >= 0) || !(cfg->host_cpu_ratio > 0) ||
	    !(cfg->host_cpu_min_utilisation >= 0) || !(cfg->memory_ratio > 0) ||
	    !isfinite(cfg->latency_ratio) || !isfinite(cfg->outlier_sigmas) ||
	    !isfinite(cfg->outlier_min_sigma) || !isfinite(cfg->failure_rate) ||
	    !isfinite(cfg->cpu_ratio) || !isfinite(cfg->cpu_min_excess_s) ||
	    !isfinite(cfg->host_cpu_ratio) || !isfinite(cfg->host_cpu_min_utilisation) ||
	    !isfinite(cfg->memory_ratio)) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	d->cfg = *cfg;
	d->span_windows = (double)cfg->baseline_ns / (double)cfg->window_ns;
	d->learning_windows = div_round_up(cfg->new_tool_learning_ns, cfg->window_ns);
	d->hold_windows = div_round_up(cfg->new_tool_hold_ns, cfg->window_ns);
	d->relearn_windows = div_round_up(cfg->relearn_after_ns, cfg->window_ns);
	d->keep_firing_windows = div_round_up(cfg->keep_firing_ns, cfg->window_ns);
	d->rng = 0x746f6f6c77617463ULL; /* fixed seed: reproducible runs */
	err = anomaly_tool__init(&d->host, cfg->seasonal);
	if (err) {
		free(d);
		errno = -err;
		return NULL;
	}
	return d;
}

static void changes_clear(struct anomaly_detector *d)
{
	for (size_t i = 0; i < d->nr_changes; i++)
		free(d->changes[i].tool);
	d->nr_changes = 0;
}

void anomaly__free(struct anomaly_detector *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr_tools; i++) {
		anomaly_tool__free(d->tools[i]);
		free(d->tools[i]);
	}
	free(d->tools);
	anomaly_tool__free(&d->host);
	changes_clear(d);
	free(d->changes);
	free(d);
}

void anomaly__adopt(struct anomaly_detector *d, struct anomaly_detector *fresh)
{
	struct anomaly_detector old;

	while (fresh->nr_tools > fresh->cfg.max_tools)
		anomaly_tools__evict_one(fresh);
	old = *d;
	*d = *fresh;
	d->changes = old.changes;
	d->nr_changes = old.nr_changes;
	d->changes_dropped = old.changes_dropped;
	old.changes = NULL;
	old.nr_changes = 0;
	*fresh = old;
	anomaly__free(fresh);
}

size_t anomaly__nr_tools(const struct anomaly_detector *d)
{
	return d->nr_tools;
}

uint64_t anomaly__age_windows(const struct anomaly_detector *d)
{
	return d->age;
}

static void advance_age(struct anomaly_detector *d, int64_t window_end_unix_s)
{
	if (d->have_window_end && d->last_window_end == window_end_unix_s)
		return;
	d->age = sat_add64(d->age, 1);
	d->last_window_end = window_end_unix_s;
	d->have_window_end = true;
}

/* Hour of day (UTC) of the window's last second. */
static int hour_of(int64_t window_end_unix_s)
{
	int64_t s = window_end_unix_s - 1;
	int64_t day_s = s % 86400;

	if (day_s < 0)
		day_s += 86400;
	return (int)(day_s / 3600);
}

static void record_change(struct anomaly_detector *d, const struct tool *t, enum anomaly_kind kind)
{
	const struct flag *f = &t->flags[kind];
	struct change *c;

	if (d->nr_changes >= CHANGES_MAX)
		goto drop;
	if (!d->changes) {
		d->changes = malloc(CHANGES_MAX * sizeof(*d->changes));
		if (!d->changes)
			goto drop;
	}
	c = &d->changes[d->nr_changes];
	*c = (struct change){.kind = kind,
			     .active = f->active,
			     .ratio = f->ratio,
			     .raised_total = f->raised_total,
			     .cause = f->cause};
	if (t->name) {
		c->tool = strdup(t->name);
		if (!c->tool)
			goto drop;
	}
	d->nr_changes++;
	return;
drop:
	d->changes_dropped = sat_add64(d->changes_dropped, 1);
}

static void flag_raise(struct anomaly_detector *d, struct tool *t, enum anomaly_kind kind)
{
	struct flag *f = &t->flags[kind];

	f->active = true;
	f->held = false;
	f->bad_streak = f->good_streak = 0;
	f->raised_total = sat_add64(f->raised_total, 1);
	f->raised_at_age = d->age;
	record_change(d, t, kind);
}

static void flag_clear(struct anomaly_detector *d, struct tool *t, enum anomaly_kind kind)
{
	struct flag *f = &t->flags[kind];

	f->active = false;
	f->held = false;
	f->bad_streak = f->good_streak = 0;
	record_change(d, t, kind);
	f->cause = ANOMALY_CAUSE_NONE;
}

static uint32_t raise_after_of(const struct anomaly_detector *d, enum anomaly_kind kind)
{
	return kind == ANOMALY_STATISTICAL_OUTLIER ? d->cfg.outlier_raise_after
						   : d->cfg.raise_after;
}

/*
 * Hysteresis: raise after raise_after anomalous windows in a row (outlier_raise_after for
 * STATISTICAL_OUTLIER), clear after clear_after clean ones. A flag kept raised by
 * keep_firing_windows after that is held: its anomaly is over, and a new run that would
 * raise a clear flag starts a new anomaly under the same raise.
 */
static void flag_update(struct anomaly_detector *d, struct tool *t, enum anomaly_kind kind,
			enum verdict v, double ratio)
{
	struct flag *f = &t->flags[kind];

	if (v != VERDICT_NONE)
		f->ratio = ratio;
	if (!f->active) {
		f->good_streak = 0;
		if (v == VERDICT_CLEAN)
			f->bad_streak = 0;
		else if (v == VERDICT_ANOMALOUS) {
			f->bad_streak = sat_inc32(f->bad_streak);
			if (f->bad_streak >= raise_after_of(d, kind))
				flag_raise(d, t, kind);
		}
		return;
	}
	if (v == VERDICT_ANOMALOUS) {
		f->good_streak = 0;
		if (f->held) {
			f->bad_streak = sat_inc32(f->bad_streak);
			if (f->bad_streak >= raise_after_of(d, kind))
				f->held = false;
		}
		return;
	}
	if (v == VERDICT_CLEAN)
		f->bad_streak = 0;
	f->good_streak = sat_inc32(f->good_streak);
	if (f->good_streak < d->cfg.clear_after)
		return;
	if (d->age - f->raised_at_age >= d->keep_firing_windows) {
		flag_clear(d, t, kind);
	} else if (!f->held) {
		f->held = true;
		f->bad_streak = 0;
	}
}

/*
 * A flag raised for relearn_windows while its windows stay anomalous means the anomaly is
 * the new normal: its group's baselines start learning again (the flag clears through
 * unevaluated windows), the global one trusted again after relearn_min_windows when that is
 * set (its windows counter restarts at min_windows - relearn_min_windows). A flag whose
 * windows are clean again (held by keep_firing_windows) has nothing new to learn:
 * restarting it would keep it held and its baselines untrusted for as long as it lasts.
 * The time counts from the raise: an anomaly coming back under a held flag that old
 * restarts them at once (measured on NAB: a clock of its own re-raised the same shift).
 */
static void maybe_relearn(struct anomaly_detector *d, struct tool *t)
{
	if (!d->relearn_windows)
		return;
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		struct flag *f = &t->flags[k];
		int g = kind_group[k];

		if (g == GROUP_NONE || !f->active || f->held ||
		    d->age - f->raised_at_age < d->relearn_windows)
			continue;
		baseline_reset_group(&t->global, g);
		/* the global baseline is trusted again after relearn_min_windows */
		if (d->cfg.relearn_min_windows && d->cfg.relearn_min_windows < d->cfg.min_windows)
			t->global.windows[g] = d->cfg.min_windows - d->cfg.relearn_min_windows;
		for (int h = 0; t->hours && h < HOURS; h++)
			baseline_reset_group(&t->hours[h], g);
		for (int j = 0; j < ANOMALY_KIND_MAX; j++)
			if (kind_group[j] == g && t->flags[j].active)
				t->flags[j].raised_at_age = d->age;
	}
}

/*
 * Whether a window must stay out of group g's trusted baselines: while a flag judged from
 * them is raised. Not for every anomalous window: leaving out single tail windows would
 * trim the tail the baseline has learned, which makes more windows anomalous, which trims
 * it further (measured: sparse tools then fired on their ordinary p99 within 1,000
 * windows). The first anomalous window of a run that raises is learned; it is one of the
 * ~10,000 of a span.
 */
static bool group_disturbed(const struct tool *t, int g, const enum verdict *v)
{
	for (int k = 0; k < ANOMALY_KIND_MAX; k++)
		if (kind_group[k] == g && t->flags[k].active && !t->flags[k].held &&
		    (!v || v[k] != VERDICT_CLEAN))
			return true;
	return false;
}

/* Adds a window's components to decayed sums (weight e^-(age gap / span) on the old). */
static void split_add(struct split_sums *sp, const struct window_stats *ws, uint64_t age,
		      double span)
{
	double keep = age > sp->last_age ? exp(-(double)(age - sp->last_age) / span) : 1;

	sp->executions = clamp_value(sp->executions * keep + ws->split_executions);
	for (int c = 0; c < ANOMALY_SPLIT_MAX; c++)
		sp->seconds[c] = clamp_value(sp->seconds[c] * keep + ws->split_seconds[c]);
	sp->last_age = age;
}

static void learn(struct anomaly_detector *d, struct tool *t, int hour,
		  const struct window_stats *ws, const enum verdict *v)
{
	struct baseline *slots[2] = {&t->global, t->hours ? &t->hours[hour] : NULL};
	bool host = !t->name;
	double span = d->span_windows;

	for (int g = 0; g < GROUP_MAX; g++) {
		bool disturbed = group_disturbed(t, g, v);

		for (int i = 0; i < 2; i++) {
			struct baseline *b = slots[i];

			if (!b || (disturbed && (i ? anomaly_baseline__hour_trusted(d, b, g, host)
						   : anomaly_baseline__trusted(d, b, g, host))))
				continue;
			switch (g) {
			case GROUP_DURATION:
				if (host || !(ws->nr_durations > 0))
					continue;
				dhist__add(&b->duration, ws->duration_w, d->age, span);
				reservoir__add(&b->mean_duration, ws->log_mean_duration, d->age,
					       span, &d->rng);
				if (ws->split_executions > 0)
					split_add(&b->split, ws, d->age, span);
				b->samples[g] =
				    sat_add64(b->samples[g], count_of(ws->nr_durations));
				break;
			case GROUP_CPU:
				if (!ws->executions)
					continue;
				reservoir__add(&b->cpu, ws->cpu_per_execution, d->age, span,
					       &d->rng);
				b->samples[g] = sat_add64(b->samples[g], ws->executions);
				break;
			case GROUP_MEMORY:
				if (host || !(ws->nr_memory > 0))
					continue;
				dhist__add(&b->memory, ws->memory_w, d->age, span);
				b->samples[g] = sat_add64(b->samples[g], count_of(ws->nr_memory));
				break;
			}
			b->windows[g] = sat_add64(b->windows[g], 1);
		}
	}
}

int anomaly__observe_tool(struct anomaly_detector *d, const char *tool,
			  const struct anomaly_tool_window *w, int64_t window_end_unix_s)
{
	enum verdict v[ANOMALY_KIND_MAX] = {0};
	double ratio[ANOMALY_KIND_MAX] = {0};
	enum anomaly_cause cause;
	struct window_stats ws;
	struct tool *t, *fresh = NULL;
	bool spike = false;
	size_t len, idx;
	bool found;
	int hour;

	if (!d || !tool || !w || !*tool || w->failures > w->executions ||
	    !isfinite(w->cpu_seconds) || w->cpu_seconds < 0)
		return -EINVAL;
	for (int c = 0; c < ANOMALY_SPLIT_MAX; c++)
		if (!isfinite(w->split_seconds[c]) || w->split_seconds[c] < 0)
			return -EINVAL;
	len = strnlen(tool, ANOMALY_TOOL_NAME_MAX);
	if (len >= ANOMALY_TOOL_NAME_MAX)
		return -ENAMETOOLONG;

	idx = anomaly_tools__index(d, tool, &found);
	if (found) {
		t = d->tools[idx];
	} else {
		if (anomaly_tools__reserve(d, d->nr_tools + 1))
			return -ENOMEM;
		fresh = anomaly_tool__new(tool, d->cfg.seasonal);
		if (!fresh)
			return -ENOMEM;
		t = fresh;
	}
	advance_age(d, window_end_unix_s);
	hour = hour_of(window_end_unix_s);

	if (fresh) {
		anomaly_tools__insert(d, fresh);
		if (d->hold_windows && d->age > d->learning_windows &&
		    !anomaly_tools__forgotten(d, tool))
			flag_raise(d, t, ANOMALY_NEW_TOOL);
	} else if (t->flags[ANOMALY_NEW_TOOL].active &&
		   d->age - t->flags[ANOMALY_NEW_TOOL].raised_at_age >= d->hold_windows) {
		flag_clear(d, t, ANOMALY_NEW_TOOL);
	}
	if (w->executions)
		t->last_active_age = d->age;

	memset(&ws, 0, sizeof(ws));
	ws.nr_durations = stats_hist_weights(&w->duration, &hist_duration_layout, ws.duration_w);
	if (ws.nr_durations > 0)
		ws.mean_duration_ns = clamp_value((double)w->duration.sum / ws.nr_durations);
	ws.log_mean_duration = log(fmax(ws.mean_duration_ns, 1));
	ws.executions = w->executions;
	if (w->executions)
		ws.cpu_per_execution = clamp_value(w->cpu_seconds / (double)w->executions);
	ws.nr_memory = stats_hist_weights(&w->peak_memory, &hist_memory_layout, ws.memory_w);
	ws.split_executions = (double)w->split_executions;
	for (int c = 0; c < ANOMALY_SPLIT_MAX; c++)
		ws.split_seconds[c] = clamp_value(w->split_seconds[c]);

	anomaly_judge__tool(d, t, hour, w, &ws, v, ratio, &spike);
	/* a spike is evidence enough on its own: the run it needs is complete */
	if (spike &&
	    (!t->flags[ANOMALY_STATISTICAL_OUTLIER].active ||
	     t->flags[ANOMALY_STATISTICAL_OUTLIER].held) &&
	    d->cfg.outlier_raise_after > 1)
		t->flags[ANOMALY_STATISTICAL_OUTLIER].bad_streak = d->cfg.outlier_raise_after - 1;
	cause = anomaly_judge__cause(anomaly_judge__baseline(d, t, GROUP_DURATION, hour), &ws);
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		if (k == ANOMALY_NEW_TOOL)
			continue;
		/* the latest anomalous window names the cause, at the raise and after */
		if (kind_group[k] == GROUP_DURATION && v[k] == VERDICT_ANOMALOUS &&
		    cause != ANOMALY_CAUSE_NONE)
			t->flags[k].cause = cause;
		flag_update(d, t, k, v[k], ratio[k]);
	}
	learn(d, t, hour, &ws, v);
	if (!t->learned && anomaly_baseline__trusted(d, &t->global, GROUP_DURATION, false))
		t->learned = true;
	maybe_relearn(d, t);
	return 0;
}

int anomaly__observe_host(struct anomaly_detector *d, const struct anomaly_host_window *w,
			  int64_t window_end_unix_s)
{
	enum verdict v[ANOMALY_KIND_MAX] = {0};
	double ratio[ANOMALY_KIND_MAX] = {0};
	const struct anomaly_config *cfg;
	const struct baseline *b;
	struct window_stats ws;
	struct tool *t;
	int hour;

	if (!d || !w || !isfinite(w->cpu_utilisation) || w->cpu_utilisation < 0)
		return -EINVAL;
	cfg = &d->cfg;
	t = &d->host;
	advance_age(d, window_end_unix_s);
	hour = hour_of(window_end_unix_s);

	memset(&ws, 0, sizeof(ws));
	ws.cpu_per_execution = w->cpu_utilisation > 1 ? 1 : w->cpu_utilisation;
	ws.executions = 1;
	b = anomaly_judge__baseline(d, t, GROUP_CPU, hour);
	if (b && b->cpu.n) {
		double cur = ws.cpu_per_execution, p90 = reservoir__quantile(&b->cpu, 0.9);

		ratio[ANOMALY_CPU_SPIKE] = anomaly_judge__ratio(cur, p90);
		v[ANOMALY_CPU_SPIKE] = anomaly_judge__above(cur > cfg->host_cpu_ratio * p90 &&
							    cur >= cfg->host_cpu_min_utilisation);
	}
	flag_update(d, t, ANOMALY_CPU_SPIKE, v[ANOMALY_CPU_SPIKE], ratio[ANOMALY_CPU_SPIKE]);
	t->last_active_age = d->age;
	learn(d, t, hour, &ws, v);
	maybe_relearn(d, t);
	return 0;
}

/* --- exposition --- */

static bool kind_reported(const struct anomaly_detector *d, const struct tool *t, int k)
{
	const struct flag *f = &t->flags[k];
	bool host = !t->name;
	int g = kind_group[k];

	if (f->active || f->raised_total)
		return true;
	if (host)
		return k == ANOMALY_CPU_SPIKE &&
		       anomaly_baseline__trusted(d, &t->global, GROUP_CPU, true);
	if (k == ANOMALY_FAILURE_RATE)
		return t->learned;
	if (g == GROUP_NONE)
		return false;
	return anomaly_baseline__trusted(d, &t->global, g, false);
}

static int report_tool(const struct anomaly_detector *d, const struct tool *t,
		       int (*fn)(const struct anomaly_state *s, void *ctx), void *ctx)
{
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		const struct flag *f = &t->flags[k];
		struct anomaly_state s = {
		    .tool = t->name,
		    .kind = k,
		    .active = f->active,
		    .deviation_ratio = k == ANOMALY_NEW_TOOL ? 0 : f->ratio,
		    .raised_total = f->raised_total,
		    .cause = f->active ? f->cause : ANOMALY_CAUSE_NONE,
		};
		int ret;

		if (!kind_reported(d, t, k))
			continue;
		ret = fn(&s, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

void anomaly__for_each(const struct anomaly_detector *d,
		       int (*fn)(const struct anomaly_state *s, void *ctx), void *ctx)
{
	if (report_tool(d, &d->host, fn, ctx))
		return;
	for (size_t i = 0; i < d->nr_tools; i++)
		if (report_tool(d, d->tools[i], fn, ctx))
			return;
}

uint64_t anomaly__for_each_change(struct anomaly_detector *d,
				  int (*fn)(const struct anomaly_state *s, void *ctx), void *ctx)
{
	uint64_t dropped = d->changes_dropped;

	for (size_t i = 0; i < d->nr_changes; i++) {
		const struct change *c = &d->changes[i];
		struct anomaly_state s = {
		    .tool = c->tool,
		    .kind = c->kind,
		    .active = c->active,
		    .deviation_ratio = c->kind == ANOMALY_NEW_TOOL ? 0 : c->ratio,
		    .raised_total = c->raised_total,
		    .cause = c->cause,
		};

		if (fn(&s, ctx))
			break;
	}
	changes_clear(d);
	d->changes_dropped = 0;
	return dropped;
}
