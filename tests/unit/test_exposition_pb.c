// SPDX-License-Identifier: GPL-2.0
/*
 * The protobuf exposition, read back by independent decoders: protoc --decode on each
 * length-delimited message (protobuf-compiler; run from the repository root), and
 * protobuf-c's generated unpacker, family by family against the text page.
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

#include "exporter/metrics.pb-c.h"
#include "exposition.h"
#include "identity/identity.h"
#include "kernel/probes.h"

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

/* One sample line of the text page: name, labels unescaped, value as written. */
struct text_sample {
	char name[128];
	char labels[8][2][256]; /* name, value */
	int nr_labels;
	char value[64];
};

/* The labels of a text sample line, `a="x",b="y"`, with the text format's escapes undone. */
static void parse_labels(const char *p, const char *end, struct text_sample *t)
{
	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		char *v;
		size_t n = 0;

		assert_non_null(eq);
		assert_true(t->nr_labels < 8);
		assert_true(eq - p < 255);
		memcpy(t->labels[t->nr_labels][0], p, (size_t)(eq - p));
		t->labels[t->nr_labels][0][eq - p] = '\0';
		assert_int_equal(eq[1], '"');
		v = t->labels[t->nr_labels][1];
		for (p = eq + 2; *p != '"'; p++) {
			assert_true(p < end && n < 255);
			if (*p == '\\') {
				p++;
				v[n++] = *p == 'n' ? '\n' : *p;
			} else {
				v[n++] = *p;
			}
		}
		v[n] = '\0';
		t->nr_labels++;
		p++;
		if (p < end && *p == ',')
			p++;
	}
}

static void parse_sample(const char *line, const char *eol, struct text_sample *t)
{
	const char *p = line, *value;

	memset(t, 0, sizeof(*t));
	while (p < eol && *p != '{' && *p != ' ')
		p++;
	assert_true(p - line < 127);
	memcpy(t->name, line, (size_t)(p - line));
	if (*p == '{') {
		const char *close = eol;

		while (close > p && *close != '}')
			close--;
		parse_labels(p + 1, close, t);
		p = close + 1;
	}
	assert_int_equal(*p, ' ');
	value = p + 1;
	assert_true(eol - value > 0 && eol - value < 63);
	memcpy(t->value, value, (size_t)(eol - value));
}

/* The metric's label pairs equal the text sample's (le left out of the latter). */
static void labels_equal(const Io__Prometheus__Client__Metric *m, const struct text_sample *t)
{
	size_t k = 0;

	for (int i = 0; i < t->nr_labels; i++) {
		if (!strcmp(t->labels[i][0], "le"))
			continue;
		assert_true(k < m->n_label);
		assert_string_equal(m->label[k]->name, t->labels[i][0]);
		assert_string_equal(m->label[k]->value, t->labels[i][1]);
		k++;
	}
	assert_int_equal(k, m->n_label);
}

/* Native buckets of h, counts per bucket key rebuilt from spans and deltas, equal nh's. */
static void native_equal(const Io__Prometheus__Client__Histogram *h, const struct native_hist *nh)
{
	int64_t count = 0;
	int32_t key = 0;
	size_t d = 0;
	uint64_t total = h->zero_count;

	assert_true(h->has_schema);
	assert_int_equal(h->schema, native_hist__schema(nh));
	assert_true(h->zero_threshold == NATIVE_HIST_ZERO_THRESHOLD);
	assert_int_equal(h->zero_count, nh->zero_count);
	assert_true(h->n_positive_span > 0);
	for (size_t sp = 0; sp < h->n_positive_span; sp++) {
		key += h->positive_span[sp]->offset;
		for (uint32_t j = 0; j < h->positive_span[sp]->length; j++, key++) {
			assert_true(d < h->n_positive_delta);
			count += h->positive_delta[d++];
			assert_true(key >= nh->first && key < nh->first + nh->nr);
			assert_int_equal((uint64_t)count, nh->counts[key - nh->first]);
			total += (uint64_t)count;
		}
	}
	assert_int_equal(d, h->n_positive_delta);
	assert_int_equal(total, native_hist__count(nh));
}

/* A snapshot with every family: odd names, identity labels, anomalies, kube, BPF stats. */
static struct snapshot *every_family(void)
{
	struct snapshot *s = snapshot__new(3);
	static char key[512];
	struct identity_labels l = {};

	assert_non_null(s);
	s->tools[0].name = "other";
	s->tools[1].name = "make";
	strcpy(l.value[IDENTITY_LABEL_NAMESPACE], "prod");
	strcpy(l.value[IDENTITY_LABEL_POD], "we\"b-\\1");
	assert_true(identity__key(&l, "a\"b\\c\nd\xff", key, sizeof(key)));
	s->tools[2].name = key;
	s->identity_labels = (1u << IDENTITY_LABEL_NAMESPACE) | (1u << IDENTITY_LABEL_POD);
	s->identity.enabled = true;
	s->identity.walks = 7;
	for (size_t i = 1; i < 3; i++) {
		struct tool_stats *st = &s->tools[i].stats;

		for (uint64_t k = 1; k < 40; k++) {
			hist__add(&st->duration, &hist_duration_layout, k * k * 1000003);
			native_hist__add(&st->duration_native, (double)(k * k * 1000003) / 1e9);
			hist__add(&st->peak_memory, &hist_memory_layout, k << (10 + k % 20));
			native_hist__add(&st->peak_memory_native, (double)(k << (10 + k % 20)));
		}
		native_hist__add(&st->duration_native, 0);
		st->executions = 40;
		st->failures[ERROR_SIGNAL] = i;
		st->cpu_ns[1] = 1234567891;
		st->wait_ns[1] = 5;
		st->net_bytes[0] = 1ull << 60;
	}
	for (int p = 0; p < PROBE_MAX; p++)
		s->probe_enabled[p] = true;
	s->host.delayacct = s->host.delayacct_known = true;
	hist__add(&s->host.runqueue, &hist_latency_layout, 3000);
	hist__add(&s->host.block[1], &hist_latency_layout, 3000000);
	s->anomaly_enabled = true;
	s->anomalies = calloc(2, sizeof(*s->anomalies));
	assert_non_null(s->anomalies);
	s->nr_anomalies = 2;
	s->anomalies[0] = (struct snapshot_anomaly){.tool = strdup("ma\"ke"),
						    .kind = ANOMALY_LATENCY_DEGRADATION,
						    .active = true,
						    .deviation_ratio = 2.0 / 3,
						    .raised_total = 4,
						    .cause = ANOMALY_CAUSE_CPU};
	s->anomalies[1] = (struct snapshot_anomaly){.kind = ANOMALY_CPU_SPIKE, .raised_total = 1};
	s->kube.enabled = true;
	s->kube.last_success_unix = 1700000000.125;
	s->prog_stats_enabled = true;
	s->nr_progs = 1;
	s->progs[0] = (struct snapshot_prog){"handle_exec", 123456789, 3};
	return s;
}

/*
 * The protobuf page and the text page of one snapshot, family by family: the same
 * families with series in the same order, the same names, help, types, labels and values;
 * classic buckets as the mode leaves them, and native buckets equal to the snapshot's.
 */
static void compare_pages(const struct snapshot *s, const struct exporter_stats *e)
{
	struct strbuf txt = {}, pb = {};
	const char *p, *end;
	size_t off = 0, families = 0;

	exposition__render(s, "1.2.3", &txt);
	exposition__render_exporter(e, &txt);
	exposition__render_protobuf(s, "1.2.3", e, &pb);
	assert_false(txt.oom);
	assert_false(pb.oom);
	p = txt.buf;
	end = txt.buf + txt.len;
	while (p < end) {
		char name[128] = "", help[512] = "", type[16] = "";
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		Io__Prometheus__Client__MetricFamily *mf;
		size_t m = 0, tool = 0, len = 0;
		unsigned int shift = 0;
		bool tool_hist;

		/* HELP and TYPE, then the samples up to the next HELP */
		assert_int_equal(sscanf(p, "# HELP %127s %511[^\n]", name, help), 2);
		p = eol + 1;
		eol = memchr(p, '\n', (size_t)(end - p));
		assert_int_equal(sscanf(p, "# TYPE %*s %15s", type), 1);
		p = eol + 1;
		if (p >= end || !strncmp(p, "# HELP ", 7))
			continue; /* no series: the protobuf page leaves the family out */
		assert_true(off < pb.len);
		do {
			len |= (size_t)(pb.buf[off] & 0x7f) << shift;
			shift += 7;
		} while (pb.buf[off++] & 0x80);
		mf = io__prometheus__client__metric_family__unpack(NULL, len,
								   (const uint8_t *)pb.buf + off);
		assert_non_null(mf);
		off += len;
		families++;
		assert_string_equal(mf->name, name);
		assert_string_equal(mf->help, help);
		assert_int_equal(mf->type, !strcmp(type, "counter")	? 0
					   : !strcmp(type, "gauge")	? 1
					   : !strcmp(type, "histogram") ? 4
									: -1);
		tool_hist = !strcmp(name, "tool_execution_duration_seconds") ||
			    !strcmp(name, "tool_peak_memory_bytes");
		while (p < end && strncmp(p, "# HELP ", 7)) {
			const Io__Prometheus__Client__Metric *mt;
			struct text_sample t;

			assert_true(m < mf->n_metric);
			mt = mf->metric[m++];
			eol = memchr(p, '\n', (size_t)(end - p));
			parse_sample(p, eol, &t);
			p = eol + 1;
			if (mf->type != 4) {
				const double v =
				    mt->counter ? mt->counter->value : mt->gauge->value;

				assert_non_null(mf->type ? (void *)mt->gauge : (void *)mt->counter);
				assert_string_equal(t.name, name);
				labels_equal(mt, &t);
				assert_true(v == strtod(t.value, NULL));
				continue;
			}
			/* a histogram: its bucket lines, _sum and _count */
			size_t b = 0;
			const Io__Prometheus__Client__Histogram *h = mt->histogram;

			assert_non_null(h);
			labels_equal(mt, &t);
			while (strcmp(t.value, "") && strstr(t.name, "_bucket")) {
				const char *le = t.labels[t.nr_labels - 1][1];

				if (strcmp(le, "+Inf") &&
				    (!tool_hist || s->metrics.native != NATIVE_ONLY)) {
					assert_true(b < h->n_bucket);
					assert_true(h->bucket[b]->upper_bound == strtod(le, NULL));
					assert_int_equal(h->bucket[b]->cumulative_count,
							 strtoull(t.value, NULL, 10));
					b++;
				} else if (!strcmp(le, "+Inf")) {
					assert_int_equal(h->sample_count,
							 strtoull(t.value, NULL, 10));
				}
				eol = memchr(p, '\n', (size_t)(end - p));
				parse_sample(p, eol, &t);
				p = eol + 1;
			}
			assert_int_equal(b, h->n_bucket);
			assert_true(strstr(t.name, "_sum"));
			labels_equal(mt, &t);
			assert_true(h->sample_sum == strtod(t.value, NULL));
			eol = memchr(p, '\n', (size_t)(end - p));
			parse_sample(p, eol, &t);
			p = eol + 1;
			assert_true(strstr(t.name, "_count"));
			labels_equal(mt, &t);
			assert_int_equal(h->sample_count, strtoull(t.value, NULL, 10));
			if (tool_hist && s->metrics.native != NATIVE_OFF)
				native_equal(h, !strcmp(name, "tool_peak_memory_bytes")
						    ? &s->tools[tool].stats.peak_memory_native
						    : &s->tools[tool].stats.duration_native);
			else
				assert_false(h->has_schema);
			tool++;
		}
		assert_int_equal(m, mf->n_metric);
		io__prometheus__client__metric_family__free_unpacked(mf, NULL);
	}
	assert_int_equal(off, pb.len);
	assert_true(families > 40);
	strbuf__free(&txt);
	strbuf__free(&pb);
}

static void test_exposition_pb_equals_text(void **state)
{
	struct exporter_stats e = {.process = true, .cpu_seconds = 0.1 + 0.2, .http = true};
	struct snapshot *s = every_family();

	e.responses[1] = 5;
	for (int n = 0; n < NATIVE_MODE_MAX; n++) {
		for (int c = 0; c < CLASSIC_BUCKETS_MAX; c++) {
			s->metrics.native = n;
			s->metrics.classic = c;
			s->metrics.skip_zero_failures = c == CLASSIC_BUCKETS_COARSE;
			compare_pages(s, &e);
		}
	}
	snapshot__put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exposition_pb_decodes),
	    cmocka_unit_test(test_exposition_pb_classic_only_and_thin),
	    cmocka_unit_test(test_exposition_pb_native_only_by_default),
	    cmocka_unit_test(test_exposition_series_per_tool),
	    cmocka_unit_test(test_exposition_pb_equals_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
