// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of toolwatch: one record per execution start, end and failed exec, with the
 * in-flight state in bounded hash maps. Built only on tracepoints (tp_btf with raw_tp
 * fallbacks for the sched events, tp/syscalls for failed execs) and a task iterator.
 * Helpers that do not touch this file's maps live in lib/: maps.bpf.h, task.bpf.h,
 * usage.bpf.h and bits.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "toolwatch.h"
#include "lib/maps.bpf.h"
#include "lib/task.bpf.h"
#include "lib/usage.bpf.h"

#define EACCES		13
#define ENOENT		2
#define ENOTDIR		20
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
const volatile __u64 page_size = 4096;
/* BTF-typed tasks available: syscall tracepoints use bpf_get_current_task_btf() */
const volatile bool btf_tasks = false;
/* handle_preexec (sched_prepare_exec, Linux 6.10) notes the peak of an image an exec replaces */
const volatile bool prep_exec = false;
/* sched_switch also measures run-queue latency (probe runqlat, opt-in, BTF only) */
const volatile bool runqlat_enabled = false;
/* probe net: TCP bytes from the sockets' own counters (charged at state changes) */
const volatile bool net_enabled = true;
/* probe tcp: connections and retransmits per execution */
const volatile bool tcp_enabled = true;
/* probe netcalls (opt-in, BTF only): payload of every other socket call, per thread */
const volatile bool netcalls_enabled = false;

/*
 * Entries in exec_pending: the exec and exit paths look it up only while it holds any
 * (a lookup of an absent key still costs a cache miss or two on every execution).
 */
__s64 fails_pending = 0;

/* Drop counters, read by the agent and exported; indexed by enum tw_lost_reason. */
__u64 lost[TW_LOST_MAX] = {};

/* the user pointer of the path an execve in progress was given (read only if it fails) */
struct exec_try {
	__u64 filename;
	__u64 peak_rss_bytes; /* of the image about to be replaced, if the exec succeeds */
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

/*
 * tgid -> the execution that process image is running (owner 0), or, for a forked child
 * that has not exec'd, the tgid of the execution its usage rolls up to (owner): the
 * child's exec then turns its entry into an execution in place
 */
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

/*
 * An exit waiting for its task to switch away for the last time, where its run time is
 * final: the scheduler folds the last stretch into sum_exec_runtime only then. The
 * execution stays in execs meanwhile (exiting set), so that sockets the kernel closes
 * after sched_process_exit (exit_files) are still charged to it.
 */
struct exit_pending {
	struct tw_exit_rec rec;	 /* complete but for CPU time */
	struct tw_raw_usage raw; /* the group's own counters at exit, minus base */
	struct tw_usage rolled;	 /* the execution's tw_exec_state usage at exit */
	__u64 thread_cpu_ns;	 /* the exiting thread's sum_exec_runtime at exit */
	__u64 exit_ns;		 /* when it exited, to emit it anyway if no free is seen */
	__u32 owner;		 /* child roll-up: the owner's tgid; 0: an execution's end */
	__u32 pad;
};

/* a value of exits_pending */
struct exit_wait {
	struct exit_pending p;
	/* BTF kernels: a reference to the task (set after the insert), until it is emitted */
	struct task_struct __kptr *task;
	__u64 key; /* the entry's own key: checked after taking task (entries are reused) */
};

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
 * task_struct address of an exiting thread -> its exit (unique while the task lives: a
 * BTF kernel's entry holds a reference to it); preallocated: no allocation on the exit path
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct exit_wait);
} exits_pending SEC(".maps");

/*
 * Raw tracepoints: exits emitted without their task's last switch having been seen (the
 * agent started mid-exit): at the next use of the task's address, or after
 * PENDING_EXPIRE_NS. Their last stretch of CPU is not counted.
 */
__u64 exits_unfreed = 0;

/*
 * BTF-typed kernels emit exits without any program on sched_switch. An exits_pending
 * entry holds a reference to its task and its key waits in exit_queue; one timer
 * (exit_timer) takes the queue EXIT_ROUND_NS later and emits the exits whose task has
 * switched away for the last time (TASK_DEAD, off its CPU), where its run time is final;
 * the others go back in the queue for the next round. Raw tracepoints cannot use timers and keep
 * the per-switch program (switch_raw). On both, the agent's task iterators also sweep
 * exits_pending (expire_exits): the fallback if the timer could not be set up.
 */
/*
 * A round every EXIT_ROUND_NS while exits wait. Starting a timer is the expensive part
 * (it may reprogram the CPU's timer device: a VM exit in a VM, ~10 us here), so an exit
 * starts it only when it is idle, and a round takes every exit queued meanwhile.
 */
#define EXIT_ROUND_NS	10000000ULL
#define EXIT_QUEUE	4096 /* as exits_pending */
#define CLOCK_MONOTONIC 1
#define EEXIST		17

struct exit_timer {
	struct bpf_timer timer;
	__u32 armed; /* started and not yet fired */
	__u32 pad;
};

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
 * TW_EXIT_SLOTS_PER_CPU slots per CPU, reused in turn so that they stay in its cache. Exits that
 * find no free slot among a few go to exits_pending. exit_queue holds a slot's index, or
 * an exits_pending key (a task address: larger than any index).
 */
struct exit_slot {
	struct exit_pending p;
	struct task_struct __kptr *task; /* a reference until the exit is emitted */
	__u32 busy;			 /* claimed (0 -> 1) until then */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 128); /* TW_EXIT_SLOTS_PER_CPU per possible CPU (loader) */
	__type(key, __u32);
	__type(value, struct exit_slot);
} exit_slots SEC(".maps");

/* exit_slots' entries - 1 (a power of two - 1) */
const volatile __u32 slot_mask = 127;

/* exits that found the slots they tried busy and waited in exits_pending instead */
__u64 exits_unslotted = 0;

/* each CPU's next slot */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} slot_cursor SEC(".maps");

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* keys in exit_queue (a round takes this many) */
__s64 exit_queued = 0;
/*
 * Exits emitted with the run time they had so far: their task had not switched away for
 * good PENDING_EXPIRE_NS after its exit.
 */
__u64 exits_late = 0;
/* errno of the exit timer's set-up at load, 0 once set up (else the iterators' sweep emits) */
__u64 exit_timer_unready = 1;
/* the timer callback's own run time and runs (--bpf.stats): the kernel does not count it */
const volatile bool timer_stats = false;
__u64 exit_timer_ns = 0;
__u64 exit_timer_runs = 0;

static __always_inline void finish_pending(__u64 key, struct exit_pending *p, __u64 delta,
					   const bool slot);

/* Starts the exit timer unless it is started already (then its round takes this exit). */
static __always_inline void exit_timer_kick(void)
{
	__u32 zero = 0;
	struct exit_timer *et = bpf_map_lookup_elem(&exit_timer, &zero);

	if (!et)
		return;
	/* started already: its round takes this exit */
	if (__sync_val_compare_and_swap(&et->armed, 0, 1))
		return;
	if (bpf_timer_start(&et->timer, EXIT_ROUND_NS, 0))
		et->armed = 0; /* not set up: the iterators' sweep emits it */
}

/* Puts a task reference into a waiting exit's kptr field (releasing what was there). */
static __always_inline void exit_task_put(struct task_struct **taskp, struct task_struct *t)
{
	t = bpf_kptr_xchg(taskp, t);
	if (t)
		bpf_task_release(t);
}

/*
 * Hands a filled waiting exit to the exit timer: a reference to task (a BTF-typed
 * pointer) in its kptr field taskp, v (a slot index or an exits_pending key) in the
 * queue. False: no reference could be taken. A full queue leaves it to the iterators'
 * sweep.
 */
static __always_inline bool exit_hand_over(struct task_struct **taskp, __u64 v,
					   struct task_struct *task)
{
	struct task_struct *t = bpf_task_acquire(task);

	if (!t)
		return false;
	exit_task_put(taskp, t);
	if (!bpf_map_push_elem(&exit_queue, &v, 0)) {
		__sync_fetch_and_add(&exit_queued, 1);
		exit_timer_kick();
	}
	return true;
}

/* A free slot of this CPU's, claimed; NULL if the few tried are busy. */
static __always_inline struct exit_slot *slot_claim(__u32 *idx)
{
	__u32 zero = 0, *c = bpf_map_lookup_elem(&slot_cursor, &zero), k;
	__u32 base = bpf_get_smp_processor_id() * TW_EXIT_SLOTS_PER_CPU;
	struct exit_slot *s;

	if (!c)
		return NULL;
	for (int i = 0; i < 4; i++) {
		k = (base + (*c & (TW_EXIT_SLOTS_PER_CPU - 1))) & slot_mask;
		*c += 1;
		s = bpf_map_lookup_elem(&exit_slots, &k);
		if (s && !s->busy && !__sync_val_compare_and_swap(&s->busy, 0, 1)) {
			*idx = k;
			return s;
		}
	}
	__sync_fetch_and_add(&exits_unslotted, 1);
	return NULL;
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
			exit_hand_over(&old->task, key, task);
	}
	return true;
}

/* Where an exit waits until its task has switched away for good. */
struct exit_place {
	struct exit_slot *s;	     /* BTF kernels: one of this CPU's slots */
	struct exit_wait_scratch *w; /* else, or none free: built here for exits_pending */
	__u32 idx;
};

/* A place for an exit to wait: the exit_pending to fill (every field), or NULL. */
static __always_inline struct exit_pending *exit_place_get(struct exit_place *at, const bool btf)
{
	at->idx = 0;
	at->s = btf ? slot_claim(&at->idx) : NULL;
	at->w = at->s ? NULL : pending_scratch_get();
	return at->s ? &at->s->p : at->w ? &at->w->p : NULL;
}

/* Leaves the filled exit to wait for task there; false (place freed): emit it now. */
static __always_inline bool exit_place_put(struct exit_place *at, struct task_struct *task,
					   const bool btf)
{
	if (!at->s)
		return at->w && pending_insert(task, at->w, btf);
	if (exit_hand_over(&at->s->task, at->idx, task))
		return true;
	__sync_lock_test_and_set(&at->s->busy, 0);
	return false;
}

/*
 * Socket bytes of a thread (probe netcalls), counted in its own storage (no hash lookup,
 * no atomics on the send/recv path) and folded into its execution when it exits or execs.
 */
struct net_acc {
	__u64 tx;
	__u64 rx;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct net_acc);
} net_accs SEC(".maps");

/*
 * A TCP socket seen opening, and the execution its bytes are charged to: the one that
 * connect()ed it, or for an accepted socket the one that first closes or shuts it down.
 */
struct sock_owner {
	__u64 tx; /* payload bytes charged so far */
	__u64 rx;
	__u64 start_ns; /* of the owning execution; 0: not known yet (accepted socket) */
	__u32 tgid;	/* the owning execution's tgid */
	__u32 active;	/* opened by connect(): its SYN is counted in bytes_acked */
};

/* struct sock address -> its owner; an entry lives from the open to TCP_CLOSE */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_owner);
} sock_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_HOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} host_counts SEC(".maps");

/* room for the largest exec record (struct tw_exec_rec and its variable parts) */
struct exec_buf {
	char bytes[TW_EXEC_REC_MAX];
};

/* where handle_exec builds an exec record, output at its real size (per CPU: no sharing) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_buf);
} exec_buf SEC(".maps");

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
	__type(value, struct pending_fail);
} fail_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_sample_rec);
} sample_scratch SEC(".maps");

static __always_inline void count_lost(int reason)
{
	if (reason >= 0 && reason < TW_LOST_MAX)
		__sync_fetch_and_add(&lost[reason], 1);
}

static __always_inline __u64 rb_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

/* host-wide latency programs (run queue, block I/O): they use count_lost() */
#include "host.bpf.h"

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
	struct tw_exec_state *st = bpf_map_lookup_elem(&execs, &tgid);
	__u32 owner;

	*exec_tgid = tgid;
	if (!st || !st->owner)
		return st;
	owner = st->owner;
	*exec_tgid = owner;
	st = bpf_map_lookup_elem(&execs, &owner);
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

/* Adds an exiting thread's wait times to its execution: the kernel keeps no group sum. */
static __always_inline void add_thread_waits(struct task_struct *task, __u32 tgid, const bool btf)
{
	struct tw_exec_state *st = exec_of(tgid);

	if (!st)
		return;
	__sync_fetch_and_add(&st->usage.runq_wait_ns,
			     TW_READ(btf, task->sched_info.run_delay, task, sched_info.run_delay));
	if (delayacct_on)
		__sync_fetch_and_add(
		    &st->usage.blkio_wait_ns,
		    TW_READ(btf, task->delays->blkio_delay, task, delays, blkio_delay));
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
	rec->uid = (__u32)bpf_get_current_uid_gid();
	rec->cgroup_id = bpf_get_current_cgroup_id();
	rec->start_ns = st->start_ns;
	rec->end_ns = now;
	rec->exit_code = status;
	rec->flags = st->flags | flags;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
	group_usage(task, &st->base, flags & TW_F_REEXEC, page_size, &rec->usage, raw, btf);
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
		p->thread_cpu_ns =
		    TW_READ(btf, task->se.sum_exec_runtime, task, se.sum_exec_runtime);
		p->exit_ns = now;
		p->owner = 0;
		p->pad = 0;
		if (exit_place_put(&at, task, btf))
			return true;
	}
	emit_exit(task, tgid, st, now, status, 0, 0, btf); /* no room to defer */
	return false;
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
 * Outputs the exec record of a new execution: built in exec_buf, argv and path copied
 * once each straight into it, then only the bytes used go to the ring buffer.
 */
static __always_inline void emit_exec(struct task_struct *task, __u32 tgid, __u32 ppid, __u32 uid,
				      __u64 cgid, __u64 now, const char *filename, const bool btf)
{
	unsigned long arg_start, arg_end;
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
	rec->start_ns = now;
	rec->flags = 0;
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));

	n = bpf_probe_read_kernel_str(rec->data, TW_PATH_LEN, filename);
	fsize = n > 0 ? n : 0;
	/* keep the clamped registers themselves: the verifier must see the bounds */
	barrier_var(fsize);
	if (fsize > TW_PATH_LEN)
		fsize = TW_PATH_LEN;

	mm = TW_READ(btf, task->mm, task, mm);
	arg_start = TW_READ(btf, mm->arg_start, mm, arg_start);
	arg_end = TW_READ(btf, mm->arg_end, mm, arg_end);
	asize = arg_end > arg_start ? arg_end - arg_start : 0;
	if (asize > TW_ARGS_LEN) {
		asize = TW_ARGS_LEN;
		rec->flags |= TW_F_ARGS_TRUNC;
	}
	barrier_var(asize);
	if (asize > TW_ARGS_LEN)
		asize = 0;
	if (bpf_probe_read_user(rec->data + fsize, asize, (void *)arg_start))
		asize = 0;
	rec->filename_size = fsize;
	rec->args_size = asize;
	if (bpf_ringbuf_output(&events, rec, sizeof(*rec) + fsize + asize, rb_flags()))
		count_lost(TW_LOST_RINGBUF_EXEC);
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
	struct tw_exec_state fresh = {}, *st;
	struct exec_try *try;
	__u64 old_peak = 0;
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

	filtered = exec_filtered_out(tgid, ppid, uid, cgid);
	st = bpf_map_lookup_elem(&execs, &tgid);
	/* exiting: a reused tgid whose old execution awaits its emission: replaced below */
	if (st && !st->exiting) {
		/* exec of an already exec'd image: that execution ends here, successfully */
		if (!st->owner) {
			if (btf)
				old_peak = st->reexec_peak_bytes;
			emit_exit(task, tgid, st, now, 0, TW_F_REEXEC, old_peak, btf);
		}
		if (filtered) {
			bpf_map_delete_elem(&execs, &tgid);
			return 0;
		}
		/* the entry (its own old execution, or a forked child's) becomes the new one */
		__builtin_memset(st, 0, sizeof(*st));
	} else {
		if (filtered)
			return 0;
		st = &fresh;
	}
	st->start_ns = now;
	if (btf) {
		raw_add_signal_btf(&st->base, task);
		raw_add_thread_btf(&st->base, task);
	} else {
		raw_add_signal(&st->base, task);
		raw_add_thread(&st->base, task);
	}
	if (st == &fresh && bpf_map_update_elem(&execs, &tgid, &fresh, BPF_ANY)) {
		count_lost(TW_LOST_EXECS_FULL);
		return 0;
	}
	emit_exec(task, tgid, ppid, uid, cgid, now, TW_READ(btf, bprm->filename, bprm, filename),
		  btf);
	return 0;
}

/* btf: a compile-time constant, true for tp_btf (direct loads), false for raw_tp */
static __always_inline int on_exit(struct task_struct *task, const bool btf)
{
	__u32 tgid, status;
	struct tw_exec_state *st;
	struct pending_fail *p;

	if (is_kthread(task, btf))
		return 0;
	tgid = TW_READ(btf, task->tgid, task, tgid);
	/* every thread's socket bytes go to its execution as it ends */
	fold_net(task, tgid);
	/* only the last thread of the group ends the process */
	if (TW_READ(btf, task->signal->live.counter, task, signal, live.counter) != 0) {
		/* a thread's wait times (a leader's are read at the group's end) */
		if (TW_READ(btf, task->pid, task, pid) != tgid)
			add_thread_waits(task, tgid, btf);
		return 0;
	}

	p = fails_pending > 0 ? bpf_map_lookup_elem(&exec_pending, &tgid) : NULL;
	if (p) {
		emit_exec_fail(task, tgid, p, btf);
		if (!bpf_map_delete_elem(&exec_pending, &tgid))
			__sync_fetch_and_add(&fails_pending, -1);
	}

	st = bpf_map_lookup_elem(&execs, &tgid);
	if (!st)
		return 0;
	if (st->owner) {
		/* a child that never exec'd: its usage rolls up to its owner's execution */
		__u32 owner = st->owner;
		struct tw_exec_state *ost;
		struct tw_usage u = {};

		/* threads exiting together may each see live == 0: who deletes it rolls up */
		if (bpf_map_delete_elem(&execs, &tgid))
			return 0;
		ost = bpf_map_lookup_elem(&execs, &owner);
		if (ost && !ost->owner) {
			struct exit_place at;
			struct exit_pending *pend;

			group_usage(task, NULL, false, page_size, &u, NULL, btf);
			usage_roll_up(&ost->usage, &u);
			/* the last stretch of CPU follows at the task's last switch */
			pend = exit_place_get(&at, btf);
			if (pend) {
				__builtin_memset(pend, 0, sizeof(*pend));
				pend->owner = owner;
				pend->thread_cpu_ns = TW_READ(btf, task->se.sum_exec_runtime, task,
							      se.sum_exec_runtime);
				pend->exit_ns = bpf_ktime_get_ns();
				pend->raw.utime_ns = u.cpu_user_ns;
				pend->raw.stime_ns = u.cpu_system_ns;
				/* no room: that stretch is not counted */
				exit_place_put(&at, task, btf);
			}
		}
		bpf_map_delete_elem(&execs, &tgid);
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
		bpf_map_delete_elem(&execs, &tgid);
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

/*
 * A tracked process about to replace its image (BTF-typed task): notes the image's peak
 * RSS in its execution, for the exit record the exec will emit.
 */
static __always_inline void note_old_peak(struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct tw_exec_state *st = bpf_map_lookup_elem(&execs, &tgid);

	if (st && !st->exiting && !st->owner)
		st->reexec_peak_bytes = mm_peak_rss_bytes_btf(task->mm, page_size);
}

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
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct pending_fail *p, *fresh;
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;
	__s32 err = -ret;
	bool stale = false;
	long uerr;

	p = bpf_map_lookup_elem(&exec_pending, &tgid);
	if (p && now - p->ts_ns > PENDING_FOLD_NS) {
		/* an unrelated earlier failure of a long-lived process */
		emit_exec_fail(task, tgid, p, false);
		p = NULL;
		stale = true;
	}
	if (!p) {
		fresh = bpf_map_lookup_elem(&fail_scratch, &zero);
		if (!fresh)
			return;
		fresh->ts_ns = now;
		fresh->error = err;
		fresh->attempts = 1;
		/* a failed execve left the caller's memory as it was: read the path now */
		bpf_probe_read_user_str(fresh->filename, sizeof(fresh->filename), filename);
		/* replaces the stale entry, unless a successful exec deleted it meanwhile */
		if (stale && !bpf_map_update_elem(&exec_pending, &tgid, fresh, BPF_EXIST))
			return;
		uerr = bpf_map_update_elem(&exec_pending, &tgid, fresh, BPF_NOEXIST);
		if (!uerr)
			__sync_fetch_and_add(&fails_pending, 1);
		else if (uerr != -EEXIST) /* EEXIST: a sibling thread's attempt is there */
			count_lost(TW_LOST_PENDING_FULL);
		return;
	}
	/* a PATH search: report EACCES over ENOENT, like execvp does */
	p->ts_ns = now;
	p->attempts++;
	if (!(p->error == EACCES && (err == ENOENT || err == ENOTDIR))) {
		p->error = err;
		bpf_probe_read_user_str(p->filename, sizeof(p->filename), filename);
	}
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

/*
 * An exec past its point of no return, the old image still in place: a tracked process
 * notes that image's peak for the end of its execution (BTF kernels from Linux 6.10;
 * else execve_enter does it). The lookup also warms what handle_exec looks up next.
 */
SEC("tp_btf/sched_prepare_exec")
int BPF_PROG(handle_preexec, struct task_struct *task, struct linux_binprm *bprm)
{
	note_old_peak(task);
	return 0;
}

/* Forked children that do not exec belong to the forking execution. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct tw_exec_state fresh = {}, *pst;

	/* threads share their process's execution */
	if (child->pid != ctgid)
		return 0;
	pst = bpf_map_lookup_elem(&execs, &ptgid);
	if (!pst)
		return 0;
	fresh.owner = pst->owner ? pst->owner : ptgid;
	if (bpf_map_update_elem(&execs, &ctgid, &fresh, BPF_ANY))
		count_lost(TW_LOST_OWNERS_FULL);
	return 0;
}

/* Hot paths read BTF-typed arguments directly (one load) instead of probe-reading. */
static __always_inline bool inet_family(struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return family == 2 /* AF_INET */ || family == 10 /* AF_INET6 */;
}

#define IPPROTO_TCP 6

/* probe netcalls: what the TCP counters do not cover (all of it when probe net is off) */
static __always_inline bool netcall_counted(struct sock *sk)
{
	return inet_family(sk) && !(net_enabled && sk->sk_protocol == IPPROTO_TCP);
}

/* Socket payload bytes, summed in the kernel per execution (never one record per send). */
static __always_inline struct net_acc *current_net_acc(void)
{
	return bpf_task_storage_get(&net_accs, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(handle_sock_tx, struct sock *sk, int ret, int flags)
{
	struct net_acc *a;

	if (ret <= 0 || !netcall_counted(sk))
		return 0;
	a = current_net_acc();
	if (a)
		a->tx += (__u64)ret; /* the thread's own storage: it runs on one CPU at a time */
	return 0;
}

#define MSG_PEEK 2

SEC("tp_btf/sock_recv_length")
int BPF_PROG(handle_sock_rx, struct sock *sk, int ret, int flags)
{
	struct net_acc *a;

	/* peeked bytes are received again later: count them once */
	if (ret <= 0 || (flags & MSG_PEEK) || !netcall_counted(sk))
		return 0;
	a = current_net_acc();
	if (a)
		a->rx += (__u64)ret;
	return 0;
}

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_TIME_WAIT	6
#define TCP_CLOSE	7
#define TCP_LAST_ACK	9
#define TCP_CLOSING	11
#define SOCK_DONE_BIT	1 /* enum sock_flags: a FIN was received */

/* our FIN is in write_seq (and in bytes_acked once acked) in these states */
static __always_inline bool fin_queued(int state)
{
	return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
	       state == TCP_LAST_ACK || state == TCP_TIME_WAIT;
}

/*
 * Charges what a TCP socket moved since its last charge to its owner's execution. Payload
 * written = bytes_acked + not yet acked (write_seq - snd_una) - SYN (active opens) - FIN;
 * received = bytes_received (in order, read or not) - FIN. state: the socket's state
 * before the change being traced (or now, from the iterator).
 */
static __always_inline void sock_charge(struct tcp_sock *tp, struct sock_owner *o, int state)
{
	__u64 tx = tp->bytes_acked + (__u32)(tp->write_seq - tp->snd_una);
	__u64 rx = tp->bytes_received, fix = o->active + fin_queued(state);
	struct tw_exec_state *st;

	tx = tx > fix ? tx - fix : 0;
	if ((tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags >> SOCK_DONE_BIT) & 1)
		rx = rx ? rx - 1 : 0;
	if (!o->start_ns)
		return;
	st = bpf_map_lookup_elem(&execs, &o->tgid);
	if (!st || st->start_ns != o->start_ns)
		return; /* the execution has been emitted: the rest is not charged */
	if (tx > o->tx) {
		__sync_fetch_and_add(&st->usage.net_tx_bytes, tx - o->tx);
		o->tx = tx;
	}
	if (rx > o->rx) {
		__sync_fetch_and_add(&st->usage.net_rx_bytes, rx - o->rx);
		o->rx = rx;
	}
}

/*
 * TCP state changes: connect() (CLOSE -> SYN_SENT, in the caller) records the owner and
 * counts the connection; an accepted socket (SYN_RECV -> ESTABLISHED, in softirq) gets
 * its owner at the first close or shutdown (-> FIN_WAIT1 or LAST_ACK, in the caller);
 * every change charges the bytes so far, and TCP_CLOSE the last ones.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_sk_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct sock_owner fresh = {}, *o;
	struct tw_exec_state *st;
	struct tcp_sock *tp;
	__u64 key = (__u64)sk;
	__u32 tgid;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_SYN_SENT) {
		st = exec_key_of(bpf_get_current_pid_tgid() >> 32, &tgid);
		if (!st)
			return 0;
		if (tcp_enabled)
			__sync_fetch_and_add(&st->usage.tcp_connects, 1);
		fresh.tgid = tgid;
		fresh.start_ns = st->start_ns;
		fresh.active = 1;
		bpf_map_update_elem(&sock_owners, &key, &fresh, BPF_ANY);
		return 0;
	}
	if (net_enabled && oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		bpf_map_update_elem(&sock_owners, &key, &fresh, BPF_NOEXIST);
		return 0;
	}
	o = bpf_map_lookup_elem(&sock_owners, &key);
	if (!o)
		return 0;
	if (net_enabled) {
		if (!o->start_ns && (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)) {
			st = exec_key_of(bpf_get_current_pid_tgid() >> 32, &tgid);
			if (st) {
				o->tgid = tgid;
				o->start_ns = st->start_ns;
			}
		}
		tp = bpf_skc_to_tcp_sock((void *)sk);
		if (tp)
			sock_charge(tp, o, oldstate);
	}
	if (newstate == TCP_CLOSE)
		bpf_map_delete_elem(&sock_owners, &key);
	return 0;
}

/* Live TCP sockets (probe net with the sampler): charge their bytes so far. */
SEC("iter/tcp")
int sample_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sock_owner *o;
	struct tcp_sock *tp;
	__u64 key;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	key = (__u64)tp;
	o = bpf_map_lookup_elem(&sock_owners, &key);
	if (o && o->start_ns)
		sock_charge(tp, o, skc->skc_state);
	return 0;
}

/* Retransmits run in softirq context: charge the socket's owning execution. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(handle_retrans, const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct tw_exec_state *st = NULL;
	struct sock_owner *o;

	map_percpu_inc(&host_counts, TW_HOST_TCP_RETRANSMITS);
	o = bpf_map_lookup_elem(&sock_owners, &key);
	if (o && o->start_ns)
		st = bpf_map_lookup_elem(&execs, &o->tgid);
	if (st && st->start_ns == o->start_ns)
		__sync_fetch_and_add(&st->usage.tcp_retransmits, 1);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(handle_oom_kill, struct task_struct *victim)
{
	__u32 tgid = BPF_CORE_READ(victim, tgid);
	struct tw_exec_state *st = bpf_map_lookup_elem(&execs, &tgid);

	map_percpu_inc(&host_counts, TW_HOST_OOM_KILLS);
	if (st && !st->owner)
		st->flags |= TW_F_OOM_KILLED; /* only exec writes flags otherwise */
	return 0;
}

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
 * value than 2^40: unknown, none added). The caller that deletes the pending entry emits;
 * a concurrent one discards its copy.
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
		ost = bpf_map_lookup_elem(&execs, &p->owner);
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
	st = bpf_map_lookup_elem(&execs, &tgid);
	if (st && (!st->exiting || st->start_ns != p->rec.start_ns))
		st = NULL; /* the tgid is someone else's by now */
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		if (slot || !bpf_map_delete_elem(&exits_pending, &key)) {
			count_lost(TW_LOST_RINGBUF_EXIT);
			if (st)
				bpf_map_delete_elem(&execs, &tgid);
		}
		return;
	}
	__builtin_memcpy(rec, &p->rec, sizeof(*rec));
	raw = p->raw;
	if (delta < (1ULL << 40))
		raw.cpu_ns += delta;
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
		bpf_map_delete_elem(&execs, &tgid);
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

	if (w)
		finish_pending(key, &w->p, cpu_ns - w->p.thread_cpu_ns, false);
}

#define PENDING_EXPIRE_NS (5 * 1000000000ULL)

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
	__u32 n;    /* keys to take from the queue (those queued when the round began) */
	__u32 done; /* exits emitted */
};

/* check_waiting() for slot s, freed once its exit is emitted */
static __always_inline int check_slot(struct exit_slot *s, __u64 now)
{
	int rc = check_waiting(&s->task, &s->p, 0, NULL, now, true);

	if (rc > 0)
		__sync_lock_test_and_set(&s->busy, 0);
	return rc;
}

/* The iterators' sweep over the slots (the fallback if the timer is not set up). */
static long sweep_slot(struct bpf_map *map, __u32 *key, struct exit_slot *s, __u64 *now)
{
	if (s->busy)
		check_slot(s, *now);
	return 0;
}

static __always_inline void expire_exits(void)
{
	__u64 now = bpf_ktime_get_ns();

	bpf_for_each_map_elem(&exits_pending, sweep_pending, &now, 0);
	if (btf_tasks)
		bpf_for_each_map_elem(&exit_slots, sweep_slot, &now, 0);
}

static long exit_round_step(__u64 i, struct exit_round *r)
{
	struct exit_slot *s = NULL;
	struct exit_wait *w;
	__u32 idx;
	__u64 v;
	int rc;

	if (i >= r->n || bpf_map_pop_elem(&exit_queue, &v))
		return 1;
	__sync_fetch_and_add(&exit_queued, -1);
	if (v <= slot_mask) {
		idx = v;
		s = bpf_map_lookup_elem(&exit_slots, &idx);
		if (!s)
			return 0;
		rc = check_slot(s, r->now);
		if (rc < 0 && !s->busy)
			return 0; /* emitted by the iterators' sweep */
	} else {
		w = bpf_map_lookup_elem(&exits_pending, &v);
		if (!w)
			return 0; /* emitted by the iterators' sweep */
		rc = check_exit(v, w, r->now);
	}
	if (rc > 0)
		r->done++;
	else if (!bpf_map_push_elem(&exit_queue, &v, 0)) /* the next round */
		__sync_fetch_and_add(&exit_queued, 1);
	return 0;
}

/*
 * The exit timer: one round over the queued exits, emitting those whose task is gone.
 * sched_process_free would be once per task without a timer but comes after an RCU
 * grace period, which a lazy-RCU kernel (CONFIG_RCU_LAZY) stretches to seconds: an exit
 * would reach /metrics seconds late.
 */
static int exit_timer_fire(void *map, __u32 *k, struct exit_timer *et)
{
	struct exit_round r = {.now = bpf_ktime_get_ns()};
	__s64 n = exit_queued;

	/* an exit queued from now on starts the timer again */
	__sync_lock_test_and_set(&et->armed, 0);
	r.n = n <= 0 ? 0 : n < EXIT_QUEUE ? n : EXIT_QUEUE;
	bpf_loop(EXIT_QUEUE, exit_round_step, &r, 0);
	if (exit_queued > 0 && !__sync_val_compare_and_swap(&et->armed, 0, 1) &&
	    bpf_timer_start(&et->timer, EXIT_ROUND_NS, 0))
		et->armed = 0; /* the next exit tries again; the iterators' sweep meanwhile */
	if (timer_stats) {
		__sync_fetch_and_add(&exit_timer_ns, bpf_ktime_get_ns() - r.now);
		__sync_fetch_and_add(&exit_timer_runs, 1);
	}
	return 0;
}

/*
 * Run once by the agent after loading (BTF kernels): sets the exit timer up in process
 * context (its allocation may be refused on the exit path).
 */
SEC("iter/task")
int init_exit_timer(struct bpf_iter__task *ctx)
{
	struct exit_timer *et;
	__u32 zero = 0;
	long err;

	if (ctx->task) /* once, at the end of the pass */
		return 0;
	et = bpf_map_lookup_elem(&exit_timer, &zero);
	if (!et)
		return 0;
	err = bpf_timer_init(&et->timer, &exit_timer, CLOCK_MONOTONIC);
	if (!err)
		err = bpf_timer_set_callback(&et->timer, exit_timer_fire);
	exit_timer_unready = err ? -err : 0;
	return 0;
}

/* Run-queue latency (probe runqlat, opt-in, BTF only). */
SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (runqlat_enabled)
		runq_switch(prev, next);
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

/* the task iterators: processes running at start, live usage of running executions */
#include "iter.bpf.h"
