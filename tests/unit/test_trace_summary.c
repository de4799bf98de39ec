// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/trace_format.h"
#include "trace/trace_summary.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL
#define EPOCH_S	  1700000000ULL /* 2023-11-14T22:13:20Z */

/* tool ended with wait status `status` after ns, 1s after the clock's epoch. */
static struct exec_event timed_event(const char *tool, uint64_t ns, uint32_t status)
{
	struct exec_event ev = {
	    .kind = EXEC_EVENT_END,
	    .tool = tool,
	    .comm = tool,
	    .tgid = 4242,
	    .ppid = 1,
	    .start_ns = 1 * NS_PER_S,
	    .end_ns = 1 * NS_PER_S + ns,
	    .status = status,
	    .success = !status,
	};
	return ev;
}

static void assert_near(uint64_t got, uint64_t want, double tolerance)
{
	double d = (double)got - (double)want;

	if (d < 0)
		d = -d;
	if (d > tolerance * (double)want)
		fail_msg("got %llu, want %llu +- %.1f%%", (unsigned long long)got,
			 (unsigned long long)want, tolerance * 100);
}

static void test_trace_summary_percentiles(void **state)
{
	struct trace_summary *s = trace_summary__new(100);
	const struct trace_tool_stats *t;

	(void)state;
	assert_non_null(s);
	/* 1ms, 2ms, ... 100ms: p50 = 50ms, p95 = 95ms, p99 = 99ms */
	for (uint64_t i = 1; i <= 100; i++) {
		struct exec_event ev = timed_event("steps", i * NS_PER_MS, 0);

		assert_int_equal(trace_summary__add(s, &ev), 0);
	}
	t = trace_summary__tool(s, "steps");
	assert_non_null(t);
	assert_int_equal(t->count, 100);
	assert_int_equal(t->timed, 100);
	assert_int_equal(t->min_ns, 1 * NS_PER_MS);
	assert_int_equal(t->max_ns, 100 * NS_PER_MS);
	assert_near(trace_stats__quantile(t, 0.50), 50 * NS_PER_MS, 0.07);
	assert_near(trace_stats__quantile(t, 0.95), 95 * NS_PER_MS, 0.07);
	assert_near(trace_stats__quantile(t, 0.99), 99 * NS_PER_MS, 0.07);
	assert_int_equal(trace_stats__quantile(t, 1.0), 100 * NS_PER_MS);
	assert_int_equal(trace_stats__quantile(t, 0.0), 1 * NS_PER_MS);

	/* all equal: every percentile is that value exactly (clamped to min/max) */
	for (int i = 0; i < 50; i++) {
		struct exec_event ev = timed_event("flat", 2100 * NS_PER_US, 0);

		trace_summary__add(s, &ev);
	}
	t = trace_summary__tool(s, "flat");
	assert_int_equal(trace_stats__quantile(t, 0.5), 2100 * NS_PER_US);
	assert_int_equal(trace_stats__quantile(t, 0.99), 2100 * NS_PER_US);
	assert_null(trace_summary__tool(s, "absent"));
	trace_summary__free(s);
}

static void test_trace_summary_counts_failures_and_bounds_memory(void **state)
{
	struct trace_summary *s = trace_summary__new(2);
	struct exec_event ev;
	const struct trace_tool_stats *t;

	(void)state;
	ev = timed_event("a", NS_PER_MS, 3 << 8);
	trace_summary__add(s, &ev);
	ev = timed_event("a", NS_PER_MS, SIGKILL);
	trace_summary__add(s, &ev);
	ev = timed_event("a", NS_PER_MS, 0);
	ev.kind = EXEC_EVENT_START; /* starts are not counted */
	trace_summary__add(s, &ev);
	ev = timed_event("a", NS_PER_MS, 0);
	ev.kind = EXEC_EVENT_FAIL;
	trace_summary__add(s, &ev);
	t = trace_summary__tool(s, "a");
	assert_int_equal(t->count, 3);
	assert_int_equal(t->failures, 3);
	assert_int_equal(t->timed, 2); /* a failed exec has no duration */
	assert_int_equal(t->failures_by_type[ERROR_EXIT_CODE], 1);
	assert_int_equal(t->failures_by_type[ERROR_SIGNAL], 1);
	assert_int_equal(t->failures_by_type[ERROR_EXEC_FAILED], 1);
	/* beyond the cap, names share "other" */
	ev = timed_event("b", NS_PER_MS, 0);
	trace_summary__add(s, &ev);
	ev = timed_event("c", NS_PER_MS, 0);
	trace_summary__add(s, &ev);
	ev = timed_event("d", NS_PER_MS, 0);
	trace_summary__add(s, &ev);
	assert_int_equal(trace_summary__tool(s, "other")->count, 2);
	assert_int_equal(trace_summary__count(s), 6);
	trace_summary__reset(s);
	assert_int_equal(trace_summary__count(s), 0);
	assert_null(trace_summary__tool(s, "a"));
	ev = timed_event("e", NS_PER_MS, 0);
	trace_summary__add(s, &ev);
	assert_int_equal(trace_summary__tool(s, "e")->count, 1); /* a new period, new names */
	trace_summary__free(s);
}

/* The start of a usecs histogram whose slots up to 32 -> 63 are empty. */
#define USECS_TITLE_AND_EMPTY_0_TO_63                                                              \
	"     usecs               : count    distribution\n"                                       \
	"         0 -> 1          : 0        |                                        |\n"         \
	"         2 -> 3          : 0        |                                        |\n"         \
	"         4 -> 7          : 0        |                                        |\n"         \
	"         8 -> 15         : 0        |                                        |\n"         \
	"        16 -> 31         : 0        |                                        |\n"         \
	"        32 -> 63         : 0        |                                        |\n"

static void test_trace_summary_text_golden(void **state)
{
	struct trace_summary *s = trace_summary__new(10);
	struct trace_summary_view v = {
	    .wall_ns = (EPOCH_S + 10) * NS_PER_S,
	    .period_ns = 10 * NS_PER_S,
	    .measured = TRACE_MEASURE_ALL,
	};
	struct tw_usage u = {.cpu_user_ns = NS_PER_MS,
			     .runq_wait_ns = NS_PER_MS / 2,
			     .peak_rss_bytes = 2 << 20,
			     .net_tx_bytes = 1024};
	struct strbuf sb = {0};
	struct exec_event ev;

	(void)state;
	trace_summary__text(s, &sb, &v);
	assert_string_equal(sb.buf,
			    "22:13:30.000 summary of 10.0s: 0 executions, 0 failed, 0 tools\n"
			    "no executions\n");
	strbuf__reset(&sb);
	for (int i = 0; i < 3; i++) {
		ev = timed_event("gcc", 3 * NS_PER_MS, i == 2 ? 1 << 8 : 0);
		ev.usage = &u;
		trace_summary__add(s, &ev);
	}
	ev = timed_event("ls", 100 * NS_PER_US, 0);
	trace_summary__add(s, &ev);
	trace_summary__text(s, &sb, &v);
	assert_string_equal(
	    sb.buf,
	    "22:13:30.000 summary of 10.0s: 4 executions, 1 failed, 2 tools\n"
	    "\n"
	    "tool = gcc\n" USECS_TITLE_AND_EMPTY_0_TO_63
	    "        64 -> 127        : 0        |                                        |\n"
	    "       128 -> 255        : 0        |                                        |\n"
	    "       256 -> 511        : 0        |                                        |\n"
	    "       512 -> 1023       : 0        |                                        |\n"
	    "      1024 -> 2047       : 0        |                                        |\n"
	    "      2048 -> 4095       : 3        |****************************************|\n"
	    "\n"
	    "tool = ls\n" USECS_TITLE_AND_EMPTY_0_TO_63
	    "        64 -> 127        : 1        |****************************************|\n"
	    "\n"
	    "TOOL                   COUNT   FAIL     P50     P95     P99 MAXRSS    NET   DISK\n"
	    "gcc                        3      1  3.00ms  3.00ms  3.00ms   2.0M   3.0K      0\n"
	    "ls                         1      0   100us   100us   100us      -      -      -\n"
	    "\n"
	    "where the time went (mean per execution):\n"
	    "TOOL                     CPU    RUNQ   BLKIO   OTHER\n"
	    "gcc                   1.00ms   500us       -  1.50ms\n");
	strbuf__free(&sb);
	trace_summary__free(s);
}

static void test_trace_summary_json(void **state)
{
	struct trace_summary *s = trace_summary__new(10);
	struct trace_summary_view v = {
	    .wall_ns = EPOCH_S * NS_PER_S,
	    .period_ns = NS_PER_S,
	    .measured = TRACE_MEASURE_ALL,
	};
	struct strbuf sb = {0};
	struct exec_event ev;

	(void)state;
	trace_summary__json(s, &sb, &v);
	assert_int_equal(sb.len, 0);
	ev = timed_event("x\"y", 5 * NS_PER_US, SIGKILL);
	trace_summary__add(s, &ev);
	trace_summary__json(s, &sb, &v);
	assert_string_equal(
	    sb.buf, "{\"time\":\"2023-11-14T22:13:20.000000000Z\",\"event\":\"summary\","
		    "\"period_ns\":1000000000,\"tool\":\"x\\\"y\",\"count\":1,\"failures\":1,"
		    "\"failures_by_type\":{\"exit_code\":0,\"signal\":1,\"core_dump\":0,"
		    "\"exec_failed\":0,\"oom_kill\":0,\"not_found\":0},\"duration_p50_ns\":5000,"
		    "\"duration_p95_ns\":5000,\"duration_p99_ns\":5000,\"duration_max_ns\":5000,"
		    "\"duration_log2_us\":[0,0,1],\"max_peak_rss_bytes\":null,\"cpu_user_ns\":null,"
		    "\"cpu_system_ns\":null,\"net_tx_bytes\":null,\"net_rx_bytes\":null,"
		    "\"disk_read_bytes\":null,\"disk_write_bytes\":null,\"split_executions\":0,"
		    "\"runq_wait_ns\":null,\"blkio_wait_ns\":null,\"other_ns\":null}\n");
	strbuf__free(&sb);
	trace_summary__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trace_summary_percentiles),
	    cmocka_unit_test(test_trace_summary_counts_failures_and_bounds_memory),
	    cmocka_unit_test(test_trace_summary_text_golden),
	    cmocka_unit_test(test_trace_summary_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
