// SPDX-License-Identifier: GPL-2.0
/*
 * The anomaly detector's tools: their baselines' storage, the table sorted by name and
 * bounded by max_tools, and the names of the tools it forgot (for NEW_TOOL).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/anomaly_internal.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int anomaly_baseline__init(struct baseline *b, uint32_t cap)
{
	struct rsample *s = calloc(2 * (size_t)cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	b->mean_duration = (struct reservoir){.cap = cap, .s = s};
	b->cpu = (struct reservoir){.cap = cap, .s = s + cap};
	return 0;
}

void anomaly_baseline__fini(struct baseline *b)
{
	free(b->mean_duration.s); /* one block for both reservoirs */
	b->mean_duration.s = b->cpu.s = NULL;
}

void anomaly_tool__free(struct tool *t)
{
	if (!t)
		return;
	anomaly_baseline__fini(&t->global);
	if (t->hours) {
		for (int h = 0; h < HOURS; h++)
			anomaly_baseline__fini(&t->hours[h]);
		free(t->hours);
	}
	free(t->name);
}

int anomaly_tool__init(struct tool *t, bool seasonal)
{
	int err, h;

	memset(t, 0, sizeof(*t));
	err = anomaly_baseline__init(&t->global, RESERVOIR_GLOBAL);
	if (err)
		return err;
	if (!seasonal)
		return 0;
	t->hours = calloc(HOURS, sizeof(*t->hours));
	if (!t->hours) {
		err = -ENOMEM;
		goto free_global;
	}
	for (h = 0; h < HOURS; h++) {
		err = anomaly_baseline__init(&t->hours[h], RESERVOIR_HOUR);
		if (err)
			goto free_hours;
	}
	return 0;
free_hours:
	while (h--)
		anomaly_baseline__fini(&t->hours[h]);
	free(t->hours);
	t->hours = NULL;
free_global:
	anomaly_baseline__fini(&t->global);
	return err;
}

static bool known_contains(const struct anomaly_detector *d, uint64_t hash)
{
	for (uint32_t i = 0; i < d->nr_known; i++)
		if (d->known[i] == hash)
			return true;
	return false;
}

static void known_add(struct anomaly_detector *d, uint64_t hash)
{
	if (known_contains(d, hash))
		return;
	d->known[d->known_next] = hash;
	d->known_next = (d->known_next + 1) % KNOWN_MAX;
	if (d->nr_known < KNOWN_MAX)
		d->nr_known++;
}

bool anomaly_tools__forgotten(const struct anomaly_detector *d, const char *name)
{
	return known_contains(d, name_hash(name));
}

size_t anomaly_tools__index(const struct anomaly_detector *d, const char *name, bool *found)
{
	size_t lo = 0, hi = d->nr_tools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d->tools[mid]->name, name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

void anomaly_tools__evict_one(struct anomaly_detector *d)
{
	size_t victim = 0;
	struct tool *t;

	for (size_t i = 1; i < d->nr_tools; i++)
		if (d->tools[i]->last_active_age < d->tools[victim]->last_active_age)
			victim = i;
	t = d->tools[victim];
	known_add(d, name_hash(t->name));
	anomaly_tool__free(t);
	free(t);
	memmove(&d->tools[victim], &d->tools[victim + 1],
		(d->nr_tools - victim - 1) * sizeof(*d->tools));
	d->nr_tools--;
}

int anomaly_tools__reserve(struct anomaly_detector *d, size_t n)
{
	struct tool **tools;
	size_t cap;

	if (n <= d->cap_tools)
		return 0;
	cap = d->cap_tools ? d->cap_tools * 2 : 16;
	while (cap < n)
		cap *= 2;
	tools = realloc(d->tools, cap * sizeof(*tools));
	if (!tools)
		return -ENOMEM;
	d->tools = tools;
	d->cap_tools = cap;
	return 0;
}

struct tool *anomaly_tool__new(const char *name, bool seasonal)
{
	struct tool *t = malloc(sizeof(*t));

	if (!t)
		return NULL;
	if (anomaly_tool__init(t, seasonal)) {
		free(t);
		return NULL;
	}
	t->name = strdup(name);
	if (!t->name) {
		anomaly_tool__free(t);
		free(t);
		return NULL;
	}
	return t;
}

void anomaly_tools__insert(struct anomaly_detector *d, struct tool *t)
{
	bool found;
	size_t i;

	while (d->nr_tools >= d->cfg.max_tools)
		anomaly_tools__evict_one(d);
	i = anomaly_tools__index(d, t->name, &found);
	memmove(&d->tools[i + 1], &d->tools[i], (d->nr_tools - i) * sizeof(*d->tools));
	d->tools[i] = t;
	d->nr_tools++;
}
