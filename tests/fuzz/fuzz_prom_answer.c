// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for `toolwatch backtest --prometheus.url`: a query_range answer (seeds
 * in tests/fuzz/corpus/prom_answer/) read onto a grid, and the history built from it. The
 * first byte picks the query the answer stands for. An error is one line.
 */
#include <string.h>

#include "backtest/prom_history.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct prom_grid grid = {.start_s = 1000, .step_s = 60, .n = 16};
	struct prom_values pv[PROM_Q_MAX];
	struct history h = {0};
	char err[512];
	int q;

	if (!size)
		return 0;
	q = data[0] % PROM_Q_MAX;
	memset(pv, 0, sizeof(pv));
	if (prom_values__add_answer(&pv[q], &grid, (const char *)data + 1, size - 1, err,
				    sizeof(err))) {
		FUZZ_CHECK(!strchr(err, '\n'));
	} else {
		FUZZ_CHECK(prom_history__build(&h, &grid, pv) == 0);
		FUZZ_CHECK(h.nr == grid.n - 1);
		for (size_t i = 0; i < h.nr; i++)
			FUZZ_CHECK(h.rows[i].failures <= h.rows[i].executions);
	}
	for (int i = 0; i < PROM_Q_MAX; i++)
		prom_values__fini(&pv[i]);
	history__fini(&h);
	return 0;
}
