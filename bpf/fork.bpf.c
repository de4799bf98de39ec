// SPDX-License-Identifier: GPL-2.0
/*
 * Forked children (probe fork): sched_process_fork. A child that does not exec rolls its
 * usage up to the forking execution when it exits (exit.bpf.c). And the clock the exec
 * family reads exact run times with (probe exec): sched_wakeup_new.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"
#include "lib/state.bpf.h"
#include "lib/task.bpf.h"

/* Forked children that do not exec belong to the forking execution. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, owner;
	struct tw_exec_state *pst, *cst;

	/* threads share their process's execution */
	if (child->pid != ctgid)
		return 0;
	pst = execs_get(ptgid);
	if (!pst)
		return 0;
	owner = pst->owner ? pst->owner : ptgid;
	cst = execs_claim(ctgid, true);
	if (cst)
		cst->owner = owner;
	else
		count_lost(TW_LOST_OWNERS_FULL);
	return 0;
}

/*
 * A new task's first wakeup: its runqueue's clock was updated just before. Measures
 * clock_off, the offset from that clock to CLOCK_MONOTONIC, so that the exec and exit
 * paths can read exact run times (lib/usage.bpf.h); at most once per jiffy (1 to 10 ms):
 * the two clocks drift apart by at most the NTP slew of CLOCK_MONOTONIC (500 ppm, 5 us in
 * 10 ms), and a fork storm then pays for one measure per jiffy. btf: as TW_READ().
 */
static __always_inline void clock_sync(struct task_struct *p, const bool btf)
{
	__u64 jiffies = bpf_jiffies64(), now;
	struct rq *rq;

	if (jiffies == clock_synced_jiffies)
		return;
	rq = TW_READ(btf, p->se.cfs_rq->rq, p, se.cfs_rq, rq);
	if (!rq)
		return;
	now = bpf_ktime_get_ns();
	clock_off = (__s64)(now - TW_READ(btf, rq->clock, rq, clock));
	clock_synced_jiffies = jiffies;
	clock_synced = true;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(handle_wnew, struct task_struct *p)
{
	clock_sync(p, true);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(handle_wnew_raw, struct task_struct *p)
{
	clock_sync(p, false);
	return 0;
}
