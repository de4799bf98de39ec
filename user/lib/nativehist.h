/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Native (sparse exponential) histograms as Prometheus defines them, pure: bucket i of
 * schema s holds values in (2^((i-1)/2^s), 2^(i/2^s)]; a zero bucket holds values at or
 * below NATIVE_HIST_ZERO_THRESHOLD. A histogram keeps a window of at most
 * NATIVE_HIST_BUCKETS consecutive buckets inline (fixed size, copied by value into
 * snapshots); a value outside a full window lowers the resolution one schema at a time,
 * each step merging buckets pairwise, as client_golang does past its bucket limit.
 */
#ifndef TOOLWATCH_NATIVEHIST_H
#define TOOLWATCH_NATIVEHIST_H

#include <stdint.h>

/* Schema 3: bounds grow by 2^(1/8); a bucket's middle is at most 4.53% off any value in it. */
#define NATIVE_HIST_SCHEMA     3
#define NATIVE_HIST_SCHEMA_MIN (-4)
/* The window: at schema 3, 64 buckets span a factor 256 (schema 2: 65536). */
#define NATIVE_HIST_BUCKETS 64
/* client_golang's default zero threshold: only zero (and denormal noise) goes there */
#define NATIVE_HIST_ZERO_THRESHOLD 0x1p-128

struct native_hist {
	int32_t first;	     /* bucket index of counts[0] */
	int8_t schema;	     /* NATIVE_HIST_SCHEMA until a reduction; 0 in a zeroed struct */
	uint8_t initialized; /* schema is meaningful (a zeroed struct is an empty histogram) */
	uint16_t nr;	     /* buckets in the window, counts[0..nr) */
	uint64_t zero_count;
	uint64_t counts[NATIVE_HIST_BUCKETS];
};

/* Index of the bucket of schema (NATIVE_HIST_SCHEMA_MIN..8) that holds v > 0. */
int32_t native_hist__key(double v, int schema);

/* Upper bound (inclusive) of bucket key of schema: 2^(key / 2^schema). */
double native_hist__upper(int32_t key, int schema);

/* The schema a zeroed or used histogram has (NATIVE_HIST_SCHEMA while empty). */
int native_hist__schema(const struct native_hist *h);

/*
 * Records one observation v (in the exposed unit: seconds, bytes). v at or below the zero
 * threshold, negative or NaN goes to the zero bucket. A zeroed struct is an empty histogram.
 */
void native_hist__add(struct native_hist *h, double v);

/* Halves the resolution: schema - 1, buckets 2j-1 and 2j become bucket j. */
void native_hist__reduce(struct native_hist *h);

/* Observations recorded: the zero bucket plus every bucket. */
uint64_t native_hist__count(const struct native_hist *h);

#endif /* TOOLWATCH_NATIVEHIST_H */
