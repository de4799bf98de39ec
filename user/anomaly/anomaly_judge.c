// SPDX-License-Identifier: GPL-2.0
/*
 * The anomaly detector's judgement of one window: which baseline it is judged against,
 * the verdict of each kind, and the cause of a latency flag (the flags and the learning are
 * in anomaly.c).
 */
#include <math.h>

#include "anomaly/anomaly_internal.h"

#define MAD_TO_SIGMA	     1.4826 /* MAD x this = standard deviation (normal) */
#define OUTLIER_MIN_SIGMA_NS 1000.0 /* sigma of the mean duration is never below ~1 us */
#define OUTLIER_USUAL	     0.01   /* a value beyond 1% of the baseline's windows */

double anomaly_judge__ratio(double current, double baseline)
{
	double r;

	if (!(baseline > 0))
		return current > 0 ? ANOMALY_RATIO_MAX : 1.0;
	r = current / baseline;
	if (!(r >= 0))
		return 0;
	return r > ANOMALY_RATIO_MAX ? ANOMALY_RATIO_MAX : r;
}

/*
 * The p95 rule, made significant: window p95 > ratio x baseline p95, and the window's
 * share of samples above that threshold is improbable (p < alpha) for samples drawn from
 * the baseline. A few executions cannot fire on a heavy tail, a real shift fires on 3.
 */
static enum verdict judge_p95(const double *win, double n, const double *base,
			      const struct hist_layout *layout, double ratio_limit, double alpha,
			      double *ratio)
{
	double cur = stats_weights_quantile(win, layout, 0.95);
	double ref = stats_weights_quantile(base, layout, 0.95);
	double limit = ratio_limit * ref, k, p0;

	*ratio = anomaly_judge__ratio(cur, ref);
	if (!(cur > limit))
		return VERDICT_CLEAN;
	if (alpha >= 1)
		return VERDICT_ANOMALOUS;
	k = n * stats_weights_above(win, layout, limit);
	p0 = stats_weights_above(base, layout, limit);
	return stats_binomial_tail(k, n, p0) < alpha ? VERDICT_ANOMALOUS : VERDICT_CLEAN;
}

bool anomaly_baseline__trusted(const struct anomaly_detector *d, const struct baseline *b, int g,
			       bool host)
{
	if (b->windows[g] < d->cfg.min_windows)
		return false;
	return host || b->samples[g] >= d->cfg.min_samples;
}

/* An hour-of-day baseline: seasonal_min_windows of its own hour, when set. */
bool anomaly_baseline__hour_trusted(const struct anomaly_detector *d, const struct baseline *b,
				    int g, bool host)
{
	uint32_t min =
	    d->cfg.seasonal_min_windows ? d->cfg.seasonal_min_windows : d->cfg.min_windows;

	if (b->windows[g] < min)
		return false;
	return host || b->samples[g] >= d->cfg.min_samples;
}

/* The baseline a window is judged against: its hour's once trusted, else the global one. */
const struct baseline *anomaly_judge__baseline(const struct anomaly_detector *d,
					       const struct tool *t, int g, int hour)
{
	bool host = !t->name;

	if (t->hours && anomaly_baseline__hour_trusted(d, &t->hours[hour], g, host))
		return &t->hours[hour];
	if (anomaly_baseline__trusted(d, &t->global, g, host))
		return &t->global;
	return NULL;
}

/*
 * The component whose mean per execution grew most from the baseline's to the window's.
 * Run-queue wait is a rate of CPU time (wait per CPU second: the saturation the tool
 * meets): the wait the extra CPU would have met at the baseline's rate counts as CPU
 * growth, only what the rate itself added counts as run-queue growth. So a tool that
 * computes more on a busy node is "cpu", one that computes the same behind others is
 * "runqueue".
 */
enum anomaly_cause anomaly_judge__cause(const struct baseline *b, const struct window_stats *ws)
{
	static const enum anomaly_cause causes[ANOMALY_SPLIT_MAX] = {
	    ANOMALY_CAUSE_CPU, ANOMALY_CAUSE_RUNQUEUE, ANOMALY_CAUSE_BLKIO, ANOMALY_CAUSE_OTHER};
	enum anomaly_cause best = ANOMALY_CAUSE_NONE;
	double base[ANOMALY_SPLIT_MAX], cur[ANOMALY_SPLIT_MAX], growth[ANOMALY_SPLIT_MAX];
	double best_growth = -INFINITY, rate_base, rate_cur;

	if (!b || !(b->split.executions > 0) || !(ws->split_executions > 0))
		return ANOMALY_CAUSE_NONE;
	for (int c = 0; c < ANOMALY_SPLIT_MAX; c++) {
		base[c] = b->split.seconds[c] / b->split.executions;
		cur[c] = ws->split_seconds[c] / ws->split_executions;
		growth[c] = cur[c] - base[c];
	}
	rate_base = base[ANOMALY_SPLIT_CPU] > 0
			? base[ANOMALY_SPLIT_RUNQUEUE] / base[ANOMALY_SPLIT_CPU]
			: 0;
	rate_cur = cur[ANOMALY_SPLIT_CPU] > 0 ? cur[ANOMALY_SPLIT_RUNQUEUE] / cur[ANOMALY_SPLIT_CPU]
					      : rate_base;
	growth[ANOMALY_SPLIT_CPU] *= 1 + rate_base;
	growth[ANOMALY_SPLIT_RUNQUEUE] = cur[ANOMALY_SPLIT_CPU] > 0
					     ? cur[ANOMALY_SPLIT_CPU] * (rate_cur - rate_base)
					     : growth[ANOMALY_SPLIT_RUNQUEUE];
	for (int c = 0; c < ANOMALY_SPLIT_MAX; c++) {
		if (growth[c] > best_growth) {
			best_growth = growth[c];
			best = causes[c];
		}
	}
	return best;
}

/*
 * outlier_log_offset's transform of a log value x for a baseline median m (both ln of ns):
 * x itself at or above m, ln(e^x + offset) below it, shifted to meet x at m. Continuous
 * and increasing, so order statistics carry over.
 */
static double below_offset(double x, double m, double offset)
{
	if (x >= m)
		return x;
	return log(exp(x) + offset) - log(exp(m) + offset) + m;
}

enum verdict anomaly_judge__above(bool anomalous)
{
	return anomalous ? VERDICT_ANOMALOUS : VERDICT_CLEAN;
}

void anomaly_judge__tool(const struct anomaly_detector *d, const struct tool *t, int hour,
			 const struct anomaly_tool_window *w, const struct window_stats *ws,
			 enum verdict *v, double *ratio, bool *spike)
{
	const struct anomaly_config *cfg = &d->cfg;
	const struct baseline *b;

	b = anomaly_judge__baseline(d, t, GROUP_DURATION, hour);
	if (b && ws->nr_durations > 0)
		v[ANOMALY_LATENCY_DEGRADATION] = judge_p95(
		    ws->duration_w, ws->nr_durations, b->duration.w, &hist_duration_layout,
		    cfg->latency_ratio, cfg->tail_alpha, &ratio[ANOMALY_LATENCY_DEGRADATION]);
	/*
	 * In log space: durations are skewed to the right, so a band symmetric in ln(mean)
	 * holds its 3-sigma meaning where a linear one would fire on the long tail of sparse
	 * tools' windows. ln of the median is the median of ln.
	 */
	if (b && ws->nr_durations > 0 && b->mean_duration.n) {
		double v_sorted[RESERVOIR_CAP_MAX], median, mad, sigma, cur = ws->log_mean_duration;
		uint32_t n = reservoir__sorted(&b->mean_duration, v_sorted);
		double usual_low, usual_high;

		/*
		 * outlier_log_offset: below the baseline's median, ln(mean + offset) with the
		 * offset a share of that median. A window near 0 is then a bounded distance
		 * below (ln(1 + 1/share)): in plain logarithms a 0 (1 ns) is infinitely far
		 * from every baseline, and a short window of a tool whose baseline is long
		 * is a drop, not a 10-sigma event. Above the median nothing changes.
		 */
		if (cfg->outlier_log_offset > 0) {
			double m = stats_sorted_quantile(v_sorted, n, 0.5);
			double offset = cfg->outlier_log_offset * exp(m);

			for (uint32_t i = 0; i < n; i++)
				v_sorted[i] = below_offset(v_sorted[i], m, offset);
			cur = below_offset(cur, m, offset);
		}
		stats_sorted_median_mad(v_sorted, n, &median, &mad);
		/* zero variance (identical windows) must not make every change infinite */
		sigma = fmax(MAD_TO_SIGMA * mad, log1p(cfg->outlier_min_sigma));
		sigma = fmax(sigma, log1p(OUTLIER_MIN_SIGMA_NS / exp(median)));
		ratio[ANOMALY_STATISTICAL_OUTLIER] =
		    anomaly_judge__ratio(ws->mean_duration_ns, exp(median));
		/*
		 * Beyond the usual range: more than sigma outside what the baseline sees in
		 * 98% of its windows. A tool whose windows are mostly alike (MAD near 0) but
		 * regularly different (a nightly batch, a square wave) has those in its
		 * baseline. Spikes always need it (one window is little evidence); the
		 * 3-window rule with outlier_beyond_range (it costs sensitivity to small
		 * shifts of unimodal tools: +20% then takes ~10 windows, not 3).
		 */
		usual_high = stats_sorted_quantile(v_sorted, n, 1 - OUTLIER_USUAL);
		usual_low = stats_sorted_quantile(v_sorted, n, OUTLIER_USUAL);
		bool beyond = cur > usual_high + sigma || cur < usual_low - sigma;

		v[ANOMALY_STATISTICAL_OUTLIER] =
		    anomaly_judge__above(fabs(cur - median) > cfg->outlier_sigmas * sigma &&
					 (beyond || !cfg->outlier_beyond_range));
		*spike = cfg->outlier_spike_sigmas > 0 && beyond &&
			 v[ANOMALY_STATISTICAL_OUTLIER] == VERDICT_ANOMALOUS &&
			 fabs(cur - median) > cfg->outlier_spike_sigmas * sigma;
	}
	if (t->learned && w->executions && w->executions >= cfg->failure_min_executions) {
		double rate = (double)w->failures / (double)w->executions;

		ratio[ANOMALY_FAILURE_RATE] = anomaly_judge__ratio(rate, cfg->failure_rate);
		/* and improbable at exactly failure_rate: 2 of 20 is not yet evidence, 4 is */
		v[ANOMALY_FAILURE_RATE] = anomaly_judge__above(
		    rate > cfg->failure_rate &&
		    (cfg->failure_alpha >= 1 ||
		     stats_binomial_tail((double)w->failures, (double)w->executions,
					 cfg->failure_rate) < cfg->failure_alpha));
	}
	b = anomaly_judge__baseline(d, t, GROUP_CPU, hour);
	if (b && ws->executions && b->cpu.n) {
		double cur = ws->cpu_per_execution, p90 = reservoir__quantile(&b->cpu, 0.9);

		ratio[ANOMALY_CPU_SPIKE] = anomaly_judge__ratio(cur, p90);
		v[ANOMALY_CPU_SPIKE] = anomaly_judge__above(cur > cfg->cpu_ratio * p90 &&
							    cur - p90 >= cfg->cpu_min_excess_s);
	}
	b = anomaly_judge__baseline(d, t, GROUP_MEMORY, hour);
	if (b && ws->nr_memory > 0)
		v[ANOMALY_MEMORY_SPIKE] =
		    judge_p95(ws->memory_w, ws->nr_memory, b->memory.w, &hist_memory_layout,
			      cfg->memory_ratio, cfg->tail_alpha, &ratio[ANOMALY_MEMORY_SPIKE]);
}
