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

#include "anomaly_sim.h"

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

/*
 * Decodes data/name (version 1) into a detector of cfg, then encodes it again: version 2,
 * the same bytes but for the version and the new fields (one cause byte per flag, empty
 * split sums per baseline), which decode and encode to the same bytes again.
 */
static struct anomaly_detector *decode_file(const char *name, const struct anomaly_config *cfg)
{
	struct anomaly_detector *d = anomaly__new(cfg), *d2 = anomaly__new(cfg);
	struct strbuf again = {0}, twice = {0};
	size_t len;
	char *data = read_data(name, &len);

	assert_non_null(d);
	assert_non_null(d2);
	assert_int_equal(data[8], 1); /* version 1 */
	assert_int_equal(anomaly__deserialize(d, data, len), 0);
	assert_int_equal(anomaly__serialize(d, &again), 0);
	assert_int_equal(again.buf[8], 2);
	assert_true(again.len > len);
	assert_memory_equal(again.buf + 12, data + 12, 8 + 8); /* window and span */
	assert_int_equal(anomaly__deserialize(d2, again.buf, again.len), 0);
	assert_int_equal(anomaly__serialize(d2, &twice), 0);
	assert_int_equal(twice.len, again.len);
	assert_memory_equal(twice.buf, again.buf, again.len);
	strbuf__free(&again);
	strbuf__free(&twice);
	anomaly__free(d2);
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

		/* make_baselines' trust gates decide what is reported; the rest of its config
		 * (max_tools 5, learning period) changes nothing a record holds */
		anomaly_config__init(&cfg);
		cfg.seasonal = seasonal;
		cfg.min_windows = 10;
		cfg.min_samples = 50;
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

/* --- round trips and bad input --- */
/* A detector with something in every part of its state. */
static struct anomaly_detector *busy_detector(bool seasonal, struct sim *s)
{
	struct load slow = steady;
	struct anomaly_config cfg;

	anomaly_config__init(&cfg);
	cfg.seasonal = seasonal;
	cfg.min_windows = 10;
	cfg.max_tools = 3;
	cfg.new_tool_learning_ns = 5 * cfg.window_ns;
	sim_init(s, &cfg, 21);
	sim_feed(s, "alpha", &steady, 20);
	sim_feed(s, "beta", &steady, 20);
	sim_feed(s, "gamma", &steady, 20);
	sim_feed(s, "delta", &steady, 20); /* evicts alpha: remembered by name */
	slow.median_ns = 40 * MS;
	slow.failure_p = 0.3;
	sim_feed(s, "delta", &slow, 3);
	feed_host(s->d, &s->rng, 0.2, 0.02, 20, &s->now);
	return s->d;
}

static void test_anomaly_persistence_round_trip(void **state)
{
	struct strbuf a = {0}, b = {0}, c = {0};
	struct anomaly_detector *restored;
	struct sim s, s2;

	for (int seasonal = 0; seasonal < 2; seasonal++) {
		busy_detector(seasonal, &s);
		assert_int_equal(anomaly__nr_tools(s.d), 3);
		assert_true(is_active(s.d, "delta", ANOMALY_LATENCY_DEGRADATION));
		assert_true(is_active(s.d, "delta", ANOMALY_NEW_TOOL));
		serialize(s.d, &a);

		restored = busy_detector(seasonal, &s2); /* same config, different state */
		sim_feed(&s2, "epsilon", &steady, 3);
		assert_int_equal(anomaly__deserialize(restored, a.buf, a.len), 0);
		serialize(restored, &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.buf, b.buf, a.len);
		assert_int_equal(anomaly__nr_tools(restored), 3);
		assert_true(is_active(restored, "delta", ANOMALY_LATENCY_DEGRADATION));
		/* the cause of a raised latency flag is kept (format version 2) */
		assert_int_not_equal(find_state(s.d, "delta", ANOMALY_LATENCY_DEGRADATION).s.cause,
				     ANOMALY_CAUSE_NONE);
		assert_int_equal(find_state(restored, "delta", ANOMALY_LATENCY_DEGRADATION).s.cause,
				 find_state(s.d, "delta", ANOMALY_LATENCY_DEGRADATION).s.cause);
		assert_int_equal(raised(restored, "delta", ANOMALY_FAILURE_RATE),
				 raised(s.d, "delta", ANOMALY_FAILURE_RATE));

		/* both go on identically (PRNG state included) */
		s2.now = s.now;
		s2.rng = s.rng;
		sim_feed(&s, "beta", &steady, 30);
		sim_feed(&s2, "beta", &steady, 30);
		/* alpha was forgotten but is known: not a new tool */
		sim_feed(&s, "alpha", &steady, 1);
		sim_feed(&s2, "alpha", &steady, 1);
		assert_int_equal(raised(restored, "alpha", ANOMALY_NEW_TOOL), 0);
		serialize(s.d, &a);
		serialize(restored, &c);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.buf, c.buf, a.len);
		anomaly__free(s.d);
		anomaly__free(restored);
	}
	strbuf__free(&a);
	strbuf__free(&b);
	strbuf__free(&c);
}

static void test_anomaly_seasonal_config_change_keeps_baselines(void **state)
{
	struct anomaly_config cfg;
	struct anomaly_detector *other;
	struct strbuf sb = {0};
	struct sim s;

	for (int seasonal = 0; seasonal < 2; seasonal++) {
		busy_detector(seasonal, &s);
		serialize(s.d, &sb);
		anomaly__free(s.d);
		anomaly_config__init(&cfg);
		cfg.min_windows = 10;
		cfg.max_tools = 2; /* fewer than in the file: least recently active go */
		cfg.seasonal = !seasonal;
		other = anomaly__new(&cfg);
		assert_non_null(other);
		assert_int_equal(anomaly__deserialize(other, sb.buf, sb.len), 0);
		assert_int_equal(anomaly__nr_tools(other), 2);
		assert_true(is_active(other, "delta", ANOMALY_LATENCY_DEGRADATION));
		s.d = other;
		sim_feed(&s, "delta", &steady, 5);
		assert_all_finite(other);
		anomaly__free(other);
	}
	strbuf__free(&sb);
}
static void fix_crc(char *buf, size_t len)
{
	uint32_t crc = ref_crc32(buf, len - 4);

	for (int i = 0; i < 4; i++)
		buf[len - 4 + i] = (char)(crc >> (8 * i));
}

static void test_anomaly_deserialize_rejects_bad_input(void **state)
{
	static const char foreign[] = "# HELP tool_executions_total Finished executions.\n";
	struct strbuf good = {0}, before = {0}, after = {0};
	struct anomaly_config cfg;
	struct anomaly_detector *d, *other;
	char *buf;
	struct sim s;
	int err;

	busy_detector(false, &s);
	serialize(s.d, &good);
	anomaly__free(s.d);
	assert_int_equal(ref_crc32("123456789", 9), 0xcbf43926);
	assert_int_equal(ref_crc32(good.buf, good.len - 4),
			 (uint32_t)(uint8_t)good.buf[good.len - 4] |
			     (uint32_t)(uint8_t)good.buf[good.len - 3] << 8 |
			     (uint32_t)(uint8_t)good.buf[good.len - 2] << 16 |
			     (uint32_t)(uint8_t)good.buf[good.len - 1] << 24);

	d = busy_detector(false, &s);
	sim_feed(&s, "zeta", &steady, 2);
	serialize(d, &before);

	assert_int_equal(anomaly__deserialize(d, NULL, 0), -EPROTO);
	assert_int_equal(anomaly__deserialize(d, foreign, sizeof(foreign) - 1), -EPROTO);
	assert_int_equal(anomaly__deserialize(d, "", 0), -EPROTO);

	/* every truncation */
	for (size_t len = 0; len < good.len; len++) {
		err = anomaly__deserialize(d, good.buf, len);
		assert_true(err == -EPROTO || err == -EBADMSG);
	}
	/* every byte with one bit flipped */
	buf = malloc(good.len + 16);
	assert_non_null(buf);
	for (size_t i = 0; i < good.len; i++) {
		memcpy(buf, good.buf, good.len);
		buf[i] ^= (char)(1u << (i % 8));
		err = anomaly__deserialize(d, buf, good.len);
		assert_true(err == -EPROTO || err == -EBADMSG || err == -EPROTONOSUPPORT);
	}
	/* trailing garbage */
	memcpy(buf, good.buf, good.len);
	memset(buf + good.len, 0, 16);
	assert_int_equal(anomaly__deserialize(d, buf, good.len + 16), -EBADMSG);
	/* another version, with a valid checksum */
	memcpy(buf, good.buf, good.len);
	buf[8] = 3;
	fix_crc(buf, good.len);
	assert_int_equal(anomaly__deserialize(d, buf, good.len), -EPROTONOSUPPORT);
	buf[8] = 0;
	fix_crc(buf, good.len);
	assert_int_equal(anomaly__deserialize(d, buf, good.len), -EPROTONOSUPPORT);
	/* unknown header flag, valid checksum */
	memcpy(buf, good.buf, good.len);
	buf[12] |= 0x80;
	fix_crc(buf, good.len);
	assert_int_equal(anomaly__deserialize(d, buf, good.len), -EBADMSG);
	/* a ratio set to NaN (the host's first flag) */
	memcpy(buf, good.buf, good.len);
	memset(buf + 40 + 25 + 8 + 1 + 1 + 4 + 4 + 8 + 8, 0xff, 8);
	fix_crc(buf, good.len);
	assert_int_equal(anomaly__deserialize(d, buf, good.len), -EBADMSG);

	serialize(d, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.buf, after.buf, before.len); /* untouched */

	/* learned with another window length or span */
	anomaly_config__init(&cfg);
	cfg.window_ns = 2000000000ULL;
	other = anomaly__new(&cfg);
	assert_non_null(other);
	assert_int_equal(anomaly__deserialize(other, good.buf, good.len), -ESTALE);
	anomaly__free(other);
	anomaly_config__init(&cfg);
	cfg.baseline_ns = 30ULL * 86400 * 1000000000ULL;
	other = anomaly__new(&cfg);
	assert_non_null(other);
	assert_int_equal(anomaly__deserialize(other, good.buf, good.len), -ESTALE);
	anomaly__free(other);

	free(buf);
	anomaly__free(d);
	strbuf__free(&good);
	strbuf__free(&before);
	strbuf__free(&after);
}

/* Mutations behind a valid checksum reach the parser: it must never crash or over-read. */
static void test_anomaly_deserialize_survives_mutations(void **state)
{
	struct strbuf good = {0}, sb = {0};
	struct anomaly_detector *d;
	struct trng r = {31337};
	size_t accepted = 0;
	char *buf;
	struct sim s;

	for (int seasonal = 0; seasonal < 2; seasonal++) {
		busy_detector(seasonal, &s);
		serialize(s.d, &good);
		anomaly__free(s.d);
		buf = malloc(good.len);
		assert_non_null(buf);
		d = busy_detector(seasonal, &s);
		for (int i = 0; i < 3000; i++) {
			int n = 1 + (int)(trng_next(&r) % 4);
			size_t len = good.len;

			memcpy(buf, good.buf, good.len);
			for (int j = 0; j < n; j++) {
				size_t at = 40 + trng_next(&r) % (good.len - 44);

				buf[at] = (char)(i % 3 ? trng_next(&r) : (uint8_t)buf[at] ^ 0xff);
			}
			if (i % 10 == 0) /* also a shorter payload with a consistent header */
				len = 44 + trng_next(&r) % (good.len - 44);
			if (len != good.len) {
				uint64_t payload = len - 44;

				for (int b = 0; b < 8; b++)
					buf[32 + b] = (char)(payload >> (8 * b));
			}
			fix_crc(buf, len);
			if (anomaly__deserialize(d, buf, len))
				continue;
			accepted++;
			/* whatever was accepted is usable */
			sim_feed(&s, "delta", &steady, 1);
			assert_all_finite(d);
			strbuf__reset(&sb);
			assert_int_equal(anomaly__serialize(d, &sb), 0);
		}
		free(buf);
		anomaly__free(d);
	}
	print_message("mutated records accepted (valid values): %zu of 6000\n", accepted);
	strbuf__free(&good);
	strbuf__free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_baseline_codec_reads_v1_empty),
	    cmocka_unit_test(test_baseline_codec_reads_v1_busy),
	    cmocka_unit_test(test_baseline_codec_crc_is_zlib_crc32),
	    cmocka_unit_test(test_anomaly_persistence_round_trip),
	    cmocka_unit_test(test_anomaly_seasonal_config_change_keeps_baselines),
	    cmocka_unit_test(test_anomaly_deserialize_rejects_bad_input),
	    cmocka_unit_test(test_anomaly_deserialize_survives_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
