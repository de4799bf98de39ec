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

#include "anomaly_sim.h"

/* --- tests --- */

static void test_anomaly_kind_names(void **state)
{
	static const char *const names[] = {"LATENCY_DEGRADATION", "STATISTICAL_OUTLIER",
					    "FAILURE_RATE",	   "CPU_SPIKE",
					    "MEMORY_SPIKE",	   "NEW_TOOL"};
	static const char *const sev[] = {"high", "medium", "critical", "medium", "medium", "info"};

	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		assert_string_equal(anomaly_kind__name(k), names[k]);
		assert_string_equal(anomaly_kind__severity(k), sev[k]);
	}
	assert_string_equal(anomaly_kind__name(ANOMALY_KIND_MAX), "UNKNOWN");
	assert_string_equal(anomaly_kind__severity((enum anomaly_kind) - 1), "unknown");
}

static void test_anomaly_config_defaults(void **state)
{
	struct anomaly_config cfg;
	struct anomaly_detector *d;

	anomaly_config__init(&cfg);
	assert_int_equal(cfg.window_ns, 60000000000ULL);
	assert_int_equal(cfg.baseline_ns, 7ULL * 86400 * 1000000000ULL);
	assert_false(cfg.seasonal);
	assert_int_equal(cfg.min_windows, 60);
	assert_int_equal(cfg.min_samples, 100);
	assert_int_equal(cfg.raise_after, 2);
	assert_int_equal(cfg.outlier_raise_after, 3);
	assert_int_equal(cfg.clear_after, 3);
	assert_float_equal(cfg.tail_alpha, 0.001, 0);
	assert_float_equal(cfg.failure_alpha, 0.05, 0);
	assert_int_equal(cfg.relearn_after_ns, 86400ULL * 1000000000ULL);
	assert_int_equal(cfg.max_tools, 2048);
	assert_float_equal(cfg.latency_ratio, 1.5, 0);
	assert_float_equal(cfg.outlier_sigmas, 3.0, 0);
	assert_float_equal(cfg.failure_rate, 0.05, 0);
	assert_int_equal(cfg.failure_min_executions, 20);
	assert_float_equal(cfg.cpu_ratio, 1.3, 0);
	assert_float_equal(cfg.host_cpu_ratio, 1.3, 0);
	assert_float_equal(cfg.memory_ratio, 1.5, 0);
	assert_int_equal(cfg.new_tool_learning_ns, 86400ULL * 1000000000ULL);
	assert_int_equal(cfg.new_tool_hold_ns, 3600ULL * 1000000000ULL);

	d = anomaly__new(NULL);
	assert_non_null(d);
	assert_int_equal(anomaly__nr_tools(d), 0);
	assert_int_equal(anomaly__age_windows(d), 0);
	anomaly__free(d);
	anomaly__free(NULL);

	cfg.window_ns = 0;
	errno = 0;
	assert_null(anomaly__new(&cfg));
	assert_int_equal(errno, EINVAL);
	anomaly_config__init(&cfg);
	cfg.baseline_ns = cfg.window_ns - 1;
	assert_null(anomaly__new(&cfg));
	anomaly_config__init(&cfg);
	cfg.raise_after = 0;
	assert_null(anomaly__new(&cfg));
	anomaly_config__init(&cfg);
	cfg.latency_ratio = NAN;
	assert_null(anomaly__new(&cfg));
	anomaly_config__init(&cfg);
	cfg.memory_ratio = INFINITY;
	assert_null(anomaly__new(&cfg));
	assert_int_equal(errno, EINVAL);
	anomaly_config__init(&cfg);
	assert_true(cfg.outlier_log_offset == 0);
	cfg.outlier_log_offset = -0.1;
	assert_null(anomaly__new(&cfg));
	cfg.outlier_log_offset = INFINITY;
	assert_null(anomaly__new(&cfg));
	assert_int_equal(errno, EINVAL);
}

static void test_anomaly_latency_fires_and_clears(void **state)
{
	struct load slow = steady;
	struct sim s;

	sim_init(&s, NULL, 1);
	sim_feed(&s, "curl", &steady, 80);
	assert_false(is_active(s.d, "curl", ANOMALY_LATENCY_DEGRADATION));
	assert_true(find_state(s.d, "curl", ANOMALY_LATENCY_DEGRADATION).found);
	assert_float_equal(ratio(s.d, "curl", ANOMALY_LATENCY_DEGRADATION), 1.0, 0.1);

	slow.median_ns = 50 * MS;
	assert_int_equal(windows_until(&s, "curl", &slow, ANOMALY_LATENCY_DEGRADATION, true, 10),
			 2);
	assert_int_equal(raised(s.d, "curl", ANOMALY_LATENCY_DEGRADATION), 1);
	assert_true(ratio(s.d, "curl", ANOMALY_LATENCY_DEGRADATION) > 3);
	sim_feed(&s, "curl", &slow, 5);
	assert_true(is_active(s.d, "curl", ANOMALY_LATENCY_DEGRADATION));

	assert_int_equal(windows_until(&s, "curl", &steady, ANOMALY_LATENCY_DEGRADATION, false, 10),
			 3);
	assert_int_equal(raised(s.d, "curl", ANOMALY_LATENCY_DEGRADATION), 1);
	assert_all_finite(s.d);
	anomaly__free(s.d);
}

static enum anomaly_cause cause(const struct anomaly_detector *d, const char *tool,
				enum anomaly_kind k)
{
	return find_state(d, tool, k).s.cause;
}

/* A latency flag names the component of the time that grew most. */
static void test_anomaly_cause_names_component(void **state)
{
	struct load base = steady, contended, compute, io, sleepy;
	struct sim s;

	(void)state;
	base.runq_frac = 0.05;
	base.blkio_frac = 0.05;
	contended = base, compute = base, io = base, sleepy = base;
	/* 10 ms -> 50 ms, the 40 ms more spent in each component in turn */
	contended.median_ns = compute.median_ns = io.median_ns = sleepy.median_ns = 50 * MS;
	contended.runq_frac = 0.8;
	compute.cpu_s = 0.040;
	io.blkio_frac = 0.8;
	sleepy.cpu_s = 0.003;
	sim_init(&s, NULL, 7);
	sim_feed(&s, "contended", &base, 80);
	sim_feed(&s, "compute", &base, 80);
	sim_feed(&s, "io", &base, 80);
	sim_feed(&s, "sleepy", &base, 80);
	assert_int_equal(cause(s.d, "contended", ANOMALY_LATENCY_DEGRADATION), ANOMALY_CAUSE_NONE);
	sim_feed(&s, "contended", &contended, 3);
	sim_feed(&s, "compute", &compute, 3);
	sim_feed(&s, "io", &io, 3);
	sim_feed(&s, "sleepy", &sleepy, 3);
	assert_true(is_active(s.d, "contended", ANOMALY_LATENCY_DEGRADATION));
	assert_int_equal(cause(s.d, "contended", ANOMALY_LATENCY_DEGRADATION),
			 ANOMALY_CAUSE_RUNQUEUE);
	assert_int_equal(cause(s.d, "contended", ANOMALY_STATISTICAL_OUTLIER),
			 ANOMALY_CAUSE_RUNQUEUE);
	assert_int_equal(cause(s.d, "compute", ANOMALY_LATENCY_DEGRADATION), ANOMALY_CAUSE_CPU);
	assert_int_equal(cause(s.d, "io", ANOMALY_LATENCY_DEGRADATION), ANOMALY_CAUSE_BLKIO);
	assert_int_equal(cause(s.d, "sleepy", ANOMALY_LATENCY_DEGRADATION), ANOMALY_CAUSE_OTHER);
	assert_string_equal(anomaly_cause__name(ANOMALY_CAUSE_RUNQUEUE), "runqueue");
	/* on a busy node more work waits more too, at the same rate per CPU second: cpu */
	{
		struct load busy = base, more = base;

		busy.runq_frac = 0.3; /* 3 ms of wait per 3 ms of CPU */
		more.median_ns = 30 * MS;
		more.cpu_s = 0.012;
		more.runq_frac = 0.4; /* 12 ms per 12 ms: as busy as before */
		sim_feed(&s, "busy", &busy, 80);
		sim_feed(&s, "busy", &more, 3);
		assert_true(is_active(s.d, "busy", ANOMALY_LATENCY_DEGRADATION));
		assert_int_equal(cause(s.d, "busy", ANOMALY_LATENCY_DEGRADATION),
				 ANOMALY_CAUSE_CPU);
	}
	assert_null(anomaly_cause__name(ANOMALY_CAUSE_NONE));
	/* cleared: no cause any more */
	sim_feed(&s, "contended", &base, 5);
	assert_false(is_active(s.d, "contended", ANOMALY_LATENCY_DEGRADATION));
	assert_int_equal(cause(s.d, "contended", ANOMALY_LATENCY_DEGRADATION), ANOMALY_CAUSE_NONE);
	/* negative or non-finite components are refused */
	{
		struct anomaly_tool_window w = {.executions = 1, .split_executions = 1};

		w.split_seconds[ANOMALY_SPLIT_OTHER] = NAN;
		assert_int_equal(anomaly__observe_tool(s.d, "x", &w, s.now + 60), -EINVAL);
		w.split_seconds[ANOMALY_SPLIT_OTHER] = -1;
		assert_int_equal(anomaly__observe_tool(s.d, "x", &w, s.now + 60), -EINVAL);
	}
	anomaly__free(s.d);
}

/* A tool learned at ~10 ms slows to ~50 ms, then returns. */
static void test_anomaly_latency_detection_delay(void **state)
{
	struct load slow = steady;
	int raise_delay, clear_delay;
	struct sim s;

	sim_init(&s, NULL, 2);
	sim_feed(&s, "build.sh", &steady, 120);
	slow.median_ns = 50 * MS;
	raise_delay = windows_until(&s, "build.sh", &slow, ANOMALY_LATENCY_DEGRADATION, true, 20);
	sim_feed(&s, "build.sh", &slow, 10);
	clear_delay =
	    windows_until(&s, "build.sh", &steady, ANOMALY_LATENCY_DEGRADATION, false, 20);
	print_message("detection delay: raised %d windows after 10ms -> 50ms, cleared %d "
		      "windows after recovery (raise_after 2, clear_after 3)\n",
		      raise_delay, clear_delay);
	assert_true(raise_delay <= 3);
	assert_true(clear_delay <= 3);
	anomaly__free(s.d);
}

static void test_anomaly_outlier_fires_and_clears(void **state)
{
	struct load shifted = steady;
	struct sim s;

	sim_init(&s, NULL, 3);
	sim_feed(&s, "make", &steady, 100);
	assert_float_equal(ratio(s.d, "make", ANOMALY_STATISTICAL_OUTLIER), 1.0, 0.05);

	/* +20% on the mean: well inside one histogram bucket, so p95 barely moves */
	shifted.median_ns = 12 * MS;
	assert_int_equal(windows_until(&s, "make", &shifted, ANOMALY_STATISTICAL_OUTLIER, true, 10),
			 3);
	assert_false(is_active(s.d, "make", ANOMALY_LATENCY_DEGRADATION));
	assert_float_equal(ratio(s.d, "make", ANOMALY_STATISTICAL_OUTLIER), 1.2, 0.05);
	assert_int_equal(windows_until(&s, "make", &steady, ANOMALY_STATISTICAL_OUTLIER, false, 10),
			 3);

	/* two-sided: suddenly 20% faster is an outlier too */
	shifted.median_ns = 8 * MS;
	assert_int_equal(windows_until(&s, "make", &shifted, ANOMALY_STATISTICAL_OUTLIER, true, 10),
			 3);
	assert_true(ratio(s.d, "make", ANOMALY_STATISTICAL_OUTLIER) < 0.9);
	assert_int_equal(raised(s.d, "make", ANOMALY_STATISTICAL_OUTLIER), 2);
	anomaly__free(s.d);
}

static void test_anomaly_failure_rate_fires_and_clears(void **state)
{
	struct load failing = steady, few = steady;
	struct sim s;

	sim_init(&s, NULL, 4);
	sim_feed(&s, "rsync", &steady, 80);
	assert_true(find_state(s.d, "rsync", ANOMALY_FAILURE_RATE).found);
	assert_false(is_active(s.d, "rsync", ANOMALY_FAILURE_RATE));

	failing.failure_p = 0.2;
	assert_int_equal(windows_until(&s, "rsync", &failing, ANOMALY_FAILURE_RATE, true, 10), 2);
	assert_float_equal(ratio(s.d, "rsync", ANOMALY_FAILURE_RATE), 4.0, 1.0);
	assert_int_equal(windows_until(&s, "rsync", &steady, ANOMALY_FAILURE_RATE, false, 10), 3);

	/* fewer executions than failure_min_executions (20): not judged */
	few.failure_p = 0.5;
	few.executions = 15;
	few.jitter = false;
	sim_feed(&s, "rsync", &few, 10);
	assert_false(is_active(s.d, "rsync", ANOMALY_FAILURE_RATE));
	assert_int_equal(raised(s.d, "rsync", ANOMALY_FAILURE_RATE), 1);

	/* a tool still learning does not fire, even failing every time */
	failing.failure_p = 1.0;
	sim_feed(&s, "fresh", &failing, 10);
	assert_false(is_active(s.d, "fresh", ANOMALY_FAILURE_RATE));
	anomaly__free(s.d);
}

static void feed_failures(struct sim *s, const char *tool, uint64_t executions, uint64_t failures,
			  int windows)
{
	struct anomaly_tool_window w;
	struct load l = steady;

	l.executions = (uint32_t)executions;
	l.jitter = false;
	l.failure_p = 0;
	for (int i = 0; i < windows; i++) {
		make_window(&s->rng, &l, &w);
		w.failures = failures;
		s->now += s->step_s;
		assert_int_equal(anomaly__observe_tool(s->d, tool, &w, s->now), 0);
	}
}

static void test_anomaly_failure_rate_needs_evidence(void **state)
{
	struct anomaly_config cfg;
	struct sim s;

	sim_init(&s, NULL, 71);
	sim_feed(&s, "grep", &steady, 80);
	/* 2 of 20 (10%) happen by chance to a tool failing 1% of the time: not evidence */
	feed_failures(&s, "grep", 20, 2, 10);
	assert_int_equal(raised(s.d, "grep", ANOMALY_FAILURE_RATE), 0);
	assert_float_equal(ratio(s.d, "grep", ANOMALY_FAILURE_RATE), 2.0, 1e-9);
	feed_failures(&s, "grep", 20, 3, 10);
	assert_int_equal(raised(s.d, "grep", ANOMALY_FAILURE_RATE), 0);
	/* 4 of 20 (20%) are */
	feed_failures(&s, "grep", 20, 4, 2);
	assert_true(is_active(s.d, "grep", ANOMALY_FAILURE_RATE));
	/* of 1000 executions: 6% is not yet evidence (p 0.09), 7% is (p 0.003) */
	feed_failures(&s, "grep", 1000, 10, 3);
	assert_false(is_active(s.d, "grep", ANOMALY_FAILURE_RATE));
	feed_failures(&s, "grep", 1000, 60, 2);
	assert_false(is_active(s.d, "grep", ANOMALY_FAILURE_RATE));
	feed_failures(&s, "grep", 1000, 70, 2);
	assert_true(is_active(s.d, "grep", ANOMALY_FAILURE_RATE));
	anomaly__free(s.d);

	/* failure_alpha 1: the plain rule, 2 of 20 fire */
	anomaly_config__init(&cfg);
	cfg.failure_alpha = 1;
	sim_init(&s, &cfg, 72);
	sim_feed(&s, "grep", &steady, 80);
	feed_failures(&s, "grep", 20, 2, 2);
	assert_true(is_active(s.d, "grep", ANOMALY_FAILURE_RATE));
	anomaly__free(s.d);
}

/* Tools running 3 times a minute: a window's p95 is its maximum. */
static void test_anomaly_latency_sparse_tool(void **state)
{
	struct load sparse = steady;
	struct sim s;

	sim_init(&s, NULL, 73);
	sparse.executions = 3;
	sparse.jitter = false;
	sparse.sigma = 0.6; /* a heavy tail: p99 is 4 x the median */
	sim_feed(&s, "cronjob", &sparse, 1000);
	assert_int_equal(total_raised(s.d), 0);
	/* 10 -> 50 ms against such a tail is too little evidence for a p95 from 3 samples,
	 * but the mean's shift is plain */
	sparse.median_ns = 50 * MS;
	sparse.sigma = 0.3;
	assert_true(windows_until(&s, "cronjob", &sparse, ANOMALY_STATISTICAL_OUTLIER, true, 10) <=
		    4);

	/* against a narrower baseline the p95 rule fires from 3 executions a window */
	sparse.median_ns = 10 * MS;
	sim_feed(&s, "backup", &sparse, 100);
	sparse.median_ns = 50 * MS;
	assert_true(windows_until(&s, "backup", &sparse, ANOMALY_LATENCY_DEGRADATION, true, 10) <=
		    3);
	anomaly__free(s.d);
}

/*
 * tool learns the steady load for 80 windows (ratio ~1); kind is raised on the 2nd window
 * of shifted (ratio > 2) and cleared on the 3rd steady window after it.
 */
static void assert_raises_and_clears(struct sim *s, const char *tool, const struct load *shifted,
				     enum anomaly_kind kind)
{
	sim_feed(s, tool, &steady, 80);
	assert_float_equal(ratio(s->d, tool, kind), 1.0, 0.1);
	assert_int_equal(windows_until(s, tool, shifted, kind, true, 10), 2);
	assert_true(ratio(s->d, tool, kind) > 2);
	assert_int_equal(windows_until(s, tool, &steady, kind, false, 10), 3);
}

static void test_anomaly_cpu_spike_fires_and_clears(void **state)
{
	struct load hot = steady, tiny = steady;
	struct sim s;

	sim_init(&s, NULL, 5);
	hot.cpu_s = 3 * steady.cpu_s;
	assert_raises_and_clears(&s, "gzip", &hot, ANOMALY_CPU_SPIKE);

	/* 5x of almost nothing (0.1 ms -> 0.5 ms) stays under the 5 ms excess floor */
	tiny.cpu_s = 0.0001;
	sim_feed(&s, "true", &tiny, 80);
	tiny.cpu_s = 0.0005;
	sim_feed(&s, "true", &tiny, 2);
	assert_true(ratio(s.d, "true", ANOMALY_CPU_SPIKE) > 3);
	assert_int_equal(raised(s.d, "true", ANOMALY_CPU_SPIKE), 0);
	sim_feed(&s, "true", &tiny, 10); /* clean, so learned: the baseline follows */
	assert_int_equal(raised(s.d, "true", ANOMALY_CPU_SPIKE), 0);
	anomaly__free(s.d);
}

static void test_anomaly_memory_spike_fires_and_clears(void **state)
{
	struct load fat = steady, none = steady;
	struct sim s;

	sim_init(&s, NULL, 6);
	fat.mem_bytes = 4 * steady.mem_bytes;
	assert_raises_and_clears(&s, "java", &fat, ANOMALY_MEMORY_SPIKE);

	/* no memory metrics: no memory baseline, nothing reported */
	none.mem_bytes = 0;
	sim_feed(&s, "sed", &none, 80);
	assert_false(find_state(s.d, "sed", ANOMALY_MEMORY_SPIKE).found);
	assert_true(find_state(s.d, "sed", ANOMALY_LATENCY_DEGRADATION).found);
	anomaly__free(s.d);
}

static void test_anomaly_host_cpu_spike_fires_and_clears(void **state)
{
	struct anomaly_detector *d = anomaly__new(NULL);
	struct trng r = {7};
	int64_t now = T0;

	assert_non_null(d);
	feed_host(d, &r, 0.3, 0.03, 59, &now);
	assert_false(find_state(d, NULL, ANOMALY_CPU_SPIKE).found); /* still learning */
	feed_host(d, &r, 0.3, 0.03, 21, &now);
	assert_true(find_state(d, NULL, ANOMALY_CPU_SPIKE).found);

	feed_host(d, &r, 0.9, 0.01, 1, &now);
	assert_false(is_active(d, NULL, ANOMALY_CPU_SPIKE));
	feed_host(d, &r, 0.9, 0.01, 1, &now);
	assert_true(is_active(d, NULL, ANOMALY_CPU_SPIKE));
	assert_true(ratio(d, NULL, ANOMALY_CPU_SPIKE) > 2);
	feed_host(d, &r, 0.3, 0.03, 2, &now);
	assert_true(is_active(d, NULL, ANOMALY_CPU_SPIKE));
	feed_host(d, &r, 0.3, 0.03, 1, &now);
	assert_false(is_active(d, NULL, ANOMALY_CPU_SPIKE));
	assert_int_equal(raised(d, NULL, ANOMALY_CPU_SPIKE), 1);

	/* above 1.3 x p90 but below the 0.5 utilisation floor: not a spike */
	feed_host(d, &r, 0.45, 0.01, 10, &now);
	assert_int_equal(raised(d, NULL, ANOMALY_CPU_SPIKE), 1);
	anomaly__free(d);
}

static void test_anomaly_new_tool_after_learning(void **state)
{
	struct anomaly_config cfg;
	struct anomaly_detector *restored;
	struct strbuf sb = {0};
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.new_tool_learning_ns = 10 * cfg.window_ns;
	cfg.new_tool_hold_ns = 5 * cfg.window_ns;
	sim_init(&s, &cfg, 8);
	sim_feed(&s, "ls", &steady, 5);
	sim_feed(&s, "cat", &steady, 1); /* age 6: still learning what runs here */
	sim_feed(&s, "ls", &steady, 5);
	assert_int_equal(anomaly__age_windows(s.d), 11);
	assert_int_equal(raised(s.d, "cat", ANOMALY_NEW_TOOL), 0);
	assert_false(find_state(s.d, "cat", ANOMALY_NEW_TOOL).found);

	sim_feed(&s, "nc", &steady, 1);
	assert_true(is_active(s.d, "nc", ANOMALY_NEW_TOOL));
	assert_int_equal(raised(s.d, "nc", ANOMALY_NEW_TOOL), 1);
	assert_float_equal(ratio(s.d, "nc", ANOMALY_NEW_TOOL), 0, 0);
	sim_feed(&s, "nc", &steady, 4);
	assert_true(is_active(s.d, "nc", ANOMALY_NEW_TOOL));
	sim_feed(&s, "nc", &steady, 1);
	assert_false(is_active(s.d, "nc", ANOMALY_NEW_TOOL));
	assert_int_equal(raised(s.d, "nc", ANOMALY_NEW_TOOL), 1);

	/* the age is persisted: no second learning period after a restart */
	serialize(s.d, &sb);
	restored = anomaly__new(&cfg);
	assert_non_null(restored);
	assert_int_equal(anomaly__deserialize(restored, sb.buf, sb.len), 0);
	assert_int_equal(anomaly__age_windows(restored), anomaly__age_windows(s.d));
	anomaly__free(s.d);
	s.d = restored;
	sim_feed(&s, "nc", &steady, 1);
	assert_false(is_active(s.d, "nc", ANOMALY_NEW_TOOL));
	sim_feed(&s, "socat", &steady, 1);
	assert_true(is_active(s.d, "socat", ANOMALY_NEW_TOOL));
	anomaly__free(s.d);

	/* hold 0 disables NEW_TOOL */
	cfg.new_tool_hold_ns = 0;
	sim_init(&s, &cfg, 8);
	sim_feed(&s, "ls", &steady, 20);
	sim_feed(&s, "nc", &steady, 1);
	assert_int_equal(raised(s.d, "nc", ANOMALY_NEW_TOOL), 0);
	anomaly__free(s.d);
	strbuf__free(&sb);
}

static void test_anomaly_min_sample_gate(void **state)
{
	struct load slow = steady, sparse = steady;
	struct anomaly_config cfg;
	struct sim s;

	/* min_windows: 58 learned windows, then anomalies: nothing judged yet */
	sim_init(&s, NULL, 9);
	sim_feed(&s, "tar", &steady, 58);
	assert_false(find_state(s.d, "tar", ANOMALY_LATENCY_DEGRADATION).found);
	slow.median_ns = 100 * MS;
	sim_feed(&s, "tar", &slow, 1);
	assert_int_equal(total_raised(s.d), 0);
	assert_false(find_state(s.d, "tar", ANOMALY_FAILURE_RATE).found);
	anomaly__free(s.d);

	/* min_samples: 95 windows of 1 execution are < 100 samples */
	anomaly_config__init(&cfg);
	sim_init(&s, &cfg, 10);
	sparse.executions = 1;
	sparse.jitter = false;
	sim_feed(&s, "backup", &sparse, 93);
	sparse.median_ns = 1000 * MS;
	sim_feed(&s, "backup", &sparse, 2);
	assert_int_equal(total_raised(s.d), 0);
	assert_false(find_state(s.d, "backup", ANOMALY_LATENCY_DEGRADATION).found);

	/* ... and once trusted the same tool is judged (by its mean: 1 sample is no p95) */
	sparse.median_ns = 10 * MS;
	sim_feed(&s, "backup", &sparse, 20);
	assert_true(find_state(s.d, "backup", ANOMALY_STATISTICAL_OUTLIER).found);
	sparse.median_ns = 1000 * MS;
	sim_feed(&s, "backup", &sparse, 3);
	assert_true(is_active(s.d, "backup", ANOMALY_STATISTICAL_OUTLIER));
	assert_false(is_active(s.d, "backup", ANOMALY_LATENCY_DEGRADATION));
	anomaly__free(s.d);
}

static void test_anomaly_hysteresis(void **state)
{
	struct load slow = steady;
	struct anomaly_config cfg;
	struct sim s;

	slow.median_ns = 50 * MS;
	sim_init(&s, NULL, 11);
	sim_feed(&s, "git", &steady, 80);

	/* alternating anomalous and clean windows never raise with raise_after 2 */
	for (int i = 0; i < 10; i++) {
		sim_feed(&s, "git", &slow, 1);
		sim_feed(&s, "git", &steady, 1);
	}
	assert_int_equal(raised(s.d, "git", ANOMALY_LATENCY_DEGRADATION), 0);

	sim_feed(&s, "git", &slow, 2);
	assert_true(is_active(s.d, "git", ANOMALY_LATENCY_DEGRADATION));
	/* raised: one anomalous window among clean ones restarts the clearing count */
	for (int i = 0; i < 5; i++) {
		sim_feed(&s, "git", &steady, 2);
		sim_feed(&s, "git", &slow, 1);
	}
	assert_true(is_active(s.d, "git", ANOMALY_LATENCY_DEGRADATION));
	sim_feed(&s, "git", &steady, 2);
	assert_true(is_active(s.d, "git", ANOMALY_LATENCY_DEGRADATION));
	sim_feed(&s, "git", &steady, 1);
	assert_false(is_active(s.d, "git", ANOMALY_LATENCY_DEGRADATION));
	assert_int_equal(raised(s.d, "git", ANOMALY_LATENCY_DEGRADATION), 1);
	anomaly__free(s.d);

	/* other K: raise after 4, clear after 1 */
	anomaly_config__init(&cfg);
	cfg.raise_after = 4;
	cfg.clear_after = 1;
	sim_init(&s, &cfg, 12);
	sim_feed(&s, "git", &steady, 80);
	sim_feed(&s, "git", &slow, 3);
	assert_false(is_active(s.d, "git", ANOMALY_LATENCY_DEGRADATION));
	sim_feed(&s, "git", &slow, 1);
	assert_true(is_active(s.d, "git", ANOMALY_LATENCY_DEGRADATION));
	sim_feed(&s, "git", &steady, 1);
	assert_false(is_active(s.d, "git", ANOMALY_LATENCY_DEGRADATION));
	anomaly__free(s.d);
}

static void test_anomaly_empty_windows(void **state)
{
	struct anomaly_tool_window empty = {0};
	struct load slow = steady;
	struct sim s;

	slow.median_ns = 50 * MS;
	sim_init(&s, NULL, 13);
	/* empty windows are not learned: 100 of them leave the tool untrusted */
	for (int i = 0; i < 100; i++) {
		s.now += 60;
		assert_int_equal(anomaly__observe_tool(s.d, "cron", &empty, s.now), 0);
	}
	assert_false(find_state(s.d, "cron", ANOMALY_LATENCY_DEGRADATION).found);
	sim_feed(&s, "cron", &steady, 80);

	/* an empty window neither breaks nor extends a run of anomalous ones */
	sim_feed(&s, "cron", &slow, 1);
	s.now += 60;
	assert_int_equal(anomaly__observe_tool(s.d, "cron", &empty, s.now), 0);
	assert_false(is_active(s.d, "cron", ANOMALY_LATENCY_DEGRADATION));
	sim_feed(&s, "cron", &slow, 1);
	assert_true(is_active(s.d, "cron", ANOMALY_LATENCY_DEGRADATION));

	/* ... and counts as clean for clearing: a tool that stopped running clears */
	for (int i = 0; i < 3; i++) {
		s.now += 60;
		assert_int_equal(anomaly__observe_tool(s.d, "cron", &empty, s.now), 0);
	}
	assert_false(is_active(s.d, "cron", ANOMALY_LATENCY_DEGRADATION));
	assert_all_finite(s.d);
	anomaly__free(s.d);
}

/* Seasonal: 03:00-04:00 UTC runs at 50 ms every day, the rest of the day at 10 ms. */

static void test_anomaly_max_tools_eviction(void **state)
{
	struct anomaly_tool_window empty = {0};
	struct anomaly_config cfg;
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.max_tools = 3;
	cfg.new_tool_learning_ns = 2 * cfg.window_ns;
	sim_init(&s, &cfg, 41);
	sim_feed(&s, "a", &steady, 1);
	sim_feed(&s, "b", &steady, 1);
	sim_feed(&s, "c", &steady, 1);
	s.now += 60;
	assert_int_equal(anomaly__observe_tool(s.d, "b", &empty, s.now), 0); /* b: idle */
	sim_feed(&s, "a", &steady, 1);
	sim_feed(&s, "c", &steady, 1);
	sim_feed(&s, "d", &steady, 1); /* b, least recently active, goes */
	assert_int_equal(anomaly__nr_tools(s.d), 3);
	assert_true(is_active(s.d, "d", ANOMALY_NEW_TOOL));
	assert_false(find_state(s.d, "b", ANOMALY_NEW_TOOL).found);
	sim_feed(&s, "b", &steady, 1); /* comes back: known, not new */
	assert_int_equal(anomaly__nr_tools(s.d), 3);
	assert_int_equal(raised(s.d, "b", ANOMALY_NEW_TOOL), 0);
	sim_feed(&s, "e", &steady, 1);
	assert_true(is_active(s.d, "e", ANOMALY_NEW_TOOL));
	anomaly__free(s.d);
}

struct changes {
	int n;
	struct anomaly_state last;
	char tool[64];
	int stop_after;
};

static int change_cb(const struct anomaly_state *s, void *ctx)
{
	struct changes *c = ctx;

	c->n++;
	c->last = *s;
	snprintf(c->tool, sizeof(c->tool), "%s", s->tool ? s->tool : "(host)");
	return c->stop_after && c->n >= c->stop_after;
}

static void test_anomaly_changes_list(void **state)
{
	struct anomaly_config cfg;
	struct load slow = steady;
	struct changes c = {0};
	char name[32];
	struct sim s;

	sim_init(&s, NULL, 51);
	sim_feed(&s, "curl", &steady, 80);
	assert_int_equal(anomaly__for_each_change(s.d, change_cb, &c), 0);
	assert_int_equal(c.n, 0);

	slow.median_ns = 50 * MS;
	sim_feed(&s, "curl", &slow, 3);
	assert_int_equal(anomaly__for_each_change(s.d, change_cb, &c), 0);
	assert_int_equal(c.n, 2); /* LATENCY_DEGRADATION, then STATISTICAL_OUTLIER */
	assert_int_equal(c.last.kind, ANOMALY_STATISTICAL_OUTLIER);
	assert_string_equal(c.tool, "curl");
	assert_true(c.last.active);
	c.n = 0;
	assert_int_equal(anomaly__for_each_change(s.d, change_cb, &c), 0);
	assert_int_equal(c.n, 0); /* reset by the previous call */

	sim_feed(&s, "curl", &steady, 3);
	c.stop_after = 1;
	anomaly__for_each_change(s.d, change_cb, &c);
	assert_int_equal(c.n, 1);
	assert_false(c.last.active);
	assert_int_equal(c.last.kind, ANOMALY_LATENCY_DEGRADATION);
	assert_int_equal(c.last.raised_total, 1);
	c.n = 0;
	anomaly__for_each_change(s.d, change_cb, &c); /* the rest went with the early stop */
	assert_int_equal(c.n, 0);
	anomaly__free(s.d);

	/* more than 4096 changes between calls: the excess is counted, not kept */
	anomaly_config__init(&cfg);
	cfg.new_tool_learning_ns = 0;
	sim_init(&s, &cfg, 52);
	slow.executions = 1;
	slow.jitter = false;
	s.step_s = 0;
	s.now = T0;
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "tool-%05d", i);
		sim_feed(&s, name, &slow, 1);
	}
	c = (struct changes){0};
	assert_int_equal(anomaly__for_each_change(s.d, change_cb, &c), 5000 - 4096);
	assert_int_equal(c.n, 4096);
	assert_int_equal(anomaly__for_each_change(s.d, change_cb, &c), 0);
	anomaly__free(s.d);
}

struct order {
	int n;
	char seen[16][32];
	int stop_after;
};

static int order_cb(const struct anomaly_state *s, void *ctx)
{
	struct order *o = ctx;

	snprintf(o->seen[o->n], sizeof(o->seen[0]), "%s/%s", s->tool ? s->tool : "-",
		 anomaly_kind__name(s->kind));
	o->n++;
	return o->n >= o->stop_after;
}

static void test_anomaly_for_each_order_and_stop(void **state)
{
	struct order o = {.stop_after = 16};
	struct anomaly_config cfg;
	struct load nomem = steady;
	struct sim s;

	anomaly_config__init(&cfg);
	cfg.min_windows = 5;
	sim_init(&s, &cfg, 61);
	nomem.mem_bytes = 0;
	sim_feed(&s, "zz", &nomem, 5);
	sim_feed(&s, "aa", &nomem, 5);
	feed_host(s.d, &s.rng, 0.2, 0.01, 5, &s.now);
	anomaly__for_each(s.d, order_cb, &o);
	assert_int_equal(o.n, 9);
	assert_string_equal(o.seen[0], "-/CPU_SPIKE");
	assert_string_equal(o.seen[1], "aa/LATENCY_DEGRADATION");
	assert_string_equal(o.seen[2], "aa/STATISTICAL_OUTLIER");
	assert_string_equal(o.seen[3], "aa/FAILURE_RATE");
	assert_string_equal(o.seen[4], "aa/CPU_SPIKE");
	assert_string_equal(o.seen[5], "zz/LATENCY_DEGRADATION");
	o = (struct order){.stop_after = 2};
	anomaly__for_each(s.d, order_cb, &o);
	assert_int_equal(o.n, 2);
	anomaly__free(s.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_anomaly_kind_names),
	    cmocka_unit_test(test_anomaly_config_defaults),
	    cmocka_unit_test(test_anomaly_latency_fires_and_clears),
	    cmocka_unit_test(test_anomaly_latency_detection_delay),
	    cmocka_unit_test(test_anomaly_cause_names_component),
	    cmocka_unit_test(test_anomaly_outlier_fires_and_clears),
	    cmocka_unit_test(test_anomaly_failure_rate_fires_and_clears),
	    cmocka_unit_test(test_anomaly_failure_rate_needs_evidence),
	    cmocka_unit_test(test_anomaly_latency_sparse_tool),
	    cmocka_unit_test(test_anomaly_cpu_spike_fires_and_clears),
	    cmocka_unit_test(test_anomaly_memory_spike_fires_and_clears),
	    cmocka_unit_test(test_anomaly_host_cpu_spike_fires_and_clears),
	    cmocka_unit_test(test_anomaly_new_tool_after_learning),
	    cmocka_unit_test(test_anomaly_min_sample_gate),
	    cmocka_unit_test(test_anomaly_hysteresis),
	    cmocka_unit_test(test_anomaly_empty_windows),
	    cmocka_unit_test(test_anomaly_max_tools_eviction),
	    cmocka_unit_test(test_anomaly_changes_list),
	    cmocka_unit_test(test_anomaly_for_each_order_and_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
