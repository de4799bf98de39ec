/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe families and the kernel's drop reasons: their enums, label names and the
 * --probe.disable/--probe.enable list parser. Pure: no libbpf, no I/O.
 */
#ifndef TOOLWATCH_PROBES_H
#define TOOLWATCH_PROBES_H

#include <stdbool.h>
#include <stddef.h>

/* Probe families: each can be disabled on purpose or fail alone. */
enum probe {
	PROBE_EXEC,		/* sched_process_exec/exit: the core, never optional */
	PROBE_EXEC_FAILED,	/* syscalls:sys_{enter,exit}_execve{,at}: every caller, opt-in */
	PROBE_TASK_ITER,	/* iter/task: processes running before the agent */
	PROBE_FORK,		/* sched_process_fork: children roll up to their execution */
	PROBE_NET,		/* sock:inet_sock_set_state + iter/tcp: TCP bytes per socket */
	PROBE_TCP,		/* sock:inet_sock_set_state, tcp:tcp_retransmit_skb */
	PROBE_OOM,		/* oom:mark_victim */
	PROBE_RUNQLAT,		/* sched_wakeup/wakeup_new/switch: run-queue latency */
	PROBE_BLOCKIO,		/* block:block_rq_issue/complete: block I/O latency */
	PROBE_SAMPLER,		/* iter/task: live CPU, RSS and disk of running executions */
	PROBE_DELAYACCT,	/* no program: turns kernel.task_delayacct on while running */
	PROBE_NETCALLS,		/* sock:sock_send_length/sock_recv_length: other socket bytes */
	PROBE_EXEC_FAILED_LIBC, /* uprobes where the C libraries' execve calls fail */
	PROBE_MAX,
};

/* Name of a probe family as in toolwatch_probe_enabled{probe} and --probe.disable. */
const char *probe__name(enum probe p);

/*
 * Parses a comma-separated list of probe names into disabled[]; -EINVAL on an unknown name
 * (its text copied into bad, NUL terminated). "exec" cannot be disabled.
 */
int probe__parse_list(const char *list, bool disabled[PROBE_MAX], char *bad, size_t bad_size);

/* Label of a tw_lost_reason for toolwatch_events_lost_total{reason} ("unknown" if none). */
const char *lost_reason__name(unsigned int reason);

#endif /* TOOLWATCH_PROBES_H */
