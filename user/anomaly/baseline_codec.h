/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The save format of the anomaly detector's learned state, pure: bytes in, bytes out (the
 * file I/O is state.c's). Deterministic: the same state always encodes to the same bytes.
 * Every record an earlier version wrote must keep loading: tests/unit/data holds some.
 */
#ifndef TOOLWATCH_BASELINE_CODEC_H
#define TOOLWATCH_BASELINE_CODEC_H

#include <stddef.h>

#include "anomaly/anomaly.h"
#include "lib/strbuf.h"

/*
 * Appends the learned state (age, tools, baselines, flags and counters; not the change
 * list) to out. Format, little-endian: 8-byte magic "\x89TWBASE\n", u32 version (2; 1 had
 * no latency-cause fields: split sums per baseline, a cause byte per flag),
 * u32 flags (bit 0: hour-of-day baselines present), u64 window_ns, u64 baseline_ns,
 * u64 payload length, payload, u32 CRC-32 (IEEE, as zlib's crc32) of everything before it.
 * Returns 0, or -ENOMEM (out->oom) with out possibly holding a partial record.
 */
int anomaly__serialize(const struct anomaly_detector *d, struct strbuf *out);

/*
 * The most bytes anomaly__serialize() can write for d's config (max_tools tools with the
 * longest names, every reservoir full, hour-of-day baselines with `seasonal`): a larger
 * file is not one of ours, or holds more than d would keep. ~10 MB for the default
 * 2048 tools, ~120 MB with `seasonal`.
 */
size_t anomaly__serialized_max(const struct anomaly_detector *d);

/*
 * Replaces d's learned state by the one serialised in data (the change list is kept).
 * Validates everything and never reads outside data. Hour-of-day baselines are dropped or
 * start empty when the file and d's config disagree on `seasonal`; tools beyond max_tools
 * are forgotten, least recently active first. Returns 0, or on failure leaves d untouched
 * and returns: -EPROTO not a baselines record (magic), -EPROTONOSUPPORT another version,
 * -EBADMSG truncated, checksum mismatch or malformed content, -ESTALE learned with
 * another window_ns or baseline_ns, -ENOMEM.
 */
int anomaly__deserialize(struct anomaly_detector *d, const void *data, size_t len);

#endif /* TOOLWATCH_BASELINE_CODEC_H */
