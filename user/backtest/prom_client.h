/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reads a tool's history from the Prometheus HTTP API (libcurl, jansson): the agent's
 * counters and histograms at every window end of [start, end], differenced into windows.
 */
#ifndef TOOLWATCH_PROM_CLIENT_H
#define TOOLWATCH_PROM_CLIENT_H

#include <stddef.h>

#include "backtest/backtest_options.h"
#include "backtest/history.h"

/*
 * Fills h with one row per window of o->anomaly.window_ns ending at o->start_unix_s,
 * + window, ... up to o->end_unix_s, for the tool o->tool. Returns 0, or -errno with one
 * line in err (the server unreachable or refusing, an answer that is not the API's, the
 * tool without data).
 */
int prom__load_history(const struct backtest_options *o, struct history *h, char *err,
		       size_t err_size);

#endif /* TOOLWATCH_PROM_CLIENT_H */
