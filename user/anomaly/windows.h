/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cuts the registry's cumulative per-tool figures into anomaly windows and feeds them to
 * the detector; copies the detector's state into snapshots. Pure.
 */
#ifndef TOOLWATCH_WINDOWS_H
#define TOOLWATCH_WINDOWS_H

#include <stdint.h>

#include "anomaly/anomaly.h"
#include "events/registry.h"
#include "events/snapshot.h"

struct windows;

/* NULL + errno on failure. The first window starts at the registry's state now. */
struct windows *windows__new(void);
/* NULL-safe. */
void windows__free(struct windows *w);

/*
 * Closes a window: for every tool (except "other") the deltas since the previous close
 * are observed by d, and so is the host's CPU utilisation (host_cpu < 0: unknown, skipped).
 * Returns the number of tools observed, or -errno.
 */
int windows__close(struct windows *w, const struct registry *r, struct anomaly_detector *d,
		   double host_cpu, int64_t now_unix_s);

/* Copies every (tool, kind) state of d into s->anomalies. 0 or -ENOMEM. */
int windows__snapshot(const struct anomaly_detector *d, struct snapshot *s);

#endif /* TOOLWATCH_WINDOWS_H */
