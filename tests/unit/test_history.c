// SPDX-License-Identifier: GPL-2.0
/* `toolwatch backtest`'s history: the CSV and NAB parsers, and the replay through the detector. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backtest/history.h"
#include "backtest/replay.h"

static int parse(struct history *h, const char *csv, char *err)
{
	memset(h, 0, sizeof(*h));
	return history__parse_csv(h, csv, strlen(csv), err, 256);
}

static void test_history_time_formats(void **state)
{
	int64_t t;

	assert_int_equal(history__parse_time("2014-04-01 00:05:00", &t), 0);
	assert_int_equal(t, 1396310700);
	assert_int_equal(history__parse_time("2014-04-01T00:05:00.123456Z", &t), 0);
	assert_int_equal(t, 1396310700);
	assert_int_equal(history__parse_time("2000-02-29 23:59:59", &t), 0);
	assert_int_equal(t, 951868799);
	assert_int_equal(history__parse_time("1396310700", &t), 0);
	assert_int_equal(t, 1396310700);
	assert_int_equal(history__parse_time("1396310700.9", &t), 0);
	assert_int_equal(t, 1396310700);
	assert_int_equal(history__parse_time("2014-02-29 00:00:00", &t), -EINVAL);
	assert_int_equal(history__parse_time("2014-04-01 24:00:00", &t), -EINVAL);
	assert_int_equal(history__parse_time("2014-04-01", &t), -EINVAL);
	assert_int_equal(history__parse_time("2014-04-01 00:05:00+02:00", &t), -EINVAL);
	assert_int_equal(history__parse_time("-5", &t), -EINVAL);
	assert_int_equal(history__parse_time("", &t), -EINVAL);
}

static void test_history_nab_file(void **state)
{
	struct history h;
	char err[256];

	assert_int_equal(parse(&h,
			       "timestamp,value\r\n"
			       "2014-04-01 00:00:00,0.5\r\n"
			       "2014-04-01 00:05:00,2\r\n"
			       "\n"
			       "2014-04-01 00:10:00,-3\n",
			       err),
			 0);
	assert_int_equal(h.nr, 3);
	assert_int_equal(history__step_s(&h), 300);
	/* HISTORY_DEFAULT_EXECUTIONS executions that each lasted the value, in seconds */
	assert_int_equal(h.rows[0].executions, HISTORY_DEFAULT_EXECUTIONS);
	assert_int_equal(h.rows[0].duration.count, HISTORY_DEFAULT_EXECUTIONS);
	assert_int_equal(h.rows[0].duration.sum, HISTORY_DEFAULT_EXECUTIONS * 500000000ULL);
	assert_int_equal(
	    h.rows[0].duration.counts[hist_layout__bucket(&hist_duration_layout, 500000000ULL)],
	    HISTORY_DEFAULT_EXECUTIONS);
	assert_int_equal(h.rows[1].duration.sum, HISTORY_DEFAULT_EXECUTIONS * 2000000000ULL);
	/* below 0 is taken as 0 */
	assert_int_equal(h.rows[2].duration.sum, 0);
	assert_int_equal(h.rows[2].duration.count, HISTORY_DEFAULT_EXECUTIONS);
	history__fini(&h);
}

static void test_history_window_columns(void **state)
{
	struct history h;
	char err[256];

	assert_int_equal(parse(&h,
			       "cpu_seconds,timestamp,failures,executions,duration_seconds,"
			       "peak_memory_bytes\n"
			       "1.5,1396310700,2,40,0.01,1048576\n",
			       err),
			 0);
	assert_int_equal(h.nr, 1);
	assert_int_equal(h.rows[0].time_unix_s, 1396310700);
	assert_int_equal(h.rows[0].executions, 40);
	assert_int_equal(h.rows[0].failures, 2);
	assert_float_equal(h.rows[0].cpu_seconds, 1.5, 0);
	assert_int_equal(h.rows[0].duration.count, 40);
	assert_int_equal(h.rows[0].duration.sum, 40 * 10000000ULL);
	assert_int_equal(h.rows[0].peak_memory.count, 40);
	history__fini(&h);
	/* no duration column: no duration figures */
	assert_int_equal(parse(&h, "timestamp,executions\n1396310700,5\n", err), 0);
	assert_int_equal(h.rows[0].duration.count, 0);
	history__fini(&h);
}

static void test_history_equal_and_falling_times(void **state)
{
	struct history h;
	char err[256];

	assert_int_equal(parse(&h,
			       "timestamp,value\n"
			       "100,1\n200,1\n200,1\n150,1\n300,1\n",
			       err),
			 0);
	assert_int_equal(h.nr, 5);
	assert_int_equal(h.clamped, 1);
	assert_int_equal(h.rows[3].time_unix_s, 200);
	assert_int_equal(history__step_s(&h), 100);
	history__fini(&h);
}

static void test_history_malformed_refused_with_line(void **state)
{
	static const struct {
		const char *csv, *want;
	} bad[] = {
	    {"", "no header"},
	    {"value\n1\n", "no 'timestamp'"},
	    {"timestamp,latency\n", "unknown column 'latency'"},
	    {"timestamp,value,value\n", "given twice"},
	    {"timestamp,value,duration_seconds\n", "same column"},
	    {"timestamp,value\n100,1\n200\n", "line 3: 1 cells"},
	    {"timestamp,value\n100,nan\n", "line 2: bad value"},
	    {"timestamp,value\n100,inf\n", "line 2: bad value"},
	    {"timestamp,value\n100,0x10\n", "line 2: bad value"},
	    {"timestamp,value\nyesterday,1\n", "line 2: bad timestamp"},
	    {"timestamp,executions\n100,1.5\n", "line 2: bad executions"},
	    {"timestamp,executions,failures\n100,1,2\n", "more failures"},
	    {"timestamp,cpu_seconds\n100,-1\n", "bad cpu_seconds"},
	};
	struct history h;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&h, bad[i].csv, err), -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("'%s': got '%s', want '%s'", bad[i].csv, err, bad[i].want);
		assert_null(strchr(err, '\n'));
		history__fini(&h);
	}
}

/* A NAB-like series: flat, then 5x for a while. */
static void make_step(struct history *h, int rows, int step_at, int64_t gap)
{
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < rows; i++) {
		struct history_row row = {.time_unix_s = 1396310400 + i * gap, .executions = 10};

		history_row__set_duration(&row, 10,
					  (i >= step_at ? 5.0 : 1.0) * (1 + (i % 7) * 0.01));
		assert_int_equal(history__append(h, &row), 0);
	}
}

static void test_replay_raises_on_a_step(void **state)
{
	struct anomaly_config cfg;
	struct replay r = {0};
	struct history h;
	bool latency = false;

	make_step(&h, 300, 200, 300);
	anomaly_config__init(&cfg);
	cfg.window_ns = 300 * 1000000000ULL;
	assert_int_equal(replay__run(&r, &cfg, "series", &h), 0);
	assert_int_equal(r.windows, 300);
	assert_int_equal(r.empty_windows, 0);
	for (size_t i = 0; i < r.nr_events; i++) {
		const struct replay_event *e = &r.events[i];

		if (e->kind == ANOMALY_LATENCY_DEGRADATION && e->active) {
			/* raise_after 2: the second window of the step */
			assert_int_equal(e->window, 201);
			assert_int_equal(e->row, 201);
			assert_int_equal(e->end_unix_s, 1396310400 + 201 * 300);
			assert_true(e->ratio > 1.5);
			latency = true;
		}
		assert_true(e->window >= 200);
	}
	assert_true(latency);
	replay__fini(&r);
	history__fini(&h);
}

static void test_replay_windows_of_several_rows_and_gaps(void **state)
{
	struct anomaly_config cfg;
	struct replay r = {0};
	struct history h;
	struct history_row row = {.executions = 1};

	memset(&h, 0, sizeof(h));
	for (int64_t t = 0; t < 10; t++) {
		row.time_unix_s = 1000 + t * 60;
		assert_int_equal(history__append(&h, &row), 0);
	}
	row.time_unix_s = 1000 + 20 * 60; /* 10 minutes without rows */
	assert_int_equal(history__append(&h, &row), 0);
	anomaly_config__init(&cfg);
	cfg.window_ns = 120 * 1000000000ULL;
	assert_int_equal(replay__run(&r, &cfg, "t", &h), 0);
	/* ends 1000, 1120, ..., 2200: 11 windows, the first holding one row */
	assert_int_equal(r.windows, 11);
	assert_int_equal(r.empty_windows, 4); /* 1720 .. 2080 */
	replay__fini(&r);
	/* shorter than the rows' step: the data cannot resolve it */
	cfg.window_ns = 30 * 1000000000ULL;
	assert_int_equal(replay__run(&r, &cfg, "t", &h), -ERANGE);
	cfg.window_ns = 1500000000ULL;
	assert_int_equal(replay__run(&r, &cfg, "t", &h), -EINVAL);
	replay__fini(&r);
	history__fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_history_time_formats),
	    cmocka_unit_test(test_history_nab_file),
	    cmocka_unit_test(test_history_window_columns),
	    cmocka_unit_test(test_history_equal_and_falling_times),
	    cmocka_unit_test(test_history_malformed_refused_with_line),
	    cmocka_unit_test(test_replay_raises_on_a_step),
	    cmocka_unit_test(test_replay_windows_of_several_rows_and_gaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
