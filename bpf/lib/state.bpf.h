/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State the program families share, linked into one object (one skeleton): the maps more
 * than one family uses, the tunables the loader sets through rodata and the counters it
 * reads, with the types of their values. state.bpf.c defines them (TW_DEFINE_SHARED);
 * every other object declares them extern, and the static linker resolves each name to
 * that one definition. A map one family uses alone is defined in its own file. Include
 * after vmlinux.h.
 */
#ifndef STATE_BPF_H
#define STATE_BPF_H

#include <bpf/bpf_helpers.h>
#include "toolwatch.h"

#ifdef TW_DEFINE_SHARED
#define TW_SHARED
#else
#define TW_SHARED extern
#endif

/* Tunables, set through rodata before load (defined and described in state.bpf.c). */
extern const volatile __u32 targ_tgid;
extern const volatile __u32 targ_ppid;
extern const volatile bool targ_uid_set;
extern const volatile __u32 targ_uid;
extern const volatile __u64 targ_cgroup_id;
extern const volatile __u64 targ_min_duration_ns;
extern const volatile bool targ_failed_only;
extern const volatile __u64 wakeup_bytes;
extern const volatile __u64 page_size;
extern const volatile bool btf_tasks;
extern const volatile bool prep_exec;
extern const volatile bool runqlat_enabled;
extern const volatile bool net_enabled;
extern const volatile bool tcp_enabled;
extern const volatile bool netcalls_enabled;
extern const volatile __u32 execs_mask;
extern const volatile __u64 argv_filter[TW_ARGV_FILTER_WORDS];
extern const volatile __u64 slot_bits;
extern const volatile bool timer_stats;

/* Counters and switches in .bss and .data (defined and described in state.bpf.c). */
extern bool delayacct_on;
extern bool args_all;
extern __s64 clock_off;
extern bool clock_synced;
extern __u64 clock_synced_jiffies;
extern __s64 fails_pending;
extern __s64 execs_spilled;
extern __u64 lost[TW_LOST_MAX];
extern __u64 exits_unfreed;
extern __u64 exits_unslotted;
extern __u64 exits_late;
extern __u64 exit_timer_unready;
extern __u64 exit_timer_ns;
extern __u64 exit_timer_runs;

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
	__u64 thread_cpu_ns;	 /* the exiting thread's exact run time at exit */
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

/*
 * Socket bytes of a thread (probe netcalls), counted in its own storage (no hash lookup,
 * no atomics on the send/recv path) and folded into its execution when it exits or execs.
 */
struct net_acc {
	__u64 tx;
	__u64 rx;
};

/* room for the largest exec record (struct tw_exec_rec and its variable parts) */
struct exec_buf {
	char bytes[TW_EXEC_REC_MAX];
};

TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* overridden from --bpf.ringbuf-size */
} events SEC(".maps");

/*
 * tgid -> the execution that process image is running (owner 0), or, for a forked child
 * that has not exec'd, the tgid of the execution its usage rolls up to (owner): the
 * child's exec then turns its entry into an execution in place. Direct-mapped: a process's
 * entry is slot tgid & execs_mask, claimed by writing its tgid there, and in execs_spill
 * only while that slot holds another process. An array lookup is an address computation
 * (the verifier inlines it): no hashing, bucket lock or free list on the paths every
 * execution takes, and PIDs, handed out in turn, fill neighbouring slots. Use execs_get(),
 * execs_claim() and execs_delete().
 */
TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768); /* --bpf.max-processes, rounded up to a power of two */
	__type(key, __u32);
	__type(value, struct tw_exec_state);
} execs SEC(".maps");

TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* half of --bpf.max-processes */
	__type(key, __u32);
	__type(value, struct tw_exec_state);
} execs_spill SEC(".maps");

/* tid -> path of the execve in progress */
TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct exec_try);
} exec_tries SEC(".maps");

/* tgid -> failed exec attempts not yet followed by a successful one */
TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pending_fail);
} exec_pending SEC(".maps");

/*
 * task_struct address of an exiting thread -> its exit (unique while the task lives: a
 * BTF kernel's entry holds a reference to it); preallocated: no allocation on the exit path
 */
TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct exit_wait);
} exits_pending SEC(".maps");

TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct net_acc);
} net_accs SEC(".maps");

/* each CPU's records since it last read the ring buffer's fill (rb_flags) */
TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rb_ticks SEC(".maps");

TW_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_HOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} host_counts SEC(".maps");

static __always_inline void count_lost(int reason)
{
	if (reason >= 0 && reason < TW_LOST_MAX)
		__sync_fetch_and_add(&lost[reason], 1);
}

/* The entry of process tgid in execs or execs_spill, or NULL. */
static __always_inline struct tw_exec_state *execs_get(__u32 tgid)
{
	__u32 k = tgid & execs_mask;
	struct tw_exec_state *st = bpf_map_lookup_elem(&execs, &k);

	if (st && st->tgid == tgid && tgid)
		return st;
	if (execs_spilled <= 0)
		return NULL;
	return bpf_map_lookup_elem(&execs_spill, &tgid);
}

/* Zeroes an entry but for its tgid (which keeps its slot claimed). */
static __always_inline void execs_zero(struct tw_exec_state *st)
{
	__builtin_memset((char *)st + sizeof(st->tgid), 0, sizeof(*st) - sizeof(st->tgid));
}

/*
 * An entry for process tgid, zeroed but for its tgid: its slot in execs, claimed, or one in
 * execs_spill if another process holds the slot. An entry tgid has already is reused when
 * replace, else NULL is returned (as BPF_NOEXIST). NULL too when both maps are full. The
 * entry is visible (its tgid set) before the caller fills it: only dump_task, at the
 * agent's start, can meet another CPU's exec or exit of the same process in that window.
 */
static __always_inline struct tw_exec_state *execs_claim(__u32 tgid, bool replace)
{
	__u32 k = tgid & execs_mask;
	struct tw_exec_state *st = bpf_map_lookup_elem(&execs, &k), *spilled, zero = {};
	__u32 held;

	if (!st || !tgid)
		return NULL;
	if (st->tgid != tgid) {
		spilled = execs_spilled > 0 ? bpf_map_lookup_elem(&execs_spill, &tgid) : NULL;
		if (spilled) {
			st = spilled;
			goto found;
		}
		held = st->tgid ? st->tgid : __sync_val_compare_and_swap(&st->tgid, 0, tgid);
		if (!held)
			goto zero;
		if (held == tgid) /* claimed meanwhile for the same process (dump_task) */
			goto found;
		/* the slot is another process's: the spill map; counted before the entry
		 * appears, so that no lookup skips the map while it holds the entry */
		__sync_fetch_and_add(&execs_spilled, 1);
		zero.tgid = tgid;
		if (bpf_map_update_elem(&execs_spill, &tgid, &zero, BPF_NOEXIST)) {
			__sync_fetch_and_add(&execs_spilled, -1);
			return NULL;
		}
		return bpf_map_lookup_elem(&execs_spill, &tgid);
	}
found:
	if (!replace)
		return NULL;
zero:
	execs_zero(st);
	return st;
}

/*
 * Deletes process tgid's entry; false if it has none (another CPU deleted it first: the
 * one that deletes it acts on its end).
 */
static __always_inline bool execs_delete(__u32 tgid)
{
	__u32 k = tgid & execs_mask;
	struct tw_exec_state *st = bpf_map_lookup_elem(&execs, &k);

	if (st && st->tgid == tgid && tgid)
		return __sync_val_compare_and_swap(&st->tgid, tgid, 0) == tgid;
	if (execs_spilled <= 0 || bpf_map_delete_elem(&execs_spill, &tgid))
		return false;
	__sync_fetch_and_add(&execs_spilled, -1);
	return true;
}

/* a CPU reads the ring buffer's fill at every RB_FILL_EVERY-th record it outputs */
#define RB_FILL_EVERY 8

/*
 * The wakeup flag of a record: wake the consumer once wakeup_bytes wait. The fill is read
 * at one record in RB_FILL_EVERY per CPU: it reads the consumer's position, a cache line
 * user space writes, and the wakeup comes at most that many records per CPU later.
 */
static __always_inline __u64 rb_flags(void)
{
	__u32 zero = 0, *n;

	if (!wakeup_bytes)
		return 0;
	n = bpf_map_lookup_elem(&rb_ticks, &zero);
	if (n && (++*n & (RB_FILL_EVERY - 1)))
		return BPF_RB_NO_WAKEUP;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

#endif /* STATE_BPF_H */
