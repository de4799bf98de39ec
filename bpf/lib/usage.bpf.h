/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resource usage of tasks and thread groups as toolwatch accounts it: the kernel's raw
 * counters (struct tw_raw_usage), their difference from a base, and the exact run time
 * split into user and system (struct tw_usage). Block I/O wait is read only while
 * delayacct_on (state.bpf.c). Include after vmlinux.h.
 */
#ifndef USAGE_BPF_H
#define USAGE_BPF_H

#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"
#include "state.bpf.h"
#include "task.bpf.h"
#include "toolwatch.h"

/* One thread's own counters (the group's exited threads are in its signal_struct). */
static __always_inline void raw_add_thread(struct tw_raw_usage *r, struct task_struct *t)
{
	r->cpu_ns += BPF_CORE_READ(t, se.sum_exec_runtime);
	r->utime_ns += BPF_CORE_READ(t, utime);
	r->stime_ns += BPF_CORE_READ(t, stime);
	r->read_bytes += BPF_CORE_READ(t, ioac.read_bytes);
	r->write_bytes += BPF_CORE_READ(t, ioac.write_bytes);
	r->runq_ns += BPF_CORE_READ(t, sched_info.run_delay);
	if (delayacct_on)
		r->blkio_ns += BPF_CORE_READ(t, delays, blkio_delay);
}

/*
 * The CPU time of the group's exited threads (folded into signal_struct when they are
 * released). Not its I/O: signal->ioac also grows by the I/O of every child the group
 * reaps, which is counted where that child ran. Wait times and I/O are not read there:
 * on_exit adds each exiting thread's own into its execution.
 */
static __always_inline void raw_add_signal(struct tw_raw_usage *r, struct task_struct *t)
{
	struct signal_struct *sig = BPF_CORE_READ(t, signal);

	r->cpu_ns += BPF_CORE_READ(sig, sum_sched_runtime);
	r->utime_ns += BPF_CORE_READ(sig, utime);
	r->stime_ns += BPF_CORE_READ(sig, stime);
}

/* raw_add_thread() and raw_add_signal() for BTF-typed programs: direct loads, no helpers */
static __always_inline void raw_add_thread_btf(struct tw_raw_usage *r, struct task_struct *t)
{
	r->cpu_ns += t->se.sum_exec_runtime;
	r->utime_ns += t->utime;
	r->stime_ns += t->stime;
	r->read_bytes += t->ioac.read_bytes;
	r->write_bytes += t->ioac.write_bytes;
	r->runq_ns += t->sched_info.run_delay;
	if (delayacct_on)
		r->blkio_ns += t->delays->blkio_delay;
}

static __always_inline void raw_add_signal_btf(struct tw_raw_usage *r, struct task_struct *t)
{
	struct signal_struct *sig = t->signal;

	r->cpu_ns += sig->sum_sched_runtime;
	r->utime_ns += sig->utime;
	r->stime_ns += sig->stime;
}

/* A stretch the scheduler has not accounted yet longer than this is not believed. */
#define UNACCOUNTED_MAX_NS 100000000ULL
/* Both ends of an execution shorter than this read its run time with one clock offset. */
#define SAME_OFFSET_NS 1000000000ULL

/*
 * CPU time the running task (current) has used since the scheduler last accounted it:
 * sum_exec_runtime lags by up to a tick. Its runqueue's task clock now (CLOCK_MONOTONIC
 * now, minus off, minus the irq and steal time the rq clock_task leaves out) minus
 * se.exec_start; 0 when off was not measured (synced false). Signed: off is measured a
 * little after the rq clock's update, so a short stretch can read below zero; both ends
 * of an execution read with the same off, and its error cancels only if neither end is
 * clamped. btf: as TW_READ().
 */
static __always_inline __s64 task_unaccounted_ns(struct task_struct *task, __u64 now, __s64 off,
						 bool synced, const bool btf)
{
	struct rq *rq = TW_READ(btf, task->se.cfs_rq->rq, task, se.cfs_rq, rq);
	__u64 clock, clock_task, start;
	__s64 t;

	if (!synced || !rq)
		return 0;
	clock = TW_READ(btf, rq->clock, rq, clock);
	clock_task = TW_READ(btf, rq->clock_task, rq, clock_task);
	start = TW_READ(btf, task->se.exec_start, task, se.exec_start);
	t = (__s64)(now - off) - (__s64)(clock - clock_task) - (__s64)start;
	return t > -(__s64)UNACCOUNTED_MAX_NS && t < (__s64)UNACCOUNTED_MAX_NS ? t : 0;
}

/* cpu + t, never below zero */
static __always_inline __u64 cpu_plus(__u64 cpu, __s64 t)
{
	if (t < 0 && (__u64)(-t) > cpu)
		return 0;
	return cpu + (__u64)t;
}

/*
 * The clock offset an execution's end reads its run time with: the one its start read it
 * with, when shorter than SAME_OFFSET_NS (the offset's error then cancels out: the CPU time
 * of a task that ran all along equals the duration), else the latest.
 */
static __always_inline __s64 end_clock_off(const struct tw_exec_state *st, __u64 now, bool *synced)
{
	if (st && st->clock_synced && now - st->start_ns < SAME_OFFSET_NS) {
		*synced = true;
		return st->clock_off;
	}
	*synced = clock_synced;
	return clock_off;
}

/* The exact run time of the exiting thread (current) at now, read as group_usage() does. */
static __always_inline __u64 thread_cpu_at(struct task_struct *task, const struct tw_exec_state *st,
					   __u64 now, const bool btf)
{
	bool synced;
	__s64 off = end_clock_off(st, now, &synced);

	return cpu_plus(TW_READ(btf, task->se.sum_exec_runtime, task, se.sum_exec_runtime),
			task_unaccounted_ns(task, now, off, synced, btf));
}

static __always_inline void raw_sub(struct tw_raw_usage *r, const struct tw_raw_usage *base)
{
	r->cpu_ns = sat_sub(r->cpu_ns, base->cpu_ns);
	r->utime_ns = sat_sub(r->utime_ns, base->utime_ns);
	r->stime_ns = sat_sub(r->stime_ns, base->stime_ns);
	r->read_bytes = sat_sub(r->read_bytes, base->read_bytes);
	r->write_bytes = sat_sub(r->write_bytes, base->write_bytes);
	r->runq_ns = sat_sub(r->runq_ns, base->runq_ns);
	r->blkio_ns = sat_sub(r->blkio_ns, base->blkio_ns);
}

/* Splits exact run time in the ratio of the sampled utime:stime (cputime_adjust). */
static __always_inline void split_cpu(const struct tw_raw_usage *r, struct tw_usage *u)
{
	__u64 ut = r->utime_ns, st = r->stime_ns, cpu = r->cpu_ns, frac, user;

	if (!st) {
		user = cpu;
	} else if (!ut) {
		user = 0;
	} else {
		/* 16-bit fraction; scale the ticks down so ut << 16 cannot overflow */
		for (int i = 0; i < 24 && ut + st > (1ULL << 46); i++) {
			ut >>= 1;
			st >>= 1;
		}
		frac = (ut << 16) / (ut + st ? ut + st : 1);
		user = (cpu >> 16) * frac + (((cpu & 0xffff) * frac) >> 16);
	}
	u->cpu_user_ns = user;
	u->cpu_system_ns = cpu - user;
}

/*
 * What the thread group whose last thread (task, current) is exiting used, since the base
 * of execution st (NULL: since its fork), up to now; raw as well. btf: a compile-time constant,
 * true for a BTF-typed task (direct loads).
 */
static __always_inline void group_usage(struct task_struct *task, const struct tw_exec_state *st,
					bool reexec, __u64 page_bytes, __u64 now,
					struct tw_usage *u, struct tw_raw_usage *raw,
					const bool btf)
{
	struct task_struct *leader = TW_READ(btf, task->group_leader, task, group_leader);
	struct tw_raw_usage r = {};
	bool synced;
	__s64 off = end_clock_off(st, now, &synced);

	if (btf) {
		raw_add_signal_btf(&r, task);
		raw_add_thread_btf(&r, task);
	} else {
		raw_add_signal(&r, task);
		raw_add_thread(&r, task);
	}
	/* the exiting thread's run time up to now, not up to its last accounting */
	r.cpu_ns = cpu_plus(r.cpu_ns, task_unaccounted_ns(task, now, off, synced, btf));
	/* a leader that exited first stays unreleased (a zombie) until now */
	if (leader != task) {
		if (btf)
			raw_add_thread_btf(&r, leader);
		else
			raw_add_thread(&r, leader);
	}
	if (st)
		raw_sub(&r, &st->base);
	split_cpu(&r, u);
	u->disk_read_bytes = r.read_bytes;
	u->disk_write_bytes = r.write_bytes;
	u->runq_wait_ns = r.runq_ns;
	u->blkio_wait_ns = r.blkio_ns;
	u->peak_rss_bytes = peak_rss_bytes(task, reexec, page_bytes, btf);
	if (raw)
		*raw = r;
}

/* adds v to *dst unless 0 (an atomic add takes the owner's cache line from other CPUs) */
#define ADD_NONZERO(dst, v)                                                                        \
	do {                                                                                       \
		if (v)                                                                             \
			__sync_fetch_and_add(dst, v);                                              \
	} while (0)

/* Adds a finished child's usage into its owner's execution. */
static __always_inline void usage_roll_up(struct tw_usage *dst, const struct tw_usage *src)
{
	ADD_NONZERO(&dst->cpu_user_ns, src->cpu_user_ns);
	ADD_NONZERO(&dst->cpu_system_ns, src->cpu_system_ns);
	ADD_NONZERO(&dst->disk_read_bytes, src->disk_read_bytes);
	ADD_NONZERO(&dst->disk_write_bytes, src->disk_write_bytes);
	ADD_NONZERO(&dst->runq_wait_ns, src->runq_wait_ns);
	ADD_NONZERO(&dst->blkio_wait_ns, src->blkio_wait_ns);
	if (src->peak_rss_bytes > dst->peak_rss_bytes)
		dst->peak_rss_bytes = src->peak_rss_bytes;
}

#endif /* USAGE_BPF_H */
