// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "registry.h"
#include "tools.h"
#include "toolwatch.h"

struct registry {
	struct tool_table *tools;
	struct tool_stats *stats; /* indexed by tool id */
	size_t nr_stats;	  /* ids that have a slot */
	size_t cap_stats;
	uint64_t *last_used_ns; /* by tool id, cap_stats of them */
	uint32_t *generation;	/* by tool id: bumped by each eviction */
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

			while (cap <= id)
				cap *= 2;
			used = reallocarray(r->last_used_ns, cap, sizeof(*used));
			if (used)
				r->last_used_ns = used;
			gen = reallocarray(r->generation, cap, sizeof(*gen));
			if (gen)
				r->generation = gen;
			s = used && gen ? reallocarray(r->stats, cap, sizeof(*s)) : NULL;
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
		r->nr_stats = id + 1;
	}
	return &r->stats[id];
}

unsigned int registry__tool_id(struct registry *r, const char *name)
{
	unsigned int id = tool_table__intern(r->tools, name);

	/* a slot we cannot allocate folds the tool into "other" */
	if (!registry__stats(r, id))
		return 0;
	r->last_used_ns[id] = r->now_ns;
	return id;
}

void registry__set_now(struct registry *r, uint64_t now_ns)
{
	r->now_ns = now_ns;
}

uint32_t registry__generation(const struct registry *r, unsigned int id)
{
	return id < r->nr_stats ? r->generation[id] : 0;
}

size_t registry__evict_idle(struct registry *r, uint64_t now_ns, uint64_t idle_ns)
{
	size_t evicted = 0;

	r->now_ns = now_ns;
	for (unsigned int id = 1; id < r->nr_stats; id++) {
		if (!tool_table__name(r->tools, id) || r->stats[id].running ||
		    now_ns - r->last_used_ns[id] < idle_ns || r->last_used_ns[id] > now_ns)
			continue;
		if (tool_table__evict(r->tools, id))
			continue;
		r->agent.partial_evicted += r->stats[id].partial;
		memset(&r->stats[id], 0, sizeof(r->stats[id]));
		r->generation[id]++;
		evicted++;
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
