// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/hist.h"
#include "events/registry.h"

#define MS 1000000ULL

static void test_hist_bucket_zero_goes_to_first(void **state)
{
	assert_int_equal(hist_layout__bucket(&hist_duration_layout, 0), 0);
}

static void test_hist_bucket_exact_bound_is_inclusive(void **state)
{
	/* le semantics: a value equal to a bound belongs to that bound's bucket */
	assert_int_equal(hist_layout__bucket(&hist_duration_layout, 100000), 0);
	assert_int_equal(hist_layout__bucket(&hist_duration_layout, 100001), 1);
	assert_int_equal(hist_layout__bucket(&hist_duration_layout, 1 * MS), 3);
	assert_int_equal(hist_layout__bucket(&hist_duration_layout, 1 * MS + 1), 4);
}

static void test_hist_bucket_overflow_goes_to_inf(void **state)
{
	unsigned int n = hist_duration_layout.nr_bounds;

	assert_int_equal(hist_layout__bucket(&hist_duration_layout, 2500000 * MS), n - 1);
	assert_int_equal(hist_layout__bucket(&hist_duration_layout, 2500000 * MS + 1), n);
	assert_int_equal(hist_layout__bucket(&hist_duration_layout, UINT64_MAX), n);
}

static void test_hist_layouts_rise_and_cover_ranges(void **state)
{
	const struct hist_layout *ls[] = {&hist_duration_layout, &hist_memory_layout,
					  &hist_latency_layout};

	for (unsigned int k = 0; k < 3; k++)
		for (unsigned int i = 1; i < ls[k]->nr_bounds; i++)
			assert_true(ls[k]->bounds[i] > ls[k]->bounds[i - 1]);
	/* durations: 100 us .. at least 10 min; memory: 64 KiB .. 64 GiB */
	assert_int_equal(hist_duration_layout.bounds[0], 100000);
	assert_true(hist_duration_layout.bounds[hist_duration_layout.nr_bounds - 1] >= 600000 * MS);
	assert_int_equal(hist_memory_layout.bounds[0], 64 << 10);
	assert_int_equal(hist_memory_layout.bounds[hist_memory_layout.nr_bounds - 1], 64ULL << 30);
}

static void test_hist_add_counts_and_sums(void **state)
{
	struct hist h = {};

	hist__add(&h, &hist_duration_layout, 2 * MS);
	hist__add(&h, &hist_duration_layout, 3 * MS);
	hist__add(&h, &hist_duration_layout, 0);
	assert_int_equal(h.count, 3);
	assert_int_equal(h.sum, 5 * MS);
	assert_int_equal(h.counts[0], 1);
	assert_int_equal(h.counts[4], 1); /* (1ms, 2.5ms] */
	assert_int_equal(h.counts[5], 1); /* (2.5ms, 5ms] */
}

static void test_hist_sum_saturates(void **state)
{
	struct hist h = {};

	hist__add(&h, &hist_duration_layout, UINT64_MAX - 1);
	hist__add(&h, &hist_duration_layout, 10);
	assert_int_equal(h.sum, UINT64_MAX);
	assert_int_equal(h.count, 2);
}

static void test_hist_quantile_interpolates(void **state)
{
	struct hist h = {};
	double q;

	assert_true(hist__quantile(&h, &hist_duration_layout, 0.95) == 0);
	for (int i = 0; i < 100; i++)
		hist__add(&h, &hist_duration_layout, 7 * MS); /* (5ms, 10ms] */
	q = hist__quantile(&h, &hist_duration_layout, 0.5);
	assert_true(q > 5 * MS && q <= 10 * MS);
	assert_true(hist__quantile(&h, &hist_duration_layout, 1.0) == 10 * MS);
}

static void test_hist_delta_and_merge(void **state)
{
	struct hist a = {}, b = {}, d = {};

	hist__add(&a, &hist_duration_layout, MS);
	b = a;
	hist__add(&a, &hist_duration_layout, 40 * MS);
	hist__delta(&d, &a, &b);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.sum, 40 * MS);
	hist__merge(&d, &b);
	assert_int_equal(d.count, 2);
	assert_memory_equal(d.counts, a.counts, sizeof(a.counts));
}

static void test_hist_from_log2_never_understates(void **state)
{
	uint64_t slots[40] = {};
	struct hist h;

	slots[0] = 1;  /* [1, 2) ns */
	slots[10] = 2; /* [1024, 2048) ns -> le 2048 */
	slots[39] = 1; /* beyond the last bound -> +Inf */
	hist__from_log2(&h, &hist_latency_layout, slots, 40, 4, 5000);
	assert_int_equal(h.counts[0], 1);
	assert_int_equal(h.counts[1], 2);
	assert_int_equal(h.counts[hist_latency_layout.nr_bounds], 1);
	assert_int_equal(h.count, 4);
	assert_int_equal(h.sum, 5000);
}

static void test_hist_log2_slots(void **state)
{
	(void)state;
	assert_int_equal(hist_log2__slot(0), 0);
	assert_int_equal(hist_log2__slot(1), 0);
	assert_int_equal(hist_log2__slot(2), 1);
	assert_int_equal(hist_log2__slot(3), 1);
	assert_int_equal(hist_log2__slot(4), 2);
	assert_int_equal(hist_log2__slot(1023), 9);
	assert_int_equal(hist_log2__slot(1024), 10);
	assert_int_equal(hist_log2__slot(UINT64_MAX), 63);
}

static void test_hist_log2_slot_edges(void **state)
{
	static const struct {
		unsigned int slot;
		uint64_t low, high;
	} edges[] = {
	    {0, 0, 1},
	    {10, 1024, 2047},
	    {63, 1ULL << 63, UINT64_MAX},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		assert_true(hist_log2__low(edges[i].slot) == edges[i].low);
		assert_true(hist_log2__high(edges[i].slot) == edges[i].high);
	}
	for (unsigned int i = 0; i < HIST_LOG2_SLOTS; i++) {
		assert_int_equal(hist_log2__slot(hist_log2__low(i)), i);
		assert_int_equal(hist_log2__slot(hist_log2__high(i)), i);
	}
}

static void test_hist_fine_buckets_ordered(void **state)
{
	unsigned int prev = 0;

	(void)state;
	for (uint64_t v = 0; v < 100000; v++) {
		unsigned int b = hist_fine__bucket(v);

		assert_true(b >= prev && b <= prev + 1);
		prev = b;
	}
	assert_int_equal(hist_fine__bucket(UINT64_MAX), HIST_FINE_BUCKETS - 1);
	assert_int_equal(hist_fine__bucket(15), 15);
	assert_int_equal(hist_fine__bucket(16), 16);
	assert_int_equal(hist_fine__bucket(17), 16);
	assert_int_equal(hist_fine__bucket(18), 17);
}

static void test_hist_fine_quantile_narrows_to_min_max(void **state)
{
	uint64_t counts[HIST_FINE_BUCKETS] = {0};

	(void)state;
	assert_int_equal(hist_fine__quantile(counts, 0, 0, 0, 0.5), 0);
	counts[hist_fine__bucket(3 * MS)] = 7;
	assert_int_equal(hist_fine__quantile(counts, 7, 3 * MS, 3 * MS, 0.5), 3 * MS);
	assert_int_equal(hist_fine__quantile(counts, 7, 3 * MS, 3 * MS, 0.99), 3 * MS);
	counts[hist_fine__bucket(5 * MS)] = 3;
	assert_int_equal(hist_fine__quantile(counts, 10, 3 * MS, 5 * MS, 0), 3 * MS);
	assert_int_equal(hist_fine__quantile(counts, 10, 3 * MS, 5 * MS, 1), 5 * MS);
	/* within one bucket width (12.5%) below the largest value */
	assert_in_range(hist_fine__quantile(counts, 10, 3 * MS, 5 * MS, 0.95), 5 * MS * 7 / 8,
			5 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hist_bucket_zero_goes_to_first),
	    cmocka_unit_test(test_hist_bucket_exact_bound_is_inclusive),
	    cmocka_unit_test(test_hist_bucket_overflow_goes_to_inf),
	    cmocka_unit_test(test_hist_layouts_rise_and_cover_ranges),
	    cmocka_unit_test(test_hist_add_counts_and_sums),
	    cmocka_unit_test(test_hist_sum_saturates),
	    cmocka_unit_test(test_hist_quantile_interpolates),
	    cmocka_unit_test(test_hist_delta_and_merge),
	    cmocka_unit_test(test_hist_from_log2_never_understates),
	    cmocka_unit_test(test_hist_log2_slots),
	    cmocka_unit_test(test_hist_log2_slot_edges),
	    cmocka_unit_test(test_hist_fine_buckets_ordered),
	    cmocka_unit_test(test_hist_fine_quantile_narrows_to_min_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
