// SPDX-License-Identifier: GPL-2.0
/*
 * The start of an execution (probe exec): sched_process_exec, tp_btf with a raw_tp
 * fallback, emits one exec record per new execution and tracks it in execs. A later exec
 * in the same process continues its execution: its exec record (TW_F_REEXEC, the first
 * exec's start) renames it after the new image. From Linux 6.10, sched_prepare_exec
 * notes the peak RSS of the image an exec replaces.
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

/* where handle_exec builds an exec record, output at its real size (per CPU: no sharing) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_buf);
} exec_buf SEC(".maps");

/*
 * The comm keys (struct tw_comm_key) of the images whose argv the agent's naming reads:
 * interpreters, and "" (a comm of digits only). Filled by the loader; unused while
 * args_all is set.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TW_ARGV_COMMS_MAX);
	__type(key, struct tw_comm_key);
	__type(value, __u8);
} argv_comms SEC(".maps");

/* "/dev/fd/" as one little-endian word: the path of an fd's exec (fexecve, execveat) */
#define FD_PATH_PREFIX 0x2f64662f7665642fULL

/*
 * Whether an exec record needs argv (rec: comm and path filled, fsize bytes of path): for
 * a script (the kernel ran an interpreter: bprm->interp is no longer the filename), an
 * fd's exec, or a comm that argv_comms holds once stripped of its trailing digits and dots
 * (python3.11 is python; argv_filter's bit first, then the lookup). Reading argv touches the new
 * image's stack, a TLB miss (two levels of page tables in a VM): about a quarter of the exec path.
 * btf: as TW_READ().
 */
static __always_inline bool argv_wanted(const struct tw_exec_rec *rec, __u64 fsize,
					struct linux_binprm *bprm, const bool btf)
{
	struct tw_comm_key key = {};
	__u64 head = 0;
	int len = 0;
	__u32 bit;

	if (args_all)
		return true;
	if (TW_READ(btf, bprm->interp, bprm, interp) !=
	    TW_READ(btf, bprm->filename, bprm, filename))
		return true;
	if (fsize > sizeof(head)) {
		__builtin_memcpy(&head, rec->data, sizeof(head));
		if (head == FD_PATH_PREFIX)
			return true;
	}
	for (int i = 0; i < TW_COMM_LEN; i++) {
		char c = rec->comm[i];

		if (!c)
			break;
		key.c[i] = c;
		if ((c < '0' || c > '9') && c != '.')
			len = i + 1;
	}
	for (int i = 0; i < TW_COMM_LEN; i++) {
		if (i >= len)
			key.c[i] = 0;
	}
	bit = tw_comm_key_bit(&key);
	if (!(argv_filter[(bit >> 6) & (TW_ARGV_FILTER_WORDS - 1)] & (1ULL << (bit & 63))))
		return false;
	return bpf_map_lookup_elem(&argv_comms, &key);
}

/*
 * Outputs the exec record of a new or continued execution (start_ns, flags: its own):
 * built in exec_buf, argv and path copied once each straight into it, then only the bytes
 * used go to the ring buffer.
 */
static __always_inline void emit_exec(struct task_struct *task, __u32 tgid, __u32 ppid, __u32 uid,
				      __u64 cgid, __u64 start_ns, __u32 flags,
				      struct linux_binprm *bprm, const bool btf)
{
	const char *filename = TW_READ(btf, bprm->filename, bprm, filename);
	unsigned long arg_start = 0, arg_end;
	struct tw_exec_rec *rec;
	struct mm_struct *mm;
	__u64 fsize, asize;
	__u32 zero = 0;
	long n;

	rec = bpf_map_lookup_elem(&exec_buf, &zero);
	if (!rec)
		return;
	rec->type = TW_REC_EXEC;
	rec->tgid = tgid;
	rec->ppid = ppid;
	rec->uid = uid;
	rec->cgroup_id = cgid;
	rec->start_ns = start_ns;
	rec->flags = flags;
	current_comm(rec->comm, task, btf);

	n = bpf_probe_read_kernel_str(rec->data, TW_PATH_LEN, filename);
	fsize = n > 0 ? n : 0;
	/* keep the clamped registers themselves: the verifier must see the bounds */
	barrier_var(fsize);
	if (fsize > TW_PATH_LEN)
		fsize = TW_PATH_LEN;

	asize = 0;
	if (argv_wanted(rec, fsize, bprm, btf)) {
		mm = TW_READ(btf, task->mm, task, mm);
		arg_start = TW_READ(btf, mm->arg_start, mm, arg_start);
		arg_end = TW_READ(btf, mm->arg_end, mm, arg_end);
		asize = arg_end > arg_start ? arg_end - arg_start : 0;
	} else {
		rec->flags |= TW_F_NO_ARGS;
	}
	if (asize > TW_ARGS_LEN) {
		asize = TW_ARGS_LEN;
		rec->flags |= TW_F_ARGS_TRUNC;
	}
	barrier_var(asize);
	if (asize > TW_ARGS_LEN)
		asize = 0;
	if (asize && bpf_probe_read_user(rec->data + fsize, asize, (void *)arg_start))
		asize = 0;
	rec->filename_size = fsize;
	rec->args_size = asize;
	if (bpf_ringbuf_output(&events, rec, sizeof(*rec) + fsize + asize, rb_flags()))
		count_lost(TW_LOST_RINGBUF_EXEC);
}

/* The process's counters at now, as execution st's base (btf: as TW_READ()). */
static __always_inline void read_base(struct tw_exec_state *st, struct task_struct *task, __u64 now,
				      const bool btf)
{
	struct tw_raw_usage *base = &st->base;

	if (btf) {
		raw_add_signal_btf(base, task);
		raw_add_thread_btf(base, task);
	} else {
		raw_add_signal(base, task);
		raw_add_thread(base, task);
	}
	/* the run time up to now, with the offset the end will read it with too */
	st->clock_off = clock_off;
	st->clock_synced = clock_synced;
	base->cpu_ns = cpu_plus(
	    base->cpu_ns, task_unaccounted_ns(task, now, st->clock_off, st->clock_synced, btf));
}

/*
 * A forked child's first exec: what it used since the fork (its base) belongs to the
 * execution that forked it, as a child that never execs does.
 */
static __always_inline void roll_up_before_exec(__u32 owner, const struct tw_raw_usage *base)
{
	struct tw_exec_state *ost = execs_get(owner);
	struct tw_usage u = {};

	if (!ost || ost->owner)
		return;
	split_cpu(base, &u);
	u.disk_read_bytes = base->read_bytes;
	u.disk_write_bytes = base->write_bytes;
	u.runq_wait_ns = base->runq_ns;
	u.blkio_wait_ns = base->blkio_ns;
	usage_roll_up(&ost->usage, &u);
}

/* btf: a compile-time constant, true for tp_btf (direct loads), false for raw_tp */
static __always_inline int on_exec(struct task_struct *task, __u32 old_pid,
				   struct linux_binprm *bprm, const bool btf)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 tgid = TW_READ(btf, task->tgid, task, tgid);
	__u32 ppid = TW_READ(btf, task->real_parent->tgid, task, real_parent, tgid);
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 cgid = bpf_get_current_cgroup_id();
	struct tw_exec_state *st;
	struct exec_try *try;
	__u64 old_peak = 0;
	__u32 owner;
	bool filtered;

	/* bytes moved before the exec belong to the image (or owner) that moved them */
	fold_net(task, tgid);
	/* the replaced image's peak, measured at execve entry while it still existed */
	try = btf ? NULL : bpf_map_lookup_elem(&exec_tries, &old_pid);
	if (try) {
		old_peak = try->peak_rss_bytes;
		bpf_map_delete_elem(&exec_tries, &old_pid);
	}
	/* a successful exec ends any failed attempts and the fork-child status */
	if (fails_pending > 0 && bpf_map_lookup_elem(&exec_pending, &tgid) &&
	    !bpf_map_delete_elem(&exec_pending, &tgid))
		__sync_fetch_and_add(&fails_pending, -1);

	st = execs_get(tgid);
	/* exiting: a reused tgid whose old execution awaits its emission: replaced below */
	if (st && !st->exiting && !st->owner) {
		/* a later exec continues the execution: it is renamed after the new image */
		if (btf)
			old_peak = st->reexec_peak_bytes;
		if (old_peak > st->usage.peak_rss_bytes)
			st->usage.peak_rss_bytes = old_peak;
		st->flags |= TW_F_REEXEC;
		st->cgroup_id = cgid;
		st->uid = uid;
		emit_exec(task, tgid, ppid, uid, cgid, st->start_ns, st->flags, bprm, btf);
		return 0;
	}
	filtered = exec_filtered_out(tgid, ppid, uid, cgid);
	if (st && !st->exiting) {
		/* a forked child's first exec: its entry becomes the new execution */
		owner = st->owner;
		execs_zero(st);
		read_base(st, task, now, btf);
		roll_up_before_exec(owner, &st->base);
		if (filtered) {
			execs_delete(tgid);
			return 0;
		}
	} else {
		if (filtered)
			return 0;
		st = execs_claim(tgid, true);
		if (!st) {
			count_lost(TW_LOST_EXECS_FULL);
			return 0;
		}
		read_base(st, task, now, btf);
	}
	st->start_ns = now;
	st->cgroup_id = cgid;
	st->uid = uid;
	emit_exec(task, tgid, ppid, uid, cgid, now, 0, bprm, btf);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm, true);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(handle_exec_raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(p, old_pid, bprm, false);
}

/*
 * An exec past its point of no return, the old image still in place: a tracked process
 * notes that image's peak for the end of its execution (BTF kernels from Linux 6.10;
 * else execve_enter does it). The main thread of a process that has not exec'd since its
 * fork (PF_FORKNOEXEC, a flag of each thread: the usual exec) starts an execution here,
 * whose peak is its own: no lookup.
 */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(handle_preexec, struct task_struct *task, struct linux_binprm *bprm)
{
	if (!(task->flags & PF_FORKNOEXEC) || task->pid != task->tgid)
		note_old_peak(task);
	return 0;
}
