// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "anomaly/stats.h"

static void test_stats_sorted_quantile(void **state)
{
	static const double v[] = {1, 2, 3, 4};

	assert_float_equal(stats_sorted_quantile(v, 0, 0.5), 0, 0);
	assert_float_equal(stats_sorted_quantile(v, 1, 0.9), 1, 0);
	assert_float_equal(stats_sorted_quantile(v, 4, 0), 1, 0);
	assert_float_equal(stats_sorted_quantile(v, 4, 1), 4, 0);
	assert_float_equal(stats_sorted_quantile(v, 4, 0.5), 2.5, 1e-12); /* R type 7 */
	assert_float_equal(stats_sorted_quantile(v, 4, 0.9), 3.7, 1e-12);
}

/* Read from bucket weights, a histogram's quantiles are hist__quantile()'s, exactly. */
static void test_stats_weights_quantile_matches_hist(void **state)
{
	static const double qs[] = {0, 0.1, 0.5, 0.9, 0.95, 0.99, 1};
	double w[DHIST_BUCKETS];
	struct hist h;

	memset(&h, 0, sizeof(h));
	assert_float_equal(stats_hist_weights(&h, &hist_duration_layout, w), 0, 0);
	assert_float_equal(stats_weights_quantile(w, &hist_duration_layout, 0.5), 0, 0);
	for (uint64_t i = 1; i <= 1000; i++)
		hist__add(&h, &hist_duration_layout, i * i * 997);
	assert_float_equal(stats_hist_weights(&h, &hist_duration_layout, w), 1000, 0);
	for (unsigned int i = hist_duration_layout.nr_bounds + 1; i < DHIST_BUCKETS; i++)
		assert_float_equal(w[i], 0, 0);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		assert_true(stats_weights_quantile(w, &hist_duration_layout, qs[i]) ==
			    hist__quantile(&h, &hist_duration_layout, qs[i]));

	/* everything in +Inf: the highest finite bound */
	memset(w, 0, sizeof(w));
	w[hist_memory_layout.nr_bounds] = 5;
	assert_float_equal(stats_weights_quantile(w, &hist_memory_layout, 0.5),
			   (double)hist_memory_layout.bounds[hist_memory_layout.nr_bounds - 1], 0);
}

static void test_stats_weights_above(void **state)
{
	const struct hist_layout *l = &hist_memory_layout;
	double lo = (double)l->bounds[3], hi = (double)l->bounds[4];
	double w[DHIST_BUCKETS] = {0};

	assert_float_equal(stats_weights_above(w, l, 1), 0, 0); /* empty */
	w[4] = 3;						/* 3 in (lo, hi] */
	w[l->nr_bounds] = 1;					/* 1 in +Inf */
	assert_float_equal(stats_weights_above(w, l, 0), 1, 0);
	assert_float_equal(stats_weights_above(w, l, lo), 1, 0);
	assert_float_equal(stats_weights_above(w, l, (lo + hi) / 2), (1.5 + 1) / 4, 1e-12);
	assert_float_equal(stats_weights_above(w, l, hi), 0.25, 1e-12);
	assert_float_equal(stats_weights_above(w, l, 1e30), 0.25, 1e-12); /* +Inf is above */
}

/* P(X >= k) summed term by term, for small n. */
static double binomial_tail_by_sum(int k, int n, double p)
{
	double below = 0;

	for (int i = 0; i < k; i++)
		below += exp(lgamma(n + 1) - lgamma(i + 1) - lgamma(n - i + 1) + i * log(p) +
			     (n - i) * log1p(-p));
	return 1 - below;
}

static void test_stats_binomial_tail(void **state)
{
	assert_float_equal(stats_binomial_tail(0, 10, 0.5), 1, 0);
	assert_float_equal(stats_binomial_tail(-1, 10, 0.5), 1, 0);
	assert_float_equal(stats_binomial_tail(3, 10, 1), 1, 0);
	assert_float_equal(stats_binomial_tail(11, 10, 0.5), 0, 0);
	assert_float_equal(stats_binomial_tail(3, 10, 0), 0, 0);
	assert_float_equal(stats_binomial_tail(1, 1, 0.3), 0.3, 1e-12);
	assert_float_equal(stats_binomial_tail(2, 2, 0.5), 0.25, 1e-12);
	for (int n = 1; n <= 60; n += 7)
		for (int k = 1; k <= n; k += 2)
			assert_float_equal(stats_binomial_tail(k, n, 0.05),
					   binomial_tail_by_sum(k, n, 0.05), 1e-9);
	/* FAILURE_RATE at 5%, alpha 0.05: 4 failures of 20 are evidence, 3 are not */
	assert_true(stats_binomial_tail(4, 20, 0.05) < 0.05);
	assert_true(stats_binomial_tail(3, 20, 0.05) > 0.05);
	/* a fraction of a count lies between its neighbours */
	assert_true(stats_binomial_tail(3.5, 20, 0.05) < stats_binomial_tail(3, 20, 0.05));
	assert_true(stats_binomial_tail(3.5, 20, 0.05) > stats_binomial_tail(4, 20, 0.05));
	/* large n: the normal approximation, centred */
	assert_float_equal(stats_binomial_tail(500000.5, 1e6, 0.5), 0.5, 1e-6);
}

static void test_stats_dhist_add_decays(void **state)
{
	double w[DHIST_BUCKETS] = {0}, none[DHIST_BUCKETS] = {0};
	struct dhist h;

	memset(&h, 0, sizeof(h));
	w[0] = 1;
	w[1] = 1e-300; /* below DHIST_WEIGHT_MIN: 0 */
	w[2] = INFINITY;
	dhist__add(&h, w, 0, 10);
	assert_float_equal(h.w[0], 1, 0);
	assert_float_equal(h.w[1], 0, 0);
	assert_float_equal(h.w[2], DHIST_WEIGHT_MAX, 0);
	assert_int_equal(h.last_age, 0);
	dhist__add(&h, w, 10, 10); /* one span later: old weight e^-1 */
	assert_float_equal(h.w[0], 1 + exp(-1), 1e-12);
	assert_int_equal(h.last_age, 10);
	dhist__add(&h, none, 5, 10); /* not later: no decay */
	assert_float_equal(h.w[0], 1 + exp(-1), 1e-12);
	dhist__add(&h, none, 100000, 10); /* decayed to nothing */
	assert_float_equal(h.w[0], 0, 0);
}

static void test_stats_reservoir(void **state)
{
	struct rsample s1[4], s2[4];
	struct reservoir r = {.cap = 4, .s = s1}, again = {.cap = 4, .s = s2};
	uint64_t rng = 42, rng2 = 42;
	double median, mad;

	reservoir__median_mad(&r, &median, &mad);
	assert_float_equal(median, 0, 0);
	assert_float_equal(mad, 0, 0);
	assert_float_equal(reservoir__quantile(&r, 0.9), 0, 0);
	for (int i = 4; i >= 1; i--)
		reservoir__add(&r, i, 0, 10, &rng);
	assert_int_equal(r.n, 4);
	reservoir__median_mad(&r, &median, &mad);
	assert_float_equal(median, 2.5, 1e-12);
	assert_float_equal(mad, 1, 1e-12);
	assert_float_equal(reservoir__quantile(&r, 0.9), 3.7, 1e-12);

	/* forward decay: after many spans only recent values remain; reproducible */
	r.n = 0;
	rng = 42;
	for (uint64_t age = 0; age < 2000; age++) {
		reservoir__add(&r, age < 1000 ? 0 : 1, age, 10, &rng);
		reservoir__add(&again, age < 1000 ? 0 : 1, age, 10, &rng2);
	}
	assert_int_equal(r.n, 4);
	assert_float_equal(reservoir__quantile(&r, 0), 1, 0);
	assert_memory_equal(s1, s2, sizeof(s1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stats_sorted_quantile),
	    cmocka_unit_test(test_stats_weights_quantile_matches_hist),
	    cmocka_unit_test(test_stats_weights_above),
	    cmocka_unit_test(test_stats_binomial_tail),
	    cmocka_unit_test(test_stats_dhist_add_decays),
	    cmocka_unit_test(test_stats_reservoir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
