// SPDX-License-Identifier: GPL-2.0
/* `toolwatch backtest` flags: the agent's --anomaly.* table, sources and their checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/options.h"
#include "backtest/backtest_options.h"

static enum options_result parse(struct backtest_options *o, char *err, int argc, char **argv)
{
	backtest_options__init(o);
	return backtest_options__parse(o, argc, argv, err, 512);
}

static void test_backtest_options_anomaly_flags_as_the_agent(void **state)
{
	char *argv[] = {"--file=x.csv",
			"--anomaly.window=5m",
			"--anomaly.min-windows=288",
			"--anomaly.outlier-sigmas=6",
			"--anomaly.latency-ratio",
			"2.5",
			"--anomaly.keep-firing-for=1d",
			"--anomaly.outlier-beyond-range",
			"--json"};
	char *agent_argv[] = {"--anomaly.window=5m", "--anomaly.outlier-sigmas=6",
			      "--anomaly.latency-ratio=2.5"};
	struct backtest_options o;
	struct agent_options a;
	char err[512];

	assert_int_equal(parse(&o, err, 9, argv), OPTIONS_OK);
	assert_string_equal(o.file, "x.csv");
	assert_true(o.json);
	assert_int_equal(o.anomaly.window_ns, 300 * 1000000000ULL);
	assert_int_equal(o.anomaly.min_windows, 288);
	assert_float_equal(o.anomaly.outlier_sigmas, 6, 0);
	assert_float_equal(o.anomaly.latency_ratio, 2.5, 0);
	assert_int_equal(o.anomaly.keep_firing_ns, 86400 * 1000000000ULL);
	assert_true(o.anomaly.outlier_beyond_range);
	/* the agent takes the same flags into the same config */
	agent_options__init(&a);
	assert_int_equal(agent_options__parse(&a, 3, agent_argv, err, sizeof(err)), OPTIONS_OK);
	assert_float_equal(a.anomaly.outlier_sigmas, 6, 0);
	assert_float_equal(a.anomaly.latency_ratio, 2.5, 0);
	/* no window given: 0 until the data tells */
	assert_int_equal(parse(&o, err, 1, argv), OPTIONS_OK);
	assert_int_equal(o.anomaly.window_ns, 0);
	assert_int_equal(o.anomaly.min_windows, 60);
}

static void test_backtest_options_refusals_name_the_flag(void **state)
{
	static const struct {
		int argc;
		char *argv[4];
		const char *want;
	} bad[] = {
	    {0, {NULL}, "want one source"},
	    {2, {"--file=a", "--prometheus.url=http://p:9090"}, "want one source"},
	    {1, {"--prometheus.url=http://p:9090"}, "needs --tool"},
	    {1, {"--prometheus.url=ftp://p"}, "prometheus.url"},
	    {2, {"--file=a", "--start=1000"}, "go with --prometheus.url"},
	    {3,
	     {"--prometheus.url=http://p", "--tool=t", "--prometheus.password-file=f"},
	     "needs --prometheus.username"},
	    {4,
	     {"--prometheus.url=http://p", "--tool=t", "--start=2000", "--end=1000"},
	     "--start must be before --end"},
	    {3, {"--prometheus.url=http://p", "--tool=t", "--start=yesterday"}, "start"},
	    {2, {"--file=a", "--anomaly.outlier-sigmas=nan"}, "anomaly.outlier-sigmas"},
	    {2, {"--file=a", "--anomaly.latency-ratio=0.5"}, "anomaly.latency-ratio"},
	    {2, {"--file=a", "--anomaly.window=1500ms"}, "whole seconds"},
	    {2, {"--file=a", "--anomaly.bogus=1"}, "anomaly.bogus"},
	};
	struct backtest_options o;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&o, err, bad[i].argc, (char **)bad[i].argv), OPTIONS_ERROR);
		if (!strstr(err, bad[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backtest_options_anomaly_flags_as_the_agent),
	    cmocka_unit_test(test_backtest_options_refusals_name_the_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
