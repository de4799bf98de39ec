// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exposition.h"

static char *escape(const char *in)
{
	static struct strbuf sb;

	strbuf__reset(&sb);
	exposition__escape_label(&sb, in);
	strbuf__putc(&sb, '\0');
	return sb.buf;
}

static void test_escape_plain_passes_through(void **state)
{
	assert_string_equal(escape("curl"), "curl");
	assert_string_equal(escape("h\xc3\xa9llo \xe2\x82\xac"), "h\xc3\xa9llo \xe2\x82\xac");
}

static void test_escape_quotes_backslashes_newlines(void **state)
{
	/* a backslash in a name is doubled in the value, which the text format doubles again */
	assert_string_equal(escape("a\"b"), "a\\\"b");
	assert_string_equal(escape("a\\b"), "a\\\\\\\\b");
	assert_string_equal(escape("a\nb"), "a\\\\nb");
	assert_string_equal(escape("\"\t\r"), "\\\"\\\\t\\\\r");
}

static void test_escape_invalid_utf8_and_controls_visible(void **state)
{
	/* a stray byte, a truncated sequence, an overlong NUL and a surrogate: \xNN each */
	assert_string_equal(escape("a\xff"
				   "b"),
			    "a\\\\xff"
			    "b");
	assert_string_equal(escape("x\xe2\x82"), "x\\\\xe2\\\\x82");
	assert_string_equal(escape("\xc0\x80"), "\\\\xc0\\\\x80");
	assert_string_equal(escape("\xed\xa0\x80"), "\\\\xed\\\\xa0\\\\x80");
	/* ESC, DEL and a C1 control; a real U+FFFD stays itself */
	assert_string_equal(escape("\x1b[2J\x7f\xc2\x9b"), "\\\\x1b[2J\\\\x7f\\\\xc2\\\\x9b");
	assert_string_equal(escape("\xef\xbf\xbd"), "\xef\xbf\xbd");
}

/* The names that collided as U+FFFD U+FFFD before: every one its own value. */
static void test_escape_colliding_names_distinct(void **state)
{
	static const char *const names[] = {
	    "\xff\xfe",	  "\xfe\xff",	    "\xff\xff",	 "\xef\xbf\xbd\xef\xbf\xbd",
	    "\\xff\\xfe", "\\\\xff\\\\xfe", "\\xff\xfe", "\xff\\xfe",
	};
	char *values[sizeof(names) / sizeof(names[0])];
	size_t n = sizeof(names) / sizeof(names[0]);

	for (size_t i = 0; i < n; i++)
		values[i] = strdup(escape(names[i]));
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(values[i], values[j]);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
}

static void test_decimal_is_exact(void **state)
{
	struct strbuf sb = {};

	exposition__decimal(&sb, 100000, 9);
	strbuf__putc(&sb, ' ');
	exposition__decimal(&sb, 2500000000000ULL, 9);
	strbuf__putc(&sb, ' ');
	exposition__decimal(&sb, 187091787, 9);
	strbuf__putc(&sb, ' ');
	exposition__decimal(&sb, 0, 9);
	strbuf__putc(&sb, ' ');
	exposition__decimal(&sb, 65536, 0);
	assert_string_equal(sb.buf, "0.0001 2500 0.187091787 0 65536");
	strbuf__free(&sb);
}

static struct snapshot *one_tool_snapshot(const char *name)
{
	static struct snapshot_tool tools[2];
	static struct snapshot s;

	memset(tools, 0, sizeof(tools));
	memset(&s, 0, sizeof(s));
	tools[0].name = "other";
	tools[1].name = name;
	hist__add(&tools[1].stats.duration, &hist_duration_layout, 2000000);  /* 2 ms */
	hist__add(&tools[1].stats.duration, &hist_duration_layout, 40000000); /* 40 ms */
	tools[1].stats.executions = 3;
	tools[1].stats.successes = 1;
	tools[1].stats.failures[ERROR_EXIT_CODE] = 1;
	tools[1].stats.failures[ERROR_EXEC_FAILED] = 1;
	tools[1].stats.running = 2;
	s.tools = tools;
	s.nr_tools = 2;
	s.probe_enabled[PROBE_EXEC] = true;
	return &s;
}

static void test_render_golden_histogram_lines(void **state)
{
	struct strbuf out = {};
	const char *golden = "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"0.001\"} 0\n"
			     "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"0.0025\"} 1\n"
			     "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"0.005\"} 1\n"
			     "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"0.01\"} 1\n"
			     "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"0.025\"} 1\n"
			     "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"0.05\"} 2\n";
	const char *tail = "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"2500\"} 2\n"
			   "tool_execution_duration_seconds_bucket{tool=\"t\",le=\"+Inf\"} 2\n"
			   "tool_execution_duration_seconds_sum{tool=\"t\"} 0.042\n"
			   "tool_execution_duration_seconds_count{tool=\"t\"} 2\n";

	exposition__render(one_tool_snapshot("t"), "1.2.3", &out);
	assert_non_null(strstr(out.buf, "# HELP tool_execution_duration_seconds "));
	assert_non_null(strstr(out.buf, "# TYPE tool_execution_duration_seconds histogram\n"));
	assert_non_null(strstr(out.buf, golden));
	assert_non_null(strstr(out.buf, tail));
	strbuf__free(&out);
}

static void test_render_golden_counters(void **state)
{
	struct strbuf out = {};

	exposition__render(one_tool_snapshot("t"), "1.2.3", &out);
	assert_non_null(strstr(out.buf, "# TYPE tool_executions_total counter\n"
					"tool_executions_total{tool=\"other\"} 0\n"
					"tool_executions_total{tool=\"t\"} 3\n"));
	assert_non_null(strstr(out.buf, "tool_execution_success_total{tool=\"t\"} 1\n"));
	assert_non_null(strstr(
	    out.buf, "tool_execution_failure_total{tool=\"t\",error_type=\"exit_code\"} 1\n"
		     "tool_execution_failure_total{tool=\"t\",error_type=\"signal\"} 0\n"
		     "tool_execution_failure_total{tool=\"t\",error_type=\"core_dump\"} 0\n"
		     "tool_execution_failure_total{tool=\"t\",error_type=\"exec_failed\"} 1\n"
		     "tool_execution_failure_total{tool=\"t\",error_type=\"oom_kill\"} 0\n"));
	assert_non_null(strstr(out.buf, "# TYPE tool_running gauge\n"));
	assert_non_null(strstr(out.buf, "tool_running{tool=\"t\"} 2\n"));
	assert_non_null(strstr(out.buf, "toolwatch_build_info{version=\"1.2.3\",revision=\""));
	assert_non_null(strstr(out.buf, "toolwatch_probe_enabled{probe=\"exec\"} 1\n"));
	/* families of probes that are not enabled are left out rather than shown as zero */
	assert_null(strstr(out.buf, "tool_network_bytes_total"));
	assert_null(strstr(out.buf, "toolwatch_runqueue_latency_seconds"));
	strbuf__free(&out);
}

static void test_render_exit_families(void **state)
{
	struct snapshot *s = one_tool_snapshot("t");
	struct strbuf out = {};

	s->exits = (struct exit_stats){
	    .timer = true, .late = 2, .unseen_switch = 3, .unslotted = 5, .execs_spilled = 7};
	exposition__render(s, "1.2.3", &out);
	assert_non_null(strstr(out.buf, "# TYPE toolwatch_exit_timer_ready gauge\n"
					"toolwatch_exit_timer_ready 1\n"));
	assert_non_null(strstr(out.buf, "toolwatch_exit_slots_full_total 5\n"));
	assert_non_null(strstr(out.buf, "# TYPE toolwatch_bpf_execs_spilled gauge\n"
					"toolwatch_bpf_execs_spilled 7\n"));
	assert_non_null(strstr(
	    out.buf, "# TYPE toolwatch_exits_cpu_inexact_total counter\n"
		     "toolwatch_exits_cpu_inexact_total{reason=\"late\"} 2\n"
		     "toolwatch_exits_cpu_inexact_total{reason=\"last_switch_unseen\"} 3\n"));
	s->exits = (struct exit_stats){};
	strbuf__free(&out);
}

static void test_render_kubernetes_families(void **state)
{
	struct snapshot *s = one_tool_snapshot("t");
	struct strbuf out = {};

	/* off: not a line of it */
	exposition__render(s, "1.2.3", &out);
	assert_null(strstr(out.buf, "toolwatch_kubernetes_"));
	strbuf__free(&out);
	s->kube = (struct kube_stats){
	    .enabled = true,
	    .requests_ok = 7,
	    .pods = 3,
	    .containers = 6,
	    .items_dropped = 1,
	    .lookups_hit = 10,
	    .lookups_miss = 2,
	    .last_success_unix = 1764670000.25,
	    .last_duration_secs = 0.0125,
	};
	s->kube.failures[KUBE_FAIL_TIMEOUT] = 2;
	s->kube.failures[KUBE_FAIL_TOO_LARGE] = 1;
	exposition__render(s, "1.2.3", &out);
	assert_non_null(strstr(out.buf,
			       "# TYPE toolwatch_kubernetes_requests_total counter\n"
			       "toolwatch_kubernetes_requests_total{result=\"success\"} 7\n"
			       "toolwatch_kubernetes_requests_total{result=\"failure\"} 3\n"));
	assert_non_null(strstr(out.buf,
			       "toolwatch_kubernetes_failures_total{reason=\"timeout\"} 2\n"
			       "toolwatch_kubernetes_failures_total{reason=\"connect\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"tls\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"token\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"http_401\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"http_403\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"http_5xx\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"http_other\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"parse\"} 0\n"
			       "toolwatch_kubernetes_failures_total{reason=\"too_large\"} 1\n"
			       "toolwatch_kubernetes_failures_total{reason=\"other\"} 0\n"));
	assert_non_null(strstr(out.buf, "# TYPE toolwatch_kubernetes_pods gauge\n"
					"toolwatch_kubernetes_pods 3\n"));
	assert_non_null(strstr(out.buf, "toolwatch_kubernetes_containers 6\n"));
	assert_non_null(strstr(out.buf, "toolwatch_kubernetes_items_dropped_total 1\n"));
	assert_non_null(strstr(out.buf, "toolwatch_kubernetes_lookups_total{result=\"hit\"} 10\n"
					"toolwatch_kubernetes_lookups_total{result=\"miss\"} 2\n"));
	assert_non_null(strstr(out.buf, "toolwatch_kubernetes_last_success_timestamp_seconds "
					"1764670000.250\n"));
	assert_non_null(
	    strstr(out.buf, "toolwatch_kubernetes_request_duration_seconds 0.012500\n"));
	assert_string_equal(kube_failure__name(KUBE_FAIL_MAX), "unknown");
	strbuf__free(&out);
}

static void test_render_waits_and_anomaly_cause(void **state)
{
	struct snapshot *s = one_tool_snapshot("t");
	struct snapshot_anomaly anomalies[3] = {
	    {.tool = "t",
	     .kind = ANOMALY_LATENCY_DEGRADATION,
	     .active = true,
	     .cause = ANOMALY_CAUSE_RUNQUEUE},
	    {.tool = "t",
	     .kind = ANOMALY_STATISTICAL_OUTLIER,
	     .active = false,
	     .cause = ANOMALY_CAUSE_CPU},
	    {.tool = "t", .kind = ANOMALY_FAILURE_RATE, .active = true},
	};
	struct strbuf out = {};

	(void)state;
	s->tools[1].stats.wait_ns[WAIT_RUNQUEUE] = 1500000000;
	s->tools[1].stats.wait_ns[WAIT_BLKIO] = 250000000;
	s->host.delayacct_known = true;
	exposition__render(s, "v", &out);
	/* delay accounting off: run-queue wait only, block I/O absent rather than zero */
	assert_non_null(strstr(out.buf, "# TYPE tool_wait_seconds_total counter\n"));
	assert_non_null(strstr(out.buf, "tool_wait_seconds_total{tool=\"t\",reason=\"runqueue\"} "
					"1.5\n"));
	assert_null(strstr(out.buf, "reason=\"blkio\""));
	assert_non_null(strstr(out.buf, "toolwatch_delay_accounting_enabled 0\n"));
	assert_null(strstr(out.buf, "tool_anomaly_cause")); /* anomalies off */
	strbuf__reset(&out);

	s->host.delayacct = true;
	s->anomaly_enabled = true;
	s->anomalies = anomalies;
	s->nr_anomalies = 3;
	exposition__render(s, "v", &out);
	assert_non_null(strstr(out.buf, "tool_wait_seconds_total{tool=\"t\",reason=\"runqueue\"} "
					"1.5\n"
					"tool_wait_seconds_total{tool=\"t\",reason=\"blkio\"} "
					"0.25\n"));
	assert_non_null(strstr(out.buf, "toolwatch_delay_accounting_enabled 1\n"));
	/* only the raised flag with a cause: not the cleared one, not FAILURE_RATE */
	assert_non_null(strstr(out.buf,
			       "# TYPE tool_anomaly_cause gauge\n"
			       "tool_anomaly_cause{tool=\"t\",kind=\"LATENCY_DEGRADATION\","
			       "cause=\"runqueue\"} 1\n#"));
	assert_null(strstr(out.buf, "cause=\"cpu\""));
	s->anomalies = NULL;
	s->nr_anomalies = 0;
	strbuf__free(&out);
}

static void test_render_hostile_tool_name(void **state)
{
	struct strbuf out = {};

	exposition__render(one_tool_snapshot("a\"b\\c\nd\xff"), "v", &out);
	assert_non_null(
	    strstr(out.buf, "tool_executions_total{tool=\"a\\\"b\\\\\\\\c\\\\nd\\\\xff\"} 3\n"));
	/* no raw newline inside a label anywhere: every line is a comment or a sample */
	for (char *line = out.buf; *line;) {
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		assert_true(line[0] == '#' || (line[0] >= 'a' && line[0] <= 'z'));
		line = nl + 1;
	}
	strbuf__free(&out);
}

static void test_render_every_histogram_ends_with_count(void **state)
{
	struct strbuf out = {};
	char *p;

	exposition__render(one_tool_snapshot("t"), "v", &out);
	p = strstr(out.buf, "tool_peak_memory_bytes_bucket{tool=\"t\",le=\"+Inf\"} 0\n"
			    "tool_peak_memory_bytes_sum{tool=\"t\"} 0\n"
			    "tool_peak_memory_bytes_count{tool=\"t\"} 0\n");
	assert_non_null(p);
	assert_non_null(
	    strstr(out.buf, "tool_peak_memory_bytes_bucket{tool=\"t\",le=\"65536\"} 0\n"));
	assert_non_null(
	    strstr(out.buf, "tool_peak_memory_bytes_bucket{tool=\"t\",le=\"68719476736\"} 0\n"));
	strbuf__free(&out);
}

static void test_render_exporter_http_counters(void **state)
{
	struct exporter_stats e = {.http = true, .header_timeouts = 2, .client_limit_refusals = 3};
	struct strbuf out = {};

	exposition__render_exporter(&e, &out);
	assert_non_null(strstr(out.buf, "toolwatch_http_header_timeouts_total 2\n"));
	assert_non_null(strstr(out.buf,
			       "# TYPE toolwatch_http_client_limit_refusals_total counter\n"
			       "toolwatch_http_client_limit_refusals_total 3\n"));
	assert_null(strstr(out.buf, "process_"));
	strbuf__free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape_plain_passes_through),
	    cmocka_unit_test(test_escape_quotes_backslashes_newlines),
	    cmocka_unit_test(test_escape_invalid_utf8_and_controls_visible),
	    cmocka_unit_test(test_escape_colliding_names_distinct),
	    cmocka_unit_test(test_decimal_is_exact),
	    cmocka_unit_test(test_render_golden_histogram_lines),
	    cmocka_unit_test(test_render_golden_counters),
	    cmocka_unit_test(test_render_exit_families),
	    cmocka_unit_test(test_render_kubernetes_families),
	    cmocka_unit_test(test_render_waits_and_anomaly_cause),
	    cmocka_unit_test(test_render_hostile_tool_name),
	    cmocka_unit_test(test_render_every_histogram_ends_with_count),
	    cmocka_unit_test(test_render_exporter_http_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
