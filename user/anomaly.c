// SPDX-License-Identifier: GPL-2.0
/*
 * Baselines and anomaly flags. The approach (decayed histograms and decayed reservoir
 * samples, trust gates, hysteresis, poisoning guard, seasonality) is described in
 * anomaly.h; this file adds the why of the less obvious choices.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly.h"

#define NS_PER_S	     1000000000ULL
#define NR_BUCKETS	     (HIST_MAX_BOUNDS + 1)
#define HOURS		     24
#define RESERVOIR_GLOBAL     128 /* windows sampled per statistic of a global baseline */
#define RESERVOIR_HOUR	     48	 /* of an hour-of-day baseline: it sees 1/24 of the windows */
#define CHANGES_MAX	     4096
#define KNOWN_MAX	     4096 /* names of forgotten tools remembered for NEW_TOOL */
#define VALUE_MAX	     1e15 /* statistics are clamped to [0, VALUE_MAX] so sums stay finite */
#define WEIGHT_MAX	     1e300 /* a bucket weight; 32 of them still add up to a finite double */
#define WEIGHT_MIN	     1e-200 /* decayed below this a weight is 0 (no denormals) */
#define MAD_TO_SIGMA	     1.4826 /* MAD x this = standard deviation (normal) */
#define OUTLIER_MIN_SIGMA_NS 1000.0 /* sigma of the mean duration is never below ~1 us */

#define FORMAT_MAGIC	   "\x89TWBASE\n"
#define FORMAT_MAGIC_LEN   8
#define FORMAT_VERSION	   1
#define FORMAT_F_HOURS	   0x1
#define FORMAT_HEADER_LEN  (FORMAT_MAGIC_LEN + 4 + 4 + 8 + 8 + 8)
#define FORMAT_TRAILER_LEN 4

/* What a baseline learns, each with its own trust counters and poisoning guard. */
enum group {
	GROUP_DURATION, /* LATENCY_DEGRADATION, STATISTICAL_OUTLIER */
	GROUP_CPU,	/* CPU_SPIKE (tool: s per execution; host: utilisation) */
	GROUP_MEMORY,	/* MEMORY_SPIKE */
	GROUP_MAX,
	GROUP_NONE = -1,
};

static const int kind_group[ANOMALY_KIND_MAX] = {
    [ANOMALY_LATENCY_DEGRADATION] = GROUP_DURATION,
    [ANOMALY_STATISTICAL_OUTLIER] = GROUP_DURATION,
    [ANOMALY_FAILURE_RATE] = GROUP_NONE,
    [ANOMALY_CPU_SPIKE] = GROUP_CPU,
    [ANOMALY_MEMORY_SPIKE] = GROUP_MEMORY,
    [ANOMALY_NEW_TOOL] = GROUP_NONE,
};

/* One sampled window statistic; the reservoir keeps the smallest keys. */
struct rsample {
	double value;
	double key;
};

struct reservoir {
	uint32_t n;
	uint32_t cap;
	struct rsample *s;
};

/* Bucket weights of a histogram, decayed lazily to the detector's age at each update. */
struct dhist {
	uint64_t last_age;
	double w[NR_BUCKETS];
};

struct baseline {
	uint64_t windows[GROUP_MAX];	/* windows learned, not decayed: the trust gate */
	uint64_t samples[GROUP_MAX];	/* executions (observations) learned */
	struct dhist duration;		/* ns per execution */
	struct dhist memory;		/* peak bytes per execution */
	struct reservoir mean_duration; /* ln of the mean ns per execution of a window */
	struct reservoir cpu;		/* CPU s per execution of a window; host: utilisation */
};

struct flag {
	bool active;
	uint32_t bad_streak;  /* consecutive anomalous evaluated windows while clear */
	uint32_t good_streak; /* consecutive clean (or unevaluated) windows while raised */
	uint64_t raised_total;
	uint64_t raised_at_age;
	double ratio;
};

/* A tool, or the host (name NULL, only flags[ANOMALY_CPU_SPIKE] and the cpu group used). */
struct tool {
	char *name;
	uint64_t last_active_age; /* age of the last window with executions */
	bool learned;		  /* the duration baseline has been trusted once */
	struct flag flags[ANOMALY_KIND_MAX];
	struct baseline global;
	struct baseline *hours; /* HOURS of them with cfg.seasonal, else NULL */
};

struct change {
	char *tool; /* NULL: the host */
	enum anomaly_kind kind;
	bool active;
	double ratio;
	uint64_t raised_total;
};

struct anomaly_detector {
	struct anomaly_config cfg;
	double span_windows; /* baseline_ns / window_ns: the decay time constant in windows */
	uint64_t learning_windows;
	uint64_t hold_windows;
	uint64_t relearn_windows;

	uint64_t age; /* distinct windows seen */
	int64_t last_window_end;
	bool have_window_end;
	uint64_t rng;

	struct tool host;
	struct tool **tools; /* sorted by name */
	size_t nr_tools;
	size_t cap_tools;

	uint64_t known[KNOWN_MAX]; /* ring of name hashes of forgotten tools */
	uint32_t nr_known;
	uint32_t known_next;

	struct change *changes;
	size_t nr_changes;
	uint64_t changes_dropped;
};

enum verdict {
	VERDICT_NONE, /* not evaluated: no data or no trusted baseline */
	VERDICT_CLEAN,
	VERDICT_ANOMALOUS,
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

static double ratio_of(double current, double baseline)
{
	double r;

	if (!(baseline > 0))
		return current > 0 ? ANOMALY_RATIO_MAX : 1.0;
	r = current / baseline;
	if (!(r >= 0))
		return 0;
	return r > ANOMALY_RATIO_MAX ? ANOMALY_RATIO_MAX : r;
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

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Linear interpolation between order statistics of sorted v (R's type 7). */
static double sorted_quantile(const double *v, uint32_t n, double q)
{
	double h;
	uint32_t lo;

	if (!n)
		return 0;
	h = q * (double)(n - 1);
	lo = (uint32_t)h;
	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

/*
 * The q-quantile of bucket weights w laid out as layout, interpolated inside its bucket
 * exactly as hist__quantile() does, so window and baseline are read the same way.
 */
static double weights_quantile(const double *w, const struct hist_layout *layout, double q)
{
	double total = 0, rank, seen = 0, lower = 0;

	for (unsigned int i = 0; i <= layout->nr_bounds; i++)
		total += w[i];
	if (!(total > 0))
		return 0;
	rank = q * total;
	for (unsigned int i = 0; i < layout->nr_bounds; i++) {
		double c = w[i], upper = (double)layout->bounds[i];

		if (c > 0 && seen + c >= rank) {
			double f = (rank - seen) / c;

			f = f < 0 ? 0 : f > 1 ? 1 : f;
			return lower + (upper - lower) * f;
		}
		seen += c;
		lower = upper;
	}
	return (double)layout->bounds[layout->nr_bounds - 1];
}

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, dd = 1 - (a + b) * x / (a + 1), h;

	dd = 1 / (fabs(dd) < tiny ? tiny : dd);
	h = dd;
	for (int m = 1; m <= 1000; m++) {
		double m2 = 2.0 * m, num, delta;

		num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		dd = 1 + num * dd;
		c = 1 + num / c;
		dd = 1 / (fabs(dd) < tiny ? tiny : dd);
		c = fabs(c) < tiny ? tiny : c;
		h *= dd * c;
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		dd = 1 + num * dd;
		c = 1 + num / c;
		dd = 1 / (fabs(dd) < tiny ? tiny : dd);
		c = fabs(c) < tiny ? tiny : c;
		delta = dd * c;
		h *= delta;
		if (fabs(delta - 1) < 1e-12)
			break;
	}
	return h;
}

/*
 * P(X >= k) for X ~ Binomial(n, p), k real (a bucket split by a threshold contributes a
 * fraction of its count): the regularised incomplete beta I_p(k, n - k + 1), or a normal
 * approximation when n is large. Always in [0, 1].
 */
static double binomial_tail(double k, double n, double p)
{
	double a, b, front, r;

	if (k <= 0 || p >= 1)
		return 1;
	if (k > n || p <= 0)
		return 0;
	if (n > 1e5) {
		double sd = sqrt(n * p * (1 - p));

		return 0.5 * erfc((k - 0.5 - n * p) / (sd * M_SQRT2));
	}
	a = k;
	b = n - k + 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(p) + b * log1p(-p));
	if (p < (a + 1) / (a + b + 2))
		r = front * beta_cf(a, b, p) / a;
	else
		r = 1 - front * beta_cf(b, a, 1 - p) / b;
	if (!(r >= 0))
		return 0;
	return r > 1 ? 1 : r;
}

/* Fraction of weights w above x, interpolated inside x's bucket as the quantiles are. */
static double weights_above(const double *w, const struct hist_layout *layout, double x)
{
	double total = 0, above = 0, lower = 0;

	for (unsigned int i = 0; i <= layout->nr_bounds; i++) {
		double upper = i < layout->nr_bounds ? (double)layout->bounds[i] : INFINITY;

		total += w[i];
		if (lower >= x)
			above += w[i];
		else if (upper > x && i < layout->nr_bounds)
			above += w[i] * (upper - x) / (upper - lower);
		else if (i == layout->nr_bounds)
			above += w[i];
		lower = upper;
	}
	if (!(total > 0))
		return 0;
	above /= total;
	return above < 0 ? 0 : above > 1 ? 1 : above;
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
	double cur = weights_quantile(win, layout, 0.95);
	double ref = weights_quantile(base, layout, 0.95);
	double limit = ratio_limit * ref, k, p0;

	*ratio = ratio_of(cur, ref);
	if (!(cur > limit))
		return VERDICT_CLEAN;
	if (alpha >= 1)
		return VERDICT_ANOMALOUS;
	k = n * weights_above(win, layout, limit);
	p0 = weights_above(base, layout, limit);
	return binomial_tail(k, n, p0) < alpha ? VERDICT_ANOMALOUS : VERDICT_CLEAN;
}

/* Copies a window's bucket counts into doubles; returns their total. */
static double hist_weights(const struct hist *h, const struct hist_layout *layout, double *w)
{
	double total = 0;

	for (unsigned int i = 0; i < NR_BUCKETS; i++) {
		w[i] = i <= layout->nr_bounds ? (double)h->counts[i] : 0;
		total += w[i];
	}
	return total;
}

/* --- baselines --- */

static void dhist_add(struct dhist *h, const double *w, uint64_t age, double span)
{
	double f = 1;

	if (age > h->last_age)
		f = exp(-(double)(age - h->last_age) / span);
	for (unsigned int i = 0; i < NR_BUCKETS; i++) {
		double v = h->w[i] * f + w[i];

		h->w[i] = v < WEIGHT_MIN ? 0 : v > WEIGHT_MAX ? WEIGHT_MAX : v;
	}
	h->last_age = age;
}

/*
 * Weighted reservoir sampling (Efraimidis-Spirakis A-Res) with forward decay: weight
 * e^(age/span), key u^(1/weight), keep the largest keys. In logarithms, which never
 * overflow: keep the smallest ln(-ln u) - age/span.
 */
static void reservoir_add(struct reservoir *r, double value, uint64_t age, double span,
			  uint64_t *rng)
{
	double u = ((double)(rng_next(rng) >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
	double key = log(-log(u)) - (double)age / span;
	uint32_t worst = 0;

	if (r->n < r->cap) {
		r->s[r->n++] = (struct rsample){value, key};
		return;
	}
	for (uint32_t i = 1; i < r->n; i++)
		if (r->s[i].key > r->s[worst].key)
			worst = i;
	if (key < r->s[worst].key)
		r->s[worst] = (struct rsample){value, key};
}

/* Sorted sample values into v (room for RESERVOIR_GLOBAL); returns how many. */
static uint32_t reservoir_sorted(const struct reservoir *r, double *v)
{
	for (uint32_t i = 0; i < r->n; i++)
		v[i] = r->s[i].value;
	qsort(v, r->n, sizeof(*v), cmp_double);
	return r->n;
}

static void reservoir_median_mad(const struct reservoir *r, double *median, double *mad)
{
	double v[RESERVOIR_GLOBAL];
	uint32_t n = reservoir_sorted(r, v);

	*median = sorted_quantile(v, n, 0.5);
	for (uint32_t i = 0; i < n; i++)
		v[i] = fabs(v[i] - *median);
	qsort(v, n, sizeof(*v), cmp_double);
	*mad = sorted_quantile(v, n, 0.5);
}

static double reservoir_quantile(const struct reservoir *r, double q)
{
	double v[RESERVOIR_GLOBAL];
	uint32_t n = reservoir_sorted(r, v);

	return sorted_quantile(v, n, q);
}

static int baseline_init(struct baseline *b, uint32_t cap)
{
	struct rsample *s = calloc(2 * (size_t)cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	b->mean_duration = (struct reservoir){.cap = cap, .s = s};
	b->cpu = (struct reservoir){.cap = cap, .s = s + cap};
	return 0;
}

static void baseline_fini(struct baseline *b)
{
	free(b->mean_duration.s); /* one block for both reservoirs */
	b->mean_duration.s = b->cpu.s = NULL;
}

static void baseline_reset_group(struct baseline *b, int g)
{
	b->windows[g] = 0;
	b->samples[g] = 0;
	switch (g) {
	case GROUP_DURATION:
		memset(&b->duration, 0, sizeof(b->duration));
		b->mean_duration.n = 0;
		break;
	case GROUP_CPU:
		b->cpu.n = 0;
		break;
	case GROUP_MEMORY:
		memset(&b->memory, 0, sizeof(b->memory));
		break;
	}
}

static bool baseline_trusted(const struct anomaly_detector *d, const struct baseline *b, int g,
			     bool host)
{
	if (b->windows[g] < d->cfg.min_windows)
		return false;
	return host || b->samples[g] >= d->cfg.min_samples;
}

static void tool_free(struct tool *t)
{
	if (!t)
		return;
	baseline_fini(&t->global);
	if (t->hours) {
		for (int h = 0; h < HOURS; h++)
			baseline_fini(&t->hours[h]);
		free(t->hours);
	}
	free(t->name);
}

/* Initialises t's baselines (not its name); on failure t holds nothing to free. */
static int tool_init(struct tool *t, bool seasonal)
{
	int err, h;

	memset(t, 0, sizeof(*t));
	err = baseline_init(&t->global, RESERVOIR_GLOBAL);
	if (err)
		return err;
	if (!seasonal)
		return 0;
	t->hours = calloc(HOURS, sizeof(*t->hours));
	if (!t->hours) {
		err = -ENOMEM;
		goto free_global;
	}
	for (h = 0; h < HOURS; h++) {
		err = baseline_init(&t->hours[h], RESERVOIR_HOUR);
		if (err)
			goto free_hours;
	}
	return 0;
free_hours:
	while (h--)
		baseline_fini(&t->hours[h]);
	free(t->hours);
	t->hours = NULL;
free_global:
	baseline_fini(&t->global);
	return err;
}

/* The baseline a window is judged against: its hour's once trusted, else the global one. */
static const struct baseline *judge_baseline(const struct anomaly_detector *d, const struct tool *t,
					     int g, int hour)
{
	bool host = !t->name;

	if (t->hours && baseline_trusted(d, &t->hours[hour], g, host))
		return &t->hours[hour];
	if (baseline_trusted(d, &t->global, g, host))
		return &t->global;
	return NULL;
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
	    !(cfg->outlier_min_sigma >= 0) || !(cfg->tail_alpha > 0 && cfg->tail_alpha <= 1) ||
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
	d->rng = 0x746f6f6c77617463ULL; /* fixed seed: reproducible runs */
	err = tool_init(&d->host, cfg->seasonal);
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
		tool_free(d->tools[i]);
		free(d->tools[i]);
	}
	free(d->tools);
	tool_free(&d->host);
	changes_clear(d);
	free(d->changes);
	free(d);
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
	*c = (struct change){
	    .kind = kind, .active = f->active, .ratio = f->ratio, .raised_total = f->raised_total};
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
	f->bad_streak = f->good_streak = 0;
	f->raised_total = sat_add64(f->raised_total, 1);
	f->raised_at_age = d->age;
	record_change(d, t, kind);
}

static void flag_clear(struct anomaly_detector *d, struct tool *t, enum anomaly_kind kind)
{
	struct flag *f = &t->flags[kind];

	f->active = false;
	f->bad_streak = f->good_streak = 0;
	record_change(d, t, kind);
}

/*
 * Hysteresis: raise after raise_after anomalous windows in a row (outlier_raise_after for
 * STATISTICAL_OUTLIER), clear after clear_after clean ones.
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
			if (f->bad_streak >= (kind == ANOMALY_STATISTICAL_OUTLIER
						  ? d->cfg.outlier_raise_after
						  : d->cfg.raise_after))
				flag_raise(d, t, kind);
		}
		return;
	}
	if (v == VERDICT_ANOMALOUS) {
		f->good_streak = 0;
		return;
	}
	f->good_streak = sat_inc32(f->good_streak);
	if (f->good_streak >= d->cfg.clear_after)
		flag_clear(d, t, kind);
}

/*
 * A flag raised for relearn_windows means the anomaly is the new normal: its group's
 * baselines start learning again (the flag clears through unevaluated windows).
 */
static void maybe_relearn(struct anomaly_detector *d, struct tool *t)
{
	if (!d->relearn_windows)
		return;
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		struct flag *f = &t->flags[k];
		int g = kind_group[k];

		if (g == GROUP_NONE || !f->active || d->age - f->raised_at_age < d->relearn_windows)
			continue;
		baseline_reset_group(&t->global, g);
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
static bool group_disturbed(const struct tool *t, int g)
{
	for (int k = 0; k < ANOMALY_KIND_MAX; k++)
		if (kind_group[k] == g && t->flags[k].active)
			return true;
	return false;
}

/* What one window contributes to a tool's baselines. */
struct window_stats {
	double duration_w[NR_BUCKETS];
	double nr_durations;
	double mean_duration_ns;
	double log_mean_duration; /* ln of mean_duration_ns (>= 1 ns) */
	double cpu_per_execution; /* host: utilisation */
	uint64_t executions;	  /* host: 1 */
	double memory_w[NR_BUCKETS];
	double nr_memory;
};

static void learn(struct anomaly_detector *d, struct tool *t, int hour,
		  const struct window_stats *ws)
{
	struct baseline *slots[2] = {&t->global, t->hours ? &t->hours[hour] : NULL};
	bool host = !t->name;
	double span = d->span_windows;

	for (int g = 0; g < GROUP_MAX; g++) {
		bool disturbed = group_disturbed(t, g);

		for (int i = 0; i < 2; i++) {
			struct baseline *b = slots[i];

			if (!b || (disturbed && baseline_trusted(d, b, g, host)))
				continue;
			switch (g) {
			case GROUP_DURATION:
				if (host || !(ws->nr_durations > 0))
					continue;
				dhist_add(&b->duration, ws->duration_w, d->age, span);
				reservoir_add(&b->mean_duration, ws->log_mean_duration, d->age,
					      span, &d->rng);
				b->samples[g] =
				    sat_add64(b->samples[g], count_of(ws->nr_durations));
				break;
			case GROUP_CPU:
				if (!ws->executions)
					continue;
				reservoir_add(&b->cpu, ws->cpu_per_execution, d->age, span,
					      &d->rng);
				b->samples[g] = sat_add64(b->samples[g], ws->executions);
				break;
			case GROUP_MEMORY:
				if (host || !(ws->nr_memory > 0))
					continue;
				dhist_add(&b->memory, ws->memory_w, d->age, span);
				b->samples[g] = sat_add64(b->samples[g], count_of(ws->nr_memory));
				break;
			}
			b->windows[g] = sat_add64(b->windows[g], 1);
		}
	}
}

static enum verdict judge_above(bool anomalous)
{
	return anomalous ? VERDICT_ANOMALOUS : VERDICT_CLEAN;
}

static void evaluate_tool(const struct anomaly_detector *d, const struct tool *t, int hour,
			  const struct anomaly_tool_window *w, const struct window_stats *ws,
			  enum verdict *v, double *ratio)
{
	const struct anomaly_config *cfg = &d->cfg;
	const struct baseline *b;

	b = judge_baseline(d, t, GROUP_DURATION, hour);
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
		double median, mad, sigma, cur = ws->log_mean_duration;

		reservoir_median_mad(&b->mean_duration, &median, &mad);
		/* zero variance (identical windows) must not make every change infinite */
		sigma = fmax(MAD_TO_SIGMA * mad, log1p(cfg->outlier_min_sigma));
		sigma = fmax(sigma, log1p(OUTLIER_MIN_SIGMA_NS / exp(median)));
		ratio[ANOMALY_STATISTICAL_OUTLIER] = ratio_of(ws->mean_duration_ns, exp(median));
		v[ANOMALY_STATISTICAL_OUTLIER] =
		    judge_above(fabs(cur - median) > cfg->outlier_sigmas * sigma);
	}
	if (t->learned && w->executions && w->executions >= cfg->failure_min_executions) {
		double rate = (double)w->failures / (double)w->executions;

		ratio[ANOMALY_FAILURE_RATE] = ratio_of(rate, cfg->failure_rate);
		/* and improbable at exactly failure_rate: 2 of 20 is not yet evidence, 4 is */
		v[ANOMALY_FAILURE_RATE] =
		    judge_above(rate > cfg->failure_rate &&
				(cfg->failure_alpha >= 1 ||
				 binomial_tail((double)w->failures, (double)w->executions,
					       cfg->failure_rate) < cfg->failure_alpha));
	}
	b = judge_baseline(d, t, GROUP_CPU, hour);
	if (b && ws->executions && b->cpu.n) {
		double cur = ws->cpu_per_execution, p90 = reservoir_quantile(&b->cpu, 0.9);

		ratio[ANOMALY_CPU_SPIKE] = ratio_of(cur, p90);
		v[ANOMALY_CPU_SPIKE] =
		    judge_above(cur > cfg->cpu_ratio * p90 && cur - p90 >= cfg->cpu_min_excess_s);
	}
	b = judge_baseline(d, t, GROUP_MEMORY, hour);
	if (b && ws->nr_memory > 0)
		v[ANOMALY_MEMORY_SPIKE] =
		    judge_p95(ws->memory_w, ws->nr_memory, b->memory.w, &hist_memory_layout,
			      cfg->memory_ratio, cfg->tail_alpha, &ratio[ANOMALY_MEMORY_SPIKE]);
}

static bool known_contains(const struct anomaly_detector *d, uint64_t hash)
{
	for (uint32_t i = 0; i < d->nr_known; i++)
		if (d->known[i] == hash)
			return true;
	return false;
}

static void known_add(struct anomaly_detector *d, uint64_t hash)
{
	if (known_contains(d, hash))
		return;
	d->known[d->known_next] = hash;
	d->known_next = (d->known_next + 1) % KNOWN_MAX;
	if (d->nr_known < KNOWN_MAX)
		d->nr_known++;
}

/* Index of name in the sorted tools, or where it would go (*found false). */
static size_t tool_index(const struct anomaly_detector *d, const char *name, bool *found)
{
	size_t lo = 0, hi = d->nr_tools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d->tools[mid]->name, name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Forgets the least recently active tool, remembering its name for NEW_TOOL. */
static void evict_one(struct anomaly_detector *d)
{
	size_t victim = 0;
	struct tool *t;

	for (size_t i = 1; i < d->nr_tools; i++)
		if (d->tools[i]->last_active_age < d->tools[victim]->last_active_age)
			victim = i;
	t = d->tools[victim];
	known_add(d, name_hash(t->name));
	tool_free(t);
	free(t);
	memmove(&d->tools[victim], &d->tools[victim + 1],
		(d->nr_tools - victim - 1) * sizeof(*d->tools));
	d->nr_tools--;
}

static int tools_reserve(struct anomaly_detector *d, size_t n)
{
	struct tool **tools;
	size_t cap;

	if (n <= d->cap_tools)
		return 0;
	cap = d->cap_tools ? d->cap_tools * 2 : 16;
	while (cap < n)
		cap *= 2;
	tools = realloc(d->tools, cap * sizeof(*tools));
	if (!tools)
		return -ENOMEM;
	d->tools = tools;
	d->cap_tools = cap;
	return 0;
}

static struct tool *tool_new(const char *name, bool seasonal)
{
	struct tool *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	if (tool_init(t, seasonal)) {
		free(t);
		return NULL;
	}
	t->name = strdup(name);
	if (!t->name) {
		tool_free(t);
		free(t);
		return NULL;
	}
	return t;
}

/* Inserts t (not present) keeping the order; room was reserved. */
static void tools_insert(struct anomaly_detector *d, struct tool *t)
{
	bool found;
	size_t i;

	while (d->nr_tools >= d->cfg.max_tools)
		evict_one(d);
	i = tool_index(d, t->name, &found);
	memmove(&d->tools[i + 1], &d->tools[i], (d->nr_tools - i) * sizeof(*d->tools));
	d->tools[i] = t;
	d->nr_tools++;
}

int anomaly__observe_tool(struct anomaly_detector *d, const char *tool,
			  const struct anomaly_tool_window *w, int64_t window_end_unix_s)
{
	enum verdict v[ANOMALY_KIND_MAX] = {0};
	double ratio[ANOMALY_KIND_MAX] = {0};
	struct window_stats ws;
	struct tool *t, *fresh = NULL;
	size_t len, idx;
	bool found;
	int hour;

	if (!d || !tool || !w || !*tool || w->failures > w->executions ||
	    !isfinite(w->cpu_seconds) || w->cpu_seconds < 0)
		return -EINVAL;
	len = strnlen(tool, ANOMALY_TOOL_NAME_MAX);
	if (len >= ANOMALY_TOOL_NAME_MAX)
		return -ENAMETOOLONG;

	idx = tool_index(d, tool, &found);
	if (found) {
		t = d->tools[idx];
	} else {
		if (tools_reserve(d, d->nr_tools + 1))
			return -ENOMEM;
		fresh = tool_new(tool, d->cfg.seasonal);
		if (!fresh)
			return -ENOMEM;
		t = fresh;
	}
	advance_age(d, window_end_unix_s);
	hour = hour_of(window_end_unix_s);

	if (fresh) {
		tools_insert(d, fresh);
		if (d->hold_windows && d->age > d->learning_windows &&
		    !known_contains(d, name_hash(tool)))
			flag_raise(d, t, ANOMALY_NEW_TOOL);
	} else if (t->flags[ANOMALY_NEW_TOOL].active &&
		   d->age - t->flags[ANOMALY_NEW_TOOL].raised_at_age >= d->hold_windows) {
		flag_clear(d, t, ANOMALY_NEW_TOOL);
	}
	if (w->executions)
		t->last_active_age = d->age;

	memset(&ws, 0, sizeof(ws));
	ws.nr_durations = hist_weights(&w->duration, &hist_duration_layout, ws.duration_w);
	if (ws.nr_durations > 0)
		ws.mean_duration_ns = clamp_value((double)w->duration.sum / ws.nr_durations);
	ws.log_mean_duration = log(fmax(ws.mean_duration_ns, 1));
	ws.executions = w->executions;
	if (w->executions)
		ws.cpu_per_execution = clamp_value(w->cpu_seconds / (double)w->executions);
	ws.nr_memory = hist_weights(&w->peak_memory, &hist_memory_layout, ws.memory_w);

	evaluate_tool(d, t, hour, w, &ws, v, ratio);
	for (int k = 0; k < ANOMALY_KIND_MAX; k++)
		if (k != ANOMALY_NEW_TOOL)
			flag_update(d, t, k, v[k], ratio[k]);
	learn(d, t, hour, &ws);
	if (!t->learned && baseline_trusted(d, &t->global, GROUP_DURATION, false))
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
	b = judge_baseline(d, t, GROUP_CPU, hour);
	if (b && b->cpu.n) {
		double cur = ws.cpu_per_execution, p90 = reservoir_quantile(&b->cpu, 0.9);

		ratio[ANOMALY_CPU_SPIKE] = ratio_of(cur, p90);
		v[ANOMALY_CPU_SPIKE] = judge_above(cur > cfg->host_cpu_ratio * p90 &&
						   cur >= cfg->host_cpu_min_utilisation);
	}
	flag_update(d, t, ANOMALY_CPU_SPIKE, v[ANOMALY_CPU_SPIKE], ratio[ANOMALY_CPU_SPIKE]);
	t->last_active_age = d->age;
	learn(d, t, hour, &ws);
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
		return k == ANOMALY_CPU_SPIKE && baseline_trusted(d, &t->global, GROUP_CPU, true);
	if (k == ANOMALY_FAILURE_RATE)
		return t->learned;
	if (g == GROUP_NONE)
		return false;
	return baseline_trusted(d, &t->global, g, false);
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
		};

		if (fn(&s, ctx))
			break;
	}
	changes_clear(d);
	d->changes_dropped = 0;
	return dropped;
}

/* --- persistence --- */

static const uint32_t crc32_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()). */
static uint32_t crc32_ieee(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc32_nibble[crc & 15];
		crc = (crc >> 4) ^ crc32_nibble[crc & 15];
	}
	return ~crc;
}

static void put_u8(struct strbuf *out, uint8_t v)
{
	strbuf__append(out, &v, 1);
}

static void put_u16(struct strbuf *out, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	strbuf__append(out, b, sizeof(b));
}

static void put_u32(struct strbuf *out, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	strbuf__append(out, b, sizeof(b));
}

static void put_u64(struct strbuf *out, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	strbuf__append(out, b, sizeof(b));
}

static void put_f64(struct strbuf *out, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put_u64(out, bits);
}

static void put_reservoir(struct strbuf *out, const struct reservoir *r)
{
	put_u32(out, r->n);
	for (uint32_t i = 0; i < r->n; i++) {
		put_f64(out, r->s[i].value);
		put_f64(out, r->s[i].key);
	}
}

static void put_dhist(struct strbuf *out, const struct dhist *h)
{
	put_u64(out, h->last_age);
	for (int i = 0; i < NR_BUCKETS; i++)
		put_f64(out, h->w[i]);
}

static void put_baseline(struct strbuf *out, const struct baseline *b)
{
	for (int g = 0; g < GROUP_MAX; g++) {
		put_u64(out, b->windows[g]);
		put_u64(out, b->samples[g]);
	}
	put_dhist(out, &b->duration);
	put_dhist(out, &b->memory);
	put_reservoir(out, &b->mean_duration);
	put_reservoir(out, &b->cpu);
}

static void put_tool(struct strbuf *out, const struct tool *t)
{
	if (t->name) {
		size_t len = strlen(t->name);

		put_u16(out, (uint16_t)len);
		strbuf__append(out, t->name, len);
	}
	put_u64(out, t->last_active_age);
	put_u8(out, t->learned);
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		const struct flag *f = &t->flags[k];

		put_u8(out, f->active);
		put_u32(out, f->bad_streak);
		put_u32(out, f->good_streak);
		put_u64(out, f->raised_total);
		put_u64(out, f->raised_at_age);
		put_f64(out, f->ratio);
	}
	put_baseline(out, &t->global);
	for (int h = 0; t->hours && h < HOURS; h++)
		put_baseline(out, &t->hours[h]);
}

int anomaly__serialize(const struct anomaly_detector *d, struct strbuf *out)
{
	size_t start = out->len, payload;
	uint32_t crc;

	strbuf__append(out, FORMAT_MAGIC, FORMAT_MAGIC_LEN);
	put_u32(out, FORMAT_VERSION);
	put_u32(out, d->cfg.seasonal ? FORMAT_F_HOURS : 0);
	put_u64(out, d->cfg.window_ns);
	put_u64(out, d->cfg.baseline_ns);
	put_u64(out, 0); /* payload length, patched below */
	payload = out->len;

	put_u64(out, d->age);
	put_u8(out, d->have_window_end);
	put_u64(out, (uint64_t)d->last_window_end);
	put_u64(out, d->rng);
	put_tool(out, &d->host);
	put_u32(out, (uint32_t)d->nr_tools);
	for (size_t i = 0; i < d->nr_tools; i++)
		put_tool(out, d->tools[i]);
	put_u32(out, d->nr_known);
	for (uint32_t i = 0; i < d->nr_known; i++) /* oldest first */
		put_u64(out, d->known[(d->known_next + KNOWN_MAX - d->nr_known + i) % KNOWN_MAX]);
	if (out->oom)
		return -ENOMEM;

	for (int i = 0; i < 8; i++)
		out->buf[payload - 8 + i] = (char)((uint64_t)(out->len - payload) >> (8 * i));
	crc = crc32_ieee(out->buf + start, out->len - start);
	put_u32(out, crc);
	return out->oom ? -ENOMEM : 0;
}

/* A bounds-checked reader: once past the end every read returns 0 and `bad` stays set. */
struct reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static const uint8_t *get_bytes(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t get_le(struct reader *r, size_t n)
{
	const uint8_t *p = get_bytes(r, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t get_u8(struct reader *r)
{
	return (uint8_t)get_le(r, 1);
}

static uint32_t get_u32(struct reader *r)
{
	return (uint32_t)get_le(r, 4);
}

static uint64_t get_u64(struct reader *r)
{
	return get_le(r, 8);
}

static double get_f64(struct reader *r)
{
	uint64_t bits = get_u64(r);
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Reads a value that must lie in [lo, hi] (so never NaN or infinite). */
static double get_f64_in(struct reader *r, double lo, double hi)
{
	double v = get_f64(r);

	if (!(v >= lo && v <= hi))
		r->bad = true;
	return v;
}

static bool get_bool(struct reader *r)
{
	uint8_t v = get_u8(r);

	if (v > 1)
		r->bad = true;
	return v;
}

static uint64_t get_age(struct reader *r, uint64_t age)
{
	uint64_t v = get_u64(r);

	if (v > age)
		r->bad = true;
	return v;
}

static void get_reservoir(struct reader *r, struct reservoir *res)
{
	uint32_t n = get_u32(r);

	if (n > res->cap) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		res->s[i].value = get_f64_in(r, 0, VALUE_MAX);
		res->s[i].key = get_f64_in(r, -1e300, 1e300);
	}
	res->n = r->bad ? 0 : n;
}

static void get_dhist(struct reader *r, struct dhist *h, uint64_t age)
{
	h->last_age = get_age(r, age);
	for (int i = 0; i < NR_BUCKETS; i++)
		h->w[i] = get_f64_in(r, 0, WEIGHT_MAX);
}

static void get_baseline(struct reader *r, struct baseline *b, uint64_t age)
{
	for (int g = 0; g < GROUP_MAX; g++) {
		b->windows[g] = get_u64(r);
		b->samples[g] = get_u64(r);
	}
	get_dhist(r, &b->duration, age);
	get_dhist(r, &b->memory, age);
	get_reservoir(r, &b->mean_duration);
	get_reservoir(r, &b->cpu);
}

/*
 * Reads one tool record into t (initialised for d's config). file_hours: the record holds
 * HOURS hour baselines, read into scratch when t keeps none.
 */
static int get_tool(struct reader *r, struct anomaly_detector *d, struct tool *t, bool file_hours,
		    struct baseline *scratch)
{
	t->last_active_age = get_age(r, d->age);
	t->learned = get_bool(r);
	for (int k = 0; k < ANOMALY_KIND_MAX; k++) {
		struct flag *f = &t->flags[k];

		f->active = get_bool(r);
		f->bad_streak = get_u32(r);
		f->good_streak = get_u32(r);
		f->raised_total = get_u64(r);
		f->raised_at_age = get_age(r, d->age);
		f->ratio = get_f64_in(r, 0, ANOMALY_RATIO_MAX);
	}
	get_baseline(r, &t->global, d->age);
	for (int h = 0; file_hours && h < HOURS && !r->bad; h++)
		get_baseline(r, t->hours ? &t->hours[h] : scratch, d->age);
	return r->bad ? -EBADMSG : 0;
}

/* Reads the payload into d, a fresh detector with the target's config. */
static int get_payload(struct reader *r, struct anomaly_detector *d, bool file_hours)
{
	struct baseline scratch;
	uint32_t nr_tools, nr_known;
	int err;

	err = baseline_init(&scratch, RESERVOIR_HOUR);
	if (err)
		return err;
	d->age = get_u64(r);
	d->have_window_end = get_bool(r);
	d->last_window_end = (int64_t)get_u64(r);
	d->rng = get_u64(r);
	err = get_tool(r, d, &d->host, file_hours, &scratch);
	if (err)
		goto out;

	nr_tools = get_u32(r);
	/* a tool record is far longer than 64 bytes: refuse counts the data cannot hold */
	if (r->bad || nr_tools > (r->len - r->off) / 64) {
		err = -EBADMSG;
		goto out;
	}
	err = tools_reserve(d, nr_tools);
	if (err)
		goto out;
	for (uint32_t i = 0; i < nr_tools; i++) {
		size_t len = (size_t)get_le(r, 2);
		const uint8_t *name = get_bytes(r, len);
		struct tool *t;

		if (!name || !len || len >= ANOMALY_TOOL_NAME_MAX || memchr(name, 0, len)) {
			err = -EBADMSG;
			goto out;
		}
		t = malloc(sizeof(*t));
		if (!t || tool_init(t, d->cfg.seasonal)) {
			free(t);
			err = -ENOMEM;
			goto out;
		}
		t->name = strndup((const char *)name, len);
		d->tools[d->nr_tools] = t; /* owned by d from here on */
		d->nr_tools++;
		if (!t->name) {
			err = -ENOMEM;
			goto out;
		}
		/* strictly sorted: keeps the binary search valid and names unique */
		if (i && strcmp(d->tools[i - 1]->name, t->name) >= 0) {
			err = -EBADMSG;
			goto out;
		}
		err = get_tool(r, d, t, file_hours, &scratch);
		if (err)
			goto out;
	}

	nr_known = get_u32(r);
	if (nr_known > KNOWN_MAX) {
		err = -EBADMSG;
		goto out;
	}
	for (uint32_t i = 0; i < nr_known; i++)
		d->known[i] = get_u64(r);
	d->nr_known = nr_known;
	d->known_next = nr_known % KNOWN_MAX;
	if (r->bad || r->off != r->len)
		err = -EBADMSG;
out:
	baseline_fini(&scratch);
	return err;
}

int anomaly__deserialize(struct anomaly_detector *d, const void *data, size_t len)
{
	struct reader r = {.p = data, .len = len};
	struct anomaly_detector *fresh, old;
	uint64_t window_ns, baseline_ns, payload_len;
	uint32_t version, flags, crc;
	int err;

	if (!d || (!data && len))
		return -EINVAL;
	if (len < FORMAT_MAGIC_LEN || memcmp(data, FORMAT_MAGIC, FORMAT_MAGIC_LEN))
		return -EPROTO;
	get_bytes(&r, FORMAT_MAGIC_LEN);
	version = get_u32(&r);
	if (r.bad)
		return -EBADMSG;
	if (version != FORMAT_VERSION)
		return -EPROTONOSUPPORT;
	flags = get_u32(&r);
	window_ns = get_u64(&r);
	baseline_ns = get_u64(&r);
	payload_len = get_u64(&r);
	if (r.bad || len - FORMAT_HEADER_LEN < FORMAT_TRAILER_LEN ||
	    payload_len != len - FORMAT_HEADER_LEN - FORMAT_TRAILER_LEN)
		return -EBADMSG;
	crc = (uint32_t)r.p[len - 4] | (uint32_t)r.p[len - 3] << 8 | (uint32_t)r.p[len - 2] << 16 |
	      (uint32_t)r.p[len - 1] << 24;
	if (crc != crc32_ieee(data, len - FORMAT_TRAILER_LEN))
		return -EBADMSG;
	if (flags & ~(uint32_t)FORMAT_F_HOURS)
		return -EBADMSG;
	if (window_ns != d->cfg.window_ns || baseline_ns != d->cfg.baseline_ns)
		return -ESTALE;

	fresh = anomaly__new(&d->cfg);
	if (!fresh)
		return -errno;
	r.len = len - FORMAT_TRAILER_LEN;
	err = get_payload(&r, fresh, flags & FORMAT_F_HOURS);
	if (err) {
		anomaly__free(fresh);
		return err;
	}
	while (fresh->nr_tools > fresh->cfg.max_tools)
		evict_one(fresh);

	/* swap the learned state in, keep d's change list */
	old = *d;
	*d = *fresh;
	d->changes = old.changes;
	d->nr_changes = old.nr_changes;
	d->changes_dropped = old.changes_dropped;
	old.changes = NULL;
	old.nr_changes = 0;
	*fresh = old;
	anomaly__free(fresh);
	return 0;
}
