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

#include "snapshot.h"

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
