// SPDX-License-Identifier: GPL-2.0
/*
 * Forked children (probe fork): sched_process_fork. A child that does not exec rolls its
 * usage up to the forking execution when it exits (exit.bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"
#include "lib/state.bpf.h"

/* Forked children that do not exec belong to the forking execution. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct tw_exec_state fresh = {}, *pst;

	/* threads share their process's execution */
	if (child->pid != ctgid)
		return 0;
	pst = bpf_map_lookup_elem(&execs, &ptgid);
	if (!pst)
		return 0;
	fresh.owner = pst->owner ? pst->owner : ptgid;
	if (bpf_map_update_elem(&execs, &ctgid, &fresh, BPF_ANY))
		count_lost(TW_LOST_OWNERS_FULL);
	return 0;
}
