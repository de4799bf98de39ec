// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/options.h"

static enum options_result parse(struct agent_options *o, char *err, int argc, ...)
{
	char *argv[16];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	agent_options__init(o);
	err[0] = '\0';
	return agent_options__parse(o, argc, argv, err, 256);
}

static void test_options_defaults(void **state)
{
	struct agent_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 0), OPTIONS_OK);
	assert_string_equal(o.listen_host, "");
	assert_int_equal(o.listen_port, 9477);
	assert_int_equal(o.tools_max, 500);
	assert_int_equal(o.ringbuf_bytes, 4 << 20);
	assert_false(o.bpf_stats);
	for (int p = 0; p < PROBE_MAX; p++)
		assert_true(o.disable[p] == (p == PROBE_EXEC_FAILED ||
					     p == PROBE_EXEC_FAILED_LIBC || p == PROBE_RUNQLAT ||
					     p == PROBE_DELAYACCT ||
					     p == PROBE_NETCALLS)); /* opt-in families */
}

static void test_options_equals_and_separate_values(void **state)
{
	struct agent_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 4, "--web.listen-address=127.0.0.1:9100", "--tools.max",
			       "2000", "--bpf.stats"),
			 OPTIONS_OK);
	assert_string_equal(o.listen_host, "127.0.0.1");
	assert_int_equal(o.listen_port, 9100);
	assert_int_equal(o.tools_max, 2000);
	assert_true(o.bpf_stats);
	assert_int_equal(parse(&o, err, 1, "--bpf.stats=false"), OPTIONS_OK);
	assert_false(o.bpf_stats);
}

static void test_options_tool_naming_flags(void **state)
{
	struct agent_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 0), OPTIONS_OK);
	assert_string_equal(o.tools_rules, "");
	assert_int_equal(o.tools_idle_timeout_ns, 3600ULL * 1000000000ULL);
	assert_false(o.tools_normalize);
	assert_int_equal(parse(&o, err, 3, "--tools.rules=/etc/pe.yml", "--tools.idle-timeout=0",
			       "--tools.normalize"),
			 OPTIONS_OK);
	assert_string_equal(o.tools_rules, "/etc/pe.yml");
	assert_int_equal(o.tools_idle_timeout_ns, 0);
	assert_true(o.tools_normalize);
	assert_int_equal(parse(&o, err, 1, "--tools.idle-timeout=soon"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "tools.idle-timeout"));
}

static void test_options_probe_disable_list(void **state)
{
	struct agent_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 1, "--probe.disable=net,runqlat"), OPTIONS_OK);
	assert_true(o.disable[PROBE_NET]);
	assert_true(o.disable[PROBE_RUNQLAT]);
	assert_false(o.disable[PROBE_TCP]);
	assert_int_equal(parse(&o, err, 1, "--probe.enable=runqlat"), OPTIONS_OK);
	assert_false(o.disable[PROBE_RUNQLAT]);
	assert_int_equal(parse(&o, err, 1, "--probe.enable=nope"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--probe.enable"));
	assert_int_equal(parse(&o, err, 1, "--probe.disable=exec"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--probe.disable"));
	assert_int_equal(parse(&o, err, 1, "--probe.disable=net,bogus"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "bogus"));
}

static void test_options_bad_values_name_the_flag(void **state)
{
	const char *bad[][2] = {
	    {"--tools.max=0", "--tools.max"},
	    {"--tools.max=12x", "--tools.max"},
	    {"--web.listen-address=9477", "--web.listen-address"},
	    {"--bpf.ringbuf-size=3000", "--bpf.ringbuf-size"},
	    {"--bpf.ringbuf-size=2GiB", "--bpf.ringbuf-size"},
	    {"--bpf.max-processes=1", "--bpf.max-processes"},
	    {"--log.level=verbose", "--log.level"},
	    {"--bpf.stats=maybe", "--bpf.stats"},
	    {"--nope", "--nope"},
	    {"--tools.max", "--tools.max"},
	    {"stray", "stray"},
	};
	struct agent_options o;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&o, err, 1, bad[i][0]), OPTIONS_ERROR);
		assert_non_null(strstr(err, bad[i][1]));
	}
}

static void test_options_web_flags(void **state)
{
	struct agent_options o;
	char err[256];

	/* --web.listen-address repeats: the first replaces the default, each later one adds */
	assert_int_equal(
	    parse(&o, err, 3, "--web.listen-address=:1", "--web.listen-address", "127.0.0.1:2"),
	    OPTIONS_OK);
	assert_string_equal(o.listen_host, "");
	assert_int_equal(o.listen_port, 1);
	assert_int_equal(o.nr_more_listen, 1);
	assert_string_equal(o.more_listen[0].host, "127.0.0.1");
	assert_int_equal(o.more_listen[0].port, 2);
	assert_int_equal(parse(&o, err, 9, "--web.listen-address=:1", "--web.listen-address=:2",
			       "--web.listen-address=:3", "--web.listen-address=:4",
			       "--web.listen-address=:5", "--web.listen-address=:6",
			       "--web.listen-address=:7", "--web.listen-address=:8",
			       "--web.listen-address=:9"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "at most 8"));
	/* port 0 is a port nobody knows */
	assert_int_equal(parse(&o, err, 1, "--web.listen-address=127.0.0.1:0"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "port 0"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(parse(&o, err, 1, "--web.telemetry-path=/m"), OPTIONS_OK);
	assert_string_equal(o.telemetry_path, "/m");
	assert_int_equal(parse(&o, err, 1, "--web.telemetry-path=metrics"), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 1, "--web.telemetry-path=/healthz"), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 4, "--web.max-connections=100",
			       "--web.max-connections-per-client=3", "--web.read-header-timeout=2s",
			       "--web.disable-exporter-metrics"),
			 OPTIONS_OK);
	assert_int_equal(o.max_connections, 100);
	assert_int_equal(o.max_per_client, 3);
	assert_int_equal(o.read_header_timeout_ns, 2000000000ULL);
	assert_true(o.disable_exporter_metrics);
	assert_int_equal(parse(&o, err, 1, "--web.max-connections-per-client=0"), OPTIONS_ERROR);
	assert_int_equal(parse(&o, err, 1, "--log.format=json"), OPTIONS_OK);
	assert_int_equal(o.log_format, LOG_FORMAT_JSON);
	assert_int_equal(parse(&o, err, 1, "--log.format=xml"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--log.format"));
}

static void test_options_repeated_flag_refused(void **state)
{
	struct agent_options o;
	char err[256];

	/* one value flag given twice: refused as trace does, not "the last wins" */
	assert_int_equal(parse(&o, err, 2, "--tools.max=5", "--tools.max=6"), OPTIONS_ERROR);
	assert_string_equal(err, "flag '--tools.max' given twice");
	assert_int_equal(parse(&o, err, 2, "--probe.disable=net", "--probe.disable=tcp"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "--probe.disable"));
	/* a switch may repeat; different flags of one family are fine */
	assert_int_equal(parse(&o, err, 3, "--bpf.stats", "--bpf.stats=false", "--bpf.stats"),
			 OPTIONS_OK);
	assert_true(o.bpf_stats);
	assert_int_equal(parse(&o, err, 2, "--probe.disable=net", "--probe.enable=runqlat"),
			 OPTIONS_OK);
}

static void test_options_every_flag(void **state)
{
	struct agent_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 14, "--bpf.ringbuf-size=64KiB", "--bpf.max-processes=64",
			       "--anomaly.window=30s", "--anomaly.baseline=1d",
			       "--anomaly.seasonal", "--anomaly.min-windows=3",
			       "--anomaly.min-samples=4", "--anomaly.raise-after=5",
			       "--anomaly.clear-after=6", "--anomaly.new-tool-learning=1h",
			       "--anomaly.new-tool-hold=0", "--anomaly.relearn-after=2h",
			       "--anomaly.max-tools=7", "--log.level=debug"),
			 OPTIONS_OK);
	assert_int_equal(o.ringbuf_bytes, 64 << 10);
	assert_int_equal(o.max_processes, 64);
	assert_int_equal(o.anomaly.window_ns, 30000000000ULL);
	assert_int_equal(o.anomaly.baseline_ns, 86400000000000ULL);
	assert_true(o.anomaly.seasonal);
	assert_int_equal(o.anomaly.min_windows, 3);
	assert_int_equal(o.anomaly.min_samples, 4);
	assert_int_equal(o.anomaly.raise_after, 5);
	assert_int_equal(o.anomaly.clear_after, 6);
	assert_int_equal(o.anomaly.new_tool_learning_ns, 3600000000000ULL);
	assert_int_equal(o.anomaly.new_tool_hold_ns, 0);
	assert_int_equal(o.anomaly.relearn_after_ns, 7200000000000ULL);
	assert_int_equal(o.anomaly.max_tools, 7);
	assert_int_equal(o.log_level, LOG_DEBUG);
	assert_int_equal(parse(&o, err, 3, "--state.dir=/tmp/tw", "--state.save-interval", "1m"),
			 OPTIONS_OK);
	assert_string_equal(o.state_dir, "/tmp/tw");
	assert_int_equal(o.state_save_interval_ns, 60000000000ULL);
}

static void test_options_kubernetes_flags(void **state)
{
	struct agent_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 0), OPTIONS_OK);
	assert_false(o.kube.enable);
	assert_string_equal(o.kube.api_url, "");
	assert_int_equal(o.kube.timeout_ns, 5000000000ULL);
	assert_int_equal(o.kube.resync_ns, 30000000000ULL);
	assert_int_equal(o.kube.min_refresh_ns, 1000000000ULL);
	assert_int_equal(o.kube.max_body_bytes, 4 << 20);
	assert_int_equal(
	    parse(&o, err, 8, "--kubernetes.enable", "--kubernetes.api-url=https://10.96.0.1:443",
		  "--kubernetes.token-file=/run/tok", "--kubernetes.ca-file=/run/ca.crt",
		  "--kubernetes.node-name=node-a", "--kubernetes.timeout=2s",
		  "--kubernetes.resync-interval=1m", "--kubernetes.max-body-size=16MiB"),
	    OPTIONS_OK);
	assert_true(o.kube.enable);
	assert_string_equal(o.kube.api_url, "https://10.96.0.1:443");
	assert_string_equal(o.kube.token_file, "/run/tok");
	assert_string_equal(o.kube.ca_file, "/run/ca.crt");
	assert_string_equal(o.kube.node_name, "node-a");
	assert_int_equal(o.kube.timeout_ns, 2000000000ULL);
	assert_int_equal(o.kube.resync_ns, 60000000000ULL);
	assert_int_equal(o.kube.max_body_bytes, 16 << 20);
	assert_int_equal(parse(&o, err, 1, "--kubernetes.api-url=http://127.0.0.1:8001/"),
			 OPTIONS_OK);
	const char *bad[] = {"--kubernetes.api-url=ftp://x",
			     "--kubernetes.api-url=https://x/?watch=1",
			     "--kubernetes.api-url=10.96.0.1",
			     "--kubernetes.timeout=1ms",
			     "--kubernetes.resync-interval=10ms",
			     "--kubernetes.max-body-size=1",
			     "--kubernetes.node-name="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&o, err, 1, bad[i]), OPTIONS_ERROR);
		assert_non_null(strstr(err, "--kubernetes."));
		assert_null(strchr(err, '\n'));
	}
}

static void test_options_help_and_version(void **state)
{
	struct agent_options o;
	char err[256];

	assert_int_equal(parse(&o, err, 2, "--tools.max=5", "--help"), OPTIONS_HELP);
	assert_int_equal(parse(&o, err, 1, "-h"), OPTIONS_HELP);
	assert_int_equal(parse(&o, err, 1, "--version"), OPTIONS_VERSION);
	assert_non_null(strstr(agent_usage, "EXAMPLES"));
}

/* Found by tests/fuzz/fuzz_flags.c: a list item was quoted with its raw newline. */
static void test_options_error_is_one_line(void **state)
{
	struct agent_options o;
	char err[256];

	(void)state;
	agent_options__init(&o);
	assert_int_equal(parse(&o, err, 1, "--probe.disable=net,a]:\n\x1b[2J"), OPTIONS_ERROR);
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, '\x1b'));
	assert_non_null(strstr(err, "'a]:??[2J' is not an optional probe"));
}

static void test_options_metrics_budget_flags(void **state)
{
	struct agent_options o;
	struct metrics_config c;
	char err[256];
	char *ok[] = {"--metrics.native-histograms=both", "--metrics.classic-buckets=none",
		      "--metrics.disable=tool_running,tool_peak_memory_bytes",
		      "--metrics.skip-zero-failures", "--metrics.max-series=1000"};
	char *bad_mode[] = {"--metrics.native-histograms=yes"};
	char *bad_layout[] = {"--metrics.classic-buckets=fine"};
	char *bad_family[] = {"--metrics.disable=tool_executions_total"};
	char *too_small[] = {"--metrics.max-series=99"};

	(void)state;
	agent_options__init(&o);
	assert_int_equal(o.metrics_max_series, 20000);
	assert_int_equal(o.metrics_native, NATIVE_ONLY);
	assert_int_equal(o.metrics_classic, CLASSIC_BUCKETS_FULL);
	/* 70 series a tool by default: 284 tools besides "other" */
	assert_int_equal(agent_options__series_cap(&o, &c), 284);
	assert_int_equal(c.max_series, 20000);
	assert_int_equal(agent_options__parse(&o, 5, ok, err, sizeof(err)), OPTIONS_OK);
	assert_int_equal(o.metrics_native, NATIVE_BOTH);
	assert_int_equal(o.metrics_classic, CLASSIC_BUCKETS_NONE);
	assert_int_equal(o.metrics_disable,
			 (1u << TOOL_FAMILY_RUNNING) | (1u << TOOL_FAMILY_PEAK_MEMORY));
	assert_true(o.metrics_skip_zero_failures);
	/* 3 + 1 + 1 + 6 + 1 + 2 + 2 + 2 + 2 + 2 = 22 a tool: 1000 admit 44 besides "other" */
	assert_int_equal(agent_options__series_cap(&o, &c), 44);
	assert_int_equal(c.native, NATIVE_BOTH);
	assert_true(c.skip_zero_failures);
	agent_options__init(&o);
	assert_int_equal(agent_options__parse(&o, 1, bad_mode, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--metrics.native-histograms"));
	assert_int_equal(agent_options__parse(&o, 1, bad_layout, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--metrics.classic-buckets"));
	assert_int_equal(agent_options__parse(&o, 1, bad_family, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--metrics.disable"));
	assert_int_equal(agent_options__parse(&o, 1, too_small, err, sizeof(err)), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--metrics.max-series"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_error_is_one_line),
	    cmocka_unit_test(test_options_defaults),
	    cmocka_unit_test(test_options_equals_and_separate_values),
	    cmocka_unit_test(test_options_probe_disable_list),
	    cmocka_unit_test(test_options_tool_naming_flags),
	    cmocka_unit_test(test_options_bad_values_name_the_flag),
	    cmocka_unit_test(test_options_repeated_flag_refused),
	    cmocka_unit_test(test_options_web_flags),
	    cmocka_unit_test(test_options_every_flag),
	    cmocka_unit_test(test_options_kubernetes_flags),
	    cmocka_unit_test(test_options_help_and_version),
	    cmocka_unit_test(test_options_metrics_budget_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
