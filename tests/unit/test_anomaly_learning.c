// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* How baselines learn: seasonality, poisoning, relearning, degenerate input, noise. */
#include "anomaly_sim.h"

static uint64_t run_days(bool seasonal, int days, uint64_t *raised_day0)
{
	struct load night = steady, day = steady;
	struct anomaly_config cfg;
	uint64_t total;
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.window_ns = 300 * 1000000000ULL;
	cfg.min_windows = 6;
	cfg.seasonal = seasonal;
	sim_init(&s, &cfg, 14);
	night.median_ns = 50 * MS;
	night.executions = day.executions = 50;
	for (int i = 0; i < days * 288; i++) {
		int hour = (int)(((s.now + s.step_s - 1) % 86400) / 3600);

		sim_feed(&s, "etl", hour == 3 ? &night : &day, 1);
		if (i == 287)
			*raised_day0 = raised(s.d, "etl", ANOMALY_LATENCY_DEGRADATION);
	}
	total = raised(s.d, "etl", ANOMALY_LATENCY_DEGRADATION);
	assert_all_finite(s.d);
	anomaly__free(s.d);
	return total;
}

static void test_anomaly_seasonal_hour_baselines(void **state)
{
	uint64_t day0, total;

	/* day 0: the 03:00 slot is learning, the global baseline judges: fires once */
	total = run_days(true, 4, &day0);
	assert_int_equal(day0, 1);
	/* from day 1 the 03:00 slot is trusted: the nightly slow hour is normal */
	assert_int_equal(total, 1);

	/* without seasonality the nightly hour fires every day */
	total = run_days(false, 4, &day0);
	assert_int_equal(day0, 1);
	assert_int_equal(total, 4);
}

static void test_anomaly_baseline_not_poisoned(void **state)
{
	struct load slow = steady;
	struct anomaly_config cfg;
	struct sim s;

	/* a short span (100 windows): 200 learned anomalous windows would own the baseline */
	anomaly_config__init(&cfg);
	cfg.baseline_ns = 100 * cfg.window_ns;
	sim_init(&s, &cfg, 15);
	sim_feed(&s, "psql", &steady, 80);
	slow.median_ns = 50 * MS;
	sim_feed(&s, "psql", &slow, 200);
	assert_true(is_active(s.d, "psql", ANOMALY_LATENCY_DEGRADATION));
	assert_true(is_active(s.d, "psql", ANOMALY_STATISTICAL_OUTLIER));
	assert_true(ratio(s.d, "psql", ANOMALY_LATENCY_DEGRADATION) > 3);

	/* back to normal: judged against the old baseline, ratio ~1, clears */
	sim_feed(&s, "psql", &steady, 1);
	assert_float_equal(ratio(s.d, "psql", ANOMALY_LATENCY_DEGRADATION), 1.0, 0.15);
	assert_float_equal(ratio(s.d, "psql", ANOMALY_STATISTICAL_OUTLIER), 1.0, 0.1);
	sim_feed(&s, "psql", &steady, 2);
	assert_false(is_active(s.d, "psql", ANOMALY_LATENCY_DEGRADATION));
	/* (a 3-sigma window now and then may delay the clearing of the outlier flag) */
	assert_true(windows_until(&s, "psql", &steady, ANOMALY_STATISTICAL_OUTLIER, false, 10) <=
		    5);

	/* and the same degradation is still an anomaly */
	sim_feed(&s, "psql", &slow, 2);
	assert_true(is_active(s.d, "psql", ANOMALY_LATENCY_DEGRADATION));
	anomaly__free(s.d);
}

static void test_anomaly_relearn_after_sustained_shift(void **state)
{
	struct load slow = steady;
	struct anomaly_config cfg;
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.min_windows = 20;
	cfg.relearn_after_ns = 30 * cfg.window_ns;
	sim_init(&s, &cfg, 16);
	sim_feed(&s, "deploy", &steady, 40);
	slow.median_ns = 50 * MS;
	sim_feed(&s, "deploy", &slow, 32);
	assert_true(is_active(s.d, "deploy", ANOMALY_LATENCY_DEGRADATION));
	/* the shift became the new normal: the flag clears, the baseline relearns */
	assert_int_equal(windows_until(&s, "deploy", &slow, ANOMALY_LATENCY_DEGRADATION, false, 10),
			 3);
	sim_feed(&s, "deploy", &slow, 100);
	assert_false(is_active(s.d, "deploy", ANOMALY_LATENCY_DEGRADATION));
	assert_int_equal(raised(s.d, "deploy", ANOMALY_LATENCY_DEGRADATION), 1);
	assert_float_equal(ratio(s.d, "deploy", ANOMALY_LATENCY_DEGRADATION), 1.0, 0.15);
	anomaly__free(s.d);
}

static void test_anomaly_relearn_not_while_held_clean(void **state)
{
	struct anomaly_config cfg;
	struct load slow = steady;
	struct sim s;

	/* held by keep_firing far beyond relearn_after, its windows clean again */
	anomaly_config__init(&cfg);
	cfg.min_windows = 20;
	cfg.relearn_after_ns = 10 * cfg.window_ns;
	cfg.keep_firing_ns = 40 * cfg.window_ns;
	sim_init(&s, &cfg, 18);
	sim_feed(&s, "git", &steady, 40);
	slow.median_ns = 50 * MS;
	assert_int_equal(windows_until(&s, "git", &slow, ANOMALY_LATENCY_DEGRADATION, true, 5), 2);
	/* clean: nothing to relearn, the flag clears once keep_firing has passed */
	assert_int_equal(windows_until(&s, "git", &steady, ANOMALY_LATENCY_DEGRADATION, false, 60),
			 40);
	/* and the baseline kept its trust: the same shift raises again in 2 windows */
	assert_int_equal(windows_until(&s, "git", &slow, ANOMALY_LATENCY_DEGRADATION, true, 5), 2);
	assert_int_equal(raised(s.d, "git", ANOMALY_LATENCY_DEGRADATION), 2);
	anomaly__free(s.d);
}

static void test_anomaly_relearn_min_windows_trusts_sooner(void **state)
{
	struct load slow = steady, slower = steady;
	struct anomaly_config cfg;
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.min_windows = 60;
	cfg.relearn_after_ns = 30 * cfg.window_ns;
	cfg.relearn_min_windows = 10;
	sim_init(&s, &cfg, 19);
	sim_feed(&s, "cc", &steady, 80);
	slow.median_ns = 50 * MS;
	sim_feed(&s, "cc", &slow, 32);
	assert_true(is_active(s.d, "cc", ANOMALY_LATENCY_DEGRADATION));
	/* the new normal: cleared, relearned from 10 windows of it, not 60 */
	sim_feed(&s, "cc", &slow, 15);
	assert_false(is_active(s.d, "cc", ANOMALY_LATENCY_DEGRADATION));
	slower.median_ns = 250 * MS;
	assert_int_equal(windows_until(&s, "cc", &slower, ANOMALY_LATENCY_DEGRADATION, true, 10),
			 2);
	anomaly__free(s.d);
}

static void test_anomaly_zero_variance(void **state)
{
	struct load constant = {.median_ns = 10 * MS, .executions = 100};
	struct anomaly_host_window idle = {0}, busy = {.cpu_utilisation = 0.6};
	struct sim s;

	sim_init(&s, NULL, 17);
	constant.median_ns = 12 * MS;
	sim_feed(&s, "echo", &constant, 80); /* identical windows: MAD 0, CPU 0 */
	assert_float_equal(ratio(s.d, "echo", ANOMALY_STATISTICAL_OUTLIER), 1.0, 0);
	assert_float_equal(ratio(s.d, "echo", ANOMALY_LATENCY_DEGRADATION), 1.0, 0);
	assert_float_equal(ratio(s.d, "echo", ANOMALY_CPU_SPIKE), 1.0, 0);
	/* 2.5% off: within the 2%-of-median sigma floor x 3 (and the same bucket) */
	constant.median_ns = 12.3 * MS;
	sim_feed(&s, "echo", &constant, 5);
	assert_int_equal(total_raised(s.d), 0);
	constant.median_ns = 13.2 * MS;
	sim_feed(&s, "echo", &constant, 3);
	assert_true(is_active(s.d, "echo", ANOMALY_STATISTICAL_OUTLIER));
	assert_false(is_active(s.d, "echo", ANOMALY_LATENCY_DEGRADATION));
	assert_float_equal(ratio(s.d, "echo", ANOMALY_STATISTICAL_OUTLIER), 1.1, 1e-9);

	/* host idle at exactly 0: p90 0, any load is "infinitely" more, clamped */
	for (int i = 0; i < 80; i++)
		assert_int_equal(anomaly__observe_host(s.d, &idle, s.now += 60), 0);
	assert_float_equal(ratio(s.d, NULL, ANOMALY_CPU_SPIKE), 1.0, 0);
	assert_int_equal(anomaly__observe_host(s.d, &busy, s.now += 60), 0);
	assert_int_equal(anomaly__observe_host(s.d, &busy, s.now += 60), 0);
	assert_true(is_active(s.d, NULL, ANOMALY_CPU_SPIKE));
	assert_float_equal(ratio(s.d, NULL, ANOMALY_CPU_SPIKE), ANOMALY_RATIO_MAX, 0);
	assert_all_finite(s.d);
	anomaly__free(s.d);
}

static void test_anomaly_extreme_values(void **state)
{
	static const double cpus[] = {0, 1e-300, 1, 1e300, DBL_MAX};
	struct anomaly_host_window hw = {0};
	struct anomaly_tool_window w;
	struct strbuf sb = {0};
	char name[ANOMALY_TOOL_NAME_MAX + 1];
	struct anomaly_config cfg;
	struct anomaly_detector *d;
	int64_t now = T0;

	anomaly_config__init(&cfg);
	cfg.min_windows = 3;
	cfg.min_samples = 1;
	d = anomaly__new(&cfg);
	assert_non_null(d);

	/* invalid input is refused, not recorded */
	memset(&w, 0, sizeof(w));
	w.cpu_seconds = NAN;
	assert_int_equal(anomaly__observe_tool(d, "x", &w, now), -EINVAL);
	w.cpu_seconds = INFINITY;
	assert_int_equal(anomaly__observe_tool(d, "x", &w, now), -EINVAL);
	w.cpu_seconds = -1;
	assert_int_equal(anomaly__observe_tool(d, "x", &w, now), -EINVAL);
	w.cpu_seconds = 0;
	w.failures = 1;
	assert_int_equal(anomaly__observe_tool(d, "x", &w, now), -EINVAL);
	w.failures = 0;
	assert_int_equal(anomaly__observe_tool(d, "", &w, now), -EINVAL);
	assert_int_equal(anomaly__observe_tool(d, NULL, &w, now), -EINVAL);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(anomaly__observe_tool(d, name, &w, now), -ENAMETOOLONG);
	name[ANOMALY_TOOL_NAME_MAX - 1] = '\0';
	assert_int_equal(anomaly__observe_tool(d, name, &w, now), 0);
	hw.cpu_utilisation = NAN;
	assert_int_equal(anomaly__observe_host(d, &hw, now), -EINVAL);
	hw.cpu_utilisation = -0.1;
	assert_int_equal(anomaly__observe_host(d, &hw, now), -EINVAL);
	assert_int_equal(anomaly__nr_tools(d), 1);
	assert_int_equal(anomaly__age_windows(d), 1);

	/* saturated histograms, huge and tiny CPU, everything in +Inf, alternating with 0 */
	for (int i = 0; i < 200; i++) {
		memset(&w, 0, sizeof(w));
		if (i % 3) {
			w.executions = i % 2 ? UINT64_MAX : 1;
			w.failures = i % 5 ? w.executions : 0;
			w.duration.counts[hist_duration_layout.nr_bounds] = UINT64_MAX;
			w.duration.count = UINT64_MAX;
			w.duration.sum = UINT64_MAX;
			w.peak_memory.counts[i % 7 ? 0 : hist_memory_layout.nr_bounds] = UINT64_MAX;
			w.peak_memory.count = UINT64_MAX;
			w.peak_memory.sum = UINT64_MAX;
		} else if (i % 2) {
			w.executions = 1;
			hist__add(&w.duration, &hist_duration_layout, 0);
			hist__add(&w.peak_memory, &hist_memory_layout, 0);
		}
		w.cpu_seconds = w.executions ? cpus[i % 5] : 0;
		now += 60;
		assert_int_equal(anomaly__observe_tool(d, "wild", &w, now), 0);
		hw.cpu_utilisation = i % 4 ? 1e300 : 0;
		assert_int_equal(anomaly__observe_host(d, &hw, now), 0);
		assert_all_finite(d);
	}
	assert_true(assert_all_finite(d) > 0);

	/* such a state persists and restores */
	serialize(d, &sb);
	assert_int_equal(anomaly__deserialize(d, sb.buf, sb.len), 0);
	assert_all_finite(d);
	strbuf__free(&sb);
	anomaly__free(d);
}

/*
 * False positives: a steady workload with realistic noise (log-normal durations, median
 * 10 ms, sigma 0.3; ~1% failures; ~200 executions per window; noisy CPU and memory) over
 * 1,000 windows, for several independent tools and the host, raises nothing.
 */
static void test_anomaly_false_positives_steady_workload(void **state)
{
	static const char *const tools[] = {"curl",  "make", "git",  "psql",
					    "rsync", "tar",  "gzip", "ssh"};
	const int nr_tools = sizeof(tools) / sizeof(tools[0]), windows = 1000;
	struct anomaly_tool_window w;
	struct anomaly_detector *d = anomaly__new(NULL);
	struct trng r[8], hr = {99};
	int64_t now = T0;
	uint64_t flags;

	assert_non_null(d);
	for (int t = 0; t < nr_tools; t++)
		r[t].s = 1000 + (uint64_t)t;
	for (int i = 0; i < windows; i++) {
		struct anomaly_host_window hw = {0.3 + 0.05 * trng_normal(&hr)};

		now += 60;
		for (int t = 0; t < nr_tools; t++) {
			make_window(&r[t], &steady, &w);
			assert_int_equal(anomaly__observe_tool(d, tools[t], &w, now), 0);
		}
		assert_int_equal(anomaly__observe_host(d, &hw, now), 0);
	}
	flags = total_raised(d);
	print_message("false positives: %llu flags raised in %d tool-windows and %d host windows "
		      "(steady log-normal workload, defaults)\n",
		      (unsigned long long)flags, nr_tools * windows, windows);
	assert_int_equal(flags, 0);
	assert_all_finite(d);
	anomaly__free(d);
}

/*
 * The same for shapes the defaults must also stay quiet on: sparse tools (1, 3, 5
 * executions a window), heavy tails (sigma 0.6, 1.0), and a tool failing 3% of the time.
 */
static void test_anomaly_false_positives_varied_workloads(void **state)
{
	static const struct load shapes[] = {
	    {.median_ns = 10 * MS,
	     .sigma = 0.6,
	     .executions = 20,
	     .jitter = true,
	     .failure_p = 0.01,
	     .cpu_s = 0.003,
	     .mem_bytes = 20 * MIB},
	    {.median_ns = 200 * MS,
	     .sigma = 0.6,
	     .executions = 3,
	     .failure_p = 0.01,
	     .cpu_s = 0.05,
	     .mem_bytes = 100 * MIB},
	    {.median_ns = 5 * MS,
	     .sigma = 0.3,
	     .executions = 1,
	     .cpu_s = 0.001,
	     .mem_bytes = 4 * MIB},
	    {.median_ns = 30 * MS,
	     .sigma = 1.0,
	     .executions = 200,
	     .jitter = true,
	     .failure_p = 0.01,
	     .cpu_s = 0.01,
	     .mem_bytes = 50 * MIB},
	    {.median_ns = 2 * MS, .sigma = 1.0, .executions = 5, .cpu_s = 0.0005},
	    {.median_ns = 10 * MS,
	     .sigma = 0.45,
	     .executions = 100,
	     .jitter = true,
	     .failure_p = 0.03,
	     .cpu_s = 0.003,
	     .mem_bytes = 20 * MIB},
	};
	const int nr = sizeof(shapes) / sizeof(shapes[0]), windows = 1000;
	struct anomaly_detector *d = anomaly__new(NULL);
	struct anomaly_tool_window w;
	int64_t now = T0;
	struct trng r[6];
	char name[32];
	uint64_t flags;

	assert_non_null(d);
	for (int t = 0; t < nr; t++)
		r[t].s = 2000 + (uint64_t)t;
	for (int i = 0; i < windows; i++) {
		now += 60;
		for (int t = 0; t < nr; t++) {
			make_window(&r[t], &shapes[t], &w);
			snprintf(name, sizeof(name), "shape%d", t);
			assert_int_equal(anomaly__observe_tool(d, name, &w, now), 0);
		}
	}
	flags = total_raised(d);
	print_message("false positives: %llu flags raised in %d tool-windows (sparse, "
		      "heavy-tailed and 3%%-failing workloads, defaults)\n",
		      (unsigned long long)flags, nr * windows);
	assert_int_equal(flags, 0);
	anomaly__free(d);
}

static void test_anomaly_outlier_spike_raises_at_once(void **state)
{
	struct anomaly_config cfg;
	struct load spike = steady;
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.outlier_spike_sigmas = 6;
	sim_init(&s, &cfg, 31);
	sim_feed(&s, "cc", &steady, 100);
	assert_int_equal(total_raised(s.d), 0);
	/* 3x the mean for one window: far beyond 6 sigmas and the usual range */
	spike.median_ns = 30 * MS;
	sim_feed(&s, "cc", &spike, 1);
	assert_true(is_active(s.d, "cc", ANOMALY_STATISTICAL_OUTLIER));
	anomaly__free(s.d);

	/* off (the default): the same window alone raises nothing */
	sim_init(&s, NULL, 31);
	sim_feed(&s, "cc", &steady, 100);
	sim_feed(&s, "cc", &spike, 1);
	assert_false(is_active(s.d, "cc", ANOMALY_STATISTICAL_OUTLIER));
	anomaly__free(s.d);
}

static void test_anomaly_outlier_beyond_range_ignores_usual_values(void **state)
{
	struct load low = {.median_ns = 10 * MS, .executions = 100};
	struct load high = {.median_ns = 40 * MS, .executions = 100};
	struct anomaly_config cfg;
	struct sim s;

	/* a square wave: 3 windows in 4 at 10 ms, 1 in 4 at 40 ms (MAD 0) */
	anomaly_config__init(&cfg);
	cfg.outlier_beyond_range = true;
	cfg.outlier_spike_sigmas = 6;
	cfg.latency_ratio = 1000;
	sim_init(&s, &cfg, 5);
	for (int i = 0; i < 200; i++)
		sim_feed(&s, "batch", i % 4 == 3 ? &high : &low, 1);
	assert_int_equal(total_raised(s.d), 0);
	/* beyond anything seen: raised at once */
	high.median_ns = 400 * MS;
	sim_feed(&s, "batch", &high, 1);
	assert_true(is_active(s.d, "batch", ANOMALY_STATISTICAL_OUTLIER));
	anomaly__free(s.d);
}

static bool outlier_after(double log_offset, double median_ns)
{
	struct load flat = {.median_ns = 10 * MS, .executions = 100};
	struct load shifted = {.median_ns = median_ns, .executions = 100};
	struct anomaly_config cfg;
	struct sim s;
	bool active;

	/* identical windows: sigma is its floor, ln(1.02); 100 of them is 1.98 in logs */
	anomaly_config__init(&cfg);
	cfg.outlier_sigmas = 100;
	cfg.latency_ratio = 1000;
	cfg.outlier_log_offset = log_offset;
	sim_init(&s, &cfg, 17);
	sim_feed(&s, "fsync", &flat, 100);
	assert_int_equal(total_raised(s.d), 0);
	sim_feed(&s, "fsync", &shifted, 5);
	active = is_active(s.d, "fsync", ANOMALY_STATISTICAL_OUTLIER);
	assert_all_finite(s.d);
	anomaly__free(s.d);
	return active;
}

static void test_anomaly_outlier_log_offset_bounds_drops(void **state)
{
	/* off: 10 ms -> 10 us is ln(1000) = 6.9 below, 350 sigmas */
	assert_true(outlier_after(0, 10 * 1000));
	/* share 0.2: a drop to near 0 is at most ln(1 + 1 / 0.2) = 1.79 below */
	assert_false(outlier_after(0.2, 10 * 1000));
	assert_false(outlier_after(0.2, 0));
	/* above the median nothing changes: 10x (ln 10 = 2.3) still raises */
	assert_true(outlier_after(0.2, 100 * MS));
	assert_true(outlier_after(0, 100 * MS));
}

static void test_anomaly_keep_firing_holds_the_flag(void **state)
{
	struct anomaly_config cfg;
	struct load slow = steady;
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.keep_firing_ns = 20 * 60 * 1000000000ULL; /* 20 windows */
	sim_init(&s, &cfg, 9);
	sim_feed(&s, "ld", &steady, 100);
	slow.median_ns = 50 * MS;
	assert_int_equal(windows_until(&s, "ld", &slow, ANOMALY_LATENCY_DEGRADATION, true, 5), 2);
	/* clean again at once: held for 20 windows from the raise, not clear_after */
	sim_feed(&s, "ld", &steady, 15);
	assert_true(is_active(s.d, "ld", ANOMALY_LATENCY_DEGRADATION));
	assert_int_equal(windows_until(&s, "ld", &steady, ANOMALY_LATENCY_DEGRADATION, false, 10),
			 5);
	assert_int_equal(raised(s.d, "ld", ANOMALY_LATENCY_DEGRADATION), 1);
	anomaly__free(s.d);
}

static void test_anomaly_clean_windows_learned_while_raised(void **state)
{
	struct anomaly_config cfg;
	struct load slow = steady, drift = steady;
	struct sim s;

	/* held raised for long: the clean windows meanwhile (4% slower) are learned */
	anomaly_config__init(&cfg);
	cfg.keep_firing_ns = 1000 * 60 * 1000000000ULL;
	sim_init(&s, &cfg, 13);
	sim_feed(&s, "sort", &steady, 100);
	slow.median_ns = 50 * MS;
	sim_feed(&s, "sort", &slow, 3);
	assert_true(is_active(s.d, "sort", ANOMALY_LATENCY_DEGRADATION));
	drift.median_ns = 10.4 * MS;
	sim_feed(&s, "sort", &drift, 1);
	assert_true(ratio(s.d, "sort", ANOMALY_STATISTICAL_OUTLIER) > 1.03);
	sim_feed(&s, "sort", &drift, 400);
	assert_true(is_active(s.d, "sort", ANOMALY_LATENCY_DEGRADATION));
	/* the baseline's median moved to the drifted windows while the flag stood */
	assert_float_equal(ratio(s.d, "sort", ANOMALY_STATISTICAL_OUTLIER), 1.0, 0.02);
	anomaly__free(s.d);
}

static void test_anomaly_lone_windows_learned_while_held(void **state)
{
	struct anomaly_config cfg;
	struct load slow = steady;
	struct sim s;

	/* held by keep_firing, its anomaly over: lone slow windows are learned as while clear */
	anomaly_config__init(&cfg);
	cfg.baseline_ns = 100 * cfg.window_ns;
	cfg.keep_firing_ns = 1000 * cfg.window_ns;
	sim_init(&s, &cfg, 20);
	sim_feed(&s, "tar", &steady, 100);
	slow.median_ns = 50 * MS;
	sim_feed(&s, "tar", &slow, 3);
	sim_feed(&s, "tar", &steady, 5);
	assert_true(is_active(s.d, "tar", ANOMALY_LATENCY_DEGRADATION));
	for (int i = 0; i < 100; i++) {
		sim_feed(&s, "tar", &slow, 1);
		sim_feed(&s, "tar", &steady, 3);
	}
	/* a quarter of the windows are slow: the baseline's p95 is theirs */
	sim_feed(&s, "tar", &slow, 1);
	assert_true(ratio(s.d, "tar", ANOMALY_LATENCY_DEGRADATION) < 1.5);
	assert_int_equal(raised(s.d, "tar", ANOMALY_LATENCY_DEGRADATION), 1);
	anomaly__free(s.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_anomaly_seasonal_hour_baselines),
	    cmocka_unit_test(test_anomaly_baseline_not_poisoned),
	    cmocka_unit_test(test_anomaly_relearn_after_sustained_shift),
	    cmocka_unit_test(test_anomaly_relearn_not_while_held_clean),
	    cmocka_unit_test(test_anomaly_relearn_min_windows_trusts_sooner),
	    cmocka_unit_test(test_anomaly_zero_variance),
	    cmocka_unit_test(test_anomaly_extreme_values),
	    cmocka_unit_test(test_anomaly_outlier_spike_raises_at_once),
	    cmocka_unit_test(test_anomaly_outlier_beyond_range_ignores_usual_values),
	    cmocka_unit_test(test_anomaly_outlier_log_offset_bounds_drops),
	    cmocka_unit_test(test_anomaly_keep_firing_holds_the_flag),
	    cmocka_unit_test(test_anomaly_lone_windows_learned_while_held),
	    cmocka_unit_test(test_anomaly_clean_windows_learned_while_raised),
	    cmocka_unit_test(test_anomaly_false_positives_steady_workload),
	    cmocka_unit_test(test_anomaly_false_positives_varied_workloads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
