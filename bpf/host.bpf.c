// SPDX-License-Identifier: GPL-2.0
/*
 * Host-wide latency histograms: run-queue latency (wakeup or preemption to running, as
 * runqlat measures it; probe runqlat, opt-in, BTF only) and block I/O latency (issue to
 * completion, per operation; probe blockio). They share no state with the per-execution
 * programs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"
#include "lib/maps.bpf.h"
#include "lib/state.bpf.h"

/* wakeup time of runnable tasks, for run-queue latency */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} wakeup_ts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_log2_hist);
} runq_hist SEC(".maps");

/* request -> issue time, for block I/O latency (LRU: a request never completed ages out) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} block_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_BLOCK_MAX);
	__type(key, __u32);
	__type(value, struct tw_log2_hist);
} block_hist SEC(".maps");

static __always_inline void mark_runnable(struct task_struct *p)
{
	__u64 *ts = bpf_task_storage_get(&wakeup_ts, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (ts)
		*ts = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(handle_wakeup, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(handle_wake_new, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

/* At a switch: prev, if preempted, is runnable again; next's wait ends now. */
static __always_inline void runq_switch(struct task_struct *prev, struct task_struct *next)
{
	struct tw_log2_hist *h;
	__u32 zero = 0;
	__u64 *ts, now;

	if (prev->__state == 0 /* TASK_RUNNING */)
		mark_runnable(prev);
	ts = bpf_task_storage_get(&wakeup_ts, next, 0, 0);
	if (!ts || !*ts)
		return;
	now = bpf_ktime_get_ns();
	h = bpf_map_lookup_elem(&runq_hist, &zero);
	if (h && now > *ts)
		log2_hist_add(h, now - *ts);
	*ts = 0;
}

/* Run-queue latency (probe runqlat, opt-in, BTF only). */
SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (runqlat_enabled)
		runq_switch(prev, next);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(handle_rq_issue, struct request *rq)
{
	__u64 key = (__u64)rq, now = bpf_ktime_get_ns();

	if (bpf_map_update_elem(&block_start, &key, &now, BPF_ANY))
		count_lost(TW_LOST_BLOCK_FULL);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(handle_rq_done, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq, *start, now;
	struct tw_log2_hist *h;
	__u32 op;

	start = bpf_map_lookup_elem(&block_start, &key);
	if (!start)
		return 0;
	now = bpf_ktime_get_ns();
	switch (rq->cmd_flags & 0xff /* REQ_OP_MASK */) { /* BTF-typed: a direct load */
	case 0:
		op = TW_BLOCK_READ;
		break;
	case 1:
		op = TW_BLOCK_WRITE;
		break;
	case 2:
		op = TW_BLOCK_FLUSH;
		break;
	case 3:
		op = TW_BLOCK_DISCARD;
		break;
	default:
		op = TW_BLOCK_OTHER;
		break;
	}
	h = bpf_map_lookup_elem(&block_hist, &op);
	if (h && now > *start)
		log2_hist_add(h, now - *start);
	bpf_map_delete_elem(&block_start, &key);
	return 0;
}
