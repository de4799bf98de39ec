// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/nativehist.h"

static void test_key_schema3_bounds(void **state)
{
	/* bucket i holds (2^((i-1)/8), 2^(i/8)]: 1 is the top of bucket 0 */
	assert_int_equal(native_hist__key(1.0, 3), 0);
	assert_int_equal(native_hist__key(1.0001, 3), 1);
	assert_int_equal(native_hist__key(2.0, 3), 8);
	assert_int_equal(native_hist__key(0.5, 3), -8);
	assert_int_equal(native_hist__key(0.50001, 3), -7);
	/* 10 ms: 2^(-6.64) -> bucket ceil(-6.64 * 8) = -53 */
	assert_int_equal(native_hist__key(0.010, 3), -53);
	for (int32_t k = -200; k <= 200; k += 7) {
		double up = native_hist__upper(k, 3);

		assert_int_equal(native_hist__key(up * (1 - 1e-12), 3), k);
		assert_int_equal(native_hist__key(up * (1 + 1e-9), 3), k + 1);
	}
}

static void test_key_schema0_and_negative(void **state)
{
	assert_int_equal(native_hist__key(1.0, 0), 0);
	assert_int_equal(native_hist__key(1.5, 0), 1);
	assert_int_equal(native_hist__key(4.0, 0), 2);
	assert_int_equal(native_hist__key(4.1, 0), 3);
	/* schema -1: buckets span factor 4: (1, 4] is 1, (1/4, 1] is 0, (1/16, 1/4] is -1 */
	assert_int_equal(native_hist__key(3.0, -1), 1);
	assert_int_equal(native_hist__key(1.0, -1), 0);
	assert_int_equal(native_hist__key(0.2, -1), -1);
	assert_int_equal(native_hist__key(0.0625, -1), -2);
	assert_true(native_hist__upper(1, -1) == 4.0);
}

/* A bucket's middle is within (2^(1/8) - 1) / 2 = 4.53% of every value in it. */
static void test_schema3_relative_error(void **state)
{
	for (double v = 1e-6; v < 1e4; v *= 1.0137) {
		int32_t k = native_hist__key(v, 3);
		double up = native_hist__upper(k, 3), lo = native_hist__upper(k - 1, 3);
		double mid = (up + lo) / 2;

		assert_true(lo < v && v <= up);
		assert_true(fabs(mid - v) / v <= (exp2(1.0 / 8) - 1) / 2 + 1e-12);
	}
}

static void test_zero_bucket(void **state)
{
	struct native_hist h = {};

	native_hist__add(&h, 0);
	native_hist__add(&h, -1);
	native_hist__add(&h, NAN);
	native_hist__add(&h, 0x1p-130);
	assert_int_equal(h.zero_count, 4);
	assert_int_equal(h.nr, 0);
	assert_int_equal(native_hist__schema(&h), 3);
	native_hist__add(&h, 1e-9);
	assert_int_equal(h.zero_count, 4);
	assert_int_equal(native_hist__count(&h), 5);
}

static void test_add_counts_window(void **state)
{
	struct native_hist h = {};

	native_hist__add(&h, 0.012);
	native_hist__add(&h, 0.012);
	native_hist__add(&h, 0.020);
	native_hist__add(&h, 0.011);
	assert_int_equal(h.schema, 3);
	assert_int_equal(h.first, native_hist__key(0.011, 3));
	assert_int_equal(h.counts[native_hist__key(0.012, 3) - h.first], 2);
	assert_int_equal(h.counts[native_hist__key(0.020, 3) - h.first], 1);
	assert_int_equal(h.nr, native_hist__key(0.020, 3) - h.first + 1);
	assert_int_equal(native_hist__count(&h), 4);
}

/* Halving the resolution merges buckets 2j-1 and 2j into j and keeps every count. */
static void test_reduce_merges_pairwise(void **state)
{
	struct native_hist h = {};

	for (double v = 1.0; v < 8.0; v *= 1.05)
		native_hist__add(&h, v);
	uint64_t n = native_hist__count(&h);
	int32_t first = h.first;
	uint64_t c0 = h.counts[0], c1 = h.counts[1];

	native_hist__reduce(&h);
	assert_int_equal(h.schema, 2);
	assert_int_equal(native_hist__count(&h), n);
	/* first was 0 (v = 1): buckets -1 and 0 of schema 3 are bucket 0 of schema 2 */
	assert_int_equal(first, 0);
	assert_int_equal(h.first, 0);
	assert_int_equal(h.counts[0], c0);
	/* buckets 1 and 2 -> 1 */
	assert_true(h.counts[1] >= c1);
	for (double v = 1.0; v < 8.0; v *= 1.1) {
		int32_t k = native_hist__key(v, 2);

		assert_true(k >= h.first && k < h.first + h.nr);
	}
}

/* A spread wider than the window lowers the schema instead of growing. */
static void test_limit_lowers_resolution(void **state)
{
	struct native_hist h = {};

	native_hist__add(&h, 0.001);
	native_hist__add(&h, 0.1); /* factor 100: 53 buckets at schema 3, fits */
	assert_int_equal(h.schema, 3);
	native_hist__add(&h, 1.0); /* factor 1000: 80 buckets, over 64 */
	assert_int_equal(h.schema, 2);
	assert_true(h.nr <= NATIVE_HIST_BUCKETS);
	native_hist__add(&h, 1e12); /* factor 1e15: 50 powers of two */
	assert_true(h.schema <= 0);
	assert_true(h.nr <= NATIVE_HIST_BUCKETS);
	assert_int_equal(native_hist__count(&h), 4);
	native_hist__add(&h, INFINITY);
	native_hist__add(&h, 1e-300);
	assert_true(h.nr <= NATIVE_HIST_BUCKETS);
	assert_true(h.schema >= NATIVE_HIST_SCHEMA_MIN);
	assert_int_equal(native_hist__count(&h), 6);
	/* each value is in the bucket its key names */
	for (uint16_t i = 0; i < h.nr; i++)
		if (h.counts[i])
			assert_true(h.first + i >= native_hist__key(1e-300, h.schema));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_schema3_bounds),
	    cmocka_unit_test(test_key_schema0_and_negative),
	    cmocka_unit_test(test_schema3_relative_error),
	    cmocka_unit_test(test_zero_bucket),
	    cmocka_unit_test(test_add_counts_window),
	    cmocka_unit_test(test_reduce_merges_pairwise),
	    cmocka_unit_test(test_limit_lowers_resolution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
