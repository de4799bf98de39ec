// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for `toolwatch backtest --file`: the CSV and NAB history parser (seeds
 * in tests/fuzz/corpus/history/), and the replay of what it accepts through the detector.
 * An error is one line; an accepted history has consistent rows and replays.
 */
#include <string.h>

#include "backtest/history.h"
#include "backtest/replay.h"
#include "fuzz.h"

#define ROWS_REPLAYED_MAX 2000 /* keep each input quick */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct history h = {0};
	struct replay r = {0};
	struct anomaly_config cfg;
	char err[512];
	int64_t step;

	if (history__parse_csv(&h, (const char *)data, size, err, sizeof(err))) {
		FUZZ_CHECK(!strchr(err, '\n'));
		FUZZ_CHECK(err[0]);
		history__fini(&h);
		return 0;
	}
	for (size_t i = 0; i < h.nr; i++) {
		FUZZ_CHECK(h.rows[i].failures <= h.rows[i].executions);
		FUZZ_CHECK(!i || h.rows[i].time_unix_s >= h.rows[i - 1].time_unix_s);
	}
	step = history__step_s(&h);
	if (h.nr && h.nr <= ROWS_REPLAYED_MAX && step > 0 && step < 86400 &&
	    (h.rows[h.nr - 1].time_unix_s - h.rows[0].time_unix_s) / step <= 20000) {
		anomaly_config__init(&cfg);
		cfg.window_ns = (uint64_t)step * 1000000000ULL;
		cfg.min_windows = 5;
		cfg.min_samples = 5;
		cfg.outlier_spike_sigmas = (size & 1) ? 6 : 0;
		cfg.outlier_beyond_range = size & 2;
		FUZZ_CHECK(replay__run(&r, &cfg, "fuzzed", &h) == 0);
		for (size_t i = 0; i < r.nr_events; i++)
			FUZZ_CHECK(r.events[i].row < h.nr);
		replay__fini(&r);
	}
	history__fini(&h);
	return 0;
}
