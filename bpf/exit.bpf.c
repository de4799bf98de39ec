// SPDX-License-Identifier: GPL-2.0
/*
 * The end of an execution (probe exec): sched_process_exit, tp_btf with a raw_tp
 * fallback. An execution ends at its last thread's exit and is emitted once that thread
 * has switched away for the last time, where its run time is final; a forked child that
 * never exec'd rolls its usage up to its owner's execution.
 *
 * BTF-typed kernels emit exits without any program on sched_switch. An exit waits in one
 * of its CPU's exit slots, holding a reference to its task; that CPU's timer (exit_timer)
 * checks the CPU's busy slots EXIT_ROUND_NS later and emits the exits whose task has
 * switched away for the last time (TASK_DEAD, off its CPU), where its run time is final;
 * the others wait for the next round. An exit that finds no free slot waits in
 * exits_pending, its key in exit_queue, which another timer takes the same way. All of an
 * exit's data stays on the CPU it exited on. Raw tracepoints cannot use timers and keep
 * the per-switch program (switch_raw). On both, the agent's task iterators also sweep
 * exits_pending (expire_exits, here; run by iter.bpf.c): the fallback if the timer could not
 * be set up.
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
#include "lib/bits.bpf.h"

/*
 * A round every EXIT_ROUND_NS while exits wait. Starting a timer is the expensive part
 * (it may reprogram the CPU's timer device: a VM exit in a VM, ~10 us here), so an exit
 * starts it only when it is idle, and a round takes every exit queued meanwhile.
 */
#define EXIT_ROUND_NS	  10000000ULL
#define EXIT_QUEUE	  4096 /* as exits_pending */
#define EXIT_QUEUE_TIMER  0    /* exit_timer's entry for exit_queue */
#define CLOCK_MONOTONIC	  1
#define PENDING_EXPIRE_NS (5 * 1000000000ULL)

/* where on_exit builds an exit_wait before inserting it whole: the same layout, task aside */
struct exit_wait_scratch {
	struct exit_pending p;
	__u64 task; /* not copied: the map skips its kptr field */
	__u64 key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exit_wait_scratch);
} pending_scratch SEC(".maps");

/*
 * A timer and, for a CPU's, which of that CPU's exit slots are busy (bit i: its slot
 * cpu * TW_EXIT_SLOTS_PER_CPU + i), in one cache line that its exits and its timer share;
 * 128 bytes apart from the next CPU's, whatever the map's alignment.
 */
struct exit_timer {
	struct bpf_timer timer;
	__u32 armed; /* started and not yet fired */
	__u32 pad;
	__u64 busy; /* set by an exit claiming the slot (fetch-or), cleared once it is emitted */
	__u64 pad2[12];
};

/* [0]: exit_queue's timer; [1 + cpu]: that CPU's slots and their timer (entries: loader) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exit_timer);
} exit_timer SEC(".maps");

/* keys of exits_pending entries for the timer to check */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, EXIT_QUEUE);
	__type(value, __u64);
} exit_queue SEC(".maps");

/*
 * Where an exit waits on BTF kernels, filled in place (no hash insert, no copy):
 * TW_EXIT_SLOTS_PER_CPU slots per CPU, the lowest free one claimed so that the few in use
 * stay in its cache, and checked by the CPU's own timer, which visits only the busy ones
 * (its busy bits). Exits that find no free slot go to exits_pending.
 */
struct exit_slot {
	struct exit_pending p;
	struct task_struct __kptr *task; /* a reference until the exit is emitted */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 128); /* TW_EXIT_SLOTS_PER_CPU per possible CPU (loader) */
	__type(key, __u32);
	__type(value, struct exit_slot);
} exit_slots SEC(".maps");

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/*
 * Starts a timer EXIT_ROUND_NS from now on this CPU (pinned where the kernel can: from
 * Linux 6.7); false if it could not be started.
 */
static __always_inline bool exit_timer_start(struct exit_timer *et)
{
	return !bpf_timer_start(&et->timer, EXIT_ROUND_NS, BPF_F_TIMER_CPU_PIN) ||
	       !bpf_timer_start(&et->timer, EXIT_ROUND_NS, 0);
}

/*
 * Starts exit timer idx unless it is started already (then its round takes this exit):
 * EXIT_QUEUE_TIMER, or this CPU's (exit_cpu_timer()).
 */
static __always_inline void exit_timer_kick(__u32 idx)
{
	struct exit_timer *et = bpf_map_lookup_elem(&exit_timer, &idx);

	/*
	 * started already: its round takes this exit (read before the compare-and-swap,
	 * which would take the cache line from the other CPUs at every exit)
	 */
	if (!et || et->armed || __sync_val_compare_and_swap(&et->armed, 0, 1))
		return;
	if (!exit_timer_start(et))
		et->armed = 0; /* not set up: the iterators' sweep emits it */
}

/* this CPU's slots' timer */
static __always_inline __u32 exit_cpu_timer(void)
{
	return 1 + bpf_get_smp_processor_id();
}

/* Puts a task reference into a waiting exit's kptr field (releasing what was there). */
static __always_inline void exit_task_put(struct task_struct **taskp, struct task_struct *t)
{
	t = bpf_kptr_xchg(taskp, t);
	if (t)
		bpf_task_release(t);
}

/*
 * Hands a filled waiting exit to an exit timer: a reference to task (a BTF-typed pointer)
 * in its kptr field taskp; an exits_pending entry's key (queued: its address) goes in the
 * queue, a slot needs nothing more (its CPU's timer checks its slots). False: no reference
 * could be taken. A full queue leaves it to the iterators' sweep.
 */
static __always_inline bool exit_hand_over(struct task_struct **taskp, __u64 *queued,
					   struct task_struct *task)
{
	struct task_struct *t = bpf_task_acquire(task);

	if (!t)
		return false;
	exit_task_put(taskp, t);
	if (!queued)
		exit_timer_kick(exit_cpu_timer());
	else if (!bpf_map_push_elem(&exit_queue, queued, 0))
		exit_timer_kick(EXIT_QUEUE_TIMER);
	return true;
}

/* exit slot k's busy bit; its CPU's exit_timer entry in *etp (NULL: none) */
static __always_inline __u64 slot_bit(__u32 k, struct exit_timer **etp)
{
	__u32 idx = 1 + k / TW_EXIT_SLOTS_PER_CPU;

	*etp = bpf_map_lookup_elem(&exit_timer, &idx);
	return 1ULL << (k & (TW_EXIT_SLOTS_PER_CPU - 1));
}

/*
 * Frees exit slot k, whose exit has been emitted or was never handed over. The fetching
 * form of the atomic (its result kept), which is fully ordered: the reads of the slot's
 * exit come before another exit may claim it, also where another CPU's sweep frees it.
 */
static __always_inline void slot_free(__u32 k)
{
	struct exit_timer *et;
	__u64 bit = slot_bit(k, &et), old;

	if (!et)
		return;
	old = __sync_fetch_and_and(&et->busy, ~bit);
	barrier_var(old);
}

/*
 * This CPU's lowest free slot, claimed (its index in *kp); NULL if all are busy. Only a
 * CPU's own exits set its bits (other CPUs' sweeps only clear them): no retry is needed.
 */
static __always_inline struct exit_slot *slot_claim(__u32 *kp)
{
	__u32 cpu = bpf_get_smp_processor_id(), idx = 1 + cpu, k;
	struct exit_timer *et = bpf_map_lookup_elem(&exit_timer, &idx);
	struct exit_slot *s;
	__u64 bit;

	if (!et)
		return NULL;
	bit = ~*(volatile __u64 *)&et->busy & slot_bits;
	bit &= -bit;
	if (!bit || (__sync_fetch_and_or(&et->busy, bit) & bit)) {
		__sync_fetch_and_add(&exits_unslotted, 1);
		return NULL;
	}
	k = cpu * TW_EXIT_SLOTS_PER_CPU + log2_u64(bit);
	s = bpf_map_lookup_elem(&exit_slots, &k);
	if (!s) {
		slot_free(k);
		return NULL;
	}
	*kp = k;
	return s;
}

/* This CPU's exit_wait to fill (every field of p) and hand to pending_insert(). */
static __always_inline struct exit_wait_scratch *pending_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pending_scratch, &zero);
}

/*
 * Inserts a filled exit_wait for task; false if the map is full (emit at once). BTF
 * kernels then hand it to the exit timer (btf: a compile-time constant).
 */
static __always_inline bool pending_insert(struct task_struct *task, struct exit_wait_scratch *w,
					   const bool btf)
{
	__u64 key = (__u64)task;
	struct exit_wait *old;
	long err;

	w->task = 0;
	w->key = key;
	err = bpf_map_update_elem(&exits_pending, &key, w, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* raw tracepoints: a task at this address before was freed unseen: emit it */
		old = bpf_map_lookup_elem(&exits_pending, &key);
		if (old) {
			__sync_fetch_and_add(&exits_unfreed, 1);
			finish_pending(key, &old->p, 1ULL << 63, false);
		}
		err = bpf_map_update_elem(&exits_pending, &key, w, BPF_ANY);
	}
	if (err)
		return false;
	if (btf) { /* no reference: the iterators' sweep emits it after the expiry */
		old = bpf_map_lookup_elem(&exits_pending, &key);
		if (old)
			exit_hand_over(&old->task, &key, task);
	}
	return true;
}

/* Where an exit waits until its task has switched away for good. */
struct exit_place {
	struct exit_slot *s;	     /* BTF kernels: one of this CPU's slots, */
	__u32 k;		     /* its index */
	struct exit_wait_scratch *w; /* else, or none free: built here for exits_pending */
};

/* A place for an exit to wait: the exit_pending to fill (every field), or NULL. */
static __always_inline struct exit_pending *exit_place_get(struct exit_place *at, const bool btf)
{
	at->k = 0;
	at->s = btf ? slot_claim(&at->k) : NULL;
	at->w = at->s ? NULL : pending_scratch_get();
	return at->s ? &at->s->p : at->w ? &at->w->p : NULL;
}

/* Leaves the filled exit to wait for task there; false (place freed): emit it now. */
static __always_inline bool exit_place_put(struct exit_place *at, struct task_struct *task,
					   const bool btf)
{
	if (!at->s)
		return at->w && pending_insert(task, at->w, btf);
	if (exit_hand_over(&at->s->task, NULL, task))
		return true;
	slot_free(at->k);
	return false;
}

/*
 * Adds an exiting thread's wait times and I/O to its execution: the kernel keeps no group
 * sum of the first, and folds children it reaps into the group's sum of the second.
 */
static __always_inline void add_thread_usage(struct task_struct *task, __u32 tgid, const bool btf)
{
	struct tw_exec_state *st = exec_of(tgid);

	if (!st)
		return;
	__sync_fetch_and_add(&st->usage.disk_read_bytes,
			     TW_READ(btf, task->ioac.read_bytes, task, ioac.read_bytes));
	__sync_fetch_and_add(&st->usage.disk_write_bytes,
			     TW_READ(btf, task->ioac.write_bytes, task, ioac.write_bytes));
	__sync_fetch_and_add(&st->usage.runq_wait_ns,
			     TW_READ(btf, task->sched_info.run_delay, task, sched_info.run_delay));
	if (delayacct_on)
		__sync_fetch_and_add(
		    &st->usage.blkio_wait_ns,
		    TW_READ(btf, task->delays->blkio_delay, task, delays, blkio_delay));
}

/*
 * Ends an execution at its last thread's exit; emitted once that thread has switched away
 * for good. True if deferred: the execution then stays in execs, marked exiting, until it
 * is emitted.
 */
static __always_inline bool defer_exit(struct task_struct *task, __u32 tgid,
				       struct tw_exec_state *st, __u64 now, __u32 status,
				       const bool btf)
{
	struct exit_place at;
	struct exit_pending *p;

	if (exit_filtered_out(st, now, status))
		return false;
	p = exit_place_get(&at, btf);
	if (p) {
		fill_exit(&p->rec, task, tgid, st, now, status, 0, &p->raw, btf);
		p->rolled = st->usage;
		p->thread_cpu_ns = thread_cpu_at(task, st, now, btf);
		p->exit_ns = now;
		p->owner = 0;
		p->pad = 0;
		if (exit_place_put(&at, task, btf))
			return true;
	}
	emit_exit(task, tgid, st, now, status, 0, 0, btf); /* no room to defer */
	return false;
}

/*
 * A forked child of execution owner (ost) exits 127 without having tried an exec: a
 * shell's "command not found" (bash forks, then finds nothing to exec).
 */
static __always_inline void emit_no_exec(struct task_struct *task, __u32 tgid, __u32 owner,
					 struct tw_exec_state *ost, const bool btf)
{
	struct tw_no_exec_rec *rec;

	if (targ_min_duration_ns)
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost(TW_LOST_RINGBUF_FAIL);
		return;
	}
	rec->type = TW_REC_NO_EXEC;
	rec->tgid = tgid;
	rec->owner = owner;
	rec->uid = (__u32)bpf_get_current_uid_gid();
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->owner_start_ns = ost->start_ns;
	rec->ts_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	bpf_ringbuf_submit(rec, rb_flags());
}

/* btf: a compile-time constant, true for tp_btf (direct loads), false for raw_tp */
static __always_inline int on_exit(struct task_struct *task, const bool btf)
{
	__u32 tgid, status;
	struct tw_exec_state *st;
	struct pending_fail *p;
	bool tried;

	if (is_kthread(task, btf))
		return 0;
	tgid = TW_READ(btf, task->tgid, task, tgid);
	/* every thread's socket bytes go to its execution as it ends */
	fold_net(task, tgid);
	/* only the last thread of the group ends the process */
	if (TW_READ(btf, task->signal->live.counter, task, signal, live.counter) != 0) {
		/* a thread's wait times and I/O (a leader's are read at the group's end) */
		if (TW_READ(btf, task->pid, task, pid) != tgid)
			add_thread_usage(task, tgid, btf);
		return 0;
	}

	p = fails_pending > 0 ? bpf_map_lookup_elem(&exec_pending, &tgid) : NULL;
	tried = p;
	if (p) {
		emit_exec_fail(task, tgid, p, btf);
		if (!bpf_map_delete_elem(&exec_pending, &tgid))
			__sync_fetch_and_add(&fails_pending, -1);
	}

	st = execs_get(tgid);
	if (!st)
		return 0;
	if (st->owner) {
		/* a child that never exec'd: its usage rolls up to its owner's execution */
		__u32 owner = st->owner;
		struct tw_exec_state *ost;
		struct tw_usage u = {};

		/* threads exiting together may each see live == 0: who deletes it rolls up */
		if (!execs_delete(tgid))
			return 0;
		ost = execs_get(owner);
		if (ost && !ost->owner) {
			__u64 now = bpf_ktime_get_ns();
			struct exit_place at;
			struct exit_pending *pend;

			group_usage(task, NULL, false, page_size, now, &u, NULL, btf);
			usage_roll_up(&ost->usage, &u);
			if (!tried && group_exit_status(task, btf) == 127 << 8)
				emit_no_exec(task, tgid, owner, ost, btf);
			/* the CPU time of its exit follows at the task's last switch */
			pend = exit_place_get(&at, btf);
			if (pend) {
				__builtin_memset(pend, 0, sizeof(*pend));
				pend->owner = owner;
				pend->thread_cpu_ns = thread_cpu_at(task, NULL, now, btf);
				pend->exit_ns = now;
				pend->raw.utime_ns = u.cpu_user_ns;
				pend->raw.stime_ns = u.cpu_system_ns;
				/* no room: that stretch is not counted */
				exit_place_put(&at, task, btf);
			}
		}
		return 0;
	}
	/*
	 * threads of a group that exit together may each see live == 0 (each decrements it
	 * before its sched_process_exit): the one that marks the execution exiting ends it,
	 * and it stays marked until the exit is emitted
	 */
	if (__sync_val_compare_and_swap(&st->exiting, 0, 1))
		return 0;
	status = group_exit_status(task, btf);
	if (!defer_exit(task, tgid, st, bpf_ktime_get_ns(), status, btf))
		execs_delete(tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	return on_exit(p, true);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(handle_exit_raw, struct task_struct *p)
{
	return on_exit(p, false);
}

/* the task has switched away for the last time: its run time is final */
static __always_inline bool task_gone(struct task_struct *t)
{
	return (t->__state & TASK_DEAD) && !t->on_cpu;
}

/*
 * Checks a waiting exit p, its task reference in taskp, and emits it if its task is
 * gone, or with the run time so far once it waited PENDING_EXPIRE_NS: 1; 0 if it still
 * waits; -1 without a reference (another CPU holds it, none was set, or the entry was
 * reused for another exit meanwhile: *keyp != key). slot: p is in an exit slot (the
 * caller frees it), else in exits_pending at key.
 */
static __always_inline int check_waiting(struct task_struct **taskp, struct exit_pending *p,
					 __u64 key, const __u64 *keyp, __u64 now, const bool slot)
{
	struct task_struct *t = bpf_kptr_xchg(taskp, NULL);
	__u64 delta;

	if (!t)
		return -1;
	if (!slot && *keyp != key) {
		exit_task_put(taskp, t);
		return -1;
	}
	if (!task_gone(t)) {
		if (now - p->exit_ns < PENDING_EXPIRE_NS || now < p->exit_ns) {
			exit_task_put(taskp, t);
			return 0;
		}
		__sync_fetch_and_add(&exits_late, 1);
	}
	delta = t->se.sum_exec_runtime - p->thread_cpu_ns;
	if ((__s64)delta < 0) /* the exact run time read at the exit was a little ahead */
		delta = 0;
	bpf_task_release(t);
	finish_pending(key, p, delta, slot);
	return 1;
}

/* check_waiting() for the exits_pending entry w at key (BTF kernels) */
static __always_inline int check_exit(__u64 key, struct exit_wait *w, __u64 now)
{
	return check_waiting(&w->task, &w->p, key, &w->key, now, false);
}

/*
 * The iterators' sweep (at the end of each sampler or reaper pass): BTF kernels check
 * every pending exit as the timer does (the fallback if it is not set up); raw
 * tracepoints emit those that waited PENDING_EXPIRE_NS for a last switch never seen.
 * Either way an entry that waited that long and a second more is emitted.
 */
static long sweep_pending(struct bpf_map *map, __u64 *key, struct exit_wait *w, __u64 *now)
{
	if (btf_tasks && check_exit(*key, w, *now) >= 0)
		return 0;
	if (*now - w->p.exit_ns > PENDING_EXPIRE_NS + (btf_tasks ? 1000000000ULL : 0) &&
	    *now > w->p.exit_ns) {
		__sync_fetch_and_add(btf_tasks ? &exits_late : &exits_unfreed, 1);
		finish_pending(*key, &w->p, 1ULL << 63,
			       false); /* no task to read the last stretch */
	}
	return 0;
}

struct exit_round {
	__u64 now;
	__u64 first_back; /* the queue: the first key put back; met again, the round ends */
	__u64 busy;	  /* a CPU's slots: the busy ones not yet checked */
	__u32 back;	  /* 1 once an exit waits for the next round (0 or 1: the verifier's
			     states converge) */
	__u32 done;	  /* exits emitted */
	__u32 base;	  /* a CPU's slots: its first (slot_claim()'s numbering) */
	__u32 pad;
};

/* check_waiting() for slot s (index k), freed once its exit is emitted */
static __always_inline int check_slot(struct exit_slot *s, __u32 k, __u64 now)
{
	int rc = check_waiting(&s->task, &s->p, 0, NULL, now, true);

	if (rc > 0)
		slot_free(k);
	return rc;
}

/* The iterators' sweep over the slots (the fallback if the timer is not set up). */
static long sweep_slot(struct bpf_map *map, __u32 *key, struct exit_slot *s, __u64 *now)
{
	struct exit_timer *et;
	__u64 bit = slot_bit(*key, &et);

	if (et && (et->busy & bit))
		check_slot(s, *key, *now);
	return 0;
}

/* the iterators' sweep: declared in lib/exit_wait.bpf.h, which says why it lives here */
__hidden void expire_exits(void)
{
	__u64 now = bpf_ktime_get_ns();

	bpf_for_each_map_elem(&exits_pending, sweep_pending, &now, 0);
	if (btf_tasks)
		bpf_for_each_map_elem(&exit_slots, sweep_slot, &now, 0);
}

/* one key of exit_queue (an exits_pending entry's) */
static long queue_round_step(__u64 i, struct exit_round *r)
{
	struct exit_wait *w;
	__u64 v;
	int rc;

	if (bpf_map_pop_elem(&exit_queue, &v))
		return 1;
	if (r->back && v == r->first_back) {
		/* the keys before the next exits are all back for the next round: it ends */
		bpf_map_push_elem(&exit_queue, &v, 0); /* full: the iterators' sweep emits it */
		return 1;
	}
	w = bpf_map_lookup_elem(&exits_pending, &v);
	if (!w)
		return 0; /* emitted by the iterators' sweep */
	rc = check_exit(v, w, r->now);
	if (rc > 0) {
		r->done++;
	} else if (!bpf_map_push_elem(&exit_queue, &v, 0)) { /* the next round */
		if (!r->back) {
			r->back = 1;
			r->first_back = v;
		}
	}
	return 0;
}

/* a CPU's lowest busy slot not yet checked (index base + its bit); 1 once none is left */
static long slot_round_step(__u64 i, struct exit_round *r)
{
	__u64 bit = r->busy & -r->busy;
	__u32 k = r->base + log2_u64(bit);
	struct exit_slot *s;

	if (!bit)
		return 1;
	r->busy &= ~bit;
	s = bpf_map_lookup_elem(&exit_slots, &k);
	if (!s)
		return 0;
	if (check_slot(s, k, r->now) > 0)
		r->done++;
	else /* waits, is still being filled in, or another CPU's sweep emits it */
		r->back = 1;
	return 0;
}

/*
 * An exit timer's round: exit_queue's (entry EXIT_QUEUE_TIMER) over the queued exits,
 * a CPU's over its busy slots; it emits the exits whose task is gone. sched_process_free
 * would be once per task without a timer but comes after an RCU grace period, which a
 * lazy-RCU kernel (CONFIG_RCU_LAZY) stretches to seconds: an exit would reach /metrics
 * seconds late.
 */
static int exit_timer_fire(void *map, __u32 *k, struct exit_timer *et)
{
	struct exit_round r = {.now = bpf_ktime_get_ns()};

	/* an exit queued from now on starts the timer again */
	__sync_lock_test_and_set(&et->armed, 0);
	if (*k == EXIT_QUEUE_TIMER) {
		bpf_loop(EXIT_QUEUE, queue_round_step, &r, 0);
	} else {
		r.base = (*k - 1) * TW_EXIT_SLOTS_PER_CPU;
		r.busy = *(volatile __u64 *)&et->busy;
		bpf_loop(TW_EXIT_SLOTS_PER_CPU, slot_round_step, &r, 0);
	}
	/* exits still waiting: the next round */
	if (r.back && !__sync_val_compare_and_swap(&et->armed, 0, 1) && !exit_timer_start(et))
		et->armed = 0; /* the next exit tries again; the iterators' sweep meanwhile */
	if (timer_stats) {
		__sync_fetch_and_add(&exit_timer_ns, bpf_ktime_get_ns() - r.now);
		__sync_fetch_and_add(&exit_timer_runs, 1);
	}
	return 0;
}

/* sets one exit timer up; the first error in *err */
static long init_one_timer(struct bpf_map *map, __u32 *key, struct exit_timer *et, long *err)
{
	long e = bpf_timer_init(&et->timer, &exit_timer, CLOCK_MONOTONIC);

	if (!e)
		e = bpf_timer_set_callback(&et->timer, exit_timer_fire);
	if (e && !*err)
		*err = e;
	return 0;
}

/*
 * Run once by the agent after loading (BTF kernels): sets the exit timers up in process
 * context (their allocation may be refused on the exit path).
 */
SEC("iter/task")
int init_exit_timer(struct bpf_iter__task *ctx)
{
	long err = 0;

	if (ctx->task) /* once, at the end of the pass */
		return 0;
	bpf_for_each_map_elem(&exit_timer, init_one_timer, &err, 0);
	exit_timer_unready = err ? -err : 0;
	return 0;
}

/*
 * Raw tracepoints (no timers): the exiting task's last switch, where its run time is
 * final, emits its pending exit.
 */
SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if ((BPF_CORE_READ(prev, __state) & TASK_DEAD) && (BPF_CORE_READ(prev, flags) & PF_EXITING))
		finish_exit(prev, BPF_CORE_READ(prev, se.sum_exec_runtime));
	return 0;
}
