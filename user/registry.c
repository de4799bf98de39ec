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
	struct agent_stats agent;
	struct host_stats host;
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

			while (cap <= id)
				cap *= 2;
			s = realloc(r->stats, cap * sizeof(*s));
			if (!s)
				return NULL;
			r->stats = s;
			r->cap_stats = cap;
		}
		memset(r->stats + r->nr_stats, 0, (id + 1 - r->nr_stats) * sizeof(*r->stats));
		r->nr_stats = id + 1;
	}
	return &r->stats[id];
}

unsigned int registry__tool_id(struct registry *r, const char *name)
{
	unsigned int id = tool_table__intern(r->tools, name);

	/* a slot we cannot allocate folds the tool into "other" */
	return registry__stats(r, id) ? id : 0;
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

	if (!s)
		return NULL;
	s->taken_ns = now_ns;
	for (size_t i = 0; i < r->nr_stats; i++) {
		s->tools[i].name = tool_table__name(r->tools, (unsigned int)i);
		s->tools[i].stats = r->stats[i];
	}
	s->agent = r->agent;
	s->host = r->host;
	s->agent.tools_overflow = tool_table__overflows(r->tools);
	return s;
}
