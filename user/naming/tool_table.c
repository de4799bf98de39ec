// SPDX-License-Identifier: GPL-2.0
/*
 * The tool table (tools.h): names by id, bounded by --tools.max, and an open-addressing
 * index (linear probing) of ids by name.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "naming/tools.h"

#define INDEX_MIN_SLOTS 64 /* power of two */

struct index_slot {
	uint32_t hash;
	uint32_t id; /* 0: empty ("other" is never indexed) */
};

struct tool_table {
	unsigned int max_tools;
	unsigned int nr_names; /* ids handed out: 1..nr_names */
	unsigned int nr_live;  /* of which hold a name (the others were evicted) */
	unsigned int names_cap;
	char **names;		/* names[id], names[0] unused, NULL once evicted */
	unsigned int *free_ids; /* evicted ids, reused first (a stack) */
	unsigned int nr_free, free_cap;
	uint64_t evictions;
	struct index_slot *slots;
	size_t nr_slots; /* power of two, kept at least twice nr_names */
	uint64_t overflows;
};

/* FNV-1a, folded to 32 bits. */
static uint32_t name__hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* The slot holding name, or the empty slot where it would go. */
static struct index_slot *index__find(const struct index_slot *slots, size_t nr_slots,
				      char *const *names, const char *name, uint32_t hash)
{
	size_t mask = nr_slots - 1, i = hash & mask;

	for (;; i = (i + 1) & mask) {
		const struct index_slot *slot = &slots[i];

		if (!slot->id || (slot->hash == hash && !strcmp(names[slot->id], name)))
			return (struct index_slot *)slot;
	}
}

static int index__grow(struct tool_table *t)
{
	size_t nr_slots = t->nr_slots * 2, i;
	struct index_slot *slots;

	if (nr_slots / 2 != t->nr_slots || nr_slots > SIZE_MAX / sizeof(*slots))
		return -ENOMEM;
	slots = calloc(nr_slots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->nr_slots; i++) {
		const struct index_slot *old = &t->slots[i];

		if (old->id)
			*index__find(slots, nr_slots, t->names, t->names[old->id], old->hash) =
			    *old;
	}
	free(t->slots);
	t->slots = slots;
	t->nr_slots = nr_slots;
	return 0;
}

static int names__grow(struct tool_table *t)
{
	unsigned int cap = t->names_cap * 2;
	char **names;

	if (cap <= t->names_cap)
		return -ENOMEM;
	names = reallocarray(t->names, cap, sizeof(*names));
	if (!names)
		return -ENOMEM;
	t->names = names;
	t->names_cap = cap;
	return 0;
}

struct tool_table *tool_table__new(unsigned int max_tools)
{
	struct tool_table *t;

	if (max_tools > INT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto err_out;
	t->max_tools = max_tools;
	t->names_cap = INDEX_MIN_SLOTS / 2;
	t->names = calloc(t->names_cap, sizeof(*t->names));
	if (!t->names)
		goto err_free_table;
	t->nr_slots = INDEX_MIN_SLOTS;
	t->slots = calloc(t->nr_slots, sizeof(*t->slots));
	if (!t->slots)
		goto err_free_names;
	return t;

err_free_names:
	free(t->names);
err_free_table:
	free(t);
err_out:
	errno = ENOMEM;
	return NULL;
}

void tool_table__free(struct tool_table *t)
{
	unsigned int id;

	if (!t)
		return;
	for (id = 1; id <= t->nr_names; id++)
		free(t->names[id]);
	free(t->names);
	free(t->free_ids);
	free(t->slots);
	free(t);
}

unsigned int tool_table__intern(struct tool_table *t, const char *name)
{
	struct index_slot *slot;
	unsigned int id;
	size_t len;
	uint32_t hash;
	char *copy;

	if (!name || !strcmp(name, TOOL_OTHER_NAME))
		return TOOL_OTHER_ID;
	len = strlen(name);
	hash = name__hash(name, len);
	slot = index__find(t->slots, t->nr_slots, t->names, name, hash);
	if (slot->id)
		return slot->id;
	if (t->nr_live >= t->max_tools)
		goto overflow;
	/* keep the load factor at most 1/2 so that probe runs stay short */
	if ((size_t)(t->nr_live + 1) * 2 > t->nr_slots) {
		if (index__grow(t))
			goto overflow;
		slot = index__find(t->slots, t->nr_slots, t->names, name, hash);
	}
	if (!t->nr_free && t->nr_names + 1 >= t->names_cap && names__grow(t))
		goto overflow;
	copy = malloc(len + 1);
	if (!copy)
		goto overflow;
	memcpy(copy, name, len + 1);
	id = t->nr_free ? t->free_ids[--t->nr_free] : ++t->nr_names;
	t->nr_live++;
	t->names[id] = copy;
	slot->hash = hash;
	slot->id = id;
	return id;

overflow:
	t->overflows++;
	return TOOL_OTHER_ID;
}

int tool_table__lookup(const struct tool_table *t, const char *name)
{
	const struct index_slot *slot;

	if (!name)
		return -1;
	if (!strcmp(name, TOOL_OTHER_NAME))
		return TOOL_OTHER_ID;
	slot = index__find(t->slots, t->nr_slots, t->names, name, name__hash(name, strlen(name)));
	return slot->id ? (int)slot->id : -1;
}

/* Empties slot, moving later entries of its probe run back so that none becomes unreachable. */
static void index__remove(struct tool_table *t, struct index_slot *slot)
{
	size_t mask = t->nr_slots - 1, hole = (size_t)(slot - t->slots), i = hole, home;

	for (;;) {
		i = (i + 1) & mask;
		if (!t->slots[i].id)
			break;
		home = t->slots[i].hash & mask;
		/* the entry at i may fill the hole unless its home lies in (hole, i] */
		if (hole <= i ? (hole < home && home <= i) : (hole < home || home <= i))
			continue;
		t->slots[hole] = t->slots[i];
		hole = i;
	}
	t->slots[hole].id = 0;
	t->slots[hole].hash = 0;
}

int tool_table__evict(struct tool_table *t, unsigned int id)
{
	struct index_slot *slot;
	const char *name;

	if (id == TOOL_OTHER_ID || id > t->nr_names || !t->names[id])
		return -ENOENT;
	if (t->nr_free == t->free_cap) {
		unsigned int cap = t->free_cap ? t->free_cap * 2 : 64, *ids;

		ids = reallocarray(t->free_ids, cap, sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		t->free_ids = ids;
		t->free_cap = cap;
	}
	name = t->names[id];
	slot = index__find(t->slots, t->nr_slots, t->names, name, name__hash(name, strlen(name)));
	index__remove(t, slot);
	free(t->names[id]);
	t->names[id] = NULL;
	t->free_ids[t->nr_free++] = id;
	t->nr_live--;
	t->evictions++;
	return 0;
}

uint64_t tool_table__evictions(const struct tool_table *t)
{
	return t->evictions;
}

unsigned int tool_table__live(const struct tool_table *t)
{
	return t->nr_live;
}

const char *tool_table__name(const struct tool_table *t, unsigned int id)
{
	if (id == TOOL_OTHER_ID)
		return TOOL_OTHER_NAME;
	return id <= t->nr_names ? t->names[id] : NULL;
}

unsigned int tool_table__count(const struct tool_table *t)
{
	return t->nr_names + 1;
}

uint64_t tool_table__overflows(const struct tool_table *t)
{
	return t->overflows;
}
