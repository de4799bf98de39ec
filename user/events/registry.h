/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-tool aggregates, the agent's own counters and the host figures. Pure: owned and
 * mutated by the event loop only, which copies them into snapshots (snapshot.h).
 */
#ifndef TOOLWATCH_REGISTRY_H
#define TOOLWATCH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/snapshot.h"

/*
 * Classifies how an execution ended from its wait(2) status and TW_F_* flags: returns true
 * for success, else false with *type set. OOM kills win over the signal that did them.
 */
bool execution__classify(uint32_t status, uint32_t flags, enum error_type *type);

struct registry;
struct tool_table;

/* A registry tracking at most max_tools tool names (plus "other"); NULL + errno on failure. */
struct registry *registry__new(unsigned int max_tools);
/* NULL-safe. */
void registry__free(struct registry *r);

/*
 * The id of a tool name, interning it (id 0 "other" once the cap is reached), and marks it
 * used at the time of the last registry__set_now().
 */
unsigned int registry__tool_id(struct registry *r, const char *name);
/* The clock (CLOCK_MONOTONIC ns) that registry__tool_id stamps names with. */
void registry__set_now(struct registry *r, uint64_t now_ns);
/*
 * Evicts every tool name not used for idle_ns and with no running execution: its id, stats
 * and series go, its generation moves on. Counts them in agent tools_evicted; returns how
 * many went.
 */
size_t registry__evict_idle(struct registry *r, uint64_t now_ns, uint64_t idle_ns);
/*
 * Origins: what a series was counted from (the agent: the cgroup ids a labelled series'
 * identity was resolved from). registry__tool_id() adds the origin of the last
 * registry__set_origin() (0: none, e.g. a host execution) to the name's set of origins.
 */
void registry__set_origin(struct registry *r, uint64_t origin);
/* Whether origin is gone for good (its cgroup was removed). May do I/O; never blocks long. */
typedef bool (*registry_gone_fn)(uint64_t origin, void *ctx);
/*
 * The test registry__evict_gone() applies; also used to drop gone origins from a set that
 * is full before it grows, so a set holds live origins and those gone since the last test.
 */
void registry__set_gone(struct registry *r, registry_gone_fn gone, void *ctx);

struct registry_evict_rule {
	uint64_t idle_ns; /* a name with origins: unused this long, and every origin gone */
	uint64_t originless_idle_ns; /* a name without origins: unused this long; 0 never */
	uint64_t recheck_ns; /* an idle name with a live origin is tested again after this */
	size_t max_tests;    /* gone tests per call, 0 no limit; the next call goes on */
};

/*
 * Evicts, like registry__evict_idle(), the names with no running execution that the rule
 * lets go: with origins, unused for idle_ns and every origin gone (by registry__set_gone();
 * without a test, idle alone); without origins, unused for originless_idle_ns. Gone
 * origins leave their sets on the way. At most max_tests origins are tested per call (at
 * least one name's): the next call starts where this one stopped, so every name has its
 * turn. Returns how many names went.
 */
size_t registry__evict_gone(struct registry *r, uint64_t now_ns,
			    const struct registry_evict_rule *rule);
/* How many origins id holds (tests). */
size_t registry__origins(const struct registry *r, unsigned int id);
/* How many times id was evicted: state kept by id elsewhere is stale when this moved. */
uint32_t registry__generation(const struct registry *r, unsigned int id);
/* The tool table, for name lookups. */
const struct tool_table *registry__tools(const struct registry *r);
/* Stats of one tool id, or NULL for an id never handed out. */
struct tool_stats *registry__stats(struct registry *r, unsigned int id);
/* Agent self statistics, owned by the registry. */
struct agent_stats *registry__agent(struct registry *r);
/* Host statistics, owned by the registry (the loop refreshes them). */
struct host_stats *registry__host(struct registry *r);
/* Zeroes every tool's memory gauge (before summing a new live sample). */
void registry__clear_memory(struct registry *r);

/* An execution of tool id started (running gauge). */
void registry__started(struct registry *r, unsigned int id);
/* A running execution of tool id is no longer running (ended or reconciled away). */
void registry__stopped(struct registry *r, unsigned int id);

/*
 * Copies the registry's tools, agent and host statistics into a new snapshot with
 * refs = 1 (the caller adds what the kernel and the detector report). NULL + errno on
 * allocation failure.
 */
struct snapshot *registry__snapshot(const struct registry *r, uint64_t now_ns);

#endif /* TOOLWATCH_REGISTRY_H */
