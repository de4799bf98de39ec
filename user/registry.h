/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-tool aggregates and the immutable snapshots the exporter renders. Pure: owned and
 * mutated by the event loop only; the HTTP thread reads published snapshots.
 */
#ifndef TOOLWATCH_REGISTRY_H
#define TOOLWATCH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"

enum error_type {
	ERROR_EXIT_CODE, /* exited with a non-zero code */
	ERROR_SIGNAL,	 /* killed by a signal, no core */
	ERROR_CORE_DUMP, /* killed by a signal, core dumped */
	ERROR_EXEC_FAILED,
	ERROR_OOM_KILL,
	ERROR_TYPE_MAX,
};

/* Label value of an error type ("exit_code", "signal", ...). */
const char *error_type__name(enum error_type type);

/*
 * Classifies how an execution ended from its wait(2) status and TW_F_* flags: returns true
 * for success, else false with *type set. OOM kills win over the signal that did them.
 */
bool execution__classify(uint32_t status, uint32_t flags, enum error_type *type);

enum { DIR_TX, DIR_RX };
enum { DIR_READ, DIR_WRITE };
enum { MODE_USER, MODE_SYSTEM };

struct tool_stats {
	struct hist duration;	 /* hist_duration_layout, fully observed executions */
	struct hist peak_memory; /* hist_memory_layout */
	uint64_t executions;	 /* ended executions, partial ones included */
	uint64_t successes;
	uint64_t failures[ERROR_TYPE_MAX];
	uint64_t partial;	/* ended executions that started before the agent */
	uint64_t running;	/* gauge */
	uint64_t memory_bytes;	/* gauge: RSS of running executions */
	uint64_t cpu_ns[2];	/* MODE_* */
	uint64_t net_bytes[2];	/* DIR_TX, DIR_RX */
	uint64_t disk_bytes[2]; /* DIR_READ, DIR_WRITE */
	uint64_t tcp_connects;
	uint64_t tcp_retransmits;
	uint64_t cpu_ns_ended; /* CPU of ended executions (anomaly windows), not exported */
};

/* One (tool, kind) pair of the anomaly detector; tool NULL for the host. */
struct snapshot_anomaly {
	char *tool; /* owned by the snapshot */
	int kind;   /* enum anomaly_kind */
	bool active;
	double deviation_ratio;
	uint64_t raised_total;
};

#define HOST_BLOCK_OPS 5 /* read, write, flush, discard, other (enum tw_block_op) */
#define HOST_LOG2_SLOTS 40

/* Host-level figures read from the kernel (cumulative since the agent started). */
struct host_stats {
	struct hist runqueue;		     /* hist_latency_layout, ns */
	struct hist block[HOST_BLOCK_OPS];   /* hist_latency_layout, ns */
	uint64_t tcp_retransmits;
	uint64_t oom_kills;
};

/* Label value of a block operation index ("read", "write", ...). */
const char *block_op__name(unsigned int op);

/*
 * Converts kernel log2 slots (slot s counts values in [2^s, 2^(s+1)) ns) into a histogram
 * of layout (bounds ascending, in ns): each slot lands in the first bucket whose bound is
 * at least 2^(s+1) - 1, so bucket counts are never understated.
 */
void hist__from_log2(struct hist *h, const struct hist_layout *layout, const uint64_t *slots,
		     unsigned int nr_slots, uint64_t count, uint64_t sum);

struct snapshot_tool {
	const char *name; /* owned by the tool table: names are never freed while it lives */
	struct tool_stats stats;
};

#define SNAPSHOT_MAX_PROBES 16
#define SNAPSHOT_MAX_PROGS 32
#define SNAPSHOT_MAX_LOST 16

struct snapshot_probe {
	const char *name; /* static string */
	bool enabled;
};

struct snapshot_prog {
	const char *name; /* static string (skeleton program name) */
	uint64_t run_ns;
	uint64_t run_count;
};

struct snapshot_counter {
	const char *label; /* static string */
	uint64_t value;
};

struct agent_stats {
	uint64_t events_exec;
	uint64_t events_exit;
	uint64_t events_exec_fail;
	uint64_t events_malformed; /* records too short or of unknown type: dropped */
	uint64_t exits_unmatched;  /* exits whose start record never arrived: named by comm */
	uint64_t exits_lost;	   /* running executions whose exit record never arrived */
	uint64_t tools_overflow;
	uint64_t inflight;
	struct snapshot_counter lost[SNAPSHOT_MAX_LOST];
	unsigned int nr_lost;
};

/* An immutable, reference-counted view of everything /metrics shows. */
struct snapshot {
	int refs;
	uint64_t taken_ns;
	size_t nr_tools;
	struct snapshot_tool *tools;
	struct agent_stats agent;
	struct snapshot_probe probes[SNAPSHOT_MAX_PROBES];
	unsigned int nr_probes;
	struct snapshot_prog progs[SNAPSHOT_MAX_PROGS];
	unsigned int nr_progs;
	bool prog_stats_enabled;
	struct host_stats host;
	struct snapshot_anomaly *anomalies; /* owned; freed with the snapshot */
	size_t nr_anomalies;
	bool anomaly_enabled;
};

/* Whether the probe family named name is enabled in s (false when unknown). */
bool snapshot__probe_enabled(const struct snapshot *s, const char *name);

struct registry;
struct tool_table;

/* A registry tracking at most max_tools tool names (plus "other"); NULL + errno on failure. */
struct registry *registry__new(unsigned int max_tools);
/* NULL-safe. */
void registry__free(struct registry *r);

/* The id of a tool name, interning it (id 0 "other" once the cap is reached). */
unsigned int registry__tool_id(struct registry *r, const char *name);
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
 * Copies the registry into a new snapshot with refs = 1 (probes, progs and lost counters
 * are filled in by the caller). NULL + errno on allocation failure.
 */
struct snapshot *registry__snapshot(const struct registry *r, uint64_t now_ns);

/* Takes one more reference. */
struct snapshot *snapshot__get(struct snapshot *s);
/* Drops a reference; frees on the last one. NULL-safe. Safe from any thread. */
void snapshot__put(struct snapshot *s);

#endif /* TOOLWATCH_REGISTRY_H */
