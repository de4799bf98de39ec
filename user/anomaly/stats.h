/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics primitives of the anomaly detector, pure: no I/O, no allocation, no global
 * state. Bucket weights are histogram counts held in doubles (so they can decay), laid out
 * as a struct hist_layout: w[i] for bucket i, w[nr_bounds] for +Inf.
 */
#ifndef TOOLWATCH_STATS_H
#define TOOLWATCH_STATS_H

#include <stdint.h>

#include "lib/hist.h"

#define DHIST_BUCKETS	  (HIST_MAX_BOUNDS + 1)
#define DHIST_WEIGHT_MAX  1e300	 /* a bucket weight; 32 of them still add up to a finite double */
#define DHIST_WEIGHT_MIN  1e-200 /* decayed below this a weight is 0 (no denormals) */
#define RESERVOIR_CAP_MAX 128	 /* the largest reservoir the readers below accept */

/* Bucket weights of a histogram, decayed lazily to the caller's age at each update. */
struct dhist {
	uint64_t last_age;
	double w[DHIST_BUCKETS];
};

/* One sampled value; the reservoir keeps the smallest keys. */
struct rsample {
	double value;
	double key;
};

/*
 * A weighted reservoir sample of at most cap values (cap <= RESERVOIR_CAP_MAX); s is the
 * caller's storage for cap samples.
 */
struct reservoir {
	uint32_t n;
	uint32_t cap;
	struct rsample *s;
};

/*
 * The q-quantile (0 <= q <= 1) of the n values of v sorted ascending, interpolated linearly
 * between order statistics (R's type 7). 0 when n is 0.
 */
double stats_sorted_quantile(const double *v, uint32_t n, double q);

/*
 * The q-quantile of bucket weights w laid out as layout, interpolated inside its bucket
 * exactly as hist__quantile() does, so window and baseline are read the same way. 0 when
 * the weights sum to 0; the highest finite bound when it falls in the +Inf bucket.
 */
double stats_weights_quantile(const double *w, const struct hist_layout *layout, double q);

/*
 * The fraction (0..1) of bucket weights w above x, interpolated inside x's bucket as
 * stats_weights_quantile() is; the +Inf bucket counts as above. 0 when they sum to 0.
 */
double stats_weights_above(const double *w, const struct hist_layout *layout, double x);

/*
 * Copies h's bucket counts into w (DHIST_BUCKETS doubles; those beyond layout's +Inf
 * bucket set to 0) and returns their total.
 */
double stats_hist_weights(const struct hist *h, const struct hist_layout *layout, double *w);

/*
 * P(X >= k) for X ~ Binomial(n, p), k real (a bucket split by a threshold contributes a
 * fraction of its count): the regularised incomplete beta I_p(k, n - k + 1), or a normal
 * approximation when n > 1e5. Always in [0, 1]: 1 for k <= 0 or p >= 1, 0 for k > n or
 * p <= 0.
 */
double stats_binomial_tail(double k, double n, double p);

/*
 * Decays h's weights by e^-((age - h->last_age) / span) (not when age is not later), adds
 * the weights w (DHIST_BUCKETS) and sets h->last_age = age. Each weight stays in
 * {0} u [DHIST_WEIGHT_MIN, DHIST_WEIGHT_MAX].
 */
void dhist__add(struct dhist *h, const double *w, uint64_t age, double span);

/*
 * Offers value to r: weighted reservoir sampling (Efraimidis-Spirakis A-Res) with forward
 * decay, weight e^(age / span), so r stays a uniform sample of the values decayed with
 * time constant span. Draws one number from the splitmix64 generator whose state is *rng.
 */
void reservoir__add(struct reservoir *r, double value, uint64_t age, double span, uint64_t *rng);

/*
 * The median of the n (<= RESERVOIR_CAP_MAX) values of sorted (ascending) and their median
 * absolute deviation from it (0, 0 when n is 0).
 */
void stats_sorted_median_mad(const double *sorted, uint32_t n, double *median, double *mad);

/* Copies r's values into v (room for RESERVOIR_CAP_MAX) sorted ascending; returns how many. */
uint32_t reservoir__sorted(const struct reservoir *r, double *v);

/* The median of r's values and their median absolute deviation from it (0, 0 when empty). */
void reservoir__median_mad(const struct reservoir *r, double *median, double *mad);

/* The q-quantile of r's values as stats_sorted_quantile() reads it (0 when empty). */
double reservoir__quantile(const struct reservoir *r, double q);

#endif /* TOOLWATCH_STATS_H */
