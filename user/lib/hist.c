// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "lib/hist.h"

#define US 1000ULL
#define MS (1000ULL * US)
#define S  (1000ULL * MS)

#define FINE_SUB_BITS 3 /* HIST_FINE_SUB == 1 << FINE_SUB_BITS */

_Static_assert(HIST_FINE_SUB == 1 << FINE_SUB_BITS, "HIST_FINE_SUB must be 2^FINE_SUB_BITS");

const struct hist_layout hist_duration_layout = {
    .nr_bounds = 23,
    .bounds = {100 * US, 250 * US, 500 * US, 1 * MS,   2500 * US, 5 * MS,    10 * MS, 25 * MS,
	       50 * MS,	 100 * MS, 250 * MS, 500 * MS, 1 * S,	  2500 * MS, 5 * S,   10 * S,
	       25 * S,	 50 * S,   100 * S,  250 * S,  500 * S,	  1000 * S,  2500 * S},
    .unit_scale = 1e9,
};

/* Four rising powers of two from 2^e. */
#define POW2_4(e) 1ULL << (e), 1ULL << ((e) + 1), 1ULL << ((e) + 2), 1ULL << ((e) + 3)

const struct hist_layout hist_memory_layout = {
    .nr_bounds = 21,
    .bounds = {POW2_4(16), POW2_4(20), POW2_4(24), POW2_4(28), POW2_4(32), 1ULL << 36},
    .unit_scale = 1,
};

const struct hist_layout hist_latency_layout = {
    .nr_bounds = 26,
    .bounds = {POW2_4(10), POW2_4(14), POW2_4(18), POW2_4(22), POW2_4(26), POW2_4(30), 1ULL << 34,
	       1ULL << 35},
    .unit_scale = 1e9,
};

unsigned int hist_layout__bucket(const struct hist_layout *layout, uint64_t v)
{
	unsigned int lo = 0, hi = layout->nr_bounds;

	/* first index whose bound >= v */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (layout->bounds[mid] >= v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void hist__add(struct hist *h, const struct hist_layout *layout, uint64_t v)
{
	h->counts[hist_layout__bucket(layout, v)]++;
	h->count++;
	h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
}

void hist__merge(struct hist *dst, const struct hist *src)
{
	for (unsigned int i = 0; i <= HIST_MAX_BOUNDS; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX : dst->sum + src->sum;
}

void hist__delta(struct hist *dst, const struct hist *a, const struct hist *b)
{
	for (unsigned int i = 0; i <= HIST_MAX_BOUNDS; i++)
		dst->counts[i] = a->counts[i] - b->counts[i];
	dst->count = a->count - b->count;
	dst->sum = a->sum - b->sum;
}

double hist__quantile(const struct hist *h, const struct hist_layout *layout, double q)
{
	double rank, seen = 0, lower = 0;

	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * (double)h->count;
	for (unsigned int i = 0; i < layout->nr_bounds; i++) {
		double c = (double)h->counts[i];
		double upper = (double)layout->bounds[i];

		if (c > 0 && seen + c >= rank)
			return lower + (upper - lower) * ((rank - seen) / c);
		seen += c;
		lower = upper;
	}
	return (double)layout->bounds[layout->nr_bounds - 1];
}

unsigned int hist_log2__slot(uint64_t v)
{
	return v < 2 ? 0 : 63 - (unsigned int)__builtin_clzll(v);
}

uint64_t hist_log2__low(unsigned int slot)
{
	return slot ? 1ULL << slot : 0;
}

uint64_t hist_log2__high(unsigned int slot)
{
	return slot >= 63 ? UINT64_MAX : (2ULL << slot) - 1;
}

unsigned int hist_fine__bucket(uint64_t v)
{
	unsigned int e;

	if (v < 2 * HIST_FINE_SUB)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v); /* >= FINE_SUB_BITS + 1 */
	return 2 * HIST_FINE_SUB + (e - FINE_SUB_BITS - 1) * HIST_FINE_SUB +
	       (unsigned int)((v >> (e - FINE_SUB_BITS)) & (HIST_FINE_SUB - 1));
}

/* Smallest value of fine bucket b and the number of values it holds. */
static void fine_bounds(unsigned int b, uint64_t *lower, uint64_t *width)
{
	unsigned int e, sub;

	if (b < 2 * HIST_FINE_SUB) {
		*lower = b;
		*width = 1;
		return;
	}
	e = (b - 2 * HIST_FINE_SUB) / HIST_FINE_SUB + FINE_SUB_BITS + 1;
	sub = (b - 2 * HIST_FINE_SUB) % HIST_FINE_SUB;
	*lower = (uint64_t)(HIST_FINE_SUB + sub) << (e - FINE_SUB_BITS);
	*width = 1ULL << (e - FINE_SUB_BITS);
}

/*
 * Not hist__quantile(): percentiles printed for people must be exact when all values are
 * equal (a 3ms tool shows P50 3.00ms), so the rank is the nearest rank and the bucket is
 * narrowed to the exact min and max, which struct hist does not keep.
 */
uint64_t hist_fine__quantile(const uint64_t *counts, uint64_t n, uint64_t min, uint64_t max,
			     double q)
{
	uint64_t rank, seen = 0, lower, width, lo, hi;
	double v;

	if (!n)
		return 0;
	if (q <= 0)
		return min;
	if (q >= 1)
		return max;
	/* nearest rank: the smallest value with at least q of them at or below it */
	rank = (uint64_t)(q * (double)n + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	for (unsigned int b = 0; b < HIST_FINE_BUCKETS; b++) {
		uint64_t c = counts[b];

		if (!c || seen + c < rank) {
			seen += c;
			continue;
		}
		fine_bounds(b, &lower, &width);
		/* the bucket narrowed to what was seen: exact when all values are equal */
		hi = lower + width - 1 < max ? lower + width - 1 : max;
		lo = lower > min ? lower : min;
		/* the k-th of c values spread evenly over [lo, hi] */
		v = (double)lo + (double)(hi - lo) * ((double)(rank - seen) - 0.5) / (double)c;
		return (uint64_t)(v + 0.5);
	}
	return max;
}

void hist__from_log2(struct hist *h, const struct hist_layout *layout, const uint64_t *slots,
		     unsigned int nr_slots, uint64_t count, uint64_t sum)
{
	memset(h, 0, sizeof(*h));
	for (unsigned int s = 0; s < nr_slots; s++) {
		uint64_t top = s >= 63 ? UINT64_MAX : (2ULL << s) - 1; /* largest value in slot */

		h->counts[hist_layout__bucket(layout, top)] += slots[s];
	}
	h->count = count;
	h->sum = sum;
}
