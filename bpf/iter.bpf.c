// SPDX-License-Identifier: GPL-2.0
/*
 * Task iterators, run on demand by the agent rather than attached to a hook: dump_task
 * (processes already running at start, probe task_iter), sample_task (live usage of
 * running executions, probe sampler) and reap_task (the sampler's reaping and sweep of
 * waiting exits alone, when the sampler is off).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"
#include "lib/maps.bpf.h"
#include "lib/state.bpf.h"
#include "lib/task.bpf.h"
#include "lib/usage.bpf.h"
#include "lib/execs.bpf.h"
#include "lib/exit_wait.bpf.h"

/* the iterators' own scratch: an iterator may be preempted, a tracepoint program not */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_buf);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_sample_rec);
} sample_scratch SEC(".maps");

/*
 * Raw tracepoints: a zombie past its last switch whose exit the per-switch program missed
 * (its run time is final) has its pending exit emitted here. BTF kernels' exits hold their
 * task and are checked by the sweep at the end of the pass.
 */
static __always_inline void reap_zombie(struct task_struct *task)
{
	if (!btf_tasks && task->exit_state && (task->__state & TASK_DEAD) && !task->on_cpu)
		finish_exit(task, task->se.sum_exec_runtime);
}

/* reap_zombie() alone, for when the sampler (which does it too) is off */
SEC("iter/task")
int reap_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task)
		reap_zombie(task);
	else /* the end of the pass */
		expire_exits();
	return 0;
}

/*
 * Processes already running at start: tracked as partial executions and written to the
 * iterator's output as TW_EXEC_ITER_SIZE records (argv is added by the agent from /proc).
 */
SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tw_exec_state *st;
	struct tw_exec_rec *rec;
	__u32 tgid, zero = 0;
	long n;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	/* a group that is all dead (a zombie waiting for its parent) has no exit left */
	if (task->signal->live.counter == 0)
		return 0;
	tgid = task->tgid;
	/* an exec seen meanwhile by handle_exec already tracks it properly */
	st = execs_claim(tgid, false);
	if (!st)
		return 0;
	st->start_ns = task->start_time;
	st->flags = TW_F_PARTIAL;
	st->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	st->uid = task->cred->uid.val;
	/* a first exec from its main thread skips handle_preexec's note: its peak so far */
	if (task->flags & PF_FORKNOEXEC)
		st->reexec_peak_bytes = mm_peak_rss_bytes_btf(task->mm, page_size);
	rec = bpf_map_lookup_elem(&scratch, &zero);
	if (!rec)
		return 0;
	rec->type = TW_REC_EXEC;
	rec->tgid = tgid;
	rec->ppid = task->real_parent->tgid;
	rec->uid = st->uid;
	rec->cgroup_id = st->cgroup_id;
	rec->start_ns = st->start_ns;
	rec->flags = TW_F_PARTIAL;
	rec->args_size = 0;
	bpf_probe_read_kernel_str(rec->comm, sizeof(rec->comm), task->comm);
	/* the executable's own name, for when the agent cannot read /proc/PID/exe */
	n = bpf_probe_read_kernel_str(
	    rec->data, TW_PATH_LEN, BPF_CORE_READ(task, mm, exe_file, f_path.dentry, d_name.name));
	rec->filename_size = n > 0 ? n : 0;
	/* a fixed stride: the header and a TW_PATH_LEN slot (the agent adds argv) */
	bpf_seq_write(ctx->meta->seq, rec, TW_EXEC_ITER_SIZE);
	return 0;
}

/*
 * Live usage of running executions: one tw_sample_rec per task that belongs to one,
 * written to the iterator's output; the agent sums them per execution.
 */
SEC("iter/task")
int sample_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tw_sample_rec *rec;
	struct tw_exec_state *st;
	struct net_acc *acc;
	__u32 tgid, exec_tgid, zero = 0;
	bool leader;

	if (!task) { /* the end of the pass */
		expire_exits();
		return 0;
	}
	if (task->flags & PF_KTHREAD)
		return 0;
	reap_zombie(task);
	tgid = task->tgid;
	st = exec_key_of(tgid, &exec_tgid);
	if (!st)
		return 0;
	if (st->exiting) /* its exit record settles it */
		return 0;
	rec = bpf_map_lookup_elem(&sample_scratch, &zero);
	if (!rec)
		return 0;
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->type = TW_REC_SAMPLE;
	rec->exec_tgid = exec_tgid;
	rec->start_ns = st->start_ns;
	raw_add_thread(&rec->raw, task);
	acc = netcalls_enabled ? bpf_task_storage_get(&net_accs, task, 0, 0) : NULL;
	if (acc) {
		rec->net_tx_bytes = acc->tx;
		rec->net_rx_bytes = acc->rx;
	}
	leader = task->pid == tgid;
	if (leader) {
		raw_add_signal(&rec->raw, task);
		rec->rss_bytes = mm_rss_bytes(task->mm, page_size);
	}
	if (leader && tgid == exec_tgid) {
		raw_sub(&rec->raw, &st->base);
		rec->usage = st->usage;
		rec->is_exec_leader = 1;
	}
	bpf_seq_write(ctx->meta->seq, rec, sizeof(*rec));
	return 0;
}
