// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>

#include "lib/nativehist.h"

/* 2^(j/8) / 2 for j = 0..7: the bucket bounds of schema 3 within one power of two */
static const double octave_bounds[8] = {
    0.5,
    0.5452538663326288,
    0.5946035575013605,
    0.6484197773255048,
    0.7071067811865476,
    0.7711054127039704,
    0.8408964152537145,
    0.9170040432046712,
};

/* floor(a / 2) for negative a too */
static int32_t half_floor(int32_t a)
{
	return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

int32_t native_hist__key(double v, int schema)
{
	int exp;
	double frac = frexp(v, &exp); /* v = frac * 2^exp, frac in [0.5, 1) */

	if (schema > 0) {
		int n = 1 << schema;
		int32_t j = 0;

		if (schema <= 3) {
			int stride = 8 >> schema;

			while (j < n && octave_bounds[j * stride] < frac)
				j++;
		} else {
			while (j < n && ldexp(exp2((double)j / n), -1) < frac)
				j++;
		}
		return j + (int32_t)(exp - 1) * n;
	}
	/* schema <= 0: a bucket spans 2^(2^-schema) */
	int32_t key = exp;

	if (frac == 0.5)
		key--;
	int32_t offset = (1 << -schema) - 1;

	key += offset;
	return key >= 0 ? key >> -schema : -((-key + (1 << -schema) - 1) >> -schema);
}

double native_hist__upper(int32_t key, int schema)
{
	return exp2(ldexp((double)key, -schema));
}

int native_hist__schema(const struct native_hist *h)
{
	return h->initialized ? h->schema : NATIVE_HIST_SCHEMA;
}

void native_hist__reduce(struct native_hist *h)
{
	uint64_t merged[NATIVE_HIST_BUCKETS] = {};
	int32_t first;
	uint16_t nr = 0;

	if (!h->initialized) {
		h->schema = NATIVE_HIST_SCHEMA;
		h->initialized = 1;
	}
	if (h->schema <= NATIVE_HIST_SCHEMA_MIN)
		return;
	h->schema--;
	if (!h->nr)
		return;
	/* bucket k of the old schema lies in bucket floor((k + 1) / 2) of the new one */
	first = half_floor(h->first + 1);
	for (uint16_t i = 0; i < h->nr; i++) {
		int32_t j = half_floor(h->first + i + 1) - first;

		merged[j] += h->counts[i];
		nr = (uint16_t)(j + 1);
	}
	memset(h->counts, 0, sizeof(h->counts));
	memcpy(h->counts, merged, nr * sizeof(merged[0]));
	h->first = first;
	h->nr = nr;
}

void native_hist__add(struct native_hist *h, double v)
{
	int32_t key, lo, hi;

	if (!h->initialized) {
		h->schema = NATIVE_HIST_SCHEMA;
		h->initialized = 1;
	}
	if (!(v > NATIVE_HIST_ZERO_THRESHOLD)) {
		h->zero_count++;
		return;
	}
	if (isinf(v))
		v = 0x1p1023;
	for (;;) {
		key = native_hist__key(v, h->schema);
		if (!h->nr) {
			h->first = key;
			h->nr = 1;
			h->counts[0] = 1;
			return;
		}
		lo = key < h->first ? key : h->first;
		hi = key > h->first + h->nr - 1 ? key : h->first + h->nr - 1;
		if ((int64_t)hi - lo < NATIVE_HIST_BUCKETS || h->schema <= NATIVE_HIST_SCHEMA_MIN)
			break;
		native_hist__reduce(h);
	}
	if ((int64_t)hi - lo >= NATIVE_HIST_BUCKETS) {
		/* cannot happen at the lowest schema; keep the window, clamp */
		key = key < h->first ? h->first : h->first + h->nr - 1;
		lo = h->first;
	}
	if (lo < h->first) {
		uint32_t shift = (uint32_t)(h->first - lo);

		memmove(h->counts + shift, h->counts, h->nr * sizeof(h->counts[0]));
		memset(h->counts, 0, shift * sizeof(h->counts[0]));
		h->first = lo;
		h->nr = (uint16_t)(h->nr + shift);
	}
	if (key - h->first >= h->nr)
		h->nr = (uint16_t)(key - h->first + 1); /* the window is zeroed past nr */
	h->counts[key - h->first]++;
}

uint64_t native_hist__count(const struct native_hist *h)
{
	uint64_t n = h->zero_count;

	for (uint16_t i = 0; i < h->nr; i++)
		n += h->counts[i];
	return n;
}
