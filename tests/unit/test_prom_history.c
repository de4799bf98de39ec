// SPDX-License-Identifier: GPL-2.0
/* `toolwatch backtest --prometheus.url`: the query_range answers and the windows made of them. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backtest/prom_history.h"

static const struct prom_grid grid = {.start_s = 1000, .step_s = 60, .n = 4};

static int add(struct prom_values *pv, const char *json, char *err)
{
	return prom_values__add_answer(pv, &grid, json, strlen(json), err, 256);
}

#define MATRIX(result)                                                                             \
	"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[" result "]}}"

static void test_prom_history_query_escapes_the_tool(void **state)
{
	char q[256];

	assert_int_equal(prom_history__query(PROM_Q_EXECUTIONS, "a\"b\\c", "", q, sizeof(q)), 0);
	assert_string_equal(q, "sum(tool_executions_total{tool=\"a\\\"b\\\\c\"})");
	assert_int_equal(prom_history__query(PROM_Q_DURATION_BUCKETS, "make",
					     "instance=\"n1:9477\"", q, sizeof(q)),
			 0);
	assert_string_equal(q, "sum by (le) (tool_execution_duration_seconds_bucket{tool=\"make\","
			       "instance=\"n1:9477\"})");
	assert_int_equal(prom_history__query(PROM_Q_CPU, "make", "", q, 20), -ENAMETOOLONG);
}

static void test_prom_history_answers_refused(void **state)
{
	struct prom_values pv = {0};
	char err[256];

	assert_int_equal(add(&pv, "not json", err), -EINVAL);
	assert_non_null(strstr(err, "not JSON"));
	/* a bad escape followed by a raw line break: the error quotes it, on one line */
	assert_int_equal(add(&pv, "{\"status\":\"m\\\n\"}", err), -EINVAL);
	assert_non_null(strstr(err, "not JSON"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(add(&pv, "{\"status\":\"error\",\"error\":\"line 1\\nline 2\"}", err),
			 -EINVAL);
	assert_string_equal(err, "the server refused the query: line 1?line 2");
	assert_int_equal(
	    add(&pv, "{\"status\":\"error\",\"error\":\"parse error at char 4\"}", err), -EINVAL);
	assert_non_null(strstr(err, "parse error at char 4"));
	assert_int_equal(add(&pv,
			     "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
			     "\"result\":[]}}",
			     err),
			 -EINVAL);
	/* a point off the grid, a bad value, a bad le */
	assert_int_equal(add(&pv, MATRIX("{\"metric\":{},\"values\":[[1030,\"1\"]]}"), err),
			 -EINVAL);
	assert_int_equal(add(&pv, MATRIX("{\"metric\":{},\"values\":[[1000,\"x\"]]}"), err),
			 -EINVAL);
	assert_int_equal(add(&pv, MATRIX("{\"metric\":{\"le\":\"big\"},\"values\":[]}"), err),
			 -EINVAL);
	assert_int_equal(add(&pv, MATRIX("{\"metric\":{},\"values\":[[1000]]}"), err), -EINVAL);
	prom_values__fini(&pv);
	assert_int_equal(add(&pv, MATRIX(""), err), 0);
	assert_false(prom_values__any(&pv));
	prom_values__fini(&pv);
}

static void test_prom_history_windows_from_counters_and_buckets(void **state)
{
	struct prom_values pv[PROM_Q_MAX];
	struct history h = {0};
	char err[256];

	memset(pv, 0, sizeof(pv));
	/* 10 executions per minute, then 5 (a counter reset at 1180 leaves 5) */
	assert_int_equal(add(&pv[PROM_Q_EXECUTIONS],
			     MATRIX("{\"metric\":{},\"values\":[[1000,\"100\"],[1060,\"110\"],"
				    "[1120,\"120\"],[1180,\"5\"]]}"),
			     err),
			 0);
	assert_int_equal(add(&pv[PROM_Q_FAILURES],
			     MATRIX("{\"metric\":{},\"values\":[[1000,\"1\"],[1120,\"3\"]]}"), err),
			 0);
	/* buckets le 0.01 and +Inf: 10 ms and faster, then slower */
	assert_int_equal(add(&pv[PROM_Q_DURATION_BUCKETS],
			     MATRIX("{\"metric\":{\"le\":\"+Inf\"},\"values\":[[1000,\"100\"],"
				    "[1060,\"110\"],[1120,\"120\"],[1180,\"5\"]]},"
				    "{\"metric\":{\"le\":\"0.01\"},\"values\":[[1000,\"100\"],"
				    "[1060,\"108\"],[1120,\"110\"],[1180,\"0\"]]}"),
			     err),
			 0);
	assert_int_equal(add(&pv[PROM_Q_DURATION_SUM],
			     MATRIX("{\"metric\":{},\"values\":[[1000,\"1\"],[1060,\"1.2\"],"
				    "[1120,\"1.5\"],[1180,\"0.1\"]]}"),
			     err),
			 0);
	assert_int_equal(prom_history__build(&h, &grid, pv), 0);
	assert_int_equal(h.nr, 3);
	assert_int_equal(h.rows[0].time_unix_s, 1060);
	assert_int_equal(h.rows[0].executions, 10);
	assert_int_equal(h.rows[0].failures, 0); /* missing at 1060: no news */
	assert_int_equal(h.rows[1].failures, 2);
	assert_int_equal(h.rows[2].executions, 5); /* reset */
	{
		unsigned int b10 = hist_layout__bucket(&hist_duration_layout, 10000000ULL);
		unsigned int inf = hist_duration_layout.nr_bounds;

		assert_int_equal(h.rows[0].duration.counts[b10], 8);
		assert_int_equal(h.rows[0].duration.counts[inf], 2);
		assert_int_equal(h.rows[0].duration.count, 10);
		assert_int_equal(h.rows[1].duration.counts[b10], 2);
		assert_int_equal(h.rows[1].duration.counts[inf], 8);
	}
	assert_int_equal(h.rows[0].duration.sum, 200000000ULL);
	for (int q = 0; q < PROM_Q_MAX; q++)
		prom_values__fini(&pv[q]);
	history__fini(&h);
}

static void test_prom_history_mean_without_buckets(void **state)
{
	struct prom_values pv[PROM_Q_MAX];
	struct history h = {0};
	char err[256];

	memset(pv, 0, sizeof(pv));
	assert_int_equal(add(&pv[PROM_Q_DURATION_COUNT],
			     MATRIX("{\"metric\":{},\"values\":[[1060,\"4\"],[1120,\"8\"]]}"), err),
			 0);
	assert_int_equal(add(&pv[PROM_Q_DURATION_SUM],
			     MATRIX("{\"metric\":{},\"values\":[[1060,\"2\"],[1120,\"4\"]]}"), err),
			 0);
	assert_int_equal(prom_history__build(&h, &grid, pv), 0);
	assert_int_equal(h.nr, 3);
	/* first appearance at 1060: the series' value is the window's */
	assert_int_equal(h.rows[0].executions, 4);
	assert_int_equal(h.rows[0].duration.count, 4);
	assert_int_equal(h.rows[0].duration.sum, 2000000000ULL);
	assert_int_equal(h.rows[2].executions, 0);
	for (int q = 0; q < PROM_Q_MAX; q++)
		prom_values__fini(&pv[q]);
	history__fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prom_history_query_escapes_the_tool),
	    cmocka_unit_test(test_prom_history_answers_refused),
	    cmocka_unit_test(test_prom_history_windows_from_counters_and_buckets),
	    cmocka_unit_test(test_prom_history_mean_without_buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
