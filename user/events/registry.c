// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "events/registry.h"
#include "naming/tools.h"
#include "toolwatch.h"

/* The distinct origins a name was counted from. */
struct origin_set {
	uint64_t *ids;
	uint32_t n, cap;
	uint64_t recheck_ns; /* an idle name found with a live origin: not tested before */
};

struct registry {
	struct tool_table *tools;
	struct tool_stats *stats; /* indexed by tool id */
	size_t nr_stats;	  /* ids that have a slot */
	size_t cap_stats;
	uint64_t *last_used_ns;	    /* by tool id, cap_stats of them */
	uint32_t *generation;	    /* by tool id: bumped by each eviction */
	struct origin_set *origins; /* by tool id, cap_stats of them */
	uint64_t origin;	    /* of the next registry__tool_id() calls */
	registry_gone_fn gone;
	void *gone_ctx;
	unsigned int gone_cursor; /* where the last registry__evict_gone() ran out of tests */
	struct agent_stats agent;
	struct host_stats host;
	uint64_t now_ns; /* the clock names are stamped with (registry__set_now) */
};

bool execution__classify(uint32_t status, uint32_t flags, enum error_type *type)
{
	if (flags & TW_F_OOM_KILLED) {
		*type = ERROR_OOM_KILL;
		return false;
	}
	if (status & 0x7f) {
		*type = (status & 0x80) ? ERROR_CORE_DUMP : ERROR_SIGNAL;
		return false;
	}
	if ((status >> 8) & 0xff) {
		*type = ERROR_EXIT_CODE;
		return false;
	}
	return true;
}

struct registry *registry__new(unsigned int max_tools)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->tools = tool_table__new(max_tools);
	if (!r->tools) {
		free(r);
		return NULL;
	}
	/* id 0 ("other") always has a slot */
	if (!registry__stats(r, 0)) {
		registry__free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

void registry__free(struct registry *r)
{
	if (!r)
		return;
	tool_table__free(r->tools);
	free(r->stats);
	free(r->last_used_ns);
	free(r->generation);
	for (size_t i = 0; r->origins && i < r->nr_stats; i++)
		free(r->origins[i].ids);
	free(r->origins);
	free(r);
}

struct tool_stats *registry__stats(struct registry *r, unsigned int id)
{
	if (id >= tool_table__count(r->tools) && id != 0)
		return NULL;
	if (id >= r->nr_stats) {
		if (id >= r->cap_stats) {
			size_t cap = r->cap_stats ? r->cap_stats : 64;
			struct tool_stats *s;
			uint64_t *used;
			uint32_t *gen;
			struct origin_set *o;

			while (cap <= id)
				cap *= 2;
			used = reallocarray(r->last_used_ns, cap, sizeof(*used));
			if (used)
				r->last_used_ns = used;
			gen = reallocarray(r->generation, cap, sizeof(*gen));
			if (gen)
				r->generation = gen;
			o = used && gen ? reallocarray(r->origins, cap, sizeof(*o)) : NULL;
			if (o)
				r->origins = o;
			s = o ? reallocarray(r->stats, cap, sizeof(*s)) : NULL;
			if (!s)
				return NULL;
			r->stats = s;
			r->cap_stats = cap;
		}
		memset(r->stats + r->nr_stats, 0, (id + 1 - r->nr_stats) * sizeof(*r->stats));
		memset(r->last_used_ns + r->nr_stats, 0,
		       (id + 1 - r->nr_stats) * sizeof(*r->last_used_ns));
		memset(r->generation + r->nr_stats, 0,
		       (id + 1 - r->nr_stats) * sizeof(*r->generation));
		memset(r->origins + r->nr_stats, 0, (id + 1 - r->nr_stats) * sizeof(*r->origins));
		r->nr_stats = id + 1;
	}
	return &r->stats[id];
}

/* Drops the origins of set that the gone test says are gone. Returns how many are left. */
static uint32_t origin_prune(struct registry *r, struct origin_set *set)
{
	uint32_t n = 0;

	if (!r->gone)
		return set->n;
	for (uint32_t i = 0; i < set->n; i++) {
		if (!r->gone(set->ids[i], r->gone_ctx))
			set->ids[n++] = set->ids[i];
	}
	set->n = n;
	return n;
}

/*
 * Adds origin to set unless it is there. A full set is first pruned of gone origins, and
 * grows only when that freed nothing. Without a gone test one origin is kept, as a mark
 * (the name has origins: registry__evict_gone() then goes by idle time alone).
 */
static void origin_add(struct registry *r, struct origin_set *set, uint64_t origin)
{
	uint64_t *ids;
	uint32_t cap;

	if (set->n && (set->ids[set->n - 1] == origin || !r->gone))
		return;
	for (uint32_t i = 0; i < set->n; i++) {
		if (set->ids[i] == origin)
			return;
	}
	if (set->n == set->cap && origin_prune(r, set) == set->cap) {
		cap = set->cap ? set->cap * 2 : 2;
		ids = reallocarray(set->ids, cap, sizeof(*ids));
		if (!ids)
			return;
		set->ids = ids;
		set->cap = cap;
	}
	set->ids[set->n++] = origin;
}

unsigned int registry__tool_id(struct registry *r, const char *name)
{
	unsigned int id = tool_table__intern(r->tools, name);

	/* a slot we cannot allocate folds the tool into "other" */
	if (!registry__stats(r, id))
		return 0;
	r->last_used_ns[id] = r->now_ns;
	if (r->origin && id)
		origin_add(r, &r->origins[id], r->origin);
	return id;
}

void registry__set_origin(struct registry *r, uint64_t origin)
{
	r->origin = origin;
}

void registry__set_gone(struct registry *r, registry_gone_fn gone, void *ctx)
{
	r->gone = gone;
	r->gone_ctx = ctx;
}

size_t registry__origins(const struct registry *r, unsigned int id)
{
	return id < r->nr_stats ? r->origins[id].n : 0;
}

void registry__set_now(struct registry *r, uint64_t now_ns)
{
	r->now_ns = now_ns;
}

uint32_t registry__generation(const struct registry *r, unsigned int id)
{
	return id < r->nr_stats ? r->generation[id] : 0;
}

/* Evicts id: its name, stats and origins go, its generation moves on. */
static bool evict(struct registry *r, unsigned int id)
{
	if (tool_table__evict(r->tools, id))
		return false;
	r->agent.partial_evicted += r->stats[id].partial;
	memset(&r->stats[id], 0, sizeof(r->stats[id]));
	free(r->origins[id].ids);
	memset(&r->origins[id], 0, sizeof(r->origins[id]));
	r->generation[id]++;
	return true;
}

size_t registry__evict_idle(struct registry *r, uint64_t now_ns, uint64_t idle_ns)
{
	size_t evicted = 0;

	r->now_ns = now_ns;
	for (unsigned int id = 1; id < r->nr_stats; id++) {
		if (!tool_table__name(r->tools, id) || r->stats[id].running ||
		    now_ns - r->last_used_ns[id] < idle_ns || r->last_used_ns[id] > now_ns)
			continue;
		evicted += evict(r, id);
	}
	r->agent.tools_evicted += evicted;
	return evicted;
}

size_t registry__evict_gone(struct registry *r, uint64_t now_ns,
			    const struct registry_evict_rule *rule)
{
	size_t evicted = 0, tests = 0, n = r->nr_stats > 1 ? r->nr_stats - 1 : 0;

	r->now_ns = now_ns;
	if (r->gone_cursor >= n)
		r->gone_cursor = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned int id = 1 + (unsigned int)((r->gone_cursor + k) % n);
		struct origin_set *set = &r->origins[id];
		uint64_t idle = now_ns - r->last_used_ns[id];

		if (!tool_table__name(r->tools, id) || r->stats[id].running ||
		    r->last_used_ns[id] > now_ns)
			continue;
		if (!set->n) {
			if (rule->originless_idle_ns && idle >= rule->originless_idle_ns)
				evicted += evict(r, id);
			continue;
		}
		if (idle < rule->idle_ns || now_ns < set->recheck_ns)
			continue;
		if (r->gone && rule->max_tests && tests && tests + set->n > rule->max_tests) {
			r->gone_cursor = (unsigned int)((r->gone_cursor + k) % n);
			break; /* the rest next time, from here */
		}
		tests += r->gone ? set->n : 0;
		if (r->gone && origin_prune(r, set)) {
			set->recheck_ns = now_ns + rule->recheck_ns;
			continue;
		}
		evicted += evict(r, id);
	}
	r->agent.tools_evicted += evicted;
	return evicted;
}

const struct tool_table *registry__tools(const struct registry *r)
{
	return r->tools;
}

struct agent_stats *registry__agent(struct registry *r)
{
	return &r->agent;
}

struct host_stats *registry__host(struct registry *r)
{
	return &r->host;
}

void registry__clear_memory(struct registry *r)
{
	for (size_t i = 0; i < r->nr_stats; i++)
		r->stats[i].memory_bytes = 0;
}

void registry__started(struct registry *r, unsigned int id)
{
	struct tool_stats *s = registry__stats(r, id);

	if (s)
		s->running++;
	r->agent.inflight++;
}

void registry__stopped(struct registry *r, unsigned int id)
{
	struct tool_stats *s = registry__stats(r, id);

	if (s && s->running)
		s->running--;
	if (r->agent.inflight)
		r->agent.inflight--;
}

struct snapshot *registry__snapshot(const struct registry *r, uint64_t now_ns)
{
	struct snapshot *s = snapshot__new(r->nr_stats);
	size_t names_size = 0, n = 0, len;
	const char *name;
	char *p;

	if (!s)
		return NULL;
	s->taken_ns = now_ns;
	/* names are copied: an evicted name is freed while scrapes may still read this one */
	for (size_t i = 0; i < r->nr_stats; i++) {
		name = tool_table__name(r->tools, (unsigned int)i);
		names_size += name ? strlen(name) + 1 : 0;
	}
	s->names = malloc(names_size ? names_size : 1);
	if (!s->names) {
		snapshot__put(s);
		errno = ENOMEM;
		return NULL;
	}
	p = s->names;
	for (size_t i = 0; i < r->nr_stats; i++) {
		name = tool_table__name(r->tools, (unsigned int)i);
		if (!name)
			continue; /* evicted: its id is free */
		len = strlen(name) + 1;
		memcpy(p, name, len);
		s->tools[n].name = p;
		s->tools[n].stats = r->stats[i];
		p += len;
		n++;
	}
	s->nr_tools = n;
	s->agent = r->agent;
	s->host = r->host;
	s->agent.tools_overflow = tool_table__overflows(r->tools);
	return s;
}
