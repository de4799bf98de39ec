/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic workloads and readers of the anomaly detector shared by its unit tests
 * (test_anomaly.c, test_anomaly_learning.c, test_baseline_codec.c). Include after
 * <cmocka.h>.
 */
#ifndef TOOLWATCH_TESTS_ANOMALY_SIM_H
#define TOOLWATCH_TESTS_ANOMALY_SIM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "anomaly/anomaly.h"
#include "anomaly/baseline_codec.h"

#define T0  1699920000LL /* 2023-11-14 00:00:00 UTC */
#define MS  1e6		 /* ns */
#define MIB (1024.0 * 1024.0)

/* --- a seeded PRNG and synthetic workloads --- */

struct trng {
	uint64_t s;
};

static inline uint64_t trng_next(struct trng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline double trng_uniform(struct trng *r)
{
	return ((double)(trng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

static inline double trng_normal(struct trng *r)
{
	return sqrt(-2 * log(trng_uniform(r))) * cos(2 * M_PI * trng_uniform(r));
}

struct load {
	double median_ns;    /* log-normal durations */
	double sigma;	     /* of ln(duration) */
	uint32_t executions; /* per window; +-10% jitter when jitter is set */
	bool jitter;
	double failure_p;
	double cpu_s;	   /* median CPU seconds per execution (log-normal, sigma 0.3) */
	double mem_bytes;  /* median peak memory (log-normal, sigma 0.2); 0: none */
	double runq_frac;  /* share of each duration spent waiting for a CPU */
	double blkio_frac; /* share of each duration spent waiting for block I/O */
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

static inline void make_window(struct trng *r, const struct load *l, struct anomaly_tool_window *w)
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
		double cpu = l->cpu_s * exp(0.3 * trng_normal(r)), rest = dur / 1e9 - cpu;
		double runq = l->runq_frac * dur / 1e9, blkio = l->blkio_frac * dur / 1e9;

		w->cpu_seconds += cpu;
		w->split_executions++;
		w->split_seconds[ANOMALY_SPLIT_CPU] += cpu;
		w->split_seconds[ANOMALY_SPLIT_RUNQUEUE] += runq;
		w->split_seconds[ANOMALY_SPLIT_BLKIO] += blkio;
		rest -= runq + blkio;
		w->split_seconds[ANOMALY_SPLIT_OTHER] += rest > 0 ? rest : 0;
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

static inline void sim_init(struct sim *s, const struct anomaly_config *cfg, uint64_t seed)
{
	s->d = anomaly__new(cfg);
	assert_non_null(s->d);
	s->rng.s = seed;
	s->now = T0;
	s->step_s = cfg ? (int64_t)(cfg->window_ns / 1000000000ULL) : 60;
}

static inline void sim_feed(struct sim *s, const char *tool, const struct load *l, int windows)
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

static inline int find_cb(const struct anomaly_state *s, void *ctx)
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

static inline struct find find_state(const struct anomaly_detector *d, const char *tool,
				     enum anomaly_kind kind)
{
	struct find f = {.tool = tool, .kind = kind};

	anomaly__for_each(d, find_cb, &f);
	return f;
}

static inline bool is_active(const struct anomaly_detector *d, const char *tool,
			     enum anomaly_kind k)
{
	return find_state(d, tool, k).s.active;
}

static inline uint64_t raised(const struct anomaly_detector *d, const char *tool,
			      enum anomaly_kind k)
{
	return find_state(d, tool, k).s.raised_total;
}

static inline double ratio(const struct anomaly_detector *d, const char *tool, enum anomaly_kind k)
{
	return find_state(d, tool, k).s.deviation_ratio;
}

static inline int count_cb(const struct anomaly_state *s, void *ctx)
{
	uint64_t *n = ctx;

	*n += s->raised_total;
	return 0;
}

static inline uint64_t total_raised(const struct anomaly_detector *d)
{
	uint64_t n = 0;

	anomaly__for_each(d, count_cb, &n);
	return n;
}

static inline int finite_cb(const struct anomaly_state *s, void *ctx)
{
	size_t *n = ctx;

	assert_true(isfinite(s->deviation_ratio));
	assert_true(s->deviation_ratio >= 0 && s->deviation_ratio <= ANOMALY_RATIO_MAX);
	assert_true((unsigned int)s->kind < ANOMALY_KIND_MAX);
	(*n)++;
	return 0;
}

static inline size_t assert_all_finite(const struct anomaly_detector *d)
{
	size_t n = 0;

	anomaly__for_each(d, finite_cb, &n);
	return n;
}

/* Windows fed (at most max) until the flag of kind on tool is raised; max + 1 if never. */
static inline int windows_until(struct sim *s, const char *tool, const struct load *l,
				enum anomaly_kind k, bool want_active, int max)
{
	for (int i = 1; i <= max; i++) {
		sim_feed(s, tool, l, 1);
		if (is_active(s->d, tool, k) == want_active)
			return i;
	}
	return max + 1;
}

static inline void serialize(const struct anomaly_detector *d, struct strbuf *sb)
{
	strbuf__reset(sb);
	assert_int_equal(anomaly__serialize(d, sb), 0);
	assert_true(sb->len > 0);
}

static inline void feed_host(struct anomaly_detector *d, struct trng *r, double mean, double sd,
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

#endif /* TOOLWATCH_TESTS_ANOMALY_SIM_H */
