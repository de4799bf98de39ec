// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of toolwatch: one record per execution start, end and failed exec, with the
 * in-flight state in bounded hash maps. Built only on tracepoints (tp_btf with raw_tp
 * fallbacks for the sched events, tp/syscalls for failed execs) and a task iterator.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"

#define PF_KTHREAD 0x00200000
#define SIGNAL_GROUP_EXIT 0x00000004
#define EACCES 13
#define ENOENT 2
#define ENOTDIR 20
#define PENDING_FOLD_NS 1000000000ULL /* failed execs closer than this fold into one */

char LICENSE[] SEC("license") = "GPL";

/* Filters (trace mode); zero means no filter. Set through rodata before load. */
const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_ppid = 0;
const volatile bool targ_uid_set = false;
const volatile __u32 targ_uid = 0;
const volatile __u64 targ_cgroup_id = 0;
const volatile __u64 targ_min_duration_ns = 0;
const volatile bool targ_failed_only = false;
/* Wake the consumer only once this much data waits; it polls on a timer otherwise. */
const volatile __u64 wakeup_bytes = 0;

/* Drop counters, read by the agent and exported; indexed by enum tw_lost_reason. */
__u64 lost[TW_LOST_MAX] = {};

struct exec_try {
	char filename[TW_PATH_LEN];
};

struct pending_fail {
	__u64 ts_ns;
	__s32 error;
	__u32 attempts;
	char filename[TW_PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* overridden from --bpf.ringbuf-size */
} events SEC(".maps");

/* tgid -> the execution that process image is running */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768); /* overridden from --bpf.max-processes */
	__type(key, __u32);
	__type(value, struct tw_exec_state);
} execs SEC(".maps");

/* tid -> path of the execve in progress */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct exec_try);
} exec_tries SEC(".maps");

/* tgid -> failed exec attempts not yet followed by a successful one */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending_fail);
} exec_pending SEC(".maps");

/* tgid of a forked child that has not exec'd -> tgid owning its execution */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768); /* overridden together with execs */
	__type(key, __u32);
	__type(value, __u32);
} owners SEC(".maps");

/* scratch for values too big for the BPF stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_exec_rec);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending_fail);
} fail_scratch SEC(".maps");

static __always_inline void count_lost(int reason)
{
	if (reason >= 0 && reason < TW_LOST_MAX)
		__sync_fetch_and_add(&lost[reason], 1);
}

static __always_inline __u64 rb_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

static __always_inline bool is_kthread(struct task_struct *task)
{
	return BPF_CORE_READ(task, flags) & PF_KTHREAD;
}

static __always_inline __u32 task_ppid(struct task_struct *task)
{
	return BPF_CORE_READ(task, real_parent, tgid);
}

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

/* wait(2) status of the thread group whose last thread is exiting */
static __always_inline __u32 group_exit_status(struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);

	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		return BPF_CORE_READ(sig, group_exit_code);
	return BPF_CORE_READ(task, group_leader, exit_code);
}

static __always_inline bool status_failed(__u32 status)
{
	return (status & 0x7f) || (status >> 8);
}

static __always_inline void emit_exit(struct task_struct *task, __u32 tgid, struct tw_exec_state *st,
				      __u64 now, __u32 status, __u32 flags)
{
	struct tw_exit_rec *rec;

	/* trace-mode filters known only at the end */
	if (targ_min_duration_ns && now - st->start_ns < targ_min_duration_ns)
		return;
	if (targ_failed_only && !status_failed(status) && !(st->flags & TW_F_OOM_KILLED))
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(TW_LOST_RINGBUF_EXIT);
		return;
	}
	rec->type = TW_REC_EXIT;
	rec->tgid = tgid;
	rec->ppid = task_ppid(task);
	rec->uid = (__u32)bpf_get_current_uid_gid();
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->start_ns = st->start_ns;
	rec->end_ns = now;
	rec->exit_code = status;
	rec->flags = st->flags | flags;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	rec->usage = st->usage;
	bpf_ringbuf_submit(rec, rb_flags());
}

static __always_inline void emit_exec_fail(struct task_struct *task, __u32 tgid,
					   struct pending_fail *p)
{
	struct tw_exec_fail_rec *rec;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(TW_LOST_RINGBUF_FAIL);
		return;
	}
	rec->type = TW_REC_EXEC_FAIL;
	rec->tgid = tgid;
	rec->ppid = task_ppid(task);
	rec->uid = (__u32)bpf_get_current_uid_gid();
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->ts_ns = p->ts_ns;
	rec->error = p->error;
	rec->attempts = p->attempts;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	__builtin_memcpy(rec->filename, p->filename, sizeof(rec->filename));
	bpf_ringbuf_submit(rec, rb_flags());
}

static __always_inline int on_exec(struct task_struct *task, __u32 old_pid,
				   struct linux_binprm *bprm)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u32 ppid = task_ppid(task);
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 cgid = bpf_get_current_cgroup_id();
	struct tw_exec_state fresh = {}, *st;
	struct tw_exec_rec *rec;
	struct mm_struct *mm;
	unsigned long arg_start, arg_end;
	__u64 size;

	/* a successful exec ends any failed attempts and the fork-child status */
	bpf_map_delete_elem(&exec_tries, &old_pid);
	bpf_map_delete_elem(&exec_pending, &tgid);
	bpf_map_delete_elem(&owners, &tgid);

	/* exec of an already exec'd image: that execution ends here, successfully */
	st = bpf_map_lookup_elem(&execs, &tgid);
	if (st) {
		emit_exit(task, tgid, st, now, 0, TW_F_REEXEC);
		bpf_map_delete_elem(&execs, &tgid);
	}
	if (exec_filtered_out(tgid, ppid, uid, cgid))
		return 0;

	fresh.start_ns = now;
	if (bpf_map_update_elem(&execs, &tgid, &fresh, BPF_ANY)) {
		count_lost(TW_LOST_EXECS_FULL);
		return 0;
	}

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(TW_LOST_RINGBUF_EXEC);
		return 0;
	}
	rec->type = TW_REC_EXEC;
	rec->tgid = tgid;
	rec->ppid = ppid;
	rec->uid = uid;
	rec->cgroup_id = cgid;
	rec->start_ns = now;
	rec->flags = 0;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	bpf_probe_read_kernel_str(rec->filename, sizeof(rec->filename),
				  BPF_CORE_READ(bprm, filename));

	mm = BPF_CORE_READ(task, mm);
	arg_start = BPF_CORE_READ(mm, arg_start);
	arg_end = BPF_CORE_READ(mm, arg_end);
	size = arg_end > arg_start ? arg_end - arg_start : 0;
	if (size > TW_ARGS_LEN) {
		size = TW_ARGS_LEN;
		rec->flags |= TW_F_ARGS_TRUNC;
	}
	/* keep the clamped register itself: the verifier must see size <= TW_ARGS_LEN */
	barrier_var(size);
	if (size > TW_ARGS_LEN)
		size = 0;
	if (bpf_probe_read_user(rec->args, size, (void *)arg_start))
		size = 0;
	rec->args_size = size;
	bpf_ringbuf_submit(rec, rb_flags());
	return 0;
}

static __always_inline int on_exit(struct task_struct *task)
{
	__u32 tgid, status;
	struct tw_exec_state *st;
	struct pending_fail *p;

	if (is_kthread(task))
		return 0;
	/* only the last thread of the group ends the process */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);

	p = bpf_map_lookup_elem(&exec_pending, &tgid);
	if (p) {
		emit_exec_fail(task, tgid, p);
		bpf_map_delete_elem(&exec_pending, &tgid);
	}
	bpf_map_delete_elem(&owners, &tgid);

	st = bpf_map_lookup_elem(&execs, &tgid);
	if (!st)
		return 0;
	status = group_exit_status(task);
	emit_exit(task, tgid, st, bpf_ktime_get_ns(), status, 0);
	bpf_map_delete_elem(&execs, &tgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(handle_exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	return on_exit(p);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(handle_exit_raw, struct task_struct *p)
{
	return on_exit(p);
}

/* Failed execs: the path is saved at syscall entry, the result read at syscall exit. */
static __always_inline int on_execve_enter(const char *filename)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_try *t;
	static const struct exec_try empty = {};

	if (bpf_map_update_elem(&exec_tries, &tid, &empty, BPF_ANY)) {
		count_lost(TW_LOST_PENDING_FULL);
		return 0;
	}
	t = bpf_map_lookup_elem(&exec_tries, &tid);
	if (t)
		bpf_probe_read_user_str(t->filename, sizeof(t->filename), filename);
	return 0;
}

static __always_inline int on_execve_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pending_fail *p, *fresh;
	struct exec_try *t;
	__u32 zero = 0;
	__u64 now;
	__s32 err = -ret;

	t = bpf_map_lookup_elem(&exec_tries, &tid);
	if (!t)
		return 0;
	if (ret >= 0)
		goto out;
	now = bpf_ktime_get_ns();
	p = bpf_map_lookup_elem(&exec_pending, &tgid);
	if (p && now - p->ts_ns > PENDING_FOLD_NS) {
		/* an unrelated earlier failure of a long-lived process */
		emit_exec_fail(task, tgid, p);
		p = NULL;
	}
	if (!p) {
		fresh = bpf_map_lookup_elem(&fail_scratch, &zero);
		if (!fresh)
			goto out;
		fresh->ts_ns = now;
		fresh->error = err;
		fresh->attempts = 1;
		__builtin_memcpy(fresh->filename, t->filename, sizeof(fresh->filename));
		if (bpf_map_update_elem(&exec_pending, &tgid, fresh, BPF_ANY))
			count_lost(TW_LOST_PENDING_FULL);
		goto out;
	}
	/* a PATH search: report EACCES over ENOENT, like execvp does */
	p->ts_ns = now;
	p->attempts++;
	if (!(p->error == EACCES && (err == ENOENT || err == ENOTDIR))) {
		p->error = err;
		__builtin_memcpy(p->filename, t->filename, sizeof(p->filename));
	}
out:
	bpf_map_delete_elem(&exec_tries, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int handle_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_execve_enter((const char *)ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_execveat")
int handle_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_execve_enter((const char *)ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_execve")
int handle_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_execve_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_execveat")
int handle_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_execve_exit(ctx->ret);
}

/*
 * Processes already running at start: tracked as partial executions and written to the
 * iterator's output as tw_exec_rec records (argv is filled in by the agent from /proc).
 */
SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tw_exec_state fresh = {};
	struct tw_exec_rec *rec;
	__u32 tgid, zero = 0;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	tgid = task->tgid;
	fresh.start_ns = task->start_time;
	fresh.flags = TW_F_PARTIAL;
	/* an exec seen meanwhile by handle_exec already tracks it properly */
	if (bpf_map_update_elem(&execs, &tgid, &fresh, BPF_NOEXIST))
		return 0;
	rec = bpf_map_lookup_elem(&scratch, &zero);
	if (!rec)
		return 0;
	rec->type = TW_REC_EXEC;
	rec->tgid = tgid;
	rec->ppid = task->real_parent->tgid;
	rec->uid = task->cred->uid.val;
	rec->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	rec->start_ns = fresh.start_ns;
	rec->flags = TW_F_PARTIAL;
	rec->args_size = 0;
	bpf_probe_read_kernel_str(rec->comm, sizeof(rec->comm), task->comm);
	rec->filename[0] = '\0';
	bpf_seq_write(ctx->meta->seq, rec, sizeof(*rec));
	return 0;
}
