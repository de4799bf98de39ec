/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The immutable, reference-counted snapshot /metrics renders, its parts and the label
 * tables of its enums. Pure: no libbpf, no I/O. The event loop builds a snapshot, then
 * only reads it; any thread may hold a reference.
 */
#ifndef TOOLWATCH_SNAPSHOT_H
#define TOOLWATCH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hist.h"
#include "lib/nativehist.h"
#include "kernel/probes.h"
#include "naming/rules.h"

enum error_type {
	ERROR_EXIT_CODE, /* exited with a non-zero code */
	ERROR_SIGNAL,	 /* killed by a signal, no core */
	ERROR_CORE_DUMP, /* killed by a signal, core dumped */
	ERROR_EXEC_FAILED,
	ERROR_OOM_KILL,
	ERROR_NOT_FOUND, /* a shell found no command to run (its child exited 127) */
	ERROR_TYPE_MAX,
};

/* Label value of an error type ("exit_code", "signal", ...); "unknown" out of range. */
const char *error_type__name(enum error_type type);

enum { DIR_TX, DIR_RX };
enum { DIR_READ, DIR_WRITE };
enum { MODE_USER, MODE_SYSTEM };
enum { WAIT_RUNQUEUE, WAIT_BLKIO, WAIT_REASONS };

/* One tool's cumulative figures: the registry mutates them, a snapshot copies them. */
struct tool_stats {
	struct hist duration;	 /* hist_duration_layout, fully observed executions */
	struct hist peak_memory; /* hist_memory_layout */
	/* the same observations in native buckets: seconds, bytes (protobuf exposition) */
	struct native_hist duration_native;
	struct native_hist peak_memory_native;
	uint64_t executions; /* ended executions, partial ones included */
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
	uint64_t wait_ns[WAIT_REASONS]; /* WAIT_*: run-queue and block I/O wait */
	/* of fully observed ended executions (anomaly causes), not exported */
	uint64_t observed_executions;
	uint64_t observed_duration_ns;
	uint64_t observed_cpu_ns;
	uint64_t observed_wait_ns[WAIT_REASONS];
};

struct snapshot_tool {
	const char *name; /* in the snapshot's names arena */
	struct tool_stats stats;
};

#define HOST_BLOCK_OPS 5 /* read, write, flush, discard, other (enum tw_block_op) */

/* Label value of a block operation index ("read", "write", ...); "other" out of range. */
const char *block_op__name(unsigned int op);

/* Host-level figures read from the kernel (cumulative since the agent started). */
struct host_stats {
	struct hist runqueue;		   /* hist_latency_layout, ns */
	struct hist block[HOST_BLOCK_OPS]; /* hist_latency_layout, ns */
	uint64_t tcp_retransmits;
	uint64_t oom_kills;
	bool delayacct;	      /* kernel.task_delayacct on: block I/O wait is measured */
	bool delayacct_known; /* the sysctl could be read */
};

/* How exits get their final run time (the kernel's side, see bpf/exit.bpf.c). */
struct exit_stats {
	bool timer;		/* BTF kernels: a timer checks exiting tasks (else per switch) */
	uint64_t late;		/* emitted before the task's last switch: run time so far */
	uint64_t unseen_switch; /* raw tracepoints: last switch never seen: none of it */
	uint64_t unslotted;	/* found the exit slots busy: waited in exits_pending */
	int64_t execs_spilled;	/* processes in execs_spill: their execs slot is another's */
};

/* The agent's own counters, kept by the registry. */
struct agent_stats {
	uint64_t events_exec;
	uint64_t events_exit;
	uint64_t events_exec_fail;
	uint64_t events_malformed; /* records too short or of unknown type: dropped */
	uint64_t exits_unmatched;  /* exits whose start record never arrived: named by comm */
	uint64_t exits_lost;	   /* running executions whose exit record never arrived */
	uint64_t tools_overflow;
	uint64_t tools_evicted;	  /* names gone idle (--tools.idle-timeout) */
	uint64_t partial_evicted; /* partial executions of evicted names (a total's part) */
	uint64_t inflight;
	uint64_t rules_match_errors[RULES_MATCH_ERROR_MAX]; /* naming regexes that hit a bound */
};

/* Run time and count of one BPF program. */
struct snapshot_prog {
	const char *name; /* skeleton program name: lives as long as the loader */
	uint64_t run_ns;
	uint64_t run_count;
};

enum anomaly_kind {
	ANOMALY_LATENCY_DEGRADATION,
	ANOMALY_STATISTICAL_OUTLIER,
	ANOMALY_FAILURE_RATE,
	ANOMALY_CPU_SPIKE,
	ANOMALY_MEMORY_SPIKE,
	ANOMALY_NEW_TOOL,
	ANOMALY_KIND_MAX,
};

/* The kind label: "LATENCY_DEGRADATION" ... "NEW_TOOL"; "UNKNOWN" out of range. */
const char *anomaly_kind__name(enum anomaly_kind k);
/* The severity label: high, medium, critical, medium, medium, info; "unknown" out of range. */
const char *anomaly_kind__severity(enum anomaly_kind k);

/* The component of the execution time that grew most when a latency flag was raised. */
enum anomaly_cause {
	ANOMALY_CAUSE_NONE, /* not a latency flag, or nothing to compare */
	ANOMALY_CAUSE_CPU,
	ANOMALY_CAUSE_RUNQUEUE,
	ANOMALY_CAUSE_BLKIO,
	ANOMALY_CAUSE_OTHER,
	ANOMALY_CAUSE_MAX,
};

/* The cause label: "cpu", "runqueue", "blkio", "other"; NULL for none or out of range. */
const char *anomaly_cause__name(enum anomaly_cause c);

/* One (tool, kind) pair of the anomaly detector; tool NULL for the host. */
struct snapshot_anomaly {
	char *tool; /* owned by the snapshot */
	enum anomaly_kind kind;
	bool active;
	double deviation_ratio;
	uint64_t raised_total;
	enum anomaly_cause cause; /* while active: LATENCY_DEGRADATION, STATISTICAL_OUTLIER */
};

/* Why a request to the Kubernetes API failed (kube.c); label reason of its failures. */
enum kube_failure {
	KUBE_FAIL_TIMEOUT,    /* no complete answer within --kubernetes.timeout */
	KUBE_FAIL_CONNECT,    /* no connection, or it broke */
	KUBE_FAIL_TLS,	      /* handshake or certificate verification */
	KUBE_FAIL_TOKEN,      /* the token file could not be read */
	KUBE_FAIL_HTTP_401,   /* token refused */
	KUBE_FAIL_HTTP_403,   /* RBAC: no list on pods */
	KUBE_FAIL_HTTP_5XX,   /* server error */
	KUBE_FAIL_HTTP_OTHER, /* any other status but 200 */
	KUBE_FAIL_PARSE,      /* the body is not a PodList (garbage, truncated) */
	KUBE_FAIL_TOO_LARGE,  /* the body exceeds --kubernetes.max-body-size */
	KUBE_FAIL_OTHER,      /* anything else libcurl reports */
	KUBE_FAIL_MAX,
};

/* The reason label: "timeout", "connect", ... "other"; "unknown" out of range. */
const char *kube_failure__name(enum kube_failure f);

/* The Kubernetes API client's own figures (kube__stats). */
struct kube_stats {
	bool enabled; /* the client runs: the families below are exported */
	uint64_t requests_ok;
	uint64_t failures[KUBE_FAIL_MAX];
	uint64_t pods;		   /* in the map in force (the last good list) */
	uint64_t containers;	   /* container ids in that map */
	uint64_t items_dropped;	   /* pods/containers left out of good lists (bad fields) */
	uint64_t lookups_hit;	   /* kube__lookup found the pod */
	uint64_t lookups_miss;	   /* kube__lookup did not */
	double last_success_unix;  /* wall time of the last good list; 0 never */
	double last_duration_secs; /* of the last request, good or bad */
};

/*
 * The per-tool families (--metrics.disable names them). tool_executions_total is not one:
 * it is always exported, the denominator of every ratio.
 */
enum tool_family {
	TOOL_FAMILY_DURATION,	     /* tool_execution_duration_seconds */
	TOOL_FAMILY_SUCCESS,	     /* tool_execution_success_total */
	TOOL_FAMILY_FAILURE,	     /* tool_execution_failure_total */
	TOOL_FAMILY_RUNNING,	     /* tool_running */
	TOOL_FAMILY_PEAK_MEMORY,     /* tool_peak_memory_bytes */
	TOOL_FAMILY_MEMORY_USAGE,    /* tool_memory_usage_bytes */
	TOOL_FAMILY_CPU,	     /* tool_cpu_seconds_total */
	TOOL_FAMILY_DISK,	     /* tool_disk_bytes_total */
	TOOL_FAMILY_NETWORK,	     /* tool_network_bytes_total */
	TOOL_FAMILY_TCP_CONNECTIONS, /* tool_tcp_connections_total */
	TOOL_FAMILY_TCP_RETRANSMITS, /* tool_tcp_retransmits_total */
	TOOL_FAMILY_WAIT,	     /* tool_wait_seconds_total */
	TOOL_FAMILY_MAX,
};

/* Family names by enum tool_family, NULL-terminated (a FLAG_LIST's names). */
extern const char *const tool_family_names[TOOL_FAMILY_MAX + 1];

/* Classic bucket layouts of the tool_* histograms (--metrics.classic-buckets). */
enum classic_buckets {
	CLASSIC_BUCKETS_FULL,	/* hist_duration_layout, hist_memory_layout: every bound */
	CLASSIC_BUCKETS_COARSE, /* decades of seconds, powers of 16 of bytes */
	CLASSIC_BUCKETS_NONE,	/* +Inf only: _bucket{le="+Inf"}, _sum, _count */
	CLASSIC_BUCKETS_MAX,
};

/* Layout names by enum classic_buckets: "full", "coarse", "none". */
extern const char *const classic_buckets_names[CLASSIC_BUCKETS_MAX + 1];

/* What a protobuf scrape gets for the tool_* histograms (--metrics.native-histograms). */
enum native_mode {
	NATIVE_ONLY, /* native buckets; the classic ones only in the text format */
	NATIVE_BOTH, /* native and classic buckets in the same message */
	NATIVE_OFF,  /* classic buckets only */
	NATIVE_MODE_MAX,
};

/* Mode names by enum native_mode: "native", "both", "off". */
extern const char *const native_mode_names[NATIVE_MODE_MAX + 1];

/* What /metrics shows of the tool families (--metrics.*); zeroed: the defaults. */
struct metrics_config {
	unsigned int disabled;	      /* bit (1 << enum tool_family) per family left out */
	bool skip_zero_failures;      /* failure series only for (tool, error_type) seen */
	enum native_mode native;      /* protobuf histograms: native, classic or both */
	enum classic_buckets classic; /* of tool_execution_duration_seconds, tool_peak_memory */
	uint64_t max_series;	      /* --metrics.max-series: toolwatch_series_limit; 0 none */
};

#define SNAPSHOT_MAX_PROGS 32
#define SNAPSHOT_MAX_LOST  16

/* An immutable, reference-counted view of everything /metrics shows. */
struct snapshot {
	int refs;
	uint64_t taken_ns;
	size_t nr_tools;
	struct snapshot_tool *tools; /* owned; freed with the snapshot */
	struct agent_stats agent;
	uint64_t lost[SNAPSHOT_MAX_LOST]; /* kernel drop counters, by lost_reason__name() index */
	unsigned int nr_lost;
	bool probe_enabled[PROBE_MAX];
	struct snapshot_prog progs[SNAPSHOT_MAX_PROGS];
	unsigned int nr_progs;
	bool prog_stats_enabled;
	struct host_stats host;
	struct exit_stats exits;
	struct snapshot_anomaly *anomalies; /* owned; freed with the snapshot */
	char *names;			    /* owned arena of tools[].name, may be NULL */
	size_t nr_anomalies;
	bool anomaly_enabled;
	struct kube_stats kube; /* kube.enabled false: no toolwatch_kubernetes_* */
	struct metrics_config metrics;
	/*
	 * --metrics.labels: when identity_labels (bit 1 << enum identity_label per label) is
	 * not 0, tools[] are the (tool, identity) series and each name is a series key
	 * (identity__key()), split back and rendered as tool plus the chosen labels.
	 */
	unsigned int identity_labels;
	size_t nr_tool_names; /* distinct tool names, when tools[] are series */
	struct identity_stats {
		bool enabled;		  /* --metrics.labels given */
		bool cgroup2;		  /* a cgroup v2 hierarchy to resolve ids in */
		uint64_t series_overflow; /* executions counted as "other": series cap */
		uint64_t series_evicted;  /* series gone after the identity idle timeout */
		uint64_t proc_hits;	  /* new cgroup ids resolved from /proc/PID/cgroup */
		uint64_t walk_hits;	  /* new cgroup ids resolved by a walk */
		uint64_t walks;		  /* walks of the cgroup2 tree */
		uint64_t unresolved;	  /* lookups without a path: empty labels */
		uint64_t cache_resets;	  /* the id cache was full and started over */
		uint64_t cached;	  /* cgroup ids cached */
	} identity;
};

/*
 * A zeroed snapshot with refs = 1 and room for nr_tools tools (nr_tools set, their names
 * and stats left to the caller). NULL + errno on allocation failure.
 */
struct snapshot *snapshot__new(size_t nr_tools);
/* Takes one more reference. */
struct snapshot *snapshot__get(struct snapshot *s);
/* Drops a reference; frees on the last one. NULL-safe. Safe from any thread. */
void snapshot__put(struct snapshot *s);

#endif /* TOOLWATCH_SNAPSHOT_H */
