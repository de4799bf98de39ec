/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exits waiting for their task's last switch (struct exit_pending, in an exit slot or in
 * exits_pending), where its run time is final: their emission, shared by the exit path
 * (exit.bpf.c: its timer, raw tracepoints' last switch) and the task iterators (iter.bpf.c:
 * zombies the per-switch program missed). Include after vmlinux.h.
 */
#ifndef EXIT_WAIT_BPF_H
#define EXIT_WAIT_BPF_H

#include <bpf/bpf_helpers.h>
#include "state.bpf.h"
#include "usage.bpf.h"
#include "toolwatch.h"

/* adds what an execution's state gained since a snapshot of it (a pending exit's) */
static __always_inline void usage_add_since(struct tw_usage *dst, const struct tw_usage *now,
					    const struct tw_usage *then)
{
	dst->disk_read_bytes += now->disk_read_bytes - then->disk_read_bytes;
	dst->disk_write_bytes += now->disk_write_bytes - then->disk_write_bytes;
	dst->runq_wait_ns += now->runq_wait_ns - then->runq_wait_ns;
	dst->blkio_wait_ns += now->blkio_wait_ns - then->blkio_wait_ns;
	if (now->peak_rss_bytes > dst->peak_rss_bytes)
		dst->peak_rss_bytes = now->peak_rss_bytes;
	dst->net_tx_bytes = now->net_tx_bytes;
	dst->net_rx_bytes = now->net_rx_bytes;
	dst->tcp_connects = now->tcp_connects;
	dst->tcp_retransmits = now->tcp_retransmits;
}

/*
 * Emits a pending exit (p, at key) with delta ns of run time since the exit (a larger
 * value than 2^40: unknown, none added): the kernel's work of tearing the process down
 * (its memory, files), which the execution's CPU time and duration both include. The
 * caller that deletes the pending entry emits; a concurrent one discards its copy.
 */
static __always_inline void finish_pending(__u64 key, struct exit_pending *p, __u64 delta,
					   const bool slot)
{
	struct tw_exec_state *st, *ost;
	struct tw_usage u = {}, *rolled;
	struct tw_raw_usage raw;
	struct tw_exit_rec *rec;
	__u32 tgid;

	if (p->owner) {
		/* a child's last stretch, in the ratio of its user:system time */
		ost = execs_get(p->owner);
		if (ost && ost->owner)
			ost = NULL;
		raw = p->raw;
		raw.cpu_ns = delta;
		split_cpu(&raw, &u);
		if (!slot && bpf_map_delete_elem(&exits_pending, &key))
			return;
		if (ost && delta < (1ULL << 40)) {
			__sync_fetch_and_add(&ost->usage.cpu_user_ns, u.cpu_user_ns);
			__sync_fetch_and_add(&ost->usage.cpu_system_ns, u.cpu_system_ns);
		}
		return;
	}

	tgid = p->rec.tgid;
	st = execs_get(tgid);
	if (st && (!st->exiting || st->start_ns != p->rec.start_ns))
		st = NULL; /* the tgid is someone else's by now */
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		if (slot || !bpf_map_delete_elem(&exits_pending, &key)) {
			count_lost(TW_LOST_RINGBUF_EXIT);
			if (st)
				execs_delete(tgid);
		}
		return;
	}
	__builtin_memcpy(rec, &p->rec, sizeof(*rec));
	raw = p->raw;
	if (delta < (1ULL << 40)) {
		raw.cpu_ns += delta;
		rec->end_ns += delta; /* on CPU all along: its exit lasted at least that */
	}
	split_cpu(&raw, &u);
	/* children and sockets that ended after the exit still count (exit_files, reaping) */
	rolled = st ? &st->usage : &p->rolled;
	rec->usage.cpu_user_ns = u.cpu_user_ns + rolled->cpu_user_ns;
	rec->usage.cpu_system_ns = u.cpu_system_ns + rolled->cpu_system_ns;
	if (st)
		usage_add_since(&rec->usage, &st->usage, &p->rolled);
	if (!slot && bpf_map_delete_elem(&exits_pending, &key)) {
		bpf_ringbuf_discard(rec, 0);
		return;
	}
	if (st)
		execs_delete(tgid);
	bpf_ringbuf_submit(rec, rb_flags());
}

/*
 * A task with a pending exit is gone for good (a zombie past its last switch, seen by a
 * raw-tracepoint kernel): its run time is final; emit its exit. cpu_ns: its
 * sum_exec_runtime now.
 */
static __always_inline void finish_exit(struct task_struct *task, __u64 cpu_ns)
{
	__u64 key = (__u64)task;
	struct exit_wait *w = bpf_map_lookup_elem(&exits_pending, &key);

	if (w) /* the exact run time read at the exit may be a little ahead */
		finish_pending(key, &w->p,
			       cpu_ns > w->p.thread_cpu_ns ? cpu_ns - w->p.thread_cpu_ns : 0,
			       false);
}

/*
 * The iterators' sweep of waiting exits, run at the end of each sampler or reaper pass
 * (exit.bpf.c; hidden: a static subprogram once linked). It makes the exit timer's checks,
 * which take and release task references, and only one object may declare those kfuncs:
 * libbpf's static linker before 1.5 fails on an extern function declared in two.
 */
__hidden extern void expire_exits(void);

#endif /* EXIT_WAIT_BPF_H */
