/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replays a tool's history through the anomaly detector, the agent's code and flags,
 * window by window, and records when each flag would have been raised and cleared. Pure.
 */
#ifndef TOOLWATCH_REPLAY_H
#define TOOLWATCH_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "anomaly/anomaly.h"
#include "backtest/history.h"

#define REPLAY_WINDOWS_MAX 10000000 /* windows one replay feeds at most */

/* One flag raised or cleared at the end of a window. */
struct replay_event {
	uint64_t window;    /* index of the window, 0 first */
	size_t row;	    /* the last history row in that window */
	int64_t end_unix_s; /* the window's end */
	enum anomaly_kind kind;
	int active;   /* 1 raised, 0 cleared */
	double ratio; /* deviation_ratio then */
	enum anomaly_cause cause;
};

struct replay {
	struct replay_event *events;
	size_t nr_events;
	size_t cap_events;
	uint64_t windows;	/* windows observed, empty ones included */
	uint64_t empty_windows; /* of them without a row */
	int64_t first_end_unix_s;
};

/*
 * Cuts h into windows of cfg->window_ns and feeds them to a fresh detector built from cfg,
 * as the agent does every window for the tool named tool. A row stands for the span that
 * ends at its time; the first window ends at the first row's time, window k at that time
 * + k x window; rows of one window are summed and a window without rows is fed empty.
 * The window must not be shorter than the smallest gap between rows (each row spans at
 * least that). Fills r (zero it first; replay__fini() frees it).
 * Returns 0; -EINVAL for an empty history, a bad config or a window not whole seconds;
 * -ERANGE for a window shorter than the history's step; -E2BIG for more than
 * REPLAY_WINDOWS_MAX windows; -ENOMEM.
 */
int replay__run(struct replay *r, const struct anomaly_config *cfg, const char *tool,
		const struct history *h);

/* Frees r's events; NULL-safe. */
void replay__fini(struct replay *r);

#endif /* TOOLWATCH_REPLAY_H */
