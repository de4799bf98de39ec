// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/trace_reorder.h"

/* What came out, the lines one after the other. */
struct out {
	char text[4096];
	size_t len;
	unsigned int lines;
};

static void collect(const char *line, size_t len, void *ctx)
{
	struct out *o = ctx;

	assert_true(o->len + len < sizeof(o->text));
	memcpy(o->text + o->len, line, len);
	o->len += len;
	o->text[o->len] = '\0';
	o->lines++;
}

static void push(struct trace_reorder *r, uint64_t ts, const char *line, struct out *o)
{
	assert_int_equal(trace_reorder__push(r, ts, line, strlen(line), collect, o), 0);
}

static void test_trace_reorder_releases_in_time_order(void **state)
{
	struct trace_reorder *r = trace_reorder__new(100);
	struct out o = {};

	(void)state;
	assert_non_null(r);
	push(r, 30, "c ", &o);
	push(r, 10, "a ", &o);
	push(r, 50, "e ", &o);
	push(r, 20, "b ", &o);
	push(r, 40, "d ", &o);
	/* what is old enough goes, the rest waits */
	trace_reorder__release(r, 25, collect, &o);
	assert_string_equal(o.text, "a b ");
	assert_int_equal(trace_reorder__len(r), 3);
	trace_reorder__release(r, 25, collect, &o);
	assert_string_equal(o.text, "a b ");
	/* the stamp itself is old enough */
	trace_reorder__release(r, 40, collect, &o);
	assert_string_equal(o.text, "a b c d ");
	trace_reorder__flush(r, collect, &o);
	assert_string_equal(o.text, "a b c d e ");
	assert_int_equal(trace_reorder__len(r), 0);
	assert_int_equal(trace_reorder__late(r), 0);
	trace_reorder__free(r);
}

static void test_trace_reorder_equal_stamps_keep_arrival_order(void **state)
{
	struct trace_reorder *r = trace_reorder__new(100);
	struct out o = {};
	char line[8];

	(void)state;
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "%c", 'a' + i);
		push(r, i % 2 ? 7 : 5, line, &o);
	}
	trace_reorder__flush(r, collect, &o);
	assert_string_equal(o.text, "acegikmoqsbdfhjlnprt");
	trace_reorder__free(r);
}

static void test_trace_reorder_late_lines_counted(void **state)
{
	struct trace_reorder *r = trace_reorder__new(100);
	struct out o = {};

	(void)state;
	push(r, 100, "x ", &o);
	trace_reorder__release(r, 100, collect, &o);
	/* older than what is out already: still printed, next, and counted */
	push(r, 90, "late ", &o);
	push(r, 100, "same ", &o); /* not older: in order */
	push(r, 120, "y ", &o);
	assert_int_equal(trace_reorder__late(r), 1);
	trace_reorder__release(r, 110, collect, &o);
	assert_string_equal(o.text, "x late same ");
	trace_reorder__flush(r, collect, &o);
	assert_string_equal(o.text, "x late same y ");
	trace_reorder__free(r);
}

static void test_trace_reorder_full_buffer_releases_oldest(void **state)
{
	struct trace_reorder *r = trace_reorder__new(3);
	struct out o = {};

	(void)state;
	push(r, 4, "d", &o);
	push(r, 2, "b", &o);
	push(r, 3, "c", &o);
	assert_int_equal(o.lines, 0);
	push(r, 1, "a", &o); /* full: the oldest held (b) goes first */
	assert_string_equal(o.text, "b");
	assert_int_equal(trace_reorder__len(r), 3);
	trace_reorder__flush(r, collect, &o);
	assert_string_equal(o.text, "bacd");
	assert_int_equal(trace_reorder__late(r), 1);
	trace_reorder__free(r);
	trace_reorder__free(NULL);
	assert_null(trace_reorder__new(0));
	assert_int_equal(errno, EINVAL);
}

/* Each released line holds its stamp in decimal: never below the one before. */
struct order {
	uint64_t last;
	unsigned int lines;
};

static void check_order(const char *line, size_t len, void *ctx)
{
	struct order *o = ctx;
	char buf[32];
	uint64_t v;

	assert_true(len < sizeof(buf));
	memcpy(buf, line, len);
	buf[len] = '\0';
	v = strtoull(buf, NULL, 10);
	assert_true(v >= o->last);
	o->last = v;
	o->lines++;
}

static void test_trace_reorder_many_lines_sorted(void **state)
{
	struct trace_reorder *r = trace_reorder__new(10000);
	struct order o = {};
	uint64_t x = 12345;
	char line[32];

	(void)state;
	for (int i = 0; i < 2000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(line, sizeof(line), "%llu", (unsigned long long)(x >> 44));
		assert_int_equal(
		    trace_reorder__push(r, x >> 44, line, strlen(line), check_order, &o), 0);
	}
	trace_reorder__release(r, 1ULL << 19, check_order, &o);
	trace_reorder__flush(r, check_order, &o);
	assert_int_equal(o.lines, 2000);
	assert_int_equal(trace_reorder__late(r), 0);
	trace_reorder__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace_reorder_releases_in_time_order),
	    cmocka_unit_test(test_trace_reorder_equal_stamps_keep_arrival_order),
	    cmocka_unit_test(test_trace_reorder_late_lines_counted),
	    cmocka_unit_test(test_trace_reorder_full_buffer_releases_oldest),
	    cmocka_unit_test(test_trace_reorder_many_lines_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
