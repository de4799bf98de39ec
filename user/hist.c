// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "hist.h"

#define US 1000ULL
#define MS (1000ULL * US)
#define S (1000ULL * MS)

const struct hist_layout hist_duration_layout = {
	.nr_bounds = 23,
	.bounds = { 100 * US, 250 * US, 500 * US, 1 * MS,   2500 * US, 5 * MS,	 10 * MS, 25 * MS,
		    50 * MS,  100 * MS, 250 * MS, 500 * MS, 1 * S,     2500 * MS, 5 * S,	 10 * S,
		    25 * S,   50 * S,	100 * S,  250 * S,  500 * S,   1000 * S,  2500 * S },
	.unit_scale = 1e9,
};

const struct hist_layout hist_memory_layout = {
	.nr_bounds = 21,
	.bounds = { 1ULL << 16, 1ULL << 17, 1ULL << 18, 1ULL << 19, 1ULL << 20, 1ULL << 21,
		    1ULL << 22, 1ULL << 23, 1ULL << 24, 1ULL << 25, 1ULL << 26, 1ULL << 27,
		    1ULL << 28, 1ULL << 29, 1ULL << 30, 1ULL << 31, 1ULL << 32, 1ULL << 33,
		    1ULL << 34, 1ULL << 35, 1ULL << 36 },
	.unit_scale = 1,
};

const struct hist_layout hist_latency_layout = {
	.nr_bounds = 26,
	.bounds = { 1ULL << 10, 1ULL << 11, 1ULL << 12, 1ULL << 13, 1ULL << 14, 1ULL << 15,
		    1ULL << 16, 1ULL << 17, 1ULL << 18, 1ULL << 19, 1ULL << 20, 1ULL << 21,
		    1ULL << 22, 1ULL << 23, 1ULL << 24, 1ULL << 25, 1ULL << 26, 1ULL << 27,
		    1ULL << 28, 1ULL << 29, 1ULL << 30, 1ULL << 31, 1ULL << 32, 1ULL << 33,
		    1ULL << 34, 1ULL << 35 },
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
