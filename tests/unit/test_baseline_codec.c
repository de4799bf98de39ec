// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "anomaly.h"
#include "baseline_codec.h"

/* --- records written by an earlier encoder --- */

/*
 * tests/unit/data/baselines-v1*.bin were written by tests/unit/data/make_baselines.c (how
 * to build and run it is at its top) at commit 3c833d9, the encoder of format version 1
 * with a hand-written CRC-32 table: the empty state of a detector never fed, and 42
 * windows of a busy one (default span and window, min_windows 10, min_samples 50,
 * max_tools 5, 20 windows of learning) without and with hour-of-day baselines. Busy holds
 * the host, a tool with every flag, one with an empty memory baseline, one with empty
 * baselines, a 255-byte name, non-ASCII and control bytes in a name, raised and pending
 * flags, and two forgotten names. Decoders must keep reading them as they are.
 */
static char long_name[ANOMALY_TOOL_NAME_MAX]; /* 255 'x': filled by long_name_init() */

struct expected_state {
	const char *tool;
	enum anomaly_kind kind;
	bool active;
	uint64_t raised_total;
	double ratio;	       /* the record without hour-of-day baselines */
	double ratio_seasonal; /* the one with them */
};

/* What make_baselines printed for both busy records, in anomaly__for_each() order. */
static const struct expected_state busy_states[] = {
    {NULL, ANOMALY_CPU_SPIKE, 1, 1, 0x1.ac87ffc384d0bp-1, 0x1.c17aee205308dp-1},
    {"caf\xc3\xa9 \x01\xff", ANOMALY_NEW_TOOL, 1, 1, 0, 0},
    {"cc", ANOMALY_LATENCY_DEGRADATION, 0, 0, 0x1.ffa6e66f34d1ep-1, 0x1.ff271aa582f2fp-1},
    {"cc", ANOMALY_STATISTICAL_OUTLIER, 0, 0, 0x1.fc6f9d2e3265fp-1, 0x1.034c64dce520ep+0},
    {"cc", ANOMALY_FAILURE_RATE, 1, 1, 0, 0},
    {"cc", ANOMALY_CPU_SPIKE, 0, 0, 0x1.e2c52800a9771p-1, 0x1.f2941881b6138p-1},
    {"idle", ANOMALY_NEW_TOOL, 1, 1, 0, 0},
    {"make", ANOMALY_LATENCY_DEGRADATION, 1, 1, 0x1.ef472f4e3c9e9p-1, 0x1.f1d64ab972008p-1},
    {"make", ANOMALY_STATISTICAL_OUTLIER, 1, 1, 0x1.00f1791d54643p+0, 0x1.0126941113cfcp+0},
    {"make", ANOMALY_FAILURE_RATE, 0, 0, 0, 0},
    {"make", ANOMALY_CPU_SPIKE, 0, 0, 0x1.05e29f49881aep+0, 0x1.f4f46710b40d6p-1},
    {"make", ANOMALY_MEMORY_SPIKE, 1, 1, 0x1.f81488d4e8c96p-1, 0x1.f80f6a4b1fab7p-1},
    {long_name, ANOMALY_NEW_TOOL, 1, 1, 0, 0},
};

static void long_name_init(void)
{
	memset(long_name, 'x', sizeof(long_name) - 1);
}

/* The whole of tests/unit/data/<name>, found next to this source file. */
static char *read_data(const char *name, size_t *len)
{
	const char *slash = strrchr(__FILE__, '/');
	char path[4096];
	char *buf;
	long size;
	FILE *f;

	snprintf(path, sizeof(path), "%.*sdata/%s", slash ? (int)(slash - __FILE__ + 1) : 0,
		 __FILE__, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open '%s' (run the test from the top of the tree)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

struct state_cursor {
	bool seasonal;
	size_t n;
};

static int check_state_cb(const struct anomaly_state *s, void *ctx)
{
	struct state_cursor *c = ctx;
	const struct expected_state *e;

	assert_true(c->n < sizeof(busy_states) / sizeof(busy_states[0]));
	e = &busy_states[c->n++];
	if (e->tool)
		assert_string_equal(s->tool, e->tool);
	else
		assert_null(s->tool);
	assert_int_equal(s->kind, e->kind);
	assert_int_equal(s->active, e->active);
	assert_int_equal(s->raised_total, e->raised_total);
	assert_true(s->deviation_ratio == (c->seasonal ? e->ratio_seasonal : e->ratio));
	return 0;
}

/* Decodes data/name into a detector of cfg, then encodes it again: the same bytes. */
static struct anomaly_detector *decode_file(const char *name, const struct anomaly_config *cfg)
{
	struct anomaly_detector *d = anomaly__new(cfg);
	struct strbuf again = {0};
	size_t len;
	char *data = read_data(name, &len);

	assert_non_null(d);
	assert_int_equal(anomaly__deserialize(d, data, len), 0);
	assert_int_equal(anomaly__serialize(d, &again), 0);
	assert_int_equal(again.len, len);
	assert_memory_equal(again.buf, data, len);
	strbuf__free(&again);
	free(data);
	return d;
}

static void test_baseline_codec_reads_v1_empty(void **state)
{
	struct anomaly_detector *d = decode_file("baselines-v1-empty.bin", NULL);
	struct state_cursor c = {0};

	assert_int_equal(anomaly__nr_tools(d), 0);
	assert_int_equal(anomaly__age_windows(d), 0);
	anomaly__for_each(d, check_state_cb, &c);
	assert_int_equal(c.n, 0);
	anomaly__free(d);
}

static void test_baseline_codec_reads_v1_busy(void **state)
{
	static const char *const files[] = {"baselines-v1.bin", "baselines-v1-seasonal.bin"};
	struct anomaly_config cfg;

	long_name_init();
	for (int seasonal = 0; seasonal < 2; seasonal++) {
		struct state_cursor c = {.seasonal = seasonal};
		struct anomaly_detector *d;

		anomaly_config__init(&cfg);
		cfg.seasonal = seasonal;
		cfg.min_windows = 10;
		cfg.min_samples = 50;
		cfg.max_tools = 5;
		cfg.new_tool_learning_ns = 20 * cfg.window_ns;
		d = decode_file(files[seasonal], &cfg);
		assert_int_equal(anomaly__nr_tools(d), 5);
		assert_int_equal(anomaly__age_windows(d), 42);
		anomaly__for_each(d, check_state_cb, &c);
		assert_int_equal(c.n, sizeof(busy_states) / sizeof(busy_states[0]));
		anomaly__free(d);
	}
}

/* --- the checksum --- */

/* CRC-32 (IEEE 802.3, reflected) bit by bit, as the format defines it. */
static uint32_t ref_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? 0xedb88320 ^ (crc >> 1) : crc >> 1;
	}
	return ~crc;
}

static uint32_t get_le32(const char *p)
{
	return (uint32_t)(uint8_t)p[0] | (uint32_t)(uint8_t)p[1] << 8 |
	       (uint32_t)(uint8_t)p[2] << 16 | (uint32_t)(uint8_t)p[3] << 24;
}

/* zlib's crc32() is the format's checksum: on the check string, records and odd lengths. */
static void test_baseline_codec_crc_is_zlib_crc32(void **state)
{
	static const char *const files[] = {"baselines-v1-empty.bin", "baselines-v1.bin",
					    "baselines-v1-seasonal.bin"};
	uint8_t noise[1031];
	uint64_t x = 1;

	assert_int_equal(ref_crc32("123456789", 9), 0xcbf43926);
	assert_int_equal(crc32(0, (const Bytef *)"123456789", 9), 0xcbf43926);
	for (size_t i = 0; i < sizeof(noise); i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		noise[i] = (uint8_t)(x >> 56);
	}
	for (size_t len = 0; len <= sizeof(noise); len += 1 + len / 3)
		assert_int_equal(crc32(0, noise, (uInt)len), ref_crc32(noise, len));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *data = read_data(files[i], &len);

		assert_int_equal(get_le32(data + len - 4), ref_crc32(data, len - 4));
		assert_int_equal(crc32(0, (const Bytef *)data, (uInt)(len - 4)),
				 get_le32(data + len - 4));
		free(data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_baseline_codec_reads_v1_empty),
	    cmocka_unit_test(test_baseline_codec_reads_v1_busy),
	    cmocka_unit_test(test_baseline_codec_crc_is_zlib_crc32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
