// SPDX-License-Identifier: GPL-2.0
/* Statistics primitives of the anomaly detector; the contracts are in stats.h. */
#include <math.h>
#include <stdlib.h>

#include "anomaly/stats.h"

/* splitmix64: a seeded PRNG, so detector runs are reproducible. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double stats_sorted_quantile(const double *v, uint32_t n, double q)
{
	double h;
	uint32_t lo;

	if (!n)
		return 0;
	h = q * (double)(n - 1);
	lo = (uint32_t)h;
	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

double stats_weights_quantile(const double *w, const struct hist_layout *layout, double q)
{
	double total = 0, rank, seen = 0, lower = 0;

	for (unsigned int i = 0; i <= layout->nr_bounds; i++)
		total += w[i];
	if (!(total > 0))
		return 0;
	rank = q * total;
	for (unsigned int i = 0; i < layout->nr_bounds; i++) {
		double c = w[i], upper = (double)layout->bounds[i];

		if (c > 0 && seen + c >= rank) {
			double f = (rank - seen) / c;

			f = f < 0 ? 0 : f > 1 ? 1 : f;
			return lower + (upper - lower) * f;
		}
		seen += c;
		lower = upper;
	}
	return (double)layout->bounds[layout->nr_bounds - 1];
}

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, dd = 1 - (a + b) * x / (a + 1), h;

	dd = 1 / (fabs(dd) < tiny ? tiny : dd);
	h = dd;
	for (int m = 1; m <= 1000; m++) {
		double m2 = 2.0 * m, num, delta;

		num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		dd = 1 + num * dd;
		c = 1 + num / c;
		dd = 1 / (fabs(dd) < tiny ? tiny : dd);
		c = fabs(c) < tiny ? tiny : c;
		h *= dd * c;
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		dd = 1 + num * dd;
		c = 1 + num / c;
		dd = 1 / (fabs(dd) < tiny ? tiny : dd);
		c = fabs(c) < tiny ? tiny : c;
		delta = dd * c;
		h *= delta;
		if (fabs(delta - 1) < 1e-12)
			break;
	}
	return h;
}

double stats_binomial_tail(double k, double n, double p)
{
	double a, b, front, r;

	if (k <= 0 || p >= 1)
		return 1;
	if (k > n || p <= 0)
		return 0;
	if (n > 1e5) {
		double sd = sqrt(n * p * (1 - p));

		return 0.5 * erfc((k - 0.5 - n * p) / (sd * M_SQRT2));
	}
	a = k;
	b = n - k + 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(p) + b * log1p(-p));
	if (p < (a + 1) / (a + b + 2))
		r = front * beta_cf(a, b, p) / a;
	else
		r = 1 - front * beta_cf(b, a, 1 - p) / b;
	if (!(r >= 0))
		return 0;
	return r > 1 ? 1 : r;
}

double stats_weights_above(const double *w, const struct hist_layout *layout, double x)
{
	double total = 0, above = 0, lower = 0;

	for (unsigned int i = 0; i <= layout->nr_bounds; i++) {
		double upper = i < layout->nr_bounds ? (double)layout->bounds[i] : INFINITY;

		total += w[i];
		if (lower >= x)
			above += w[i];
		else if (upper > x && i < layout->nr_bounds)
			above += w[i] * (upper - x) / (upper - lower);
		else if (i == layout->nr_bounds)
			above += w[i];
		lower = upper;
	}
	if (!(total > 0))
		return 0;
	above /= total;
	return above < 0 ? 0 : above > 1 ? 1 : above;
}

double stats_hist_weights(const struct hist *h, const struct hist_layout *layout, double *w)
{
	double total = 0;

	for (unsigned int i = 0; i < DHIST_BUCKETS; i++) {
		w[i] = i <= layout->nr_bounds ? (double)h->counts[i] : 0;
		total += w[i];
	}
	return total;
}

void dhist__add(struct dhist *h, const double *w, uint64_t age, double span)
{
	double f = 1;

	if (age > h->last_age)
		f = exp(-(double)(age - h->last_age) / span);
	for (unsigned int i = 0; i < DHIST_BUCKETS; i++) {
		double v = h->w[i] * f + w[i];

		h->w[i] = v < DHIST_WEIGHT_MIN ? 0 : v > DHIST_WEIGHT_MAX ? DHIST_WEIGHT_MAX : v;
	}
	h->last_age = age;
}

/*
 * A-Res keeps the largest keys u^(1/weight), weight e^(age/span). In logarithms, which
 * never overflow: keep the smallest ln(-ln u) - age/span.
 */
void reservoir__add(struct reservoir *r, double value, uint64_t age, double span, uint64_t *rng)
{
	double u = ((double)(splitmix64(rng) >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
	double key = log(-log(u)) - (double)age / span;
	uint32_t worst = 0;

	if (r->n < r->cap) {
		r->s[r->n++] = (struct rsample){value, key};
		return;
	}
	for (uint32_t i = 1; i < r->n; i++)
		if (r->s[i].key > r->s[worst].key)
			worst = i;
	if (key < r->s[worst].key)
		r->s[worst] = (struct rsample){value, key};
}

uint32_t reservoir__sorted(const struct reservoir *r, double *v)
{
	for (uint32_t i = 0; i < r->n; i++)
		v[i] = r->s[i].value;
	qsort(v, r->n, sizeof(*v), cmp_double);
	return r->n;
}

void stats_sorted_median_mad(const double *sorted, uint32_t n, double *median, double *mad)
{
	double v[RESERVOIR_CAP_MAX];

	*median = stats_sorted_quantile(sorted, n, 0.5);
	for (uint32_t i = 0; i < n; i++)
		v[i] = fabs(sorted[i] - *median);
	qsort(v, n, sizeof(*v), cmp_double);
	*mad = stats_sorted_quantile(v, n, 0.5);
}

void reservoir__median_mad(const struct reservoir *r, double *median, double *mad)
{
	double v[RESERVOIR_CAP_MAX];
	uint32_t n = reservoir__sorted(r, v);

	stats_sorted_median_mad(v, n, median, mad);
}

double reservoir__quantile(const struct reservoir *r, double q)
{
	double v[RESERVOIR_CAP_MAX];
	uint32_t n = reservoir__sorted(r, v);

	return stats_sorted_quantile(v, n, q);
}
