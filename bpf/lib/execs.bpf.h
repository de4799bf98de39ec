/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Executions as the families share them: the filters, the lookup of the execution a
 * process belongs to, and the records that end one (emit_exit) or report a failed exec,
 * emitted from the exec path and the exit path alike. Include after vmlinux.h.
 */
#ifndef EXECS_BPF_H
#define EXECS_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "state.bpf.h"
#include "task.bpf.h"
#include "usage.bpf.h"
#include "toolwatch.h"

/* Filters known at exec time: an execution that fails them is never tracked. */
static __always_inline bool exec_filtered_out(__u32 tgid, __u32 ppid, __u32 uid, __u64 cgid)
{
	if (targ_tgid && targ_tgid != tgid)
		return true;
	if (targ_ppid && targ_ppid != ppid)
		return true;
	if (targ_uid_set && targ_uid != uid)
		return true;
	if (targ_cgroup_id && targ_cgroup_id != cgid)
		return true;
	return false;
}

/*
 * The execution process tgid belongs to: its own, or its forking ancestor's; also gives
 * the tgid that keys it.
 */
static __always_inline struct tw_exec_state *exec_key_of(__u32 tgid, __u32 *exec_tgid)
{
	struct tw_exec_state *st = execs_get(tgid);
	__u32 owner;

	*exec_tgid = tgid;
	if (!st || !st->owner)
		return st;
	owner = st->owner;
	*exec_tgid = owner;
	st = execs_get(owner);
	return st && !st->owner ? st : NULL;
}

static __always_inline struct tw_exec_state *exec_of(__u32 tgid)
{
	__u32 exec_tgid;

	return exec_key_of(tgid, &exec_tgid);
}

/* Moves a thread's socket byte counts into its execution (BTF-typed task only). */
static __always_inline void fold_net(struct task_struct *task, __u32 tgid)
{
	struct tw_exec_state *st;
	struct net_acc *a;

	if (!netcalls_enabled) /* BTF-typed tracepoints only: task storage needs them */
		return;
	a = bpf_task_storage_get(&net_accs, task, 0, 0);
	if (!a)
		return;
	st = exec_of(tgid);
	if (st) {
		__sync_fetch_and_add(&st->usage.net_tx_bytes, a->tx);
		__sync_fetch_and_add(&st->usage.net_rx_bytes, a->rx);
	}
	bpf_task_storage_delete(&net_accs, task);
}

/* Trace-mode filters known only at the end. */
static __always_inline bool exit_filtered_out(struct tw_exec_state *st, __u64 now, __u32 status)
{
	if (targ_min_duration_ns && now - st->start_ns < targ_min_duration_ns)
		return true;
	return targ_failed_only && !status_failed(status) && !(st->flags & TW_F_OOM_KILLED);
}

static __always_inline void fill_exit(struct tw_exit_rec *rec, struct task_struct *task, __u32 tgid,
				      struct tw_exec_state *st, __u64 now, __u32 status,
				      __u32 flags, struct tw_raw_usage *raw, const bool btf)
{
	rec->type = TW_REC_EXIT;
	rec->tgid = tgid;
	rec->ppid = task_ppid(task, btf);
	rec->uid = st->uid;
	rec->cgroup_id = st->cgroup_id;
	rec->start_ns = st->start_ns;
	rec->end_ns = now;
	rec->exit_code = status;
	rec->flags = st->flags | flags;
	current_comm(rec->comm, task, btf);
	group_usage(task, st, flags & TW_F_REEXEC, page_size, now, &rec->usage, raw, btf);
	rec->usage.cpu_user_ns += st->usage.cpu_user_ns;
	rec->usage.cpu_system_ns += st->usage.cpu_system_ns;
	rec->usage.disk_read_bytes += st->usage.disk_read_bytes;
	rec->usage.disk_write_bytes += st->usage.disk_write_bytes;
	rec->usage.runq_wait_ns += st->usage.runq_wait_ns;
	rec->usage.blkio_wait_ns += st->usage.blkio_wait_ns;
	if (st->usage.peak_rss_bytes > rec->usage.peak_rss_bytes)
		rec->usage.peak_rss_bytes = st->usage.peak_rss_bytes;
	rec->usage.net_tx_bytes = st->usage.net_tx_bytes;
	rec->usage.net_rx_bytes = st->usage.net_rx_bytes;
	rec->usage.tcp_connects = st->usage.tcp_connects;
	rec->usage.tcp_retransmits = st->usage.tcp_retransmits;
}

/*
 * Emits the end of an execution now (an exec replacing it, or no room to defer). peak,
 * when not 0, is the ending image's peak RSS measured before it was replaced.
 */
static __always_inline void emit_exit(struct task_struct *task, __u32 tgid,
				      struct tw_exec_state *st, __u64 now, __u32 status,
				      __u32 flags, __u64 peak, const bool btf)
{
	struct tw_exit_rec *rec;

	if (exit_filtered_out(st, now, status))
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(TW_LOST_RINGBUF_EXIT);
		return;
	}
	fill_exit(rec, task, tgid, st, now, status, flags, NULL, btf);
	if (peak)
		rec->usage.peak_rss_bytes =
		    peak > st->usage.peak_rss_bytes ? peak : st->usage.peak_rss_bytes;
	bpf_ringbuf_submit(rec, rb_flags());
}

static __always_inline void emit_exec_fail(struct task_struct *task, __u32 tgid,
					   struct pending_fail *p, const bool btf)
{
	struct tw_exec_fail_rec *rec;
	__u32 uid = (__u32)bpf_get_current_uid_gid();

	if (exec_filtered_out(tgid, task_ppid(task, btf), uid, bpf_get_current_cgroup_id()))
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(TW_LOST_RINGBUF_FAIL);
		return;
	}
	rec->type = TW_REC_EXEC_FAIL;
	rec->tgid = tgid;
	rec->ppid = task_ppid(task, btf);
	rec->uid = uid;
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->ts_ns = p->ts_ns;
	rec->error = p->error;
	rec->attempts = p->attempts;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	__builtin_memcpy(rec->filename, p->filename, sizeof(rec->filename));
	bpf_ringbuf_submit(rec, rb_flags());
}

/*
 * A tracked process about to replace its image (BTF-typed task): notes the image's peak
 * RSS in its execution, for the exit record the exec will emit.
 */
static __always_inline void note_old_peak(struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct tw_exec_state *st = execs_get(tgid);

	if (st && !st->exiting && !st->owner)
		st->reexec_peak_bytes = mm_peak_rss_bytes_btf(task->mm, page_size);
}

#endif /* EXECS_BPF_H */
