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

#include "anomaly.h"
#include "baseline_codec.h"

#define T0  1699920000LL /* 2023-11-14 00:00:00 UTC */
#define MS  1e6		 /* ns */
#define MIB (1024.0 * 1024.0)

/* --- a seeded PRNG and synthetic workloads --- */

struct trng {
	uint64_t s;
};

static uint64_t trng_next(struct trng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double trng_uniform(struct trng *r)
{
	return ((double)(trng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static double trng_normal(struct trng *r)
{
	return sqrt(-2 * log(trng_uniform(r))) * cos(2 * M_PI * trng_uniform(r));
}

struct load {
	double median_ns;    /* log-normal durations */
	double sigma;	     /* of ln(duration) */
	uint32_t executions; /* per window; +-10% jitter when jitter is set */
	bool jitter;
	double failure_p;
	double cpu_s;	  /* median CPU seconds per execution (log-normal, sigma 0.3) */
	double mem_bytes; /* median peak memory (log-normal, sigma 0.2); 0: none */
};

static const struct load steady = {
    .median_ns = 10 * MS,
    .sigma = 0.3,
    .executions = 200,
    .jitter = true,
    .failure_p = 0.01,
    .cpu_s = 0.003,
    .mem_bytes = 20 * MIB,
};

static void make_window(struct trng *r, const struct load *l, struct anomaly_tool_window *w)
{
	uint64_t n = l->executions;

	memset(w, 0, sizeof(*w));
	if (l->jitter && n >= 10)
		n = n - n / 10 + trng_next(r) % (n / 5 + 1);
	w->executions = n;
	for (uint64_t i = 0; i < n; i++) {
		double dur = l->median_ns * (l->sigma > 0 ? exp(l->sigma * trng_normal(r)) : 1);

		hist__add(&w->duration, &hist_duration_layout, (uint64_t)dur);
		if (trng_uniform(r) < l->failure_p)
			w->failures++;
		w->cpu_seconds += l->cpu_s * exp(0.3 * trng_normal(r));
		if (l->mem_bytes > 0)
			hist__add(&w->peak_memory, &hist_memory_layout,
				  (uint64_t)(l->mem_bytes * exp(0.2 * trng_normal(r))));
	}
}

/* A single-tool scenario: one window per call, one minute apart by default. */
struct sim {
	struct anomaly_detector *d;
	struct trng rng;
	int64_t now;
	int64_t step_s;
};

static void sim_init(struct sim *s, const struct anomaly_config *cfg, uint64_t seed)
{
	s->d = anomaly__new(cfg);
	assert_non_null(s->d);
	s->rng.s = seed;
	s->now = T0;
	s->step_s = cfg ? (int64_t)(cfg->window_ns / 1000000000ULL) : 60;
}

static void sim_feed(struct sim *s, const char *tool, const struct load *l, int windows)
{
	static struct anomaly_tool_window w;

	for (int i = 0; i < windows; i++) {
		make_window(&s->rng, l, &w);
		s->now += s->step_s;
		assert_int_equal(anomaly__observe_tool(s->d, tool, &w, s->now), 0);
	}
}

/* --- reading the detector --- */

struct find {
	const char *tool;
	enum anomaly_kind kind;
	struct anomaly_state s;
	bool found;
};

static int find_cb(const struct anomaly_state *s, void *ctx)
{
	struct find *f = ctx;

	if (s->kind != f->kind)
		return 0;
	if (!f->tool != !s->tool || (f->tool && strcmp(f->tool, s->tool)))
		return 0;
	f->s = *s;
	f->found = true;
	return 1;
}

static struct find find_state(const struct anomaly_detector *d, const char *tool,
			      enum anomaly_kind kind)
{
	struct find f = {.tool = tool, .kind = kind};

	anomaly__for_each(d, find_cb, &f);
	return f;
}

static bool is_active(const struct anomaly_detector *d, const char *tool, enum anomaly_kind k)
{
	return find_state(d, tool, k).s.active;
}

static uint64_t raised(const struct anomaly_detector *d, const char *tool, enum anomaly_kind k)
{
	return find_state(d, tool, k).s.raised_total;
}

static double ratio(const struct anomaly_detector *d, const char *tool, enum anomaly_kind k)
{
	return find_state(d, tool, k).s.deviation_ratio;
}

static int count_cb(const struct anomaly_state *s, void *ctx)
{
	uint64_t *n = ctx;

	*n += s->raised_total;
	return 0;
}

static uint64_t total_raised(const struct anomaly_detector *d)
{
	uint64_t n = 0;

	anomaly__for_each(d, count_cb, &n);
	return n;
}

static int finite_cb(const struct anomaly_state *s, void *ctx)
{
	size_t *n = ctx;

	assert_true(isfinite(s->deviation_ratio));
	assert_true(s->deviation_ratio >= 0 && s->deviation_ratio <= ANOMALY_RATIO_MAX);
	assert_true((unsigned int)s->kind < ANOMALY_KIND_MAX);
	(*n)++;
	return 0;
}

static size_t assert_all_finite(const struct anomaly_detector *d)
{
	size_t n = 0;

	anomaly__for_each(d, finite_cb, &n);
	return n;
}

/* Windows fed (at most max) until the flag of kind on tool is raised; max + 1 if never. */
static int windows_until(struct sim *s, const char *tool, const struct load *l, enum anomaly_kind k,
			 bool want_active, int max)
{
	for (int i = 1; i <= max; i++) {
		sim_feed(s, tool, l, 1);
		if (is_active(s->d, tool, k) == want_active)
			return i;
	}
	return max + 1;
}

static void serialize(const struct anomaly_detector *d, struct strbuf *sb)
{
	strbuf__reset(sb);
	assert_int_equal(anomaly__serialize(d, sb), 0);
	assert_true(sb->len > 0);
}

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

/* The scenario: ~10 ms learned, then ~50 ms, then back. */
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

static void test_anomaly_cpu_spike_fires_and_clears(void **state)
{
	struct load hot = steady, tiny = steady;
	struct sim s;

	sim_init(&s, NULL, 5);
	sim_feed(&s, "gzip", &steady, 80);
	assert_float_equal(ratio(s.d, "gzip", ANOMALY_CPU_SPIKE), 1.0, 0.1);
	hot.cpu_s = 3 * steady.cpu_s;
	assert_int_equal(windows_until(&s, "gzip", &hot, ANOMALY_CPU_SPIKE, true, 10), 2);
	assert_true(ratio(s.d, "gzip", ANOMALY_CPU_SPIKE) > 2);
	assert_int_equal(windows_until(&s, "gzip", &steady, ANOMALY_CPU_SPIKE, false, 10), 3);

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
	sim_feed(&s, "java", &steady, 80);
	assert_float_equal(ratio(s.d, "java", ANOMALY_MEMORY_SPIKE), 1.0, 0.1);
	fat.mem_bytes = 4 * steady.mem_bytes;
	assert_int_equal(windows_until(&s, "java", &fat, ANOMALY_MEMORY_SPIKE, true, 10), 2);
	assert_true(ratio(s.d, "java", ANOMALY_MEMORY_SPIKE) > 2);
	assert_int_equal(windows_until(&s, "java", &steady, ANOMALY_MEMORY_SPIKE, false, 10), 3);

	/* no memory metrics: no memory baseline, nothing reported */
	none.mem_bytes = 0;
	sim_feed(&s, "sed", &none, 80);
	assert_false(find_state(s.d, "sed", ANOMALY_MEMORY_SPIKE).found);
	assert_true(find_state(s.d, "sed", ANOMALY_LATENCY_DEGRADATION).found);
	anomaly__free(s.d);
}

static void feed_host(struct anomaly_detector *d, struct trng *r, double mean, double sd,
		      int windows, int64_t *now)
{
	for (int i = 0; i < windows; i++) {
		struct anomaly_host_window w = {.cpu_utilisation = mean + sd * trng_normal(r)};

		if (w.cpu_utilisation < 0)
			w.cpu_utilisation = 0;
		*now += 60;
		assert_int_equal(anomaly__observe_host(d, &w, *now), 0);
	}
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

/* A detector with something in every part of its state. */
static struct anomaly_detector *busy_detector(bool seasonal, struct sim *s)
{
	struct load slow = steady;
	struct anomaly_config cfg;

	anomaly_config__init(&cfg);
	cfg.seasonal = seasonal;
	cfg.min_windows = 10;
	cfg.max_tools = 3;
	cfg.new_tool_learning_ns = 5 * cfg.window_ns;
	sim_init(s, &cfg, 21);
	sim_feed(s, "alpha", &steady, 20);
	sim_feed(s, "beta", &steady, 20);
	sim_feed(s, "gamma", &steady, 20);
	sim_feed(s, "delta", &steady, 20); /* evicts alpha: remembered by name */
	slow.median_ns = 40 * MS;
	slow.failure_p = 0.3;
	sim_feed(s, "delta", &slow, 3);
	feed_host(s->d, &s->rng, 0.2, 0.02, 20, &s->now);
	return s->d;
}

static void test_anomaly_persistence_round_trip(void **state)
{
	struct strbuf a = {0}, b = {0}, c = {0};
	struct anomaly_detector *restored;
	struct sim s, s2;

	for (int seasonal = 0; seasonal < 2; seasonal++) {
		busy_detector(seasonal, &s);
		assert_int_equal(anomaly__nr_tools(s.d), 3);
		assert_true(is_active(s.d, "delta", ANOMALY_LATENCY_DEGRADATION));
		assert_true(is_active(s.d, "delta", ANOMALY_NEW_TOOL));
		serialize(s.d, &a);

		restored = busy_detector(seasonal, &s2); /* same config, different state */
		sim_feed(&s2, "epsilon", &steady, 3);
		assert_int_equal(anomaly__deserialize(restored, a.buf, a.len), 0);
		serialize(restored, &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.buf, b.buf, a.len);
		assert_int_equal(anomaly__nr_tools(restored), 3);
		assert_true(is_active(restored, "delta", ANOMALY_LATENCY_DEGRADATION));
		assert_int_equal(raised(restored, "delta", ANOMALY_FAILURE_RATE),
				 raised(s.d, "delta", ANOMALY_FAILURE_RATE));

		/* both go on identically (PRNG state included) */
		s2.now = s.now;
		s2.rng = s.rng;
		sim_feed(&s, "beta", &steady, 30);
		sim_feed(&s2, "beta", &steady, 30);
		/* alpha was forgotten but is known: not a new tool */
		sim_feed(&s, "alpha", &steady, 1);
		sim_feed(&s2, "alpha", &steady, 1);
		assert_int_equal(raised(restored, "alpha", ANOMALY_NEW_TOOL), 0);
		serialize(s.d, &a);
		serialize(restored, &c);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.buf, c.buf, a.len);
		anomaly__free(s.d);
		anomaly__free(restored);
	}
	strbuf__free(&a);
	strbuf__free(&b);
	strbuf__free(&c);
}

static void test_anomaly_seasonal_config_change_keeps_baselines(void **state)
{
	struct anomaly_config cfg;
	struct anomaly_detector *other;
	struct strbuf sb = {0};
	struct sim s;

	for (int seasonal = 0; seasonal < 2; seasonal++) {
		busy_detector(seasonal, &s);
		serialize(s.d, &sb);
		anomaly__free(s.d);
		anomaly_config__init(&cfg);
		cfg.min_windows = 10;
		cfg.max_tools = 2; /* fewer than in the file: least recently active go */
		cfg.seasonal = !seasonal;
		other = anomaly__new(&cfg);
		assert_non_null(other);
		assert_int_equal(anomaly__deserialize(other, sb.buf, sb.len), 0);
		assert_int_equal(anomaly__nr_tools(other), 2);
		assert_true(is_active(other, "delta", ANOMALY_LATENCY_DEGRADATION));
		s.d = other;
		sim_feed(&s, "delta", &steady, 5);
		assert_all_finite(other);
		anomaly__free(other);
	}
	strbuf__free(&sb);
}

static uint32_t ref_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320 ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

static void fix_crc(char *buf, size_t len)
{
	uint32_t crc = ref_crc32(buf, len - 4);

	for (int i = 0; i < 4; i++)
		buf[len - 4 + i] = (char)(crc >> (8 * i));
}

static void test_anomaly_deserialize_rejects_bad_input(void **state)
{
	static const char foreign[] = "# HELP tool_executions_total Finished executions.\n";
	struct strbuf good = {0}, before = {0}, after = {0};
	struct anomaly_config cfg;
	struct anomaly_detector *d, *other;
	char *buf;
	struct sim s;
	int err;

	busy_detector(false, &s);
	serialize(s.d, &good);
	anomaly__free(s.d);
	assert_int_equal(ref_crc32("123456789", 9), 0xcbf43926);
	assert_int_equal(ref_crc32(good.buf, good.len - 4),
			 (uint32_t)(uint8_t)good.buf[good.len - 4] |
			     (uint32_t)(uint8_t)good.buf[good.len - 3] << 8 |
			     (uint32_t)(uint8_t)good.buf[good.len - 2] << 16 |
			     (uint32_t)(uint8_t)good.buf[good.len - 1] << 24);

	d = busy_detector(false, &s);
	sim_feed(&s, "zeta", &steady, 2);
	serialize(d, &before);

	assert_int_equal(anomaly__deserialize(d, NULL, 0), -EPROTO);
	assert_int_equal(anomaly__deserialize(d, foreign, sizeof(foreign) - 1), -EPROTO);
	assert_int_equal(anomaly__deserialize(d, "", 0), -EPROTO);

	/* every truncation */
	for (size_t len = 0; len < good.len; len++) {
		err = anomaly__deserialize(d, good.buf, len);
		assert_true(err == -EPROTO || err == -EBADMSG);
	}
	/* every byte with one bit flipped */
	buf = malloc(good.len + 16);
	assert_non_null(buf);
	for (size_t i = 0; i < good.len; i++) {
		memcpy(buf, good.buf, good.len);
		buf[i] ^= (char)(1u << (i % 8));
		err = anomaly__deserialize(d, buf, good.len);
		assert_true(err == -EPROTO || err == -EBADMSG || err == -EPROTONOSUPPORT);
	}
	/* trailing garbage */
	memcpy(buf, good.buf, good.len);
	memset(buf + good.len, 0, 16);
	assert_int_equal(anomaly__deserialize(d, buf, good.len + 16), -EBADMSG);
	/* another version, with a valid checksum */
	memcpy(buf, good.buf, good.len);
	buf[8] = 2;
	fix_crc(buf, good.len);
	assert_int_equal(anomaly__deserialize(d, buf, good.len), -EPROTONOSUPPORT);
	/* unknown header flag, valid checksum */
	memcpy(buf, good.buf, good.len);
	buf[12] |= 0x80;
	fix_crc(buf, good.len);
	assert_int_equal(anomaly__deserialize(d, buf, good.len), -EBADMSG);
	/* a ratio set to NaN (the host's first flag) */
	memcpy(buf, good.buf, good.len);
	memset(buf + 40 + 25 + 8 + 1 + 1 + 4 + 4 + 8 + 8, 0xff, 8);
	fix_crc(buf, good.len);
	assert_int_equal(anomaly__deserialize(d, buf, good.len), -EBADMSG);

	serialize(d, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.buf, after.buf, before.len); /* untouched */

	/* learned with another window length or span */
	anomaly_config__init(&cfg);
	cfg.window_ns = 2000000000ULL;
	other = anomaly__new(&cfg);
	assert_non_null(other);
	assert_int_equal(anomaly__deserialize(other, good.buf, good.len), -ESTALE);
	anomaly__free(other);
	anomaly_config__init(&cfg);
	cfg.baseline_ns = 30ULL * 86400 * 1000000000ULL;
	other = anomaly__new(&cfg);
	assert_non_null(other);
	assert_int_equal(anomaly__deserialize(other, good.buf, good.len), -ESTALE);
	anomaly__free(other);

	free(buf);
	anomaly__free(d);
	strbuf__free(&good);
	strbuf__free(&before);
	strbuf__free(&after);
}

/* Mutations behind a valid checksum reach the parser: it must never crash or over-read. */
static void test_anomaly_deserialize_survives_mutations(void **state)
{
	struct strbuf good = {0}, sb = {0};
	struct anomaly_detector *d;
	struct trng r = {31337};
	size_t accepted = 0;
	char *buf;
	struct sim s;

	for (int seasonal = 0; seasonal < 2; seasonal++) {
		busy_detector(seasonal, &s);
		serialize(s.d, &good);
		anomaly__free(s.d);
		buf = malloc(good.len);
		assert_non_null(buf);
		d = busy_detector(seasonal, &s);
		for (int i = 0; i < 3000; i++) {
			int n = 1 + (int)(trng_next(&r) % 4);
			size_t len = good.len;

			memcpy(buf, good.buf, good.len);
			for (int j = 0; j < n; j++) {
				size_t at = 40 + trng_next(&r) % (good.len - 44);

				buf[at] = (char)(i % 3 ? trng_next(&r) : (uint8_t)buf[at] ^ 0xff);
			}
			if (i % 10 == 0) /* also a shorter payload with a consistent header */
				len = 44 + trng_next(&r) % (good.len - 44);
			if (len != good.len) {
				uint64_t payload = len - 44;

				for (int b = 0; b < 8; b++)
					buf[32 + b] = (char)(payload >> (8 * b));
			}
			fix_crc(buf, len);
			if (anomaly__deserialize(d, buf, len))
				continue;
			accepted++;
			/* whatever was accepted is usable */
			sim_feed(&s, "delta", &steady, 1);
			assert_all_finite(d);
			strbuf__reset(&sb);
			assert_int_equal(anomaly__serialize(d, &sb), 0);
		}
		free(buf);
		anomaly__free(d);
	}
	print_message("mutated records accepted (valid values): %zu of 6000\n", accepted);
	strbuf__free(&good);
	strbuf__free(&sb);
}

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
	    cmocka_unit_test(test_anomaly_seasonal_hour_baselines),
	    cmocka_unit_test(test_anomaly_baseline_not_poisoned),
	    cmocka_unit_test(test_anomaly_relearn_after_sustained_shift),
	    cmocka_unit_test(test_anomaly_zero_variance),
	    cmocka_unit_test(test_anomaly_extreme_values),
	    cmocka_unit_test(test_anomaly_false_positives_steady_workload),
	    cmocka_unit_test(test_anomaly_false_positives_varied_workloads),
	    cmocka_unit_test(test_anomaly_persistence_round_trip),
	    cmocka_unit_test(test_anomaly_seasonal_config_change_keeps_baselines),
	    cmocka_unit_test(test_anomaly_deserialize_rejects_bad_input),
	    cmocka_unit_test(test_anomaly_deserialize_survives_mutations),
	    cmocka_unit_test(test_anomaly_max_tools_eviction),
	    cmocka_unit_test(test_anomaly_changes_list),
	    cmocka_unit_test(test_anomaly_for_each_order_and_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
