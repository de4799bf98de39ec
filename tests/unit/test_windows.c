// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "naming/tools.h"
#include "anomaly/windows.h"

static int count_tool(const struct anomaly_state *st, void *ctx)
{
	int *n = ctx;

	if (st->tool && !strcmp(st->tool, "fast") && st->kind == ANOMALY_LATENCY_DEGRADATION)
		(*n)++;
	return 0;
}

/* Feeds deltas, not totals: a steady tool's windows look the same however long it runs. */
static void test_windows_feed_deltas_and_raise_flags(void **state)
{
	struct anomaly_config cfg;
	struct anomaly_detector *d;
	struct registry *r = registry__new(10);
	struct windows *w = windows__new();
	struct tool_stats *s;
	struct snapshot *snap;
	unsigned int id;
	int pairs = 0;

	anomaly_config__init(&cfg);
	cfg.window_ns = 1000000000ULL;
	cfg.min_windows = 5;
	cfg.min_samples = 50;
	d = anomaly__new(&cfg);
	assert_non_null(d);
	id = registry__tool_id(r, "fast");
	s = registry__stats(r, id);
	for (int win = 0; win < 30; win++) {
		uint64_t dur = win < 20 ? 10000000ULL : 60000000ULL; /* 10 ms, then 60 ms */

		for (int i = 0; i < 100; i++) {
			hist__add(&s->duration, &hist_duration_layout, dur + (uint64_t)i * 10000);
			s->executions++;
			s->successes++;
			s->cpu_ns_ended += 1000000;
		}
		assert_int_equal(windows__close(w, r, d, 0.1, 1700000000 + win), 1);
	}
	snap = registry__snapshot(r, 0);
	assert_int_equal(windows__snapshot(d, snap), 0);
	assert_true(snap->anomaly_enabled);
	for (size_t i = 0; i < snap->nr_anomalies; i++) {
		if (snap->anomalies[i].tool && !strcmp(snap->anomalies[i].tool, "fast") &&
		    snap->anomalies[i].kind == ANOMALY_LATENCY_DEGRADATION)
			assert_true(snap->anomalies[i].active);
	}
	anomaly__for_each(d, count_tool, &pairs);
	assert_int_equal(pairs, 1);
	snapshot__put(snap);
	windows__free(w);
	anomaly__free(d);
	registry__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_windows_feed_deltas_and_raise_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
