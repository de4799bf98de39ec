/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Readers of task_struct, signal_struct and mm_struct fields through CO-RE, for any
 * task pointer (probe-read, so raw tracepoints may use them too). Include after vmlinux.h.
 */
#ifndef TASK_BPF_H
#define TASK_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* include/linux/sched.h and sched/signal.h: not in vmlinux.h (macros) */
#define PF_EXITING	  0x00000004
#define PF_FORKNOEXEC	  0x00000040
#define PF_KTHREAD	  0x00200000
#define SIGNAL_GROUP_EXIT 0x00000004
#define TASK_DEAD	  0x80

/*
 * One field, read the cheapest way the program type allows: BTF-typed programs (tp_btf,
 * iterators, bpf_get_current_task_btf()) hold trusted pointers and load it directly;
 * raw tracepoints probe-read it through CO-RE. btf must be a compile-time constant of an
 * inlined caller so that each instantiation keeps one side: direct is the plain C
 * expression, the rest are BPF_CORE_READ()'s arguments for the same field.
 */
#define TW_READ(btf, direct, ...) ((btf) ? (direct) : BPF_CORE_READ(__VA_ARGS__))

/* The readers taking btf follow TW_READ(): a compile-time constant of an inlined caller. */
static __always_inline bool is_kthread(struct task_struct *task, const bool btf)
{
	return TW_READ(btf, task->flags, task, flags) & PF_KTHREAD;
}

static __always_inline __u32 task_ppid(struct task_struct *task, const bool btf)
{
	return TW_READ(btf, task->real_parent->tgid, task, real_parent, tgid);
}

/*
 * The comm of task, which must be current, into dst (16 bytes): BTF-typed programs load
 * it directly (a racing rename may leave it without a NUL: readers bound it by its size),
 * raw tracepoints through the helper.
 */
static __always_inline void current_comm(char dst[16], struct task_struct *task, const bool btf)
{
	if (btf)
		__builtin_memcpy(dst, task->comm, 16);
	else
		bpf_get_current_comm(dst, 16);
}

/* wait(2) status of the thread group whose last thread is exiting */
static __always_inline __u32 group_exit_status(struct task_struct *task, const bool btf)
{
	struct signal_struct *sig = TW_READ(btf, task->signal, task, signal);

	if (TW_READ(btf, sig->flags, sig, flags) & SIGNAL_GROUP_EXIT)
		return TW_READ(btf, sig->group_exit_code, sig, group_exit_code);
	return TW_READ(btf, task->group_leader->exit_code, task, group_leader, exit_code);
}

/* a wait(2) status of a signal death or a non-zero exit code */
static __always_inline bool status_failed(__u32 status)
{
	return (status & 0x7f) || (status >> 8);
}

/* Resident set of an address space in bytes (file + anon + shmem pages); 0 for no mm. */
static __always_inline __u64 mm_rss_bytes(struct mm_struct *mm, __u64 page_bytes)
{
	__s64 pages;

	if (!mm)
		return 0;
	pages = BPF_CORE_READ(mm, rss_stat[MM_FILEPAGES].count) +
		BPF_CORE_READ(mm, rss_stat[MM_ANONPAGES].count) +
		BPF_CORE_READ(mm, rss_stat[MM_SHMEMPAGES].count);
	return pages > 0 ? (__u64)pages * page_bytes : 0;
}

/* Largest resident set of an address space so far: its high-water mark, or now if larger. */
static __always_inline __u64 mm_peak_rss_bytes(struct mm_struct *mm, __u64 page_bytes)
{
	__u64 hiwater = BPF_CORE_READ(mm, hiwater_rss) * page_bytes;
	__u64 now = mm_rss_bytes(mm, page_bytes);

	return hiwater > now ? hiwater : now;
}

/* mm_peak_rss_bytes() for a BTF-typed mm (direct loads; NULL reads as 0) */
static __always_inline __u64 mm_peak_rss_bytes_btf(struct mm_struct *mm, __u64 page_bytes)
{
	__s64 pages;
	__u64 hiwater, now;

	if (!mm)
		return 0;
	pages = mm->rss_stat[MM_FILEPAGES].count + mm->rss_stat[MM_ANONPAGES].count +
		mm->rss_stat[MM_SHMEMPAGES].count;
	now = pages > 0 ? (__u64)pages * page_bytes : 0;
	hiwater = mm->hiwater_rss * page_bytes;
	return hiwater > now ? hiwater : now;
}

/*
 * Peak resident set of a process image that is ending: its high-water mark. At an exec
 * the old image is gone already; the kernel folded its mark into the group's maxrss.
 */
static __always_inline __u64 peak_rss_bytes(struct task_struct *task, bool reexec, __u64 page_bytes,
					    const bool btf)
{
	struct mm_struct *mm = TW_READ(btf, task->mm, task, mm);

	if (!mm || reexec) /* the group's maxrss (getrusage's ru_maxrss) */
		return TW_READ(btf, task->signal->maxrss, task, signal, maxrss) * page_bytes;
	return btf ? mm_peak_rss_bytes_btf(mm, page_bytes) : mm_peak_rss_bytes(mm, page_bytes);
}

#endif /* TASK_BPF_H */
