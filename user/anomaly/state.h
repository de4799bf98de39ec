/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's persistent state: the anomaly detector's baselines under --state.dir. */
#ifndef TOOLWATCH_STATE_H
#define TOOLWATCH_STATE_H

#include <stddef.h>

#include "anomaly/anomaly.h"

#define STATE_FILE_NAME "baselines.v1"
#define STATE_MAX_BYTES (256u << 20) /* larger files are refused, not read */

/*
 * Writes d's learned state to <dir>/baselines.v1 atomically: a temporary file in dir
 * (mode 0600), written in full, fsync'ed, renamed over the old one, then dir fsync'ed, so
 * a crash leaves either the old or the new file. Creates dir (and missing parents) with
 * mode 0700. Returns 0 or -errno (the temporary file is removed on failure).
 */
int state__save(const struct anomaly_detector *d, const char *dir);

/*
 * Restores d's learned state from <dir>/baselines.v1. Returns 0; -ENOENT when there is
 * no such file; on any other failure -errno (see anomaly__deserialize() for corrupt,
 * truncated, foreign, other-version and other-config files; -EFBIG above STATE_MAX_BYTES;
 * -EINVAL not a regular file) with d untouched. On every failure, -ENOENT included, a
 * one-line lowercase reason without a full stop is written to why (why_size bytes,
 * NUL terminated; why may be NULL when why_size is 0) for the caller to log.
 */
int state__load(struct anomaly_detector *d, const char *dir, char *why, size_t why_size);

#endif /* TOOLWATCH_STATE_H */
