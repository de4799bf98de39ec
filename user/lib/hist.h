/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Histogram maths, pure: fixed-bucket histograms (Prometheus style), log2 slots (as the
 * kernel keeps them and BCC draws them) and log-linear buckets for percentiles.
 */
#ifndef TOOLWATCH_HIST_H
#define TOOLWATCH_HIST_H

#include <stdint.h>

#define HIST_MAX_BOUNDS 31 /* finite upper bounds; one more bucket holds +Inf */

/* A bucket layout: inclusive upper bounds in a base unit (ns, bytes), strictly rising. */
struct hist_layout {
	unsigned int nr_bounds;
	uint64_t bounds[HIST_MAX_BOUNDS];
	double unit_scale; /* base units per exposed unit: 1e9 for ns -> seconds, 1 for bytes */
};

/* counts[i] holds values in (bounds[i-1], bounds[i]]; counts[nr_bounds] the rest. */
struct hist {
	uint64_t counts[HIST_MAX_BOUNDS + 1];
	uint64_t count;
	uint64_t sum; /* base units, saturating */
};

/* Durations in ns: 100us .. 2500s in 1-2.5-5 steps (23 bounds). */
extern const struct hist_layout hist_duration_layout;
/* Sizes in bytes: 64 KiB .. 64 GiB in powers of two (21 bounds). */
extern const struct hist_layout hist_memory_layout;
/* Latencies in ns for host histograms: 1us .. ~33s in powers of two (26 bounds). */
extern const struct hist_layout hist_latency_layout;

/* Index of the bucket value v falls in: the first bound >= v, or nr_bounds (+Inf). */
unsigned int hist_layout__bucket(const struct hist_layout *layout, uint64_t v);

/* Records one observation v (base units). */
void hist__add(struct hist *h, const struct hist_layout *layout, uint64_t v);

/* Adds every bucket of src into dst (same layout). */
void hist__merge(struct hist *dst, const struct hist *src);

/* dst = a - b bucket by bucket (a is a later reading of the same counter than b). */
void hist__delta(struct hist *dst, const struct hist *a, const struct hist *b);

/*
 * The q-quantile (0 <= q <= 1) in base units, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does; 0 for an empty histogram. A quantile that falls in
 * the +Inf bucket returns the highest finite bound.
 */
double hist__quantile(const struct hist *h, const struct hist_layout *layout, double q);

#define HIST_LOG2_SLOTS 64 /* log2 slots that hold any uint64_t */

/* Slot of v in a log2 histogram: 0 holds 0 and 1, slot i >= 1 holds [2^i, 2^(i+1)). */
unsigned int hist_log2__slot(uint64_t v);

/* Smallest value of log2 slot i (< HIST_LOG2_SLOTS): 0 for slot 0. */
uint64_t hist_log2__low(unsigned int slot);

/* Largest value of log2 slot i (< HIST_LOG2_SLOTS): UINT64_MAX for the last one. */
uint64_t hist_log2__high(unsigned int slot);

/*
 * Log-linear ("fine") buckets of any uint64_t: one per value below 2 * HIST_FINE_SUB, then
 * HIST_FINE_SUB equal buckets per power of two, so a bucket is at most 12.5% wide. Too many
 * for a struct hist_layout (HIST_MAX_BOUNDS): a plain array of HIST_FINE_BUCKETS counts.
 */
#define HIST_FINE_SUB	  8
#define HIST_FINE_BUCKETS (2 * HIST_FINE_SUB + (64 - 4) * HIST_FINE_SUB)

/* Fine bucket of v: rising with v, 0 for 0, HIST_FINE_BUCKETS - 1 for UINT64_MAX. */
unsigned int hist_fine__bucket(uint64_t v);

/*
 * The q-quantile of n values counted in fine buckets (counts[HIST_FINE_BUCKETS]) whose
 * smallest is min and largest max: min for q <= 0, max for q >= 1, else the bucket of the
 * nearest-rank value, narrowed to [min, max] and interpolated linearly (off by at most one
 * bucket width, 12.5%; exact when all values are equal). 0 when n is 0.
 */
uint64_t hist_fine__quantile(const uint64_t *counts, uint64_t n, uint64_t min, uint64_t max,
			     double q);

/*
 * Converts kernel log2 slots (slot s counts values in [2^s, 2^(s+1)) ns) into a histogram
 * of layout (bounds ascending, in ns): each slot lands in the first bucket whose bound is
 * at least 2^(s+1) - 1, so bucket counts are never understated.
 */
void hist__from_log2(struct hist *h, const struct hist_layout *layout, const uint64_t *slots,
		     unsigned int nr_slots, uint64_t count, uint64_t sum);

#endif /* TOOLWATCH_HIST_H */
