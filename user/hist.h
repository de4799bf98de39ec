/* SPDX-License-Identifier: GPL-2.0 */
/* Fixed-bucket histograms (Prometheus style), pure. */
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

/*
 * Converts kernel log2 slots (slot s counts values in [2^s, 2^(s+1)) ns) into a histogram
 * of layout (bounds ascending, in ns): each slot lands in the first bucket whose bound is
 * at least 2^(s+1) - 1, so bucket counts are never understated.
 */
void hist__from_log2(struct hist *h, const struct hist_layout *layout, const uint64_t *slots,
		     unsigned int nr_slots, uint64_t count, uint64_t sum);

#endif /* TOOLWATCH_HIST_H */
