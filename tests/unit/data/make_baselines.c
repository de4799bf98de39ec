// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the baselines records checked in next to this file, and prints what a detector
 * restored from each reports (the expected values of tests/unit/test_baseline_codec.c).
 * Uses the public API only. Built and run once, at commit 3c833d9 (the encoder of format
 * version 1 with its hand-written CRC-32 table), from the top of the tree:
 *
 *   make build/libtoolwatch.a
 *   cc -std=gnu11 -D_GNU_SOURCE -Iuser -o /tmp/make_baselines \
 *      tests/unit/data/make_baselines.c build/libtoolwatch.a -lz -lm
 *   /tmp/make_baselines tests/unit/data
 *
 * Not built by the Makefile: the records must stay what that commit wrote.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/anomaly.h"

#define WINDOW_END0 1699920000LL /* 2023-11-14 00:00:00 UTC */

/* xorshift64: the jitter of the synthetic windows, reproducible */
static uint64_t jitter_state = 88172645463325252ULL;

static double jitter(void)
{
	jitter_state ^= jitter_state << 13;
	jitter_state ^= jitter_state >> 7;
	jitter_state ^= jitter_state << 17;
	return 0.8 + 0.45 * (double)(jitter_state >> 11) / 9007199254740992.0;
}

/* n executions of about dur_ns each, fails of them failed, each about mem bytes (0: none) */
static void observe(struct anomaly_detector *d, const char *tool, int window, uint64_t n,
		    uint64_t fails, double dur_ns, double mem)
{
	struct anomaly_tool_window w;

	memset(&w, 0, sizeof(w));
	w.executions = n;
	w.failures = fails;
	for (uint64_t i = 0; i < n; i++) {
		hist__add(&w.duration, &hist_duration_layout, (uint64_t)(dur_ns * jitter()));
		w.cpu_seconds += 0.002 * jitter();
		if (mem > 0)
			hist__add(&w.peak_memory, &hist_memory_layout, (uint64_t)(mem * jitter()));
	}
	if (anomaly__observe_tool(d, tool, &w, WINDOW_END0 + 60LL * window)) {
		fprintf(stderr, "observe '%s' failed\n", tool);
		exit(1);
	}
}

static int print_state(const struct anomaly_state *s, void *ctx __attribute__((unused)))
{
	printf("\t{%s%s%s, %s, %d, %" PRIu64 ", %a},\n", s->tool ? "\"" : "",
	       s->tool ? s->tool : "NULL", s->tool ? "\"" : "", anomaly_kind__name(s->kind),
	       s->active, s->raised_total, s->deviation_ratio);
	return 0;
}

static void write_record(const struct anomaly_detector *d, const char *dir, const char *name)
{
	struct strbuf sb = {0};
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (anomaly__serialize(d, &sb) || !f || fwrite(sb.buf, 1, sb.len, f) != sb.len ||
	    fclose(f)) {
		fprintf(stderr, "cannot write '%s'\n", path);
		exit(1);
	}
	printf("%s: %zu bytes, %zu tools, age %" PRIu64 "\n", name, sb.len, anomaly__nr_tools(d),
	       anomaly__age_windows(d));
	anomaly__for_each(d, print_state, NULL);
	strbuf__free(&sb);
}

static void busy(const char *dir, const char *name, bool seasonal)
{
	char long_name[ANOMALY_TOOL_NAME_MAX];
	struct anomaly_detector *d;
	struct anomaly_config cfg;

	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0'; /* the longest name the format holds */
	anomaly_config__init(&cfg);
	cfg.seasonal = seasonal;
	cfg.min_windows = 10;
	cfg.min_samples = 50;
	cfg.max_tools = 5;
	cfg.new_tool_learning_ns = 20 * cfg.window_ns;
	d = anomaly__new(&cfg);
	if (!d)
		exit(1);
	for (int win = 1; win <= 42; win++) {
		bool shifted = win >= 36 && win <= 40, failing = win >= 38 && win <= 40;
		struct anomaly_host_window host = {.cpu_utilisation = 0.2 * jitter()};

		if (win >= 38 && win <= 40)
			host.cpu_utilisation = 0.95;
		anomaly__observe_host(d, &host, WINDOW_END0 + 60LL * win);
		observe(d, "make", win, 40, 0, shifted ? 50e6 : 10e6, shifted ? 60e6 : 20e6);
		observe(d, "cc", win, 30, failing ? 12 : 0, 3e6, 0);
		if (win <= 3)
			observe(d, "gone", win, 5, 1, 1e6, 1e6); /* evicted at 32 */
		if (win == 25)
			observe(d, "gone2", win, 5, 0, 1e6, 0); /* NEW_TOOL, evicted at 33 */
		if (win >= 31)
			observe(d, long_name, win, 2, 0, 100e6, 0);
		if (win >= 32)
			observe(d, "caf\xc3\xa9 \x01\xff", win, 1, 1, 5e3, 0);
		if (win >= 33)
			observe(d, "idle", win, 0, 0, 0, 0); /* empty baselines */
	}
	write_record(d, dir, name);
	anomaly__free(d);
}

int main(int argc, char **argv)
{
	struct anomaly_detector *d;
	const char *dir = argc > 1 ? argv[1] : ".";

	d = anomaly__new(NULL); /* never fed: no window end, no tools */
	if (!d)
		return 1;
	write_record(d, dir, "baselines-v1-empty.bin");
	anomaly__free(d);
	busy(dir, "baselines-v1.bin", false);
	busy(dir, "baselines-v1-seasonal.bin", true);
	return 0;
}
