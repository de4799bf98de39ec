// SPDX-License-Identifier: GPL-2.0
/*
 * Failed execs (probe exec_failed): the execve and execveat syscall tracepoints, every
 * caller's calls (lib/exec_fail.bpf.h records them). While any syscall tracepoint is
 * attached, every syscall of every process takes the kernel's tracing slow path: exact,
 * and opt-in (exec_libc.bpf.c catches dynamically linked callers' at no such cost). Where
 * handle_preexec is not loaded (raw tracepoints, kernels before 6.10), syscall entry also
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
#include "lib/execs.bpf.h"
#include "lib/exec_fail.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending_fail);
} fail_scratch SEC(".maps");

/*
 * Failed execs and the peak of an image an exec replaces. BTF-typed tasks: at syscall
 * entry a tracked process notes its image's peak in its execution (no map update), and
 * a failed call's path is read at syscall exit from the caller's saved registers.
 * Otherwise (raw tracepoints) the path pointer and the peak wait in exec_tries.
 */
static __always_inline int on_execve_enter(const char *filename)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_try t = {.filename = (__u64)filename};
	struct mm_struct *mm;

	if (btf_tasks) {
		if (prep_exec) /* handle_preexec does it, only for execs that will succeed */
			return 0;
		note_old_peak(bpf_get_current_task_btf());
		return 0;
	}
	mm = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm);
	t.peak_rss_bytes = mm_peak_rss_bytes(mm, page_size);
	if (bpf_map_update_elem(&exec_tries, &tid, &t, BPF_ANY))
		count_lost(TW_LOST_PENDING_FULL);
	return 0;
}

/* A failed execve of the current task: the path (a user pointer) is read now. */
static __always_inline void exec_failed(long ret, const char *filename)
{
	struct pending_fail *fresh;
	__u32 zero = 0;

	fresh = bpf_map_lookup_elem(&fail_scratch, &zero);
	if (fresh)
		record_exec_fail(ret, filename, fresh);
}

/* at: execveat (the path is its second argument) */
static __always_inline int on_execve_exit(long ret, const bool at)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pt_regs *regs;
	struct exec_try *t;

	if (btf_tasks) {
		if (ret >= 0)
			return 0;
		/* the syscall's arguments, as the caller's saved registers still hold them */
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		exec_failed(ret, (const char *)(at ? PT_REGS_PARM2_CORE_SYSCALL(regs)
						   : PT_REGS_PARM1_CORE_SYSCALL(regs)));
		return 0;
	}
	t = bpf_map_lookup_elem(&exec_tries, &tid);
	if (!t)
		return 0;
	if (ret < 0)
		exec_failed(ret, (const char *)t->filename);
	bpf_map_delete_elem(&exec_tries, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_execve_enter((const char *)ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_execveat")
int execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return on_execve_enter((const char *)ctx->args[1]);
}

SEC("tp/syscalls/sys_exit_execve")
int execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_execve_exit(ctx->ret, false);
}

SEC("tp/syscalls/sys_exit_execveat")
int execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_execve_exit(ctx->ret, true);
}
