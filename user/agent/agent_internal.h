/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's state, shared by its two files only: agent.c (start-up and the run) and
 * agent_tick.c (the loop's timed work). Nothing else includes this header.
 */
#ifndef TOOLWATCH_AGENT_INTERNAL_H
#define TOOLWATCH_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "events/hub.h"
#include "events/runtime.h"
#include "events/snapshot.h"
#include "identity/identity.h"

#define HOUSEKEEPING_NS	       (5ULL * NS_PER_S)    /* web config changes, idle names: this often */
#define SERIES_HOUSEKEEPING_NS NS_PER_S		    /* with --metrics.labels: pods come and go */
#define TICK_SLACK_NS	       (10ULL * 1000000ULL) /* work due this soon is done now */
#define SNAPSHOT_WAIT_MS       250		 /* a scrape waits this long for a fresh snapshot */
#define STALL_NS	       (5ULL * NS_PER_S) /* /healthz fails past this without a loop turn */
#define HEALTH_WAIT_MS	       1000		 /* /healthz waits this long for an idle loop */
#define SAMPLE_MAX_AGE_NS      200000000ULL	 /* a scrape reads live usage older than this */
#define SOCKETS_MAX_AGE_NS     NS_PER_S		 /* and live TCP bytes older than this */
#define CGROUP_CACHE_MAX       65536		 /* cgroup ids the resolver caches */
#define CGROUP_WALK_GAP_NS     NS_PER_S		 /* the cgroup2 tree is walked at most this often */

/* defined in agent_tick.c */
struct series_window;

struct agent {
	const struct agent_options *opts;
	struct metrics_config metrics; /* --metrics.*, copied into every snapshot */
	uint32_t series_cap;	       /* tools or pairs --metrics.max-series admits */
	struct runtime *rt;
	struct registry *registry; /* the runtime's */
	struct consumer *consumer; /* the runtime's */
	struct loader *loader;	   /* the runtime's */
	struct http_server *http;
	struct hub hub;
	bool hub_ready;
	uint64_t heartbeat_ns; /* written by the loop, read by the HTTP thread */
	uint64_t sampled_ns;
	uint64_t sockets_sampled_ns;
	int tick_timer; /* runtime__timer() id of agent_tick() */
	uint64_t next_housekeeping_ns;
	struct anomaly_detector *detector;
	struct windows *windows;
	uint64_t next_window_ns;
	uint64_t next_save_ns;
	uint64_t cpu_busy, cpu_total; /* /proc/stat at the last window close */
	bool prog_stats;	      /* --bpf.stats and the kernel is measuring */
	struct rules *rules;	      /* --tools.rules, NULL without */
	struct kube *kube;	      /* --kubernetes.enable, NULL without */
	/* --metrics.labels: (tool, identity) series, cgroup id -> identity, names */
	struct registry *series;	 /* NULL without --metrics.labels */
	struct cgroup_resolver *cgroups; /* NULL on a host without cgroup v2 */
	struct name_source names;	 /* lookup NULL: no names (ids only) */
	struct identity_labels labels;	 /* the last labels handed to the consumer */
	/* per series id: cumulative figures at the last window close, and the window's growth */
	struct series_window *windowed;
	size_t nr_windowed;
	struct identity_share *shares; /* scratch for a flag's contributors */
	struct {
		uint32_t uid;
		bool used;
		char name[64];
	} users[64]; /* {{.Username}} cache, by uid modulo its size */
};

/* CLOCK_MONOTONIC now, in ns. */
uint64_t agent_now_ns(void);

/* For /healthz: the loop turned within STALL_NS, or answers a snapshot request in time. */
bool agent_loop_healthy(void *ctx);

/* Samples live usage and publishes a snapshot of everything as generation gen. */
void agent_publish(struct agent *a, uint64_t gen);

/* Host CPU utilisation (0..1) since the previous call, or -1 when unknown. */
double agent_host_cpu_utilisation(struct agent *a);

/* Saves the detector's baselines under --state.dir; a failure is logged, not returned. */
void agent_save_state(struct agent *a);

/* The loop's timer callback (ctx: the agent): windows, housekeeping, re-arms itself. */
void agent_tick(void *ctx);

/* The loop's after-turn hook (ctx: the agent): heartbeat, and a snapshot when asked. */
bool agent_after_turn(void *ctx);

#endif /* TOOLWATCH_AGENT_INTERNAL_H */
