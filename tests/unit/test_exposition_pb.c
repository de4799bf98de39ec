// SPDX-License-Identifier: GPL-2.0
/*
 * The protobuf exposition, read back by an independent decoder: protoc --decode on each
 * length-delimited message (protobuf-compiler; run from the repository root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "exposition.h"

/* protoc's text form of every message of the stream, one after the other. */
static char *decode_all(const struct strbuf *pb)
{
	struct strbuf all = {};
	size_t off = 0;

	while (off < pb->len) {
		uint64_t len = 0;
		unsigned int shift = 0;
		char path[] = "/tmp/tw-pb-XXXXXX", cmd[256], line[4096];
		FILE *f;
		int fd;

		do {
			assert_true(off < pb->len);
			len |= (uint64_t)(pb->buf[off] & 0x7f) << shift;
			shift += 7;
		} while (pb->buf[off++] & 0x80);
		assert_true(off + len <= pb->len);
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, pb->buf + off, len), (ssize_t)len);
		close(fd);
		off += len;
		snprintf(cmd, sizeof(cmd),
			 "protoc --decode=io.prometheus.client.MetricFamily exporter/metrics.proto"
			 " < %s",
			 path);
		f = popen(cmd, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			strbuf__puts(&all, line);
		assert_int_equal(pclose(f), 0);
		strbuf__puts(&all, "----\n");
		unlink(path);
	}
	strbuf__putc(&all, '\0');
	return all.buf;
}

static struct snapshot *two_tools(void)
{
	struct snapshot *s = snapshot__new(2);

	assert_non_null(s);
	s->tools[0].name = "other";
	s->tools[1].name = "make";
	/* 12 ms twice and 20 ms once; a peak of 1 MiB */
	hist__add(&s->tools[1].stats.duration, &hist_duration_layout, 12000000);
	hist__add(&s->tools[1].stats.duration, &hist_duration_layout, 12000000);
	hist__add(&s->tools[1].stats.duration, &hist_duration_layout, 20000000);
	native_hist__add(&s->tools[1].stats.duration_native, 0.012);
	native_hist__add(&s->tools[1].stats.duration_native, 0.012);
	native_hist__add(&s->tools[1].stats.duration_native, 0.020);
	hist__add(&s->tools[1].stats.peak_memory, &hist_memory_layout, 1 << 20);
	native_hist__add(&s->tools[1].stats.peak_memory_native, 1 << 20);
	s->tools[1].stats.executions = 3;
	s->tools[1].stats.successes = 2;
	s->tools[1].stats.failures[ERROR_EXIT_CODE] = 1;
	return s;
}

static void test_exposition_pb_decodes(void **state)
{
	struct snapshot *s = two_tools();
	struct strbuf pb = {};
	char *text;

	s->metrics.native = NATIVE_BOTH;
	exposition__render_protobuf(s, "1.2.3", NULL, &pb);
	assert_false(pb.oom);
	text = decode_all(&pb);
	/* a counter with its label */
	assert_non_null(strstr(text, "name: \"tool_executions_total\"\n"
				     "help: \"Executions that ended.\"\n"
				     "type: COUNTER\n"
				     "metric {\n"
				     "  label {\n"
				     "    name: \"tool\"\n"
				     "    value: \"other\"\n"
				     "  }\n"
				     "  counter {\n"
				     "    value: 0\n"
				     "  }\n"
				     "}\n"));
	assert_non_null(strstr(text, "    value: \"make\"\n  }\n  counter {\n    value: 3\n"));
	/*
	 * the duration histogram of make: classic buckets (all three by 25 ms; no +Inf), and native
	 * buckets -51 (12 ms, twice) and -45 (20 ms): two spans (a gap of 5 empty buckets is
	 * more than 2), deltas 2, -1
	 */
	assert_non_null(strstr(text, "  histogram {\n"
				     "    sample_count: 3\n"
				     "    sample_sum: 0.044\n"));
	assert_non_null(strstr(text, "    bucket {\n"
				     "      cumulative_count: 3\n"
				     "      upper_bound: 0.025\n"
				     "    }\n"));
	assert_null(strstr(text, "upper_bound: inf"));
	assert_non_null(strstr(text, "    schema: 3\n"
				     "    zero_threshold: 2.9387358770557188e-39\n"
				     "    zero_count: 0\n"
				     "    positive_span {\n"
				     "      offset: -51\n"
				     "      length: 1\n"
				     "    }\n"
				     "    positive_span {\n"
				     "      offset: 5\n"
				     "      length: 1\n"
				     "    }\n"
				     "    positive_delta: 2\n"
				     "    positive_delta: -1\n"));
	/* peak memory: 1 MiB = 2^20 is the top of bucket 160 */
	assert_non_null(strstr(text, "      offset: 160\n      length: 1\n    }\n"
				     "    positive_delta: 1\n"));
	/* the empty "other": still native, an empty span */
	assert_non_null(strstr(text, "    positive_span {\n      offset: 0\n      length: 0\n"));
	/* gauges and unlabelled families */
	assert_non_null(strstr(text, "name: \"toolwatch_build_info\"\n"));
	assert_non_null(strstr(text, "    value: \"1.2.3\"\n"));
	free(text);
	strbuf__free(&pb);
	snapshot__put(s);
}

static void test_exposition_pb_classic_only_and_thin(void **state)
{
	struct snapshot *s = two_tools();
	struct strbuf pb = {}, txt = {};
	char *text;

	s->metrics.native = NATIVE_OFF;
	s->metrics.classic = CLASSIC_BUCKETS_NONE;
	s->metrics.skip_zero_failures = true;
	s->metrics.disabled = 1u << TOOL_FAMILY_PEAK_MEMORY;
	exposition__render_protobuf(s, "1", NULL, &pb);
	text = decode_all(&pb);
	assert_null(strstr(text, "schema:"));
	assert_null(strstr(text, "bucket {"));
	assert_null(strstr(text, "tool_peak_memory_bytes"));
	assert_non_null(strstr(text, "    sample_count: 3\n"));
	/* only the failure type make had */
	assert_non_null(strstr(text, "    value: \"exit_code\"\n"));
	assert_null(strstr(text, "    value: \"signal\"\n"));
	exposition__render(s, "1", &txt);
	assert_non_null(strstr(txt.buf, "tool_execution_duration_seconds_bucket{tool=\"make\","
					"le=\"+Inf\"} 3\n"));
	assert_null(strstr(txt.buf, "le=\"0.025\""));
	/* 3 + 1 + 1 + 1 (exit_code) + 1 + 1 + 2 + 2 + 1 for make, 3 + 1 + 1 + 0 + ... for other */
	assert_non_null(strstr(txt.buf, "toolwatch_series_tracked 25\n"));
	free(text);
	strbuf__free(&pb);
	strbuf__free(&txt);
	snapshot__put(s);
}

/* The default: native buckets only in protobuf, the classic ones stay in the text. */
static void test_exposition_pb_native_only_by_default(void **state)
{
	struct snapshot *s = two_tools();
	struct strbuf pb = {};
	char *text;

	exposition__render_protobuf(s, "1", NULL, &pb);
	text = decode_all(&pb);
	assert_non_null(strstr(text, "    schema: 3\n"));
	/* no classic bucket in the tool histograms; the host ones keep theirs */
	assert_null(strstr(text, "upper_bound: 0.025\n"));
	assert_non_null(strstr(text, "    sample_count: 3\n    sample_sum: 0.044\n"));
	free(text);
	strbuf__free(&pb);
	snapshot__put(s);
}

/* Series per tool: today's layout ~69, native-era thinnings below. */
static void test_exposition_series_per_tool(void **state)
{
	struct metrics_config c = {};

	assert_int_equal(exposition__series_per_tool(&c), 70);
	c.classic = CLASSIC_BUCKETS_COARSE;
	assert_int_equal(exposition__series_per_tool(&c), 40);
	c.classic = CLASSIC_BUCKETS_NONE;
	assert_int_equal(exposition__series_per_tool(&c), 26);
	c.disabled = ~0u;
	assert_int_equal(exposition__series_per_tool(&c), 1);
	c.disabled &= ~((1u << TOOL_FAMILY_DURATION) | (1u << TOOL_FAMILY_SUCCESS) |
			(1u << TOOL_FAMILY_FAILURE));
	assert_int_equal(exposition__series_per_tool(&c), 11);
}

/* Lines the converter does not understand are left out, never a crash. */
static void test_exposition_pb_odd_text(void **state)
{
	static const char text[] = "# HELP a_total x\n# TYPE a_total counter\n"
				   "a_total{l=\"v\\\"q\"} 5\nbroken{\n# TYPE b gauge\nb 1\n"
				   "# HELP h y\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\n"
				   "h_sum 3\nh_count 2\n";
	struct strbuf pb = {};
	char *out;

	exposition__text_to_protobuf(text, sizeof(text) - 1, NULL, &pb);
	out = decode_all(&pb);
	assert_non_null(strstr(out, "    value: \"v\\\"q\"\n"));
	assert_non_null(strstr(out, "name: \"b\"\ntype: GAUGE\n"));
	assert_non_null(strstr(out, "  histogram {\n    sample_count: 2\n    sample_sum: 3\n  }"));
	free(out);
	strbuf__free(&pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exposition_pb_decodes),
	    cmocka_unit_test(test_exposition_pb_classic_only_and_thin),
	    cmocka_unit_test(test_exposition_pb_native_only_by_default),
	    cmocka_unit_test(test_exposition_series_per_tool),
	    cmocka_unit_test(test_exposition_pb_odd_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
